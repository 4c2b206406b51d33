import { beforeEach, describe, expect, it } from "vitest";
import type { QueryEngine } from "../wire/query-engine.js";
import { failure, query, rows, run } from "./testing/collect.js";
import type { MemoryDatabase } from "./testing/memory-database.js";
import { openSession } from "./testing/session.js";

/**
 * Transaction rules of the simple protocol (implicit transactions, blocks, failed blocks,
 * warnings), durability of COMMIT, and cancellation.
 */

let engine: QueryEngine;
let db: MemoryDatabase;

beforeEach(async () => {
  ({ engine, db } = await openSession());
});

const fails = (sql: string) => failure(engine, sql);
const setup = (...sql: string[]) => run(engine, ...sql);

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
