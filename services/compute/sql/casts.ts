import type { Datum } from "../access/database.js";
import { INT4_MAX, INT4_MIN, INT8_MAX, INT8_MIN, castToText, parseText } from "./datum-io.js";
import { Code, sqlError } from "./errors.js";
import type { Expr, Value } from "./expr.js";
import { exprType } from "./expr.js";
import { type SqlType, typeDisplay } from "./types.js";

/**
 * Type coercion as PostgreSQL's pg_cast has it for our types. A cast is
 * allowed in one of three contexts: implicitly (operator arguments),
 * in assignment (INSERT/UPDATE targets, also allowing implicit ones) or only
 * explicitly (CAST, ::). Unknown literals are converted once, at analysis,
 * by the target type's input function; unknown parameters take the type.
 */

export type CastContext = "implicit" | "assignment" | "explicit";

interface Cast {
  readonly context: CastContext;
  readonly fn: (v: Value) => Datum;
}

const RANK: Readonly<Record<CastContext, number>> = { implicit: 0, assignment: 1, explicit: 2 };

function toInt4(v: Value): Datum {
  const n = typeof v === "bigint" ? v : BigInt(v as number);
  if (n < BigInt(INT4_MIN) || n > BigInt(INT4_MAX)) throw sqlError(Code.numericValueOutOfRange, "integer out of range");
  return Number(n);
}

function toInt8(v: Value): Datum {
  const n = v as bigint;
  if (n < INT8_MIN || n > INT8_MAX) throw sqlError(Code.numericValueOutOfRange, "bigint out of range");
  return n;
}

const CASTS: ReadonlyMap<string, Cast> = new Map<string, Cast>([
  ["int4>int8", { context: "implicit", fn: (v) => BigInt(v as number) }],
  ["int4>numeric", { context: "implicit", fn: (v) => BigInt(v as number) }],
  ["int8>numeric", { context: "implicit", fn: (v) => v }],
  ["int8>int4", { context: "assignment", fn: toInt4 }],
  ["numeric>int4", { context: "assignment", fn: toInt4 }],
  ["numeric>int8", { context: "assignment", fn: toInt8 }],
  ["int4>text", { context: "assignment", fn: (v) => castToText("int4", v) }],
  ["int8>text", { context: "assignment", fn: (v) => castToText("int8", v) }],
  ["numeric>text", { context: "assignment", fn: (v) => castToText("numeric", v) }],
  ["bool>text", { context: "assignment", fn: (v) => castToText("bool", v) }],
  ["text>int4", { context: "explicit", fn: (v) => parseText("int4", v as string) }],
  ["text>int8", { context: "explicit", fn: (v) => parseText("int8", v as string) }],
  ["text>numeric", { context: "explicit", fn: (v) => parseText("numeric", v as string) }],
  ["text>bool", { context: "explicit", fn: (v) => parseText("bool", v as string) }],
  ["name>text", { context: "implicit", fn: (v) => v }],
  ["text>name", { context: "implicit", fn: (v) => v }],
  ["int4>bool", { context: "explicit", fn: (v) => v !== 0 }],
  ["bool>int4", { context: "explicit", fn: (v) => (v ? 1 : 0) }],
]);

/** Can a value of `from` become `to` in `context`? (Same type: always.) */
export function canCoerce(from: SqlType, to: SqlType, context: CastContext): boolean {
  if (from === to || from === "unknown") return true;
  const cast = CASTS.get(`${from}>${to}`);
  return cast !== undefined && RANK[cast.context] <= RANK[context];
}

/**
 * `e` as type `to`, or undefined when no cast exists in `context`. Unknown
 * constants are converted now (errors point at the literal); unknown
 * parameters are given the type.
 */
export function coerce(e: Expr, to: SqlType, context: CastContext): Expr | undefined {
  const from = exprType(e);
  if (from === to) return e;
  if (from === "unknown") return coerceUnknown(e, to);
  const cast = CASTS.get(`${from}>${to}`);
  if (cast === undefined || RANK[cast.context] > RANK[context]) return undefined;
  if (e.kind === "const") {
    // Fold constants, so that a bad one fails at analysis as in PostgreSQL.
    return { kind: "const", type: to, value: e.value === null ? null : cast.fn(e.value), location: e.location };
  }
  return { kind: "unary", type: to, arg: e, fn: cast.fn };
}

function coerceUnknown(e: Expr, to: SqlType): Expr {
  if (e.kind === "param") {
    e.slot.type = to;
    return e;
  }
  if (e.kind === "const") {
    const value = e.value === null ? null : parseText(to, e.value as string, e.location);
    return { kind: "const", type: to, value, location: e.location };
  }
  // Only constants and parameters are of type unknown.
  throw new Error(`unknown-typed ${e.kind} expression`);
}

/** An explicit cast (CAST, ::): 42846 when the types have none. */
export function explicitCast(e: Expr, to: SqlType, location: number): Expr {
  const result = coerce(e, to, "explicit");
  if (result !== undefined) return result;
  throw sqlError(Code.cannotCoerce, `cannot cast type ${typeDisplay(exprType(e))} to ${typeDisplay(to)}`, location);
}

/** The value for a column of `to` in INSERT or UPDATE: 42804 when no assignment cast exists. */
export function assignmentCast(e: Expr, to: SqlType, column: string, location: number): Expr {
  const result = coerce(e, to, "assignment");
  if (result !== undefined) return result;
  throw sqlError(
    Code.datatypeMismatch,
    `column "${column}" is of type ${typeDisplay(to)} but expression is of type ${typeDisplay(exprType(e))}`,
    location,
    { hint: "You will need to rewrite or cast the expression." },
  );
}
