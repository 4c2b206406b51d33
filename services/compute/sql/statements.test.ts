import { beforeEach, describe, expect, it } from "vitest";
import type { QueryEngine } from "../wire/query-engine.js";
import { failure, query, rows, run, single } from "./testing/collect.js";
import { openSession } from "./testing/session.js";

/**
 * CREATE/DROP TABLE, INSERT/UPDATE/DELETE and SELECT over a table through the engine (simple
 * protocol), with the outputs and errors PostgreSQL 15 gives (checked against a real server).
 */

let engine: QueryEngine;

beforeEach(async () => {
  ({ engine } = await openSession());
});

const one = (sql: string) => single(engine, sql);
const fails = (sql: string) => failure(engine, sql);
const setup = (...sql: string[]) => run(engine, ...sql);

describe("CREATE and DROP TABLE", () => {
  it("creates tables of the four types and reports 42P07 for a taken name", async () => {
    expect(
      await one("create table t (a int not null, b bigint, c text, d boolean, e int4, f int8, g bool, h integer null)"),
    ).toEqual({
      fields: undefined,
      rows: [],
      tag: "CREATE TABLE",
    });
    expect(await fails("create table t (x int)")).toMatchObject({
      code: "42P07",
      message: 'relation "t" already exists',
    });
    const outcome = await query(engine, "create table if not exists t (x int)");
    expect(outcome.results[0]?.tag).toBe("CREATE TABLE");
    expect(outcome.notices).toEqual([
      { severity: "NOTICE", code: "42P07", message: 'relation "t" already exists, skipping' },
    ]);
  });

  it.each([
    ["create table t (a real)", "feature not supported: type real"],
    ["create table t (a serial)", "feature not supported: type serial"],
    ["create table t (a interval)", "feature not supported: type interval"],
    ["create table t (a time)", "feature not supported: type time"],
    ["create table t (a numeric)", "feature not supported: type numeric"],
    ["create table t (a int default 1)", "feature not supported: DEFAULT"],
    ["create table t (a int[])", "feature not supported: array types"],
    ["create temp table t (a int)", "feature not supported: temporary tables"],
  ])("%s → 0A000", async (sql, message) => {
    expect(await fails(sql)).toMatchObject({ code: "0A000", message });
  });

  it("rejects duplicate columns and conflicting NULL/NOT NULL", async () => {
    expect(await fails("create table t (a int, a int)")).toMatchObject({
      code: "42701",
      message: 'column "a" specified more than once',
    });
    expect(await fails("create table t (a int null not null)")).toMatchObject({ code: "42601" });
  });

  it("drops tables, 42P01 for a missing one, a notice with IF EXISTS", async () => {
    await setup("create table t (a int)");
    expect((await one("drop table t")).tag).toBe("DROP TABLE");
    expect(await fails("drop table t")).toMatchObject({ code: "42P01", message: 'table "t" does not exist' });
    const outcome = await query(engine, "drop table if exists t, u");
    expect(outcome.results[0]?.tag).toBe("DROP TABLE");
    expect(outcome.notices.map((n) => [n.severity, n.code, n.message])).toEqual([
      ["NOTICE", "00000", 'table "t" does not exist, skipping'],
      ["NOTICE", "00000", 'table "u" does not exist, skipping'],
    ]);
    expect(await fails("drop index i")).toMatchObject({ code: "42704", message: 'index "i" does not exist' });
  });
});

describe("INSERT, UPDATE, DELETE", () => {
  beforeEach(async () => {
    await setup("create table t (a int not null, b bigint, c text, d boolean)");
  });

  it("inserts several rows, columns in any order, missing ones NULL", async () => {
    expect((await one("insert into t values (1, 10, 'x', true), (2, null, 'y', false)")).tag).toBe("INSERT 0 2");
    expect((await one("insert into t (c, a) values ('z', 3)")).tag).toBe("INSERT 0 1");
    expect((await one("insert into t (a, c) values (4, 5)")).tag).toBe("INSERT 0 1"); // int → text by assignment
    expect((await one("insert into t (a, b) values ('5', '50'), (6, default)")).tag).toBe("INSERT 0 2");
    expect(await rows(engine, "select * from t order by a")).toEqual([
      ["1", "10", "x", "t"],
      ["2", null, "y", "f"],
      ["3", null, "z", null],
      ["4", null, "5", null],
      ["5", "50", null, null],
      ["6", null, null, null],
    ]);
  });

  it("checks NOT NULL (23502) with the failing row", async () => {
    expect(await fails("insert into t (b, c) values (1, 'x')")).toMatchObject({
      code: "23502",
      message: 'null value in column "a" of relation "t" violates not-null constraint',
      detail: "Failing row contains (null, 1, x, null).",
    });
    await setup("insert into t values (1, 2, 'x', true)");
    expect(await fails("update t set a = null")).toMatchObject({ code: "23502" });
  });

  it("reports assignment errors as PostgreSQL", async () => {
    expect(await fails("insert into t (a) values ('x')")).toMatchObject({
      code: "22P02",
      message: 'invalid input syntax for type integer: "x"',
      position: 27,
    });
    expect(await fails("insert into t (a) values (true)")).toMatchObject({
      code: "42804",
      message: 'column "a" is of type integer but expression is of type boolean',
      position: 27,
      hint: "You will need to rewrite or cast the expression.",
    });
    expect(await fails("insert into t (a) values (2147483648)")).toMatchObject({
      code: "22003",
      message: "integer out of range",
    });
    expect(await fails("insert into t values (1, 2, 'x', true, 5)")).toMatchObject({
      code: "42601",
      message: "INSERT has more expressions than target columns",
      position: 40,
    });
    expect(await fails("insert into t (a, b) values (1)")).toMatchObject({
      code: "42601",
      message: "INSERT has more target columns than expressions",
    });
    expect(await fails("insert into t (z) values (1)")).toMatchObject({
      code: "42703",
      message: 'column "z" of relation "t" does not exist',
      position: 16,
    });
    expect(await fails("insert into t (a, a) values (1, 2)")).toMatchObject({ code: "42701" });
    expect(await fails("insert into nope values (1)")).toMatchObject({ code: "42P01", position: 13 });
  });

  it("updates from the old row's values and counts rows", async () => {
    await setup("insert into t values (1, 10, 'x', true), (2, 20, 'y', false), (3, null, 'z', null)");
    expect((await one("update t set a = b, b = a where b is not null")).tag).toBe("UPDATE 2");
    expect((await one("update t set c = c where a > 100")).tag).toBe("UPDATE 0");
    expect(await rows(engine, "select a, b from t order by a")).toEqual([
      ["3", null],
      ["10", "1"],
      ["20", "2"],
    ]);
    expect(await fails("update t set z = 1")).toMatchObject({
      code: "42703",
      message: 'column "z" of relation "t" does not exist',
    });
    expect(await fails("update t set a = 1, a = 2")).toMatchObject({
      code: "42601",
      message: 'multiple assignments to same column "a"',
    });
    expect(await fails("update t set a = 'x'")).toMatchObject({ code: "22P02" });
    expect(await fails("update t set b = 9223372036854775807 where a = 3; update t set b = b + 1")).toMatchObject({
      code: "22003",
      message: "bigint out of range",
    });
    await setup("update t set a = -2147483648 where a = 3");
    expect(await fails("select -a from t")).toMatchObject({ code: "22003", message: "integer out of range" });
  });

  it("deletes and counts rows", async () => {
    await setup("insert into t values (1, 10, 'x', true), (2, 20, 'y', false), (3, null, 'z', null)");
    expect((await one("delete from t where b > 15 or b is null")).tag).toBe("DELETE 2");
    expect((await one("delete from t")).tag).toBe("DELETE 1");
    expect(await rows(engine, "select count(*) from t")).toEqual([["0"]]);
  });
});

describe("SELECT from a table", () => {
  beforeEach(async () => {
    await setup(
      "create table t (a int, b bigint, c text, d boolean)",
      "insert into t values (1, 10, 'b', true), (2, null, 'a', false), (3, 30, null, null), (4, 40, 'c', true)",
    );
  });

  it("filters with WHERE and marks table columns in RowDescription", async () => {
    const outcome = await query(engine, "select a, a + 1, c from t where d and b >= 10");
    const r = outcome.results[0]!;
    expect(r.rows).toEqual([
      ["1", "2", "b"],
      ["4", "5", "c"],
    ]);
    expect(r.fields?.map((f) => [f.name, f.columnAttnum, f.tableOid > 0])).toEqual([
      ["a", 1, true],
      ["?column?", 0, false],
      ["c", 3, true],
    ]);
  });

  it("orders with NULLs last ascending and first descending, by name, position or expression", async () => {
    expect(await rows(engine, "select a, b from t order by b")).toEqual([
      ["1", "10"],
      ["3", "30"],
      ["4", "40"],
      ["2", null],
    ]);
    expect((await rows(engine, "select a from t order by b desc")).flat()).toEqual(["2", "4", "3", "1"]);
    expect((await rows(engine, "select a from t order by b nulls first")).flat()).toEqual(["2", "1", "3", "4"]);
    expect((await rows(engine, "select a from t order by b desc nulls last")).flat()).toEqual(["4", "3", "1", "2"]);
    expect((await rows(engine, "select a as x, c from t order by 2")).map((r) => r[0])).toEqual(["2", "1", "4", "3"]);
    expect((await rows(engine, "select a as x from t order by x desc")).flat()).toEqual(["4", "3", "2", "1"]);
    expect((await rows(engine, "select a from t order by -a")).flat()).toEqual(["4", "3", "2", "1"]);
    expect((await rows(engine, "select a from t order by d, a desc")).flat()).toEqual(["2", "4", "1", "3"]);
  });

  it("applies LIMIT and OFFSET", async () => {
    expect((await rows(engine, "select a from t order by a limit 2")).flat()).toEqual(["1", "2"]);
    expect((await rows(engine, "select a from t order by a limit 2 offset 3")).flat()).toEqual(["4"]);
    expect((await rows(engine, "select a from t limit 0")).flat()).toEqual([]);
    expect((await rows(engine, "select a from t order by a limit null")).flat()).toHaveLength(4);
    expect((await rows(engine, "select a from t limit 1")).flat()).toHaveLength(1);
    expect(await fails("select a from t limit -1")).toMatchObject({
      code: "2201W",
      message: "LIMIT must not be negative",
    });
    expect(await fails("select a from t offset -1")).toMatchObject({
      code: "2201X",
      message: "OFFSET must not be negative",
    });
    expect(await fails("select a from t limit a")).toMatchObject({ code: "42P10" });
  });

  it("aggregates count and sum with PostgreSQL's types", async () => {
    expect(await one("select count(*), count(b), sum(a), sum(b), sum(a) + 1 from t")).toEqual({
      fields: [
        ["count", 20],
        ["count", 20],
        ["sum", 20],
        ["sum", 1700],
        ["?column?", 20],
      ],
      rows: [["4", "3", "10", "80", "11"]],
      tag: "SELECT 1",
    });
    expect((await one("select count(*), sum(a), sum(b) from t where a > 100")).rows).toEqual([["0", null, null]]);
    expect((await one("select count(*)")).rows).toEqual([["1"]]);
  });

  it("rejects misplaced aggregates as PostgreSQL (42803)", async () => {
    expect(await fails("select count(*), a from t")).toMatchObject({
      code: "42803",
      message: 'column "t.a" must appear in the GROUP BY clause or be used in an aggregate function',
      position: 18,
    });
    expect(await fails("select a from t where count(*) > 1")).toMatchObject({
      code: "42803",
      message: "aggregate functions are not allowed in WHERE",
    });
    expect(await fails("select count(count(*)) from t")).toMatchObject({
      code: "42803",
      message: "aggregate function calls cannot be nested",
    });
    expect(await fails("select sum(c) from t")).toMatchObject({
      code: "42883",
      message: "function sum(text) does not exist",
    });
  });

  it("resolves names: star, alias, qualified columns", async () => {
    expect((await one("select x.*, t2 from t as x, t as t2 limit 1").catch((e) => e)).code).toBe("0A000");
    expect((await one("select x.a, a from t x where x.a = 1")).rows).toEqual([["1", "1"]]);
    expect(await fails("select t.a from t x")).toMatchObject({
      code: "42P01",
      message: 'invalid reference to FROM-clause entry for table "t"',
    });
    expect(await fails("select y.a from t")).toMatchObject({
      code: "42P01",
      message: 'missing FROM-clause entry for table "y"',
    });
    expect(await fails("select t.zz from t")).toMatchObject({ code: "42703", message: "column t.zz does not exist" });
    expect(await fails("select *")).toMatchObject({
      code: "42601",
      message: "SELECT * with no tables specified is not valid",
    });
    expect(await fails("select * from nope")).toMatchObject({
      code: "42P01",
      message: 'relation "nope" does not exist',
      position: 15,
    });
    expect(await fails("select zz from t")).toMatchObject({
      code: "42703",
      message: 'column "zz" does not exist',
      position: 8,
    });
    expect(await fails("select 1 from t where a")).toMatchObject({
      code: "42804",
      message: "argument of WHERE must be type boolean, not type integer",
      position: 23,
    });
    expect(await fails("select 1 from t where c = 1")).toMatchObject({
      code: "42883",
      message: "operator does not exist: text = integer",
    });
    expect(await fails("select a as x, b as x from t order by x")).toMatchObject({
      code: "42702",
      message: 'ORDER BY "x" is ambiguous',
    });
    expect(await fails("select a from t order by 3")).toMatchObject({
      code: "42P10",
      message: "ORDER BY position 3 is not in select list",
    });
  });

  it.each([
    ["select a from t union select a from t", "UNION/INTERSECT/EXCEPT"],
    ["select a from t full join t u using (a)", "FULL JOIN … USING"],
    ["select a from t group by rollup (a)", "GROUPING SETS, ROLLUP and CUBE"],
    ["select distinct on (a) a from t", "DISTINCT ON"],
    ["select array(select 1)", "ARRAY(subquery)"],
    ["select c like 'a%' from t", "LIKE"],
    ["select c || c from t", "operator ||"],
    ["select abs(a) from t", "function abs()"],
    ["select case when d then 1 end from t", "CASE"],
    ["select 1.5 + 1", "arithmetic and comparison of non-integer numeric values"],
    ["select timeofday()", "function timeofday()"],
    ["select current_time", "CURRENT_TIME"],
    ["select count(distinct a) from t", "DISTINCT in aggregates"],
    ["with x as (select 1) select 1", "WITH"],
    ["select a from t for update", "FOR UPDATE/SHARE"],
    ["insert into t select a from t union select 1", "UNION/INTERSECT/EXCEPT"],
    ["select generate_series(1, 3)", "function generate_series()"],
    ["insert into t values (1) returning a", "RETURNING"],
    ["update t set a = 1 from t u", "UPDATE … FROM"],
    ["delete from t using t u", "DELETE … USING"],
    ["set transaction isolation level serializable", "SET TRANSACTION"],
    ["create index i on t ((a + 1))", "indexes on expressions"],
    ["savepoint s", "savepoints"],
    ["begin isolation level serializable", "SERIALIZABLE isolation"],
    ["select * from information_schema.tables", "information_schema"],
    ["select pg_sleep(1) from t", "pg_sleep() other than as SELECT pg_sleep(seconds)"],
  ])("%s → 0A000 %s", async (sql, construct) => {
    expect(await fails(sql)).toMatchObject({ code: "0A000", message: `feature not supported: ${construct}` });
  });
});
