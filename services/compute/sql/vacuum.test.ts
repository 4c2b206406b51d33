import { beforeEach, describe, expect, it } from "vitest";
import type { QueryEngine } from "../wire/query-engine.js";
import { failure, query, run, single } from "./testing/collect.js";
import { openSession } from "./testing/session.js";

/**
 * VACUUM and pg_relation_size through the engine over the test double (which
 * prunes nothing): which tables VACUUM visits, VERBOSE's INFO, the options,
 * and the errors. The pruning itself is tested on pages (heap-prune.test.ts)
 * and through the whole stack (test/compute-vacuum.test.ts).
 */

let engine: QueryEngine;

beforeEach(async () => {
  ({ engine } = await openSession());
  await run(engine, "create table a (x int)", "create table b (y int)", "insert into a values (1), (2)");
});

const infos = async (sql: string) => {
  const outcome = await query(engine, sql);
  expect(outcome.results[0]?.tag).toBe(sql.startsWith("analyze") ? "ANALYZE" : "VACUUM");
  return outcome.notices.map((n) => [n.severity, n.code, n.message.replace(/:.*/, "")]);
};

describe("VACUUM", () => {
  it("visits the named tables, or every user table, and VERBOSE reports each", async () => {
    expect(await infos("vacuum verbose a")).toEqual([["INFO", "00000", 'finished vacuuming "public.a"']]);
    expect(await infos("vacuum (verbose) a, b")).toEqual([
      ["INFO", "00000", 'finished vacuuming "public.a"'],
      ["INFO", "00000", 'finished vacuuming "public.b"'],
    ]);
    expect(await infos("vacuum (verbose true)")).toEqual([
      ["INFO", "00000", 'finished vacuuming "public.a"'],
      ["INFO", "00000", 'finished vacuuming "public.b"'],
    ]);
    expect(await infos("vacuum (verbose false) a")).toEqual([]);
    expect(await infos("vacuum (verbose off, analyze) a")).toEqual([]);
    expect(await infos("analyze verbose a")).toEqual([]);
    expect(await infos("vacuum a")).toEqual([]);
  });

  it("refuses a transaction block and unknown tables", async () => {
    await run(engine, "begin");
    expect(await failure(engine, "vacuum a")).toMatchObject({
      code: "25001",
      message: "VACUUM cannot run inside a transaction block",
    });
    await run(engine, "rollback");
    expect(await failure(engine, "vacuum nope")).toMatchObject({ code: "42P01" });
  });
});

describe("pg_relation_size", () => {
  it("is a bigint of whole 8 KiB blocks, 42P01 for an unknown table", async () => {
    expect(await single(engine, "select pg_relation_size('a')")).toEqual({
      fields: [["pg_relation_size", 20]],
      rows: [["8192"]],
      tag: "SELECT 1",
    });
    expect((await single(engine, "select pg_relation_size('public.b') as s")).rows).toEqual([["0"]]);
    expect(await failure(engine, "select pg_relation_size('nope')")).toMatchObject({
      code: "42P01",
      message: 'relation "nope" does not exist',
    });
  });
});
