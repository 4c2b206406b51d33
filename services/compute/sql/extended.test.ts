import { beforeEach, describe, expect, it } from "vitest";
import type { FormatCode } from "../wire/frontend-messages.js";
import type { Portal, PreparedStatement, QueryEngine } from "../wire/query-engine.js";
import { SqlError } from "../wire/sql-error.js";
import { CollectingSink, query, rows } from "./testing/collect.js";
import type { MemoryDatabase } from "./testing/memory-database.js";
import { openSession, openSessions } from "./testing/session.js";

/** The extended protocol through the engine: Parse → Bind → Execute → Sync, as the wire layer drives it. */

let engine: QueryEngine;
let db: MemoryDatabase;

beforeEach(async () => {
  ({ engine, db } = await openSession());
  await rows(engine, "create table t (a int not null, b bigint, c text, d boolean)");
  await rows(engine, "insert into t values (1, 10, 'x', true), (2, 20, 'y', false), (3, null, null, null)");
});

const text = (s: string): Uint8Array => Buffer.from(s, "utf8");

function prepare(sql: string, oids: number[] = []): Promise<PreparedStatement> {
  return engine.prepare!(sql, oids);
}

async function bind(
  statement: PreparedStatement,
  params: (string | Uint8Array | null)[],
  formats: { params?: FormatCode[]; results?: FormatCode[] } = {},
): Promise<Portal> {
  const values = params.map((p) => (typeof p === "string" ? text(p) : p));
  const paramFormats = formats.params ?? params.map(() => 0 as FormatCode);
  const resultFormats = formats.results ?? (statement.fields ?? []).map(() => 0 as FormatCode);
  return statement.bind(values, paramFormats, resultFormats);
}

async function execute(portal: Portal, rowsMax = 0) {
  const sink = new CollectingSink();
  const outcome = await portal.execute(sink, rowsMax);
  const partial = (sink as unknown as { current?: { rows: unknown[][] } }).current;
  return { outcome, results: sink.results, pendingRows: partial?.rows ?? [], empty: sink.empty };
}

async function errorOf(p: Promise<unknown>): Promise<SqlError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof SqlError) return err;
    throw err;
  }
  throw new Error("expected a SqlError");
}

describe("parameters", () => {
  it("infers parameter types from context and describes the result", async () => {
    const s = await prepare("select a, c from t where a = $1 or b > $2 order by a");
    expect(s.paramTypeOids).toEqual([23, 20]);
    expect(s.fields?.map((f) => [f.name, f.typeOid])).toEqual([
      ["a", 23],
      ["c", 25],
    ]);
    const r = await execute(await bind(s, ["1", "15"]));
    expect(r.results[0]).toMatchObject({
      rows: [
        ["1", "x"],
        ["2", "y"],
      ],
      tag: "SELECT 2",
    });
  });

  it("types an untyped $1 as text, a cast one by its cast, and takes the client's types", async () => {
    expect((await prepare("select $1")).paramTypeOids).toEqual([25]);
    expect((await prepare("select $1::int8")).paramTypeOids).toEqual([20]);
    expect((await prepare("select $1 + 1")).paramTypeOids).toEqual([23]);
    expect((await prepare("select $2 = c from t")).paramTypeOids).toEqual([25, 25]);
    const s = await prepare("select $1 + 1", [20]);
    expect(s.paramTypeOids).toEqual([20]);
    expect(s.fields?.map((f) => f.typeOid)).toEqual([20]);
    expect(await errorOf(prepare("select $1", [700]))).toMatchObject({ code: "0A000" });
  });

  it("inserts and updates with parameters, NULL parameters and assignment casts", async () => {
    const ins = await prepare("insert into t (a, b, c, d) values ($1, $2, $3, $4)");
    expect(ins.paramTypeOids).toEqual([23, 20, 25, 16]);
    expect(ins.fields).toBeNull();
    expect((await execute(await bind(ins, ["4", "40", "w", "on"]))).results[0]?.tag).toBe("INSERT 0 1");
    expect((await execute(await bind(ins, ["5", null, null, null]))).results[0]?.tag).toBe("INSERT 0 1");
    const upd = await prepare("update t set b = b + $1 where a = $2");
    expect((await execute(await bind(upd, ["5", "4"]))).results[0]?.tag).toBe("UPDATE 1");
    await engine.sync!();
    expect(await rows(engine, "select a, b, c, d from t where a >= 4 order by a")).toEqual([
      ["4", "45", "w", "t"],
      ["5", null, null, null],
    ]);
  });

  it("reports bad parameter text (22P02) and aborts the implicit transaction", async () => {
    const s = await prepare("select a from t where a = $1");
    expect(await errorOf(bind(s, ["abc"]))).toMatchObject({
      code: "22P02",
      message: 'invalid input syntax for type integer: "abc"',
    });
    expect(await errorOf(bind(s, ["99999999999"]))).toMatchObject({ code: "22003" });
  });

  it("reads and writes binary formats", async () => {
    const s = await prepare("select a, b, d, c from t where a = $1");
    const param = Buffer.alloc(4);
    param.writeInt32BE(1);
    const r = await execute(await bind(s, [param], { params: [1], results: [1, 1, 1, 0] }));
    const [a, b, d, c] = r.results[0]!.rows[0]!;
    expect(Buffer.from(a as Uint8Array).readInt32BE(0)).toBe(1);
    expect(Buffer.from(b as Uint8Array).readBigInt64BE(0)).toBe(10n);
    expect([...(d as Uint8Array)]).toEqual([1]);
    expect(c).toBe("x");
  });

  it("refuses $n in the simple protocol (42P02)", async () => {
    expect((await query(engine, "select $1")).error).toMatchObject({
      code: "42P02",
      message: "there is no parameter $1",
    });
  });
});

describe("portals", () => {
  it("suspends after rowsMax rows and completes on a later Execute", async () => {
    const portal = await bind(await prepare("select a from t order by a"), []);
    const first = await execute(portal, 2);
    expect(first.outcome).toBe("suspended");
    expect(first.pendingRows).toEqual([["1"], ["2"]]);
    const second = await execute(portal, 2);
    expect(second.outcome).toBe("complete");
    expect(second.results[0]).toMatchObject({ rows: [["3"]], tag: "SELECT 1" });
    const exact = await bind(await prepare("select a from t order by a"), []);
    expect((await execute(exact, 3)).outcome).toBe("suspended"); // PostgreSQL does not look ahead either
    expect((await execute(exact, 3)).results[0]).toMatchObject({ rows: [], tag: "SELECT 0" });
  });

  it("answers an empty statement with EmptyQueryResponse", async () => {
    const s = await prepare("  ");
    expect(s.fields).toBeNull();
    expect((await execute(await bind(s, []))).empty).toBe(1);
  });

  it("refuses several statements in one Parse", async () => {
    expect(await errorOf(prepare("select 1; select 2"))).toMatchObject({
      code: "42601",
      message: "cannot insert multiple commands into a prepared statement",
    });
  });

  it("re-plans when a table is re-created, and refuses a changed result type", async () => {
    const s = await prepare("select * from t order by a");
    await rows(engine, "drop table t");
    await rows(engine, "create table t (a int not null, b bigint, c text, d boolean)");
    await rows(engine, "insert into t values (7, 70, 'z', true)");
    expect((await execute(await bind(s, []))).results[0]?.rows).toEqual([["7", "70", "z", "t"]]);
    await engine.sync!();
    await rows(engine, "drop table t");
    expect(await errorOf(execute(await bind(s, [])))).toMatchObject({ code: "42P01" });
    await engine.sync!();
    await rows(engine, "create table t (a text)");
    expect(await errorOf(execute(await bind(s, [])))).toMatchObject({
      code: "0A000",
      message: "feature not supported: cached plan must not change result type",
    });
  });
});

describe("transactions in the extended protocol", () => {
  it("commits the implicit transaction at Sync", async () => {
    const { engines } = await openSessions(2, db);
    const [a, b] = engines as [QueryEngine, QueryEngine];
    const s = await a.prepare!("insert into t (a) values ($1)", []);
    await s.bind([text("9")], [0], []).then((p) => p.execute(new CollectingSink(), 0));
    expect(await rows(b, "select count(*) from t where a = 9")).toEqual([["0"]]);
    expect(a.transactionStatus()).toBe("I");
    await a.sync!();
    expect(await rows(b, "select count(*) from t where a = 9")).toEqual([["1"]]);
  });

  it("runs BEGIN/COMMIT as statements; an error in the block fails it until ROLLBACK", async () => {
    await execute(await bind(await prepare("begin"), []));
    await engine.sync!();
    expect(engine.transactionStatus()).toBe("T");
    const bad = await prepare("select 1 / $1::int");
    expect(await errorOf(execute(await bind(bad, ["0"])))).toMatchObject({ code: "22012" });
    await engine.sync!();
    expect(engine.transactionStatus()).toBe("E");
    expect(await errorOf(prepare("select 1"))).toMatchObject({ code: "25P02" });
    const rollback = await prepare("rollback");
    expect((await execute(await bind(rollback, []))).results[0]?.tag).toBe("ROLLBACK");
    await engine.sync!();
    expect(engine.transactionStatus()).toBe("I");
  });

  it("treats a wire-level error as a failed statement (statementFailed)", async () => {
    await rows(engine, "begin");
    await rows(engine, "insert into t (a) values (100)");
    engine.statementFailed!(new Error("bind message supplies 2 parameters"));
    await engine.sync!();
    expect(engine.transactionStatus()).toBe("E");
    await rows(engine, "rollback");
    expect(await rows(engine, "select count(*) from t where a = 100")).toEqual([["0"]]);
  });

  it("closes a suspended portal when its transaction ends", async () => {
    const portal = await bind(await prepare("select a from t"), []);
    expect((await execute(portal, 1)).outcome).toBe("suspended");
    await engine.sync!();
    expect(await errorOf(execute(portal, 1))).toMatchObject({ code: "34000" });
  });
});
