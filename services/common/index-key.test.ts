import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvariantError } from "./assert.js";
import { compareBytes } from "./bytes.js";
import { type IndexDatum, type IndexKeyType, decodeIndexKey, encodeIndexKey } from "./index-key.js";

const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;

/** Strings with the characters that matter: NUL, spaces, ASCII, 2-4 byte UTF-8 (no lone surrogates: UTF-8 cannot hold them). */
const stringArb = fc
  .array(
    fc.oneof(
      fc.constantFrom("\0", " ", "a", "b", "\u00ff", "\uffff", "\u{10000}", "\ue000", "\u0100"),
      fc.string({ unit: "grapheme-composite", maxLength: 2 }),
    ),
    { maxLength: 6 },
  )
  .map((parts) => parts.join(""));

function arbFor(type: IndexKeyType): fc.Arbitrary<IndexDatum> {
  const value = ((): fc.Arbitrary<IndexDatum> => {
    switch (type) {
      case "int4":
        return fc.oneof(fc.integer({ min: -3, max: 3 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));
      case "int8":
      case "timestamp":
      case "timestamptz":
        return fc.oneof(fc.bigInt({ min: -3n, max: 3n }), fc.bigInt({ min: INT8_MIN, max: INT8_MAX }));
      case "bool":
        return fc.boolean();
      case "float8":
        return fc.oneof(
          fc.constantFrom(0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.MIN_VALUE),
          fc.double(),
        );
      case "text":
      case "varchar":
      case "bpchar":
        return stringArb;
    }
  })();
  return fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 6, arbitrary: value });
}

const utf8 = new TextEncoder();

/** PostgreSQL's order for one column (C collation, NULLS LAST, NaN above Infinity, bpchar without trailing spaces). */
function compareValues(type: IndexKeyType, a: IndexDatum, b: IndexDatum): number {
  if (a === null || b === null) return (a === null ? 1 : 0) - (b === null ? 1 : 0);
  switch (type) {
    case "float8": {
      const x = a as number;
      const y = b as number;
      if (Number.isNaN(x) || Number.isNaN(y)) return (Number.isNaN(x) ? 1 : 0) - (Number.isNaN(y) ? 1 : 0);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case "text":
    case "varchar":
    case "bpchar": {
      const strip = (s: string): string => (type === "bpchar" ? s.replace(/ +$/, "") : s);
      return Buffer.compare(utf8.encode(strip(a as string)), utf8.encode(strip(b as string)));
    }
    case "bool":
      return Number(a) - Number(b);
    default:
      return a < b ? -1 : a > b ? 1 : 0;
  }
}

function compareTuples(types: readonly IndexKeyType[], a: readonly IndexDatum[], b: readonly IndexDatum[]): number {
  for (let i = 0; i < types.length; i++) {
    const c = compareValues(types[i]!, a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return 0;
}

const TYPES: readonly IndexKeyType[] = [
  "int4",
  "int8",
  "bool",
  "text",
  "bpchar",
  "varchar",
  "timestamp",
  "timestamptz",
  "float8",
];
const typesArb = fc.array(fc.constantFrom(...TYPES), { minLength: 1, maxLength: 4 });
const caseArb = typesArb.chain((types) => {
  const tuple = fc.tuple(...types.map(arbFor));
  return fc.record({ types: fc.constant(types), a: tuple, b: tuple, c: tuple });
});

describe("index key encoding", () => {
  it("byte order equals value order for every type and for tuples", () => {
    fc.assert(
      fc.property(caseArb, ({ types, a, b, c }) => {
        for (const [x, y] of [
          [a, b],
          [b, c],
          [a, c],
          [a, a],
        ] as const) {
          const byValue = Math.sign(compareTuples(types, x, y));
          const byBytes = Math.sign(compareBytes(encodeIndexKey(types, x), encodeIndexKey(types, y)));
          expect(byBytes, `${types.join(",")}: ${String(x)} vs ${String(y)}`).toBe(byValue);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("each type alone, on values near each other", () => {
    for (const type of TYPES) {
      fc.assert(
        fc.property(arbFor(type), arbFor(type), (x, y) => {
          const byBytes = Math.sign(compareBytes(encodeIndexKey([type], [x]), encodeIndexKey([type], [y])));
          expect(byBytes).toBe(Math.sign(compareValues(type, x, y)));
        }),
        { numRuns: 500 },
      );
    }
  });

  it("decode(encode(x)) == x (bpchar without trailing spaces, -0 as 0, any NaN as NaN)", () => {
    fc.assert(
      fc.property(
        typesArb.chain((types) => fc.record({ types: fc.constant(types), values: fc.tuple(...types.map(arbFor)) })),
        ({ types, values }) => {
          const decoded = decodeIndexKey(types, encodeIndexKey(types, values));
          const expected = values.map((v, i) =>
            types[i] === "bpchar" && typeof v === "string" ? v.replace(/ +$/, "") : Object.is(v, -0) ? 0 : v,
          );
          expect(decoded).toEqual(expected);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("keeps the documented orders and bytes", () => {
    const t = (s: string): Uint8Array => encodeIndexKey(["text"], [s]);
    expect(compareBytes(t("a"), t("a\0"))).toBeLessThan(0);
    expect(compareBytes(t("a\0"), t("ab"))).toBeLessThan(0);
    expect(compareBytes(t(""), t("\0"))).toBeLessThan(0);
    expect([...t("a\0")]).toEqual([0, 0x61, 0, 0xff, 0, 0]);
    expect([...encodeIndexKey(["int4"], [1])]).toEqual([0, 0x80, 0, 0, 1]);
    expect([...encodeIndexKey(["int4", "text"], [null, null])]).toEqual([1, 1]);
    const f = (x: number): Uint8Array => encodeIndexKey(["float8"], [x]);
    expect(f(-0)).toEqual(f(0));
    expect(f(Number.NaN)).toEqual(f(-Number.NaN));
    expect(compareBytes(f(Number.POSITIVE_INFINITY), f(Number.NaN))).toBeLessThan(0);
    expect(compareBytes(encodeIndexKey(["float8"], [Number.NaN]), encodeIndexKey(["float8"], [null]))).toBeLessThan(0);
    expect(encodeIndexKey(["bpchar"], ["ab  "])).toEqual(encodeIndexKey(["bpchar"], ["ab"]));
    expect(decodeIndexKey(["timestamp"], encodeIndexKey(["timestamp"], [-1n]))).toEqual([-1n]);
  });

  it("a prefix bound is the encoding of the leading columns", () => {
    fc.assert(
      fc.property(arbFor("int4"), arbFor("text"), (a, b) => {
        const whole = encodeIndexKey(["int4", "text"], [a, b]);
        const prefix = encodeIndexKey(["int4"], [a]);
        expect(whole.subarray(0, prefix.length)).toEqual(prefix);
      }),
    );
  });

  it("rejects values of the wrong type and malformed keys", () => {
    const bad: [string, () => unknown][] = [
      ["int4 out of range", () => encodeIndexKey(["int4"], [2 ** 31])],
      ["int4 not an integer", () => encodeIndexKey(["int4"], [1.5])],
      ["int8 as number", () => encodeIndexKey(["int8"], [1])],
      ["int8 out of range", () => encodeIndexKey(["int8"], [2n ** 63n])],
      ["text as number", () => encodeIndexKey(["text"], [1])],
      ["bool as number", () => encodeIndexKey(["bool"], [1])],
      ["arity", () => encodeIndexKey(["int4", "int4"], [1])],
      ["truncated", () => decodeIndexKey(["int4"], Uint8Array.of(0, 1, 2))],
      ["trailing bytes", () => decodeIndexKey(["bool"], Uint8Array.of(0, 1, 0))],
      ["bad marker", () => decodeIndexKey(["bool"], Uint8Array.of(7, 1))],
      ["bad escape", () => decodeIndexKey(["text"], Uint8Array.of(0, 0x61, 0, 3, 0, 0))],
      ["unterminated text", () => decodeIndexKey(["text"], Uint8Array.of(0, 0x61, 0))],
    ];
    for (const [what, f] of bad) expect(f, what).toThrow(InvariantError);
  });
});
