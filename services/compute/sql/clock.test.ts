import { beforeEach, describe, expect, it } from "vitest";
import type { QueryEngine } from "../wire/query-engine.js";
import { SessionClock } from "./clock.js";
import { rows, run } from "./testing/collect.js";
import { openSession } from "./testing/session.js";

/** now() is the transaction's start, statement_timestamp() the message's, clock_timestamp() the wall clock's. */

let engine: QueryEngine;

beforeEach(async () => {
  ({ engine } = await openSession());
});

const pause = () => new Promise((resolve) => setTimeout(resolve, 5));
const one = async (sql: string) => (await rows(engine, sql))[0]!;

describe("now() and its kin", () => {
  it("stays put within a transaction block and moves between transactions", async () => {
    await run(engine, "begin");
    const [first] = await one("select now()");
    await pause();
    const [again, statement, clock] = await one("select now(), statement_timestamp(), clock_timestamp()");
    expect(again).toBe(first);
    expect(String(statement) > String(first)).toBe(true);
    expect(String(clock) >= String(statement)).toBe(true);
    await run(engine, "commit");
    await pause();
    const [later] = await one("select current_timestamp");
    expect(String(later) > String(first)).toBe(true);
  });

  it("is one value for every statement of a multi-statement Query", async () => {
    await run(engine, "create table h (a timestamp, b timestamptz)");
    await run(
      engine,
      "insert into h values (now(), now()); select pg_sleep(0.005); insert into h values (localtimestamp, now())",
    );
    const values = await rows(engine, "select a, b from h");
    expect(values[0]).toEqual(values[1]);
    expect(String(values[0]![1]).endsWith("+00")).toBe(true);
  });

  it("reads a driven clock: transaction start, statement start, wall clock", () => {
    let micros = 946684800_000000n; // 2000-01-01 00:00:00 UTC in Unix time
    const clock = new SessionClock(() => micros);
    clock.startStatement();
    clock.startTransaction();
    micros += 10n;
    clock.startStatement();
    micros += 5n;
    expect([clock.transactionTimestamp(), clock.statementTimestamp(), clock.clockTimestamp()]).toEqual([0n, 10n, 15n]);
  });
});
