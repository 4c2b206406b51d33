import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SqlError } from "../wire/sql-error.js";
import { formatBinary, formatText, parseBinary, parseBool, parseText } from "./datum-io.js";

function code(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (err) {
    if (err instanceof SqlError) return err.code;
    throw err;
  }
}

describe("text input as PostgreSQL 15", () => {
  it("reads integers with spaces and sign, refuses junk and out-of-range values", () => {
    expect(parseText("int4", " -42 ")).toBe(-42);
    expect(parseText("int4", "+7")).toBe(7);
    expect(parseText("int4", "-0")).toBe(0);
    expect(Object.is(parseText("int4", "-0"), 0)).toBe(true);
    expect(parseText("int4", "-2147483648")).toBe(-2147483648);
    expect(parseText("int8", "9223372036854775807")).toBe(9223372036854775807n);
    expect(code(() => parseText("int4", "2147483648"))).toBe("22003");
    expect(code(() => parseText("int8", "9223372036854775808"))).toBe("22003");
    for (const bad of ["", " ", "1.0", "1e3", "0x10", "1_000", "--1", "1 2", "abc"]) {
      expect(code(() => parseText("int4", bad))).toBe("22P02");
    }
  });

  it("reads booleans as boolin does", () => {
    for (const t of ["t", "true", "TRUE", " tr ", "y", "yes", "on", "1"]) expect(parseBool(t)).toBe(true);
    for (const f of ["f", "false", "n", "no", "off", "of", "0"]) expect(parseBool(f)).toBe(false);
    for (const bad of ["", "o", "2", "truee", "nope", "onn"]) expect(code(() => parseBool(bad))).toBe("22P02");
  });

  it("round-trips integers through text and binary", () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (n) => {
        expect(parseText("int4", formatText("int4", n)!)).toBe(n);
        expect(parseBinary("int4", formatBinary("int4", n)!)).toBe(n);
      }),
    );
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (n) => {
        expect(parseText("int8", formatText("int8", n)!)).toBe(n);
        expect(parseBinary("int8", formatBinary("int8", n)!)).toBe(n);
      }),
    );
  });

  it("prints booleans as t/f", () => {
    expect(formatText("bool", true)).toBe("t");
    expect(formatText("bool", false)).toBe("f");
    expect(formatText("int4", null)).toBeNull();
  });
});

describe("binary forms of the character, date/time and float types", () => {
  const hex = (type: Parameters<typeof formatBinary>[0], value: Parameters<typeof formatBinary>[1]) =>
    Buffer.from(formatBinary(type, value)!).toString("hex");

  it("sends what PostgreSQL's typsend functions send", () => {
    expect(hex("float8", 1.5)).toBe("3ff8000000000000");
    // 2026-01-01 00:00:00 is 820 540 800 seconds (9497 days) after 2000-01-01.
    expect(hex("timestamp", 820540800000000n)).toBe("0002ea470ae86000");
    expect(hex("timestamptz", -(2n ** 63n))).toBe("8000000000000000");
    expect(hex("date", 9497)).toBe("00002519");
    expect(hex("bpchar", "ab  ")).toBe("61622020");
  });

  it("reads back what it sends", () => {
    fc.assert(
      fc.property(fc.double(), (x) => {
        expect(Object.is(parseBinary("float8", formatBinary("float8", x)!), x)).toBe(true);
      }),
    );
    fc.assert(
      fc.property(fc.bigInt({ min: -211813488000000000n, max: 9223371331199999999n }), (t) => {
        expect(parseBinary("timestamptz", formatBinary("timestamptz", t)!)).toBe(t);
      }),
    );
  });

  it("prints text as PostgreSQL does", () => {
    expect(formatText("timestamp", 820540800000000n)).toBe("2026-01-01 00:00:00");
    expect(formatText("timestamptz", 820540800000001n)).toBe("2026-01-01 00:00:00.000001+00");
    expect(formatText("date", 9497)).toBe("2026-01-01");
    expect(formatText("float8", 1e100)).toBe("1e+100");
    expect(parseText("timestamp", "2026-01-01")).toBe(820540800000000n);
    expect(code(() => parseText("float8", "x"))).toBe("22P02");
    expect(code(() => parseText("timestamp", "x"))).toBe("22007");
  });
});
