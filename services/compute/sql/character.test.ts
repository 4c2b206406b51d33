import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bpcharCharLength, bpcharLength, charLength, varcharLength } from "./character.js";
import { parseNumericLiteral } from "./numeric-literal.js";
import { compareBpchar } from "./operators.js";

describe("character(n) and varchar(n)", () => {
  it("pads char(n), cuts only spaces on assignment and anything on explicit casts", () => {
    expect(bpcharLength("ab", 5 + 4, false)).toBe("ab   ");
    expect(bpcharLength("ab    ", 3 + 4, false)).toBe("ab ");
    expect(() => bpcharLength("abcd", 3 + 4, false)).toThrow("value too long for type character(3)");
    expect(bpcharLength("abcd", 3 + 4, true)).toBe("abc");
    expect(bpcharLength("abc  ", -1, false)).toBe("abc  ");
    expect(varcharLength("ab", 3 + 4, false)).toBe("ab");
    expect(varcharLength("ab    ", 3 + 4, false)).toBe("ab ");
    expect(() => varcharLength("abcd", 3 + 4, false)).toThrow("value too long for type character varying(3)");
    expect(varcharLength("abcd", 3 + 4, true)).toBe("abc");
  });

  it("counts characters, not UTF-16 units", () => {
    expect(charLength("é😀x")).toBe(3);
    expect(bpcharLength("😀", 2 + 4, false)).toBe("😀 ");
    expect(bpcharLength("😀😀😀", 2 + 4, true)).toBe("😀😀");
    expect(bpcharCharLength("ab  ")).toBe(2);
  });

  it("gives char(n) exactly n characters and keeps their order ignoring padding", () => {
    const text = fc.string({ unit: "grapheme-ascii", maxLength: 12 });
    fc.assert(
      fc.property(text, fc.integer({ min: 1, max: 12 }), (s, n) => {
        const padded = bpcharLength(s, n + 4, true);
        expect(charLength(padded)).toBe(n);
        expect(compareBpchar(padded, padded.trimEnd())).toBe(0);
      }),
    );
  });
});

describe("numeric literals", () => {
  it("keep the scale written, as numeric_in does", () => {
    const cases: [string, bigint | string][] = [
      ["1.5", "1.5"],
      ["-1.5", "-1.5"],
      ["1e5", 100000n],
      ["1.5e-3", "0.0015"],
      ["2.50", "2.50"],
      [".5", "0.5"],
      ["5.", 5n],
      ["0.000", "0.000"],
      ["-0.0", "0.0"],
      ["123.456e2", "12345.6"],
    ];
    for (const [text, value] of cases) expect(parseNumericLiteral(text)).toBe(value);
  });
});
