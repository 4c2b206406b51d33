/**
 * Numeric constants with a fraction or an exponent (`1.5`, `2.50`, `1e-3`).
 * There is no general numeric arithmetic yet: a whole numeric is a bigint,
 * and a fractional one is kept as its canonical decimal text (as numeric_out
 * prints it, with the scale written: `2.50`), which can only be printed or
 * cast (to double precision, or rounded to an integer). Analysis rejects
 * every other use (0A000).
 */

const LITERAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** A numeric literal as a bigint when its scale is 0, else its canonical text; undefined if not a number. */
export function parseNumericLiteral(text: string): bigint | string | undefined {
  const m = LITERAL.exec(text.trim());
  if (m === null || (m[2] === "" && (m[3] ?? "") === "")) return undefined;
  const sign = m[1] === "-" ? "-" : "";
  const fracPart = m[3] ?? "";
  const exponent = Number(m[4] ?? 0);
  let all = m[2]! + fracPart;
  // The value is `all` with its decimal point at `point`; numeric_in's scale is max(0, fraction digits − exponent).
  let point = m[2]!.length + exponent;
  const scale = Math.max(0, fracPart.length - exponent);
  if (point < 0) {
    all = "0".repeat(-point) + all;
    point = 0;
  }
  if (point > all.length) all += "0".repeat(point - all.length);
  const whole = all.slice(0, point).replace(/^0+/, "") || "0";
  if (scale === 0) return BigInt(`${sign}${whole}`);
  const fraction = all.slice(point).padEnd(scale, "0");
  const isZero = whole === "0" && /^0*$/.test(fraction);
  return `${isZero ? "" : sign}${whole}.${fraction}`;
}

/** A fractional numeric constant: one that only printing and casts may use. */
export function isFractionalNumeric(value: unknown): value is string {
  return typeof value === "string";
}

/** numeric → double precision (float8in of its text, as PostgreSQL's numeric_float8). */
export function numericToFloat8(value: bigint | string): number {
  return Number(value);
}

/** numeric → integer: rounded half away from zero, as numeric_int4/int8 do (range checked by the caller). */
export function numericToBigint(value: bigint | string): bigint {
  if (typeof value === "bigint") return value;
  const negative = value.startsWith("-");
  const [whole, fraction = ""] = value.replace(/^-/, "").split(".");
  let n = BigInt(whole || "0");
  if ((fraction[0] ?? "0") >= "5") n += 1n;
  return negative ? -n : n;
}
