import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Datum } from "../access/database.js";
import { seriesBatches } from "./generate-series.js";

function all(type: "int4" | "int8", values: readonly Datum[], batch = 7): Datum[] {
  return [...seriesBatches(type, values, batch)].flat();
}

describe("generate_series values", () => {
  it("are those of the naive loop, in batches of at most the size asked", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -50, max: 50 }),
        fc.integer({ min: -50, max: 50 }),
        fc.integer({ min: -7, max: 7 }).filter((s) => s !== 0),
        fc.integer({ min: 1, max: 10 }),
        (start, stop, step, batch) => {
          const expected: number[] = [];
          for (let v = start; step > 0 ? v <= stop : v >= stop; v += step) expected.push(v);
          const batches = [...seriesBatches("int4", [start, stop, step], batch)];
          expect(batches.every((b) => b.length > 0 && b.length <= batch)).toBe(true);
          expect(batches.flat()).toEqual(expected);
        },
      ),
    );
  });

  it("are made lazily: the first batch of a huge series comes at once", () => {
    const first = seriesBatches("int8", [1n, 9_000_000_000_000_000_000n], 3).next();
    expect(first.value).toEqual([1n, 2n, 3n]);
  });

  it("end at the type's bounds without overflowing, int4 as numbers and int8 as bigints", () => {
    expect(all("int4", [2147483646, 2147483647])).toEqual([2147483646, 2147483647]);
    expect(all("int8", [9223372036854775806n, 9223372036854775807n, 5n])).toEqual([9223372036854775806n]);
  });

  it("are none when an argument is NULL; a zero step is 22023", () => {
    expect(all("int4", [1, null])).toEqual([]);
    expect(all("int4", [1, 3, null])).toEqual([]);
    expect(() => all("int4", [1, 3, 0])).toThrow(expect.objectContaining({ code: "22023" }));
  });
});
