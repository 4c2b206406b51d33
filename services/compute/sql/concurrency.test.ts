import { beforeEach, describe, expect, it } from "vitest";
import type { QueryEngine } from "../wire/query-engine.js";
import { query, rows } from "./testing/collect.js";
import { openSessions } from "./testing/session.js";

/**
 * Two sessions over one Database: what each statement sees under READ
 * COMMITTED and REPEATABLE READ, and how the SQL layer treats a row another
 * transaction changed (the access layer's "gone").
 */

let a: QueryEngine;
let b: QueryEngine;

beforeEach(async () => {
  const { engines } = await openSessions(2);
  [a, b] = engines as [QueryEngine, QueryEngine];
  await rows(a, "create table t (k int not null, v int)");
  await rows(a, "insert into t values (1, 100), (2, 200)");
});

async function ok(engine: QueryEngine, sql: string) {
  const outcome = await query(engine, sql);
  if (outcome.error !== undefined) throw outcome.error;
  return outcome.results.map((r) => r.rows);
}

describe("snapshots", () => {
  it("READ COMMITTED: each statement sees what committed before it", async () => {
    await ok(a, "begin");
    expect(await rows(a, "select v from t where k = 1")).toEqual([["100"]]);
    await ok(b, "update t set v = 101 where k = 1");
    expect(await rows(a, "select v from t where k = 1")).toEqual([["101"]]);
    await ok(a, "commit");
  });

  it("REPEATABLE READ: the whole block sees the snapshot of its first statement", async () => {
    await ok(a, "begin isolation level repeatable read");
    expect(await rows(a, "select v from t where k = 1")).toEqual([["100"]]);
    await ok(b, "update t set v = 101 where k = 1");
    expect(await rows(a, "select v from t where k = 1")).toEqual([["100"]]);
    await ok(a, "commit");
    expect(await rows(a, "select v from t where k = 1")).toEqual([["101"]]);
  });

  it("a block sees its own changes, others only after COMMIT", async () => {
    await ok(a, "begin; insert into t values (3, 300); update t set v = v + 1 where k = 3");
    expect(await rows(a, "select v from t where k = 3")).toEqual([["301"]]);
    expect(await rows(b, "select count(*) from t")).toEqual([["2"]]);
    await ok(a, "commit");
    expect(await rows(b, "select count(*) from t")).toEqual([["3"]]);
  });
});

describe("write conflicts", () => {
  it("waits for the holder of a row; REPEATABLE READ then fails with 40001", async () => {
    await ok(a, "begin isolation level repeatable read");
    expect(await rows(a, "select v from t where k = 1")).toEqual([["100"]]);
    await ok(b, "begin; update t set v = 150 where k = 1");
    const blocked = query(a, "update t set v = v + 1 where k = 1");
    await new Promise((r) => setTimeout(r, 10));
    await ok(b, "commit");
    const outcome = await blocked;
    expect(outcome.error).toMatchObject({
      code: "40001",
      message: "could not serialize access due to concurrent update",
    });
    expect(outcome.status).toBe("E");
    await ok(a, "rollback");
  });

  it("READ COMMITTED proceeds once the holder rolls back", async () => {
    await ok(b, "begin; update t set v = 150 where k = 1");
    const blocked = query(a, "update t set v = v + 1 where k = 1");
    await new Promise((r) => setTimeout(r, 10));
    await ok(b, "rollback");
    expect((await blocked).results[0]?.tag).toBe("UPDATE 1");
    expect(await rows(a, "select v from t where k = 1")).toEqual([["101"]]);
  });
});
