import type { Datum } from "../access/database.js";
import { rtrimSpaces } from "./character.js";
import { INT4_MAX, INT4_MIN, INT8_MAX, INT8_MIN } from "./datum-io.js";
import { Code, sqlError } from "./errors.js";
import type { ComparisonOp, Value } from "./expr.js";
import { compareFloat8, float8Add, float8Div, float8Mul, float8Sub } from "./float8.js";
import type { SqlType } from "./types.js";
import { isArrayType } from "./types.js";

/**
 * The operators' implementations, one per operand type (both operands already
 * coerced to it): int4 and int8 arithmetic with PostgreSQL's overflow and
 * division errors, integer-valued numeric arithmetic, double precision
 * arithmetic with float.c's checks, comparisons with the C collation for
 * text (bpchar ignoring trailing spaces), float8's NaN-aware order.
 */

export type ArithmeticOp = "+" | "-" | "*" | "/" | "%";
export type { ComparisonOp } from "./expr.js";

export const ARITHMETIC_OPS: ReadonlySet<string> = new Set(["+", "-", "*", "/", "%"]);
export const COMPARISON_OPS: ReadonlySet<string> = new Set(["=", "<>", "<", "<=", ">", ">="]);

function int4OutOfRange(): never {
  throw sqlError(Code.numericValueOutOfRange, "integer out of range");
}

function int8OutOfRange(): never {
  throw sqlError(Code.numericValueOutOfRange, "bigint out of range");
}

function divisionByZero(): never {
  throw sqlError(Code.divisionByZero, "division by zero");
}

export function checkInt4(n: number): number {
  if (n < INT4_MIN || n > INT4_MAX) int4OutOfRange();
  return n + 0; // no -0 (0 * -1)
}

export function checkInt8(n: bigint): bigint {
  if (n < INT8_MIN || n > INT8_MAX) int8OutOfRange();
  return n;
}

type Binary = (a: Value, b: Value) => Datum;

/**
 * Products of two int4 are exact below 2^53 and beyond it still out of range,
 * so double arithmetic decides int4 overflow correctly.
 */
const INT4_OPS: Readonly<Record<ArithmeticOp, Binary>> = {
  "+": (a, b) => checkInt4((a as number) + (b as number)),
  "-": (a, b) => checkInt4((a as number) - (b as number)),
  "*": (a, b) => checkInt4((a as number) * (b as number)),
  "/": (a, b) => {
    if (b === 0) divisionByZero();
    return checkInt4(Math.trunc((a as number) / (b as number)));
  },
  "%": (a, b) => {
    if (b === 0) divisionByZero();
    return ((a as number) % (b as number)) + 0;
  },
};

const INT8_OPS: Readonly<Record<ArithmeticOp, Binary>> = {
  "+": (a, b) => checkInt8((a as bigint) + (b as bigint)),
  "-": (a, b) => checkInt8((a as bigint) - (b as bigint)),
  "*": (a, b) => checkInt8((a as bigint) * (b as bigint)),
  "/": (a, b) => {
    if (b === 0n) divisionByZero();
    return checkInt8((a as bigint) / (b as bigint));
  },
  "%": (a, b) => {
    if (b === 0n) divisionByZero();
    return (a as bigint) % (b as bigint);
  },
};

/** numeric holds only whole numbers here: + - * are exact; / and % would need fractions. */
const NUMERIC_OPS: Readonly<Partial<Record<ArithmeticOp, Binary>>> = {
  "+": (a, b) => (a as bigint) + (b as bigint),
  "-": (a, b) => (a as bigint) - (b as bigint),
  "*": (a, b) => (a as bigint) * (b as bigint),
};

/** double precision has no % operator in PostgreSQL. */
const FLOAT8_OPS: Readonly<Partial<Record<ArithmeticOp, Binary>>> = {
  "+": (a, b) => float8Add(a as number, b as number),
  "-": (a, b) => float8Sub(a as number, b as number),
  "*": (a, b) => float8Mul(a as number, b as number),
  "/": (a, b) => float8Div(a as number, b as number),
};

export function arithmetic(op: ArithmeticOp, type: SqlType): Binary | undefined {
  if (type === "int4") return INT4_OPS[op];
  if (type === "int8") return INT8_OPS[op];
  if (type === "numeric") return NUMERIC_OPS[op];
  if (type === "float8") return FLOAT8_OPS[op];
  return undefined;
}

/** Does `type` have operator `op` at all (else 42883, as PostgreSQL has no float8 %)? */
export function hasArithmetic(op: ArithmeticOp, type: SqlType): boolean {
  return type !== "float8" || op !== "%";
}

export function negation(type: SqlType): ((a: Value) => Datum) | undefined {
  if (type === "int4") return (a) => checkInt4(-(a as number));
  if (type === "int8") return (a) => checkInt8(-(a as bigint));
  if (type === "numeric") return (a) => -(a as bigint);
  if (type === "float8") return (a) => -(a as number);
  return undefined;
}

/**
 * Text in code point order, which is the byte order of UTF-8: PostgreSQL's C
 * collation. (UTF-16 unit order differs where a surrogate meets U+E000–U+FFFF.)
 */
export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) return codeUnitRank(x) - codeUnitRank(y);
      return x - y;
    }
  }
  return a.length - b.length;
}

function codeUnitRank(unit: number): number {
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

/** bpchar's order (bpcharcmp): trailing spaces do not count. */
export function compareBpchar(a: string, b: string): number {
  return compareText(rtrimSpaces(a), rtrimSpaces(b));
}

/** The order of a type that needs more than JavaScript's < (strings, NaN, padding), else undefined. */
function comparator(type: SqlType): ((a: Value, b: Value) => number) | undefined {
  if (isArrayType(type)) return (a, b) => compareText(a as string, b as string);
  switch (type) {
    case "text":
    case "varchar":
    case "unknown":
    case "name":
      return (a, b) => compareText(a as string, b as string);
    case "bpchar":
      return (a, b) => compareBpchar(a as string, b as string);
    case "float8":
      return (a, b) => compareFloat8(a as number, b as number);
    default:
      return undefined;
  }
}

/** Total order of non-NULL values of one type: negative, zero or positive. */
export function compareValues(type: SqlType, a: Value, b: Value): number {
  const cmp = comparator(type);
  if (cmp !== undefined) return cmp(a, b);
  return a < b ? -1 : a > b ? 1 : 0;
}

export function comparison(op: ComparisonOp, type: SqlType): Binary {
  const cmp = comparator(type);
  if (cmp !== undefined) {
    // Text equality is code point equality; bpchar and float8 equality need their comparator.
    const plain = type === "text" || type === "varchar" || type === "unknown" || type === "name" || isArrayType(type);
    switch (op) {
      case "=":
        return plain ? (a, b) => a === b : (a, b) => cmp(a, b) === 0;
      case "<>":
        return plain ? (a, b) => a !== b : (a, b) => cmp(a, b) !== 0;
      case "<":
        return (a, b) => cmp(a, b) < 0;
      case "<=":
        return (a, b) => cmp(a, b) <= 0;
      case ">":
        return (a, b) => cmp(a, b) > 0;
      case ">=":
        return (a, b) => cmp(a, b) >= 0;
    }
  }
  // Integers, bigints (also timestamps), dates and booleans (false < true) compare natively; both sides have one type.
  switch (op) {
    case "=":
      return (a, b) => a === b;
    case "<>":
      return (a, b) => a !== b;
    case "<":
      return (a, b) => a < b;
    case "<=":
      return (a, b) => a <= b;
    case ">":
      return (a, b) => a > b;
    case ">=":
      return (a, b) => a >= b;
  }
}
