import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareFloat8, float8Div, float8Mul, float8ToInt4, formatFloat8, parseFloat8 } from "./float8.js";

describe("double precision", () => {
  it("prints as PostgreSQL 15 does", () => {
    const cases: [number, string][] = [
      [0.1, "0.1"],
      [1e100, "1e+100"],
      [Number.POSITIVE_INFINITY, "Infinity"],
      [Number.NEGATIVE_INFINITY, "-Infinity"],
      [Number.NaN, "NaN"],
      [-0, "-0"],
      [0, "0"],
      [1e15, "1e+15"],
      [1e14, "100000000000000"],
      [0.0001, "0.0001"],
      [0.00001, "1e-05"],
      [123456789012345680, "1.2345678901234568e+17"],
      [999999999999999.9, "999999999999999.9"],
      [0.1 + 0.2, "0.30000000000000004"],
      [5e-324, "5e-324"],
      [1.7976931348623157e308, "1.7976931348623157e+308"],
      [-2.5, "-2.5"],
      [123.456, "123.456"],
    ];
    for (const [value, text] of cases) expect(formatFloat8(value)).toBe(text);
  });

  it("reads back exactly what it prints", () => {
    fc.assert(
      fc.property(fc.double(), (x) => {
        expect(Object.is(parseFloat8(formatFloat8(x)), x)).toBe(true);
      }),
    );
  });

  it("reads PostgreSQL's spellings and fails with its messages", () => {
    expect(parseFloat8(" 1.5 ")).toBe(1.5);
    expect(parseFloat8("-inf")).toBe(Number.NEGATIVE_INFINITY);
    expect(parseFloat8("  nan")).toBeNaN();
    expect(parseFloat8(".5")).toBe(0.5);
    expect(() => parseFloat8("abc")).toThrow('invalid input syntax for type double precision: "abc"');
    expect(() => parseFloat8("")).toThrow('invalid input syntax for type double precision: ""');
    expect(() => parseFloat8("1e")).toThrow("invalid input syntax");
    expect(() => parseFloat8("1e400")).toThrow('"1e400" is out of range for type double precision');
    expect(() => parseFloat8("1e-400")).toThrow('"1e-400" is out of range for type double precision');
    expect(parseFloat8("0e-400")).toBe(0);
  });

  it("checks arithmetic as float.c does", () => {
    expect(() => float8Div(1, 0)).toThrow("division by zero");
    expect(float8Div(Number.NaN, 0)).toBeNaN();
    expect(() => float8Mul(1e308, 10)).toThrow("value out of range: overflow");
    expect(() => float8Mul(1e-300, 1e-300)).toThrow("value out of range: underflow");
    expect(float8Mul(Number.POSITIVE_INFINITY, 2)).toBe(Number.POSITIVE_INFINITY);
    expect(float8ToInt4(2.5)).toBe(2);
    expect(float8ToInt4(-2.5)).toBe(-2);
    expect(() => float8ToInt4(Number.NaN)).toThrow("integer out of range");
  });

  it("orders totally, NaN above everything and -0 equal to 0", () => {
    expect(compareFloat8(Number.NaN, Number.POSITIVE_INFINITY)).toBe(1);
    expect(compareFloat8(Number.NaN, Number.NaN)).toBe(0);
    expect(compareFloat8(-0, 0)).toBe(0);
    fc.assert(
      fc.property(fc.double(), fc.double(), fc.double(), (a, b, c) => {
        // Antisymmetric (summed, so that 0 and -0 from Math.sign compare equal).
        expect(Math.sign(compareFloat8(a, b)) + Math.sign(compareFloat8(b, a))).toBe(0);
        if (compareFloat8(a, b) <= 0 && compareFloat8(b, c) <= 0) expect(compareFloat8(a, c)).toBeLessThanOrEqual(0);
      }),
    );
  });
});
