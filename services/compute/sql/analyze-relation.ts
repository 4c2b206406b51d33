import type { RangeVar } from "libpg-query";
import type { Table } from "../access/database.js";
import { Code, notSupported, sqlError } from "./errors.js";
import type { SessionInfo } from "./functions.js";
import type { ParamSlots } from "./params.js";
import type { Relation } from "./query.js";

/** What analysis may ask of the catalog, and the statement's parameters. */
export interface AnalyzeEnv {
  /** The table visible to the statement's transaction (started on first use). */
  lookupTable(name: string): Promise<Table | undefined>;
  readonly params: ParamSlots;
  /** The session's user and database, for current_user and current_database(). */
  readonly session?: SessionInfo;
}

/**
 * What DDL and DML may name: one schema, public. (SELECT also reads
 * pg_catalog, whose relations are found by their bare names: analyze-select.ts.)
 */
export function checkSchema(schema: string | undefined, catalog: string | undefined, location: number): void {
  if (catalog !== undefined) throw notSupported("cross-database references", location);
  if (schema === undefined || schema === "public") return;
  if (schema === "pg_catalog" || schema === "information_schema") throw notSupported("system catalogs", location);
  throw sqlError(Code.undefinedSchema, `schema "${schema}" does not exist`, location);
}

/** A table named in FROM, UPDATE or DELETE: 42P01 if there is none by that name. */
export async function resolveRangeVar(rv: RangeVar, env: AnalyzeEnv): Promise<Relation> {
  const location = rv.location ?? -1;
  checkSchema(rv.schemaname, rv.catalogname, location);
  const name = rv.relname ?? "";
  const table = await env.lookupTable(name);
  if (table === undefined) {
    const shown = rv.schemaname === undefined ? name : `${rv.schemaname}.${name}`;
    throw sqlError(Code.undefinedTable, `relation "${shown}" does not exist`, location);
  }
  if ((rv.alias?.colnames?.length ?? 0) > 0) throw notSupported("column aliases", location);
  const alias = rv.alias?.aliasname;
  return { table, refname: alias ?? name, aliased: alias !== undefined };
}
