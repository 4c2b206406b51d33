import type { SelectStmt } from "libpg-query";
import { type AnalyzeEnv, lookupQualified } from "./analyze-relation.js";
import { Code, notSupported, sqlError } from "./errors.js";
import { nodeLocation } from "./nodes.js";
import type { RelationSizeQuery } from "./query.js";
import { statementCall } from "./statement-call.js";

/**
 * `SELECT pg_relation_size('table') [AS name]` and nothing else; undefined
 * when the statement is not that. The size needs the access layer (blocks ×
 * 8192), which scalar expressions cannot reach, so it is a statement of its
 * own, as pg_sleep is. The argument is a regclass literal: a table name,
 * optionally qualified by its schema.
 */
export async function relationSizeQuery(s: SelectStmt, env: AnalyzeEnv): Promise<RelationSizeQuery | undefined> {
  const found = statementCall(s, "pg_relation_size");
  if (found === undefined) return undefined;
  const { call, plain, location } = found;
  const args = call.args ?? [];
  const arg = args.length === 1 ? args[0]! : undefined;
  const literal = arg !== undefined && "A_Const" in arg ? arg.A_Const.sval?.sval : undefined;
  if (!plain || literal === undefined) {
    throw notSupported("pg_relation_size() other than as SELECT pg_relation_size('table')", location);
  }
  const parts = literal.split(".");
  const [schema, name] = parts.length === 2 ? [parts[0], parts[1]!] : [undefined, literal];
  const table = await lookupQualified(env, schema, name);
  if (table === undefined) {
    throw sqlError(Code.undefinedTable, `relation "${literal}" does not exist`, nodeLocation(arg!));
  }
  return { kind: "relation-size", name: found.alias ?? "pg_relation_size", table };
}
