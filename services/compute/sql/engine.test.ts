import { beforeEach, describe, expect, it } from "vitest";
import type { QueryEngine } from "../wire/query-engine.js";
import { query, rows } from "./testing/collect.js";
import type { MemoryDatabase } from "./testing/memory-database.js";
import { openSession } from "./testing/session.js";

/**
 * The engine through its QueryEngine face (simple protocol), over the
 * in-memory Database. Expected outputs are what PostgreSQL 15 prints for the
 * same statements (checked against a real server).
 */

let engine: QueryEngine;
let db: MemoryDatabase;

beforeEach(async () => {
  ({ engine, db } = await openSession());
});

/** One successful statement: [name, type oid] per column, rows, tag. */
async function one(sql: string) {
  const outcome = await query(engine, sql);
  if (outcome.error !== undefined) throw outcome.error;
  expect(outcome.results).toHaveLength(1);
  const r = outcome.results[0]!;
  return { fields: r.fields?.map((f) => [f.name, f.typeOid]), rows: r.rows, tag: r.tag };
}

async function fails(sql: string) {
  const outcome = await query(engine, sql);
  if (outcome.error === undefined) throw new Error(`expected an error from: ${sql}`);
  const { code, message, position, detail, hint } = outcome.error;
  return { code, message, position, detail, hint };
}

async function setup(...statements: string[]): Promise<void> {
  for (const sql of statements) {
    const outcome = await query(engine, sql);
    if (outcome.error !== undefined) throw outcome.error;
  }
}

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
    ["create table t (a varchar(3))", "feature not supported: type varchar"],
    ["create table t (a serial)", "feature not supported: type serial"],
    ["create table t (a numeric)", "feature not supported: type numeric"],
    ["create table t (a int primary key)", "feature not supported: PRIMARY KEY"],
    ["create table t (a int default 1)", "feature not supported: DEFAULT"],
    ["create table t (a int, unique (a))", "feature not supported: UNIQUE constraints"],
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
    expect(await fails("drop index i")).toMatchObject({ code: "0A000", message: "feature not supported: DROP INDEX" });
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
    ["select a from t join t u on true", "JOIN"],
    ["select a from t, t u", "JOIN"],
    ["select a from t group by a", "GROUP BY"],
    ["select distinct a from t", "DISTINCT"],
    ["select a from t union select a from t", "UNION/INTERSECT/EXCEPT"],
    ["select (select 1)", "subqueries"],
    ["select a from (select 1 as a) s", "subqueries in FROM"],
    ["select a in (1, 2) from t", "IN"],
    ["select c like 'a%' from t", "LIKE"],
    ["select c || c from t", "operator ||"],
    ["select abs(a) from t", "function abs()"],
    ["select case when d then 1 end from t", "CASE"],
    ["select coalesce(a, 0) from t", "COALESCE"],
    ["select 1.5", "non-integer numeric constants"],
    ["select now()", "function now()"],
    ["select current_timestamp", "CURRENT_TIMESTAMP"],
    ["select count(distinct a) from t", "DISTINCT in aggregates"],
    ["with x as (select 1) select 1", "WITH"],
    ["select a from t for update", "FOR UPDATE/SHARE"],
    ["insert into t select * from t", "INSERT … SELECT"],
    ["insert into t values (1) returning a", "RETURNING"],
    ["update t set a = 1 from t u", "UPDATE … FROM"],
    ["delete from t using t u", "DELETE … USING"],
    ["set search_path = public", "SET"],
    ["create index i on t (a)", "CREATE INDEX"],
    ["savepoint s", "savepoints"],
    ["begin isolation level serializable", "SERIALIZABLE isolation"],
    ["select * from pg_catalog.pg_class", "system catalogs"],
    ["select pg_sleep(1) from t", "pg_sleep() other than as SELECT pg_sleep(seconds)"],
    ["explain select 1", "EXPLAIN"],
  ])("%s → 0A000 %s", async (sql, construct) => {
    expect(await fails(sql)).toMatchObject({ code: "0A000", message: `feature not supported: ${construct}` });
  });
});

describe("transactions", () => {
  beforeEach(async () => {
    await setup("create table t (a int)");
  });

  it("runs a multi-statement Query in one implicit transaction that an error rolls back", async () => {
    const outcome = await query(
      engine,
      "insert into t values (1); insert into t values (2); select 1/0; insert into t values (3)",
    );
    expect(outcome.results.map((r) => r.tag)).toEqual(["INSERT 0 1", "INSERT 0 1"]);
    expect(outcome.error?.code).toBe("22012");
    expect(outcome.status).toBe("I");
    expect(await rows(engine, "select count(*) from t")).toEqual([["0"]]);
  });

  it("commits each single-statement Query (autocommit)", async () => {
    await setup("insert into t values (1)");
    expect(await fails("insert into t values (1/0)")).toMatchObject({ code: "22012" });
    expect(await rows(engine, "select count(*) from t")).toEqual([["1"]]);
  });

  it("honours BEGIN/COMMIT inside one Query; COMMIT in an implicit block warns and commits", async () => {
    const a = await query(engine, "begin; insert into t values (1); commit; insert into t values (2); select 1/0");
    expect(a.results.map((r) => r.tag)).toEqual(["BEGIN", "INSERT 0 1", "COMMIT", "INSERT 0 1"]);
    expect(a.error?.code).toBe("22012");
    const b = await query(engine, "insert into t values (3); commit; select 1/0");
    expect(b.notices.map((n) => [n.severity, n.code, n.message])).toEqual([
      ["WARNING", "25P01", "there is no transaction in progress"],
    ]);
    expect((await rows(engine, "select a from t order by a")).flat()).toEqual(["1", "3"]);
    const c = await query(engine, "begin; insert into t values (4)");
    expect(c.status).toBe("T");
    expect((await query(engine, "rollback")).status).toBe("I");
    expect((await rows(engine, "select a from t order by a")).flat()).toEqual(["1", "3"]);
  });

  it("puts a failed block in state E until ROLLBACK; COMMIT of it reports ROLLBACK", async () => {
    await setup("begin", "insert into t values (1)");
    expect((await query(engine, "select 1/0")).status).toBe("E");
    expect(await fails("select 1")).toMatchObject({
      code: "25P02",
      message: "current transaction is aborted, commands ignored until end of transaction block",
    });
    expect((await query(engine, "select 1")).status).toBe("E");
    const commit = await query(engine, "commit");
    expect(commit.results[0]?.tag).toBe("ROLLBACK");
    expect(commit.status).toBe("I");
    expect(await rows(engine, "select count(*) from t")).toEqual([["0"]]);
    await setup("begin");
    expect((await query(engine, "selec")).status).toBe("E"); // a syntax error fails the block too
    expect((await query(engine, "rollback")).results[0]?.tag).toBe("ROLLBACK");
  });

  it("accepts START TRANSACTION, END, ABORT and warns as PostgreSQL", async () => {
    expect((await query(engine, "commit")).notices[0]).toMatchObject({ severity: "WARNING", code: "25P01" });
    expect((await query(engine, "rollback")).notices[0]).toMatchObject({ severity: "WARNING", code: "25P01" });
    expect((await query(engine, "start transaction isolation level repeatable read")).results[0]?.tag).toBe(
      "START TRANSACTION",
    );
    expect((await query(engine, "begin")).notices[0]).toMatchObject({
      code: "25001",
      message: "there is already a transaction in progress",
    });
    await setup("insert into t values (1)");
    expect((await query(engine, "end")).results[0]?.tag).toBe("COMMIT");
    await setup("begin", "insert into t values (2)");
    expect((await query(engine, "abort")).results[0]?.tag).toBe("ROLLBACK");
    expect(await rows(engine, "select count(*) from t")).toEqual([["1"]]);
  });

  it("refuses writes in a READ ONLY block (25006)", async () => {
    await setup("begin read only");
    expect(await fails("insert into t values (1)")).toMatchObject({
      code: "25006",
      message: "cannot execute INSERT in a read-only transaction",
    });
    await setup("rollback");
  });

  it("waits for the commit to be durable before reporting COMMIT, and rolls back on close", async () => {
    await setup("begin", "insert into t values (1)");
    const commits = db.commits;
    await setup("commit");
    expect(db.commits).toBe(commits + 1);
    await setup("begin", "insert into t values (2)");
    const rollbacks = db.rollbacks;
    await engine.close();
    expect(db.rollbacks).toBe(rollbacks + 1);
  });

  it("never touches the access layer for SELECT 1 or an empty BEGIN/COMMIT", async () => {
    const before = db.commits + db.rollbacks;
    await setup("select 1", "begin", "select 2", "commit", "select pg_sleep(0)");
    expect(db.commits + db.rollbacks).toBe(before);
  });
});

describe("cancel", () => {
  it("fails a running pg_sleep with 57014 and aborts the rest of the Query", async () => {
    await setup("create table t (a int)");
    const running = query(engine, "insert into t values (1); select pg_sleep(60); insert into t values (2)");
    await new Promise((r) => setTimeout(r, 20));
    engine.cancel();
    const outcome = await running;
    expect(outcome.error).toMatchObject({ code: "57014", message: "canceling statement due to user request" });
    expect(await rows(engine, "select count(*) from t")).toEqual([["0"]]);
  });

  it("has no effect when idle", async () => {
    engine.cancel();
    expect(await rows(engine, "select pg_sleep(0.001)")).toEqual([[""]]);
  });
});
