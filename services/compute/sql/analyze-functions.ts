import type { FuncCall, SQLValueFunction } from "libpg-query";
import { bpcharCharLength, charLength } from "./character.js";
import type { SessionClock } from "./clock.js";
import { roundTimestamp, timestampToDate, timestamptzToLocal } from "./datetime.js";
import { SESSION_ZONE } from "./datum-io.js";
import { Code, notSupported, sqlError } from "./errors.js";
import type { Expr, Value } from "./expr.js";
import { exprType } from "./expr.js";
import { typeDisplay } from "./types.js";

/**
 * The scalar functions: now() and its kin (stable within a transaction, as
 * PostgreSQL's; never folded at analysis, so a cached plan reads the clock
 * each run), CURRENT_TIMESTAMP and friends, and length(). undefined: not one
 * of ours (the caller reports 0A000).
 */

function noSuchFunction(name: string, args: readonly Expr[], location: number): never {
  const signature = `${name}(${args.map((a) => typeDisplay(exprType(a))).join(", ")})`;
  throw sqlError(Code.undefinedFunction, `function ${signature} does not exist`, location, {
    hint: "No function matches the given name and argument types. You might need to add explicit type casts.",
  });
}

function clockCall(name: string, clock: SessionClock): (() => bigint) | undefined {
  switch (name) {
    case "now":
    case "transaction_timestamp":
      return () => clock.transactionTimestamp();
    case "statement_timestamp":
      return () => clock.statementTimestamp();
    case "clock_timestamp":
      return () => clock.clockTimestamp();
    default:
      return undefined;
  }
}

export function functionCall(name: string, f: FuncCall, args: readonly Expr[], clock: SessionClock): Expr | undefined {
  const location = f.location ?? -1;
  const timestamp = clockCall(name, clock);
  if (timestamp === undefined && name !== "length") return undefined;
  if (f.agg_star === true || f.agg_distinct === true || (f.agg_order?.length ?? 0) > 0 || f.agg_filter !== undefined) {
    throw sqlError(Code.syntaxError, `${name}(…) is not an aggregate function`, location);
  }
  if (f.over !== undefined) throw notSupported("window functions", location);
  if (timestamp !== undefined) {
    if (args.length > 0) noSuchFunction(name, args, location);
    return { kind: "call", type: "timestamptz", fn: timestamp };
  }
  // length(text) and length(bpchar), which does not count trailing spaces.
  if (args.length !== 1) noSuchFunction(name, args, location);
  const arg = args[0]!;
  const type = exprType(arg);
  let fn: (v: Value) => number;
  if (type === "text" || type === "varchar" || type === "unknown") fn = (v) => charLength(v as string);
  else if (type === "bpchar") fn = (v) => bpcharCharLength(v as string);
  else return noSuchFunction(name, args, location);
  if (arg.kind === "const") {
    return { kind: "const", type: "int4", value: arg.value === null ? null : fn(arg.value), location };
  }
  if (arg.kind === "param" && type === "unknown") arg.slot.type = "text";
  return { kind: "unary", type: "int4", arg, fn };
}

/** CURRENT_TIMESTAMP[(p)], LOCALTIMESTAMP[(p)], CURRENT_DATE: the transaction's start. */
export function sqlValueFunction(v: SQLValueFunction, clock: SessionClock): Expr | undefined {
  const typmod = v.typmod ?? -1;
  const start = (): bigint => clock.transactionTimestamp();
  switch (v.op) {
    case "SVFOP_CURRENT_TIMESTAMP":
      return { kind: "call", type: "timestamptz", fn: start };
    case "SVFOP_CURRENT_TIMESTAMP_N":
      return { kind: "call", type: "timestamptz", fn: () => roundTimestamp(start(), typmod), typmod };
    case "SVFOP_LOCALTIMESTAMP":
      return { kind: "call", type: "timestamp", fn: () => timestamptzToLocal(start(), SESSION_ZONE) };
    case "SVFOP_LOCALTIMESTAMP_N":
      return {
        kind: "call",
        type: "timestamp",
        fn: () => roundTimestamp(timestamptzToLocal(start(), SESSION_ZONE), typmod),
        typmod,
      };
    case "SVFOP_CURRENT_DATE":
      return { kind: "call", type: "date", fn: () => timestampToDate(timestamptzToLocal(start(), SESSION_ZONE)) };
    default:
      return undefined;
  }
}
