import { beforeEach, describe, expect, it } from "vitest";
import type { QueryEngine } from "../wire/query-engine.js";
import { failure, query, run, single } from "./testing/collect.js";
import { openSession } from "./testing/session.js";

/**
 * Expressions through the engine (simple protocol): literal types and names, operators, casts,
 * three-valued logic, and the errors PostgreSQL 15 raises for them (checked against a real server).
 */

let engine: QueryEngine;

beforeEach(async () => {
  ({ engine } = await openSession());
});

const one = (sql: string) => single(engine, sql);
const fails = (sql: string) => failure(engine, sql);
const setup = (...sql: string[]) => run(engine, ...sql);

describe("SELECT without FROM", () => {
  it("types and names literals as PostgreSQL does", async () => {
    expect(await one("select 1, true, false, null, 'a', -2147483648, 2147483648, 12345678901234567890")).toEqual({
      fields: [
        ["?column?", 23],
        ["?column?", 16],
        ["?column?", 16],
        ["?column?", 25],
        ["?column?", 25],
        ["?column?", 23],
        ["?column?", 20],
        ["?column?", 1700],
      ],
      rows: [["1", "t", "f", null, "a", "-2147483648", "2147483648", "12345678901234567890"]],
      tag: "SELECT 1",
    });
  });

  it("names casts by type, keeps aliases, casts as PostgreSQL", async () => {
    expect(
      await one("select '1'::int, 1::int8 as big, 1::bool, 0::bool, true::text, 1::text, cast('yes' as boolean)"),
    ).toEqual({
      fields: [
        ["int4", 23],
        ["big", 20],
        ["bool", 16],
        ["bool", 16],
        ["text", 25],
        ["text", 25],
        ["bool", 16],
      ],
      rows: [["1", "1", "t", "f", "true", "1", "t"]],
      tag: "SELECT 1",
    });
  });

  it("does integer arithmetic with C semantics and unknown literals taking the other side's type", async () => {
    expect((await one("select -7/2, -7%2, 7 % -2, -(1), +1, - -1, 1+'2', 2*3-4, (2+3)*4")).rows).toEqual([
      ["-3", "-1", "1", "-1", "1", "1", "3", "2", "20"],
    ]);
    expect((await one("select (-2147483648)%(-1), 9223372036854775807 - 1")).rows).toEqual([
      ["0", "9223372036854775806"],
    ]);
    expect((await one("select 1 + 2::int8")).fields).toEqual([["?column?", 20]]);
    // The parser folds the minus into the literal, which then no longer fits int4.
    expect(await one("select -(-2147483648)")).toMatchObject({ fields: [["?column?", 20]], rows: [["2147483648"]] });
  });

  it("uses three-valued logic", async () => {
    expect((await one("select 1 = 1 and null, null or true, not null, null and false, 1 <> 1 or null")).rows).toEqual([
      [null, "t", null, "f", null],
    ]);
    expect((await one("select null is null, 1 is not null, null = null, 'a' < 'b', true > false")).rows).toEqual([
      ["t", "t", null, "t", "t"],
    ]);
  });

  it("pg_sleep returns void", async () => {
    expect(await one("select pg_sleep(0.001)")).toEqual({
      fields: [["pg_sleep", 2278]],
      rows: [[""]],
      tag: "SELECT 1",
    });
    expect((await one("select pg_sleep(null)")).rows).toEqual([[null]]);
  });

  it("answers an empty query with EmptyQueryResponse", async () => {
    const outcome = await query(engine, " ; -- nothing\n");
    expect(outcome.error).toBeUndefined();
    expect(outcome.results).toEqual([]);
  });
});

describe("arithmetic and input errors", () => {
  it.each([
    ["select 2147483647 + 1", "22003", "integer out of range"],
    ["select (-2147483648) / (-1)", "22003", "integer out of range"],
    ["select 9223372036854775807 + 1", "22003", "bigint out of range"],
    ["select 99999999999::int", "22003", "integer out of range"],
    ["select 1/0", "22012", "division by zero"],
    ["select 5 % 0", "22012", "division by zero"],
    ["select 5::int8 / 0", "22012", "division by zero"],
  ])("%s → %s", async (sql, code, message) => {
    expect(await fails(sql)).toMatchObject({ code, message });
  });

  it("reports bad literals at their position (22P02)", async () => {
    expect(await fails("select 'abc'::int")).toMatchObject({
      code: "22P02",
      message: 'invalid input syntax for type integer: "abc"',
      position: 8,
    });
    expect(await fails("select 'x'::bool")).toMatchObject({
      code: "22P02",
      message: 'invalid input syntax for type boolean: "x"',
    });
    expect(await fails("select '99999999999'::int")).toMatchObject({
      code: "22003",
      message: 'value "99999999999" is out of range for type integer',
    });
  });

  it("reports type errors as PostgreSQL", async () => {
    expect(await fails("select -'1'")).toMatchObject({
      code: "42725",
      message: "operator is not unique: - unknown",
      position: 8,
    });
    expect(await fails("select '1' + '2'")).toMatchObject({
      code: "42725",
      message: "operator is not unique: unknown + unknown",
    });
    expect(await fails("select 1 + true")).toMatchObject({
      code: "42883",
      message: "operator does not exist: integer + boolean",
    });
    expect(await fails("select 1::int8::bool")).toMatchObject({
      code: "42846",
      message: "cannot cast type bigint to boolean",
    });
    expect(await fails("select not 1")).toMatchObject({
      code: "42804",
      message: "argument of NOT must be type boolean, not type integer",
      position: 12,
    });
  });
});

describe("syntax errors and positions", () => {
  it("reports the parser's position (42601)", async () => {
    expect(await fails("selec 1")).toEqual({
      code: "42601",
      message: 'syntax error at or near "selec"',
      position: 1,
      detail: undefined,
      hint: undefined,
    });
    expect(await fails("select * from")).toMatchObject({
      code: "42601",
      message: "syntax error at end of input",
      position: 14,
    });
  });

  it("counts positions in characters, not bytes", async () => {
    await setup("create table t (a int)");
    expect(await fails("select 'é', nope from t")).toMatchObject({ code: "42703", position: 13 });
  });
});
