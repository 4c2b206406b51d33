import type { FuncCall, SelectStmt } from "libpg-query";
import { stringList } from "./nodes.js";

/**
 * A SELECT whose one target is a call of `pg_catalog.<name>(…)`, for the
 * functions that are statements of their own (pg_sleep, pg_relation_size):
 * the call, the target's alias, and whether the SELECT is nothing more (no
 * FROM, WHERE, ORDER BY, LIMIT/OFFSET or set operation). Undefined when the
 * statement is not such a call.
 */
export interface StatementCall {
  readonly call: FuncCall;
  readonly alias: string | undefined;
  readonly plain: boolean;
  readonly location: number;
}

export function statementCall(s: SelectStmt, name: string): StatementCall | undefined {
  const targets = s.targetList ?? [];
  const only = targets.length === 1 ? targets[0] : undefined;
  const target = only !== undefined && "ResTarget" in only ? only.ResTarget : undefined;
  const call = target?.val !== undefined && "FuncCall" in target.val ? target.val.FuncCall : undefined;
  const names = stringList(call?.funcname) ?? [];
  const named = names[names.length - 1] === name && (names.length === 1 || names[0] === "pg_catalog");
  if (call === undefined || !named) return undefined;
  const plain =
    s.fromClause === undefined &&
    s.whereClause === undefined &&
    s.sortClause === undefined &&
    s.limitCount === undefined &&
    s.limitOffset === undefined &&
    (s.op === undefined || s.op === "SETOP_NONE");
  return { call, alias: target?.name, plain, location: call.location ?? -1 };
}
