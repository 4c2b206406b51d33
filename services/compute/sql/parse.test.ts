import { beforeAll, describe, expect, it } from "vitest";
import { SqlError } from "../wire/sql-error.js";
import { ParseCache, loadParser } from "./parse.js";

beforeAll(async () => {
  await loadParser();
});

describe("ParseCache", () => {
  it("parses once per text and evicts the least recently used", () => {
    const cache = new ParseCache({ entriesMax: 2, textLengthMax: 100 });
    const a = cache.parse("select 1");
    expect(cache.parse("select 1")).toBe(a);
    cache.parse("select 2");
    cache.parse("select 1"); // now 2 is the least recently used
    cache.parse("select 3");
    expect(cache.size).toBe(2);
    expect(cache.parse("select 1")).toBe(a);
    expect(cache.misses).toBe(3);
    cache.parse("select 2");
    expect(cache.misses).toBe(4);
  });

  it("does not keep texts above the length limit", () => {
    const cache = new ParseCache({ entriesMax: 10, textLengthMax: 10 });
    cache.parse("select 1234567890");
    expect(cache.size).toBe(0);
  });

  it("splits statements and reports syntax errors with a 1-based position", () => {
    const cache = new ParseCache();
    expect(cache.parse("select 1; select 2;").map((s) => s.location)).toEqual([0, 10]);
    expect(cache.parse(" ; ")).toEqual([]);
    try {
      cache.parse("select 1 frm t");
      throw new Error("no error");
    } catch (err) {
      expect(err).toBeInstanceOf(SqlError);
      expect(err).toMatchObject({ code: "42601", message: 'syntax error at or near "t"', position: 14 });
    }
  });
});
