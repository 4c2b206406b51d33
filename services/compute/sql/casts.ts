import type { Datum } from "../access/database.js";
import { bpcharLength, rtrimSpaces, varcharLength } from "./character.js";
import {
  dateToTimestamp,
  localToTimestamptz,
  roundTimestamp,
  timestampToDate,
  timestamptzToLocal,
} from "./datetime.js";
import { INT4_MAX, INT4_MIN, INT8_MAX, INT8_MIN, SESSION_ZONE, castToText, parseText } from "./datum-io.js";
import { Code, sqlError } from "./errors.js";
import type { Expr, Value } from "./expr.js";
import { exprType, exprTypmod } from "./expr.js";
import { float8ToInt4, float8ToInt8 } from "./float8.js";
import { numericToBigint, numericToFloat8 } from "./numeric-literal.js";
import { type SqlType, isStringType, typeDisplay } from "./types.js";

/**
 * Type coercion as PostgreSQL's pg_cast has it for our types. A cast is
 * allowed in one of three contexts: implicitly (operator arguments),
 * in assignment (INSERT/UPDATE targets, also allowing implicit ones) or only
 * explicitly (CAST, ::). Unknown literals are converted once, at analysis,
 * by the target type's input function; unknown parameters take the type.
 * Any type becomes a string type by its output function (assignment) and
 * a string becomes any type by its input function (explicit), as
 * PostgreSQL's automatic I/O conversion casts do. A type modifier is applied
 * after the cast (length coercion: char(n), varchar(n), timestamp(p)).
 */

export type CastContext = "implicit" | "assignment" | "explicit";

interface Cast {
  readonly context: CastContext;
  readonly fn: (v: Value) => Datum;
}

const RANK: Readonly<Record<CastContext, number>> = { implicit: 0, assignment: 1, explicit: 2 };

function toInt4(v: Value): Datum {
  const n = typeof v === "bigint" ? v : typeof v === "string" ? numericToBigint(v) : BigInt(v as number);
  if (n < BigInt(INT4_MIN) || n > BigInt(INT4_MAX)) throw sqlError(Code.numericValueOutOfRange, "integer out of range");
  return Number(n);
}

function toInt8(v: Value): Datum {
  const n = typeof v === "string" ? numericToBigint(v) : (v as bigint);
  if (n < INT8_MIN || n > INT8_MAX) throw sqlError(Code.numericValueOutOfRange, "bigint out of range");
  return n;
}

const identity = (v: Value): Datum => v;
const rtrim = (v: Value): Datum => rtrimSpaces(v as string);

const CASTS: ReadonlyMap<string, Cast> = new Map<string, Cast>([
  ["int4>int8", { context: "implicit", fn: (v) => BigInt(v as number) }],
  ["int4>numeric", { context: "implicit", fn: (v) => BigInt(v as number) }],
  ["int8>numeric", { context: "implicit", fn: identity }],
  ["int4>float8", { context: "implicit", fn: identity }],
  ["int8>float8", { context: "implicit", fn: (v) => Number(v as bigint) }],
  ["numeric>float8", { context: "implicit", fn: (v) => numericToFloat8(v as bigint | string) }],
  ["int8>int4", { context: "assignment", fn: toInt4 }],
  ["numeric>int4", { context: "assignment", fn: toInt4 }],
  ["numeric>int8", { context: "assignment", fn: toInt8 }],
  ["float8>int4", { context: "assignment", fn: (v) => float8ToInt4(v as number) }],
  ["float8>int8", { context: "assignment", fn: (v) => float8ToInt8(v as number) }],
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
  // Strings: varchar is binary-coercible to text; bpchar loses its padding on the way to text and varchar.
  ["text>varchar", { context: "implicit", fn: identity }],
  ["text>bpchar", { context: "implicit", fn: identity }],
  ["varchar>text", { context: "implicit", fn: identity }],
  ["varchar>bpchar", { context: "implicit", fn: identity }],
  ["bpchar>text", { context: "implicit", fn: rtrim }],
  ["bpchar>varchar", { context: "implicit", fn: rtrim }],
  // Date and time, in the session's zone.
  ["date>timestamp", { context: "implicit", fn: (v) => dateToTimestamp(v as number) }],
  [
    "date>timestamptz",
    { context: "implicit", fn: (v) => localToTimestamptz(dateToTimestamp(v as number), SESSION_ZONE) },
  ],
  ["timestamp>timestamptz", { context: "implicit", fn: (v) => localToTimestamptz(v as bigint, SESSION_ZONE) }],
  ["timestamptz>timestamp", { context: "assignment", fn: (v) => timestamptzToLocal(v as bigint, SESSION_ZONE) }],
  ["timestamp>date", { context: "assignment", fn: (v) => timestampToDate(v as bigint) }],
  [
    "timestamptz>date",
    { context: "assignment", fn: (v) => timestampToDate(timestamptzToLocal(v as bigint, SESSION_ZONE)) },
  ],
]);

/** The cast from one type to another: pg_cast, else an I/O conversion to or from a string type. */
function findCast(from: SqlType, to: SqlType): Cast | undefined {
  const cast = CASTS.get(`${from}>${to}`);
  if (cast !== undefined) return cast;
  if (from === "void" || to === "void" || from === "unknown") return undefined;
  if (isStringType(to) && !isStringType(from)) return { context: "assignment", fn: (v) => castToText(from, v) };
  if (isStringType(from) && !isStringType(to)) return { context: "explicit", fn: (v) => parseText(to, v as string) };
  return undefined;
}

/**
 * The length coercion of a type modifier (bpchar(), varchar(), timestamp()):
 * explicit casts cut strings silently, assignments fail on anything but spaces.
 */
function lengthCoercion(type: SqlType, typmod: number, explicit: boolean): ((v: Value) => Datum) | undefined {
  switch (type) {
    case "bpchar":
      return (v) => bpcharLength(v as string, typmod, explicit);
    case "varchar":
      return (v) => varcharLength(v as string, typmod, explicit);
    case "timestamp":
    case "timestamptz":
      return (v) => roundTimestamp(v as bigint, typmod);
    default:
      return undefined;
  }
}

/** Can a value of `from` become `to` in `context`? (Same type: always.) */
export function canCoerce(from: SqlType, to: SqlType, context: CastContext): boolean {
  if (from === to || from === "unknown") return true;
  const cast = findCast(from, to);
  return cast !== undefined && RANK[cast.context] <= RANK[context];
}

/**
 * `e` as type `to` with type modifier `typmod` (−1: none), or undefined when
 * no cast exists in `context`. Unknown constants are converted now (errors
 * point at the literal); unknown parameters are given the type.
 */
export function coerce(e: Expr, to: SqlType, context: CastContext, typmod = -1): Expr | undefined {
  const from = exprType(e);
  let out: Expr;
  if (from === to) {
    out = e;
  } else if (from === "unknown") {
    out = coerceUnknown(e, to);
  } else {
    const cast = findCast(from, to);
    if (cast === undefined || RANK[cast.context] > RANK[context]) return undefined;
    out = apply(e, to, cast.fn, -1);
  }
  const sourceTypmod = from === to ? exprTypmod(e) : -1;
  if (typmod === sourceTypmod) return out;
  const length = typmod < 0 ? undefined : lengthCoercion(to, typmod, context === "explicit");
  if (length !== undefined) return apply(out, to, length, typmod);
  // No length to enforce: the value only takes the modifier on (PostgreSQL's RelabelType).
  if (out.kind === "const" || out.kind === "column" || out.kind === "unary") return { ...out, typmod };
  return typmod < 0 ? out : apply(out, to, (v) => v, typmod);
}

/** A strict conversion; constants are folded, so that a bad one fails at analysis as in PostgreSQL. */
function apply(e: Expr, to: SqlType, fn: (v: Value) => Datum, typmod: number): Expr {
  if (e.kind === "const") {
    return { kind: "const", type: to, value: e.value === null ? null : fn(e.value), location: e.location, typmod };
  }
  return { kind: "unary", type: to, arg: e, fn, typmod };
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
export function explicitCast(e: Expr, to: SqlType, location: number, typmod = -1): Expr {
  const result = coerce(e, to, "explicit", typmod);
  if (result !== undefined) return result;
  throw sqlError(Code.cannotCoerce, `cannot cast type ${typeDisplay(exprType(e))} to ${typeDisplay(to)}`, location);
}

/** The value for a column of `to` in INSERT or UPDATE: 42804 when no assignment cast exists. */
export function assignmentCast(e: Expr, to: SqlType, column: string, location: number, typmod = -1): Expr {
  const result = coerce(e, to, "assignment", typmod);
  if (result !== undefined) return result;
  throw sqlError(
    Code.datatypeMismatch,
    `column "${column}" is of type ${typeDisplay(to)} but expression is of type ${typeDisplay(exprType(e))}`,
    location,
    { hint: "You will need to rewrite or cast the expression." },
  );
}
