import { Code, sqlError } from "./errors.js";

/**
 * double precision as PostgreSQL 15's float.c: input (float8in: strtod with
 * spaces around, NaN/Infinity spellings, out-of-range errors), output
 * (shortest round-trip digits, printf's fixed/exponent switch: `0.1`,
 * `1e+100`, `Infinity`, `NaN`, `-0`), arithmetic with its overflow, underflow
 * and division checks, and the total order its B-tree uses (NaN above all).
 */

const DISPLAY = "double precision";
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL: Readonly<Record<string, number>> = {
  nan: Number.NaN,
  "+nan": Number.NaN,
  "-nan": Number.NaN,
  infinity: Number.POSITIVE_INFINITY,
  "+infinity": Number.POSITIVE_INFINITY,
  "-infinity": Number.NEGATIVE_INFINITY,
  inf: Number.POSITIVE_INFINITY,
  "+inf": Number.POSITIVE_INFINITY,
  "-inf": Number.NEGATIVE_INFINITY,
};

export function parseFloat8(text: string, location?: number): number {
  const trimmed = text.replace(/^[ \t\n\r\v\f]+|[ \t\n\r\v\f]+$/g, "");
  const special = SPECIAL[trimmed.toLowerCase()];
  if (special !== undefined) return special;
  if (!NUMBER.test(trimmed)) {
    throw sqlError(Code.invalidTextRepresentation, `invalid input syntax for type ${DISPLAY}: "${text}"`, location);
  }
  const value = Number(trimmed);
  // strtod's ERANGE: overflow to infinity, or underflow of a nonzero number to zero.
  if (!Number.isFinite(value) || (value === 0 && /[1-9]/.test(trimmed.replace(/[eE].*$/, "")))) {
    throw sqlError(Code.numericValueOutOfRange, `"${text}" is out of range for type ${DISPLAY}`, location);
  }
  return value;
}

/** float8out with extra_float_digits = 1 (PostgreSQL 12+): shortest digits that read back exactly. */
export function formatFloat8(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "Infinity";
  if (value === Number.NEGATIVE_INFINITY) return "-Infinity";
  if (value === 0) return Object.is(value, -0) ? "-0" : "0";
  // toExponential() without an argument gives the shortest round-trip digits, as Ryu does.
  const [mantissa, exp] = value.toExponential().split("e") as [string, string];
  const exponent = Number(exp);
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace(/^-/, "").replace(".", "");
  const sign = negative ? "-" : "";
  if (exponent < -4 || exponent >= 15) {
    const body = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exponent);
    return `${sign}${body}e${exponent < 0 ? "-" : "+"}${e < 10 ? `0${e}` : e}`;
  }
  if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
  if (digits.length <= exponent + 1) return `${sign}${digits}${"0".repeat(exponent + 1 - digits.length)}`;
  return `${sign}${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
}

function overflow(): never {
  throw sqlError(Code.numericValueOutOfRange, "value out of range: overflow");
}

function underflow(): never {
  throw sqlError(Code.numericValueOutOfRange, "value out of range: underflow");
}

export function float8Add(a: number, b: number): number {
  const r = a + b;
  if (!Number.isFinite(r) && !Number.isNaN(r) && Number.isFinite(a) && Number.isFinite(b)) overflow();
  return r;
}

export function float8Sub(a: number, b: number): number {
  const r = a - b;
  if (!Number.isFinite(r) && !Number.isNaN(r) && Number.isFinite(a) && Number.isFinite(b)) overflow();
  return r;
}

export function float8Mul(a: number, b: number): number {
  const r = a * b;
  if (!Number.isFinite(r) && !Number.isNaN(r) && Number.isFinite(a) && Number.isFinite(b)) overflow();
  if (r === 0 && a !== 0 && b !== 0) underflow();
  return r;
}

export function float8Div(a: number, b: number): number {
  if (b === 0 && !Number.isNaN(a)) throw sqlError(Code.divisionByZero, "division by zero");
  const r = a / b;
  if (!Number.isFinite(r) && !Number.isNaN(r) && Number.isFinite(a)) overflow();
  if (r === 0 && a !== 0 && Number.isFinite(b)) underflow();
  return r;
}

/** float8_cmp_internal: NaN equals NaN and sorts above everything; -0 equals 0. */
export function compareFloat8(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
  if (Number.isNaN(b)) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** rint(): to the nearest integer, ties to even (what float8 → int casts use). */
export function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** dtoi4 / dtoi8: rounded, then range-checked (NaN is out of range). */
export function float8ToInt4(v: number): number {
  const r = rint(v);
  if (Number.isNaN(r) || r < -2147483648 || r > 2147483647) {
    throw sqlError(Code.numericValueOutOfRange, "integer out of range");
  }
  return r + 0;
}

export function float8ToInt8(v: number): bigint {
  const r = rint(v);
  // 2^63 is exactly representable and already out of range; -2^63 is in range.
  if (Number.isNaN(r) || r < -(2 ** 63) || r >= 2 ** 63) {
    throw sqlError(Code.numericValueOutOfRange, "bigint out of range");
  }
  return BigInt(r);
}
