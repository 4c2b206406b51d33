import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SqlError } from "../wire/sql-error.js";
import { INT4_MAX, INT4_MIN, INT8_MAX, INT8_MIN } from "./datum-io.js";
import type { ArithmeticOp } from "./operators.js";
import { arithmetic, compareText, negation } from "./operators.js";

/** int4/int8 arithmetic against exact bigint arithmetic with C's truncating division. */

const OPS: ArithmeticOp[] = ["+", "-", "*", "/", "%"];

function reference(op: ArithmeticOp, a: bigint, b: bigint, min: bigint, max: bigint): bigint | string {
  if ((op === "/" || op === "%") && b === 0n) return "22012";
  const exact = op === "+" ? a + b : op === "-" ? a - b : op === "*" ? a * b : op === "/" ? a / b : a % b;
  if (exact < min || exact > max) return "22003";
  return exact;
}

function outcome(run: () => unknown): bigint | string {
  try {
    const v = run();
    return typeof v === "bigint" ? v : BigInt(v as number);
  } catch (err) {
    if (err instanceof SqlError) return err.code;
    throw err;
  }
}

const edgeInt4 = fc.oneof(
  fc.integer({ min: INT4_MIN, max: INT4_MAX }),
  fc.constantFrom(INT4_MIN, INT4_MAX, -1, 0, 1, 46341, -46341),
);
const edgeInt8 = fc.oneof(
  fc.bigInt({ min: INT8_MIN, max: INT8_MAX }),
  fc.constantFrom(INT8_MIN, INT8_MAX, -1n, 0n, 1n),
);

describe("integer arithmetic", () => {
  it("int4 matches exact arithmetic, with 22003 on overflow and 22012 on division by zero", () => {
    fc.assert(
      fc.property(fc.constantFrom(...OPS), edgeInt4, edgeInt4, (op, a, b) => {
        const expected = reference(op, BigInt(a), BigInt(b), BigInt(INT4_MIN), BigInt(INT4_MAX));
        // INT4_MIN % -1 is 0 in PostgreSQL, although INT4_MIN / -1 overflows.
        expect(outcome(() => arithmetic(op, "int4")!(a, b))).toEqual(expected);
      }),
      { numRuns: 5000 },
    );
  });

  it("int8 matches exact arithmetic", () => {
    fc.assert(
      fc.property(fc.constantFrom(...OPS), edgeInt8, edgeInt8, (op, a, b) => {
        expect(outcome(() => arithmetic(op, "int8")!(a, b))).toEqual(reference(op, a, b, INT8_MIN, INT8_MAX));
      }),
      { numRuns: 5000 },
    );
  });

  it("negation overflows only at the minimum", () => {
    expect(outcome(() => negation("int4")!(INT4_MIN))).toBe("22003");
    expect(outcome(() => negation("int8")!(INT8_MIN))).toBe("22003");
    expect(negation("int4")!(5)).toBe(-5);
    expect(Object.is(arithmetic("*", "int4")!(0, -1), 0)).toBe(true); // never -0
  });
});

describe("text order", () => {
  it("is the byte order of UTF-8 (the C collation)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), fc.string({ unit: "grapheme" }), (a, b) => {
        const expected = Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));
        expect(Math.sign(compareText(a, b))).toBe(expected);
      }),
      { numRuns: 5000 },
    );
    expect(compareText("\u{1F600}", "\uFFFD")).toBeGreaterThan(0); // UTF-16 order would say less
  });
});
