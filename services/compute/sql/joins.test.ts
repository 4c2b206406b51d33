import { beforeEach, describe, expect, it } from "vitest";
import type { Row, Table, Transaction } from "../access/database.js";
import type { QueryEngine } from "../wire/query-engine.js";
import { failure, rows, run } from "./testing/collect.js";
import { MemoryDatabase } from "./testing/memory-database.js";
import { openSession } from "./testing/session.js";

/**
 * How multi-relation queries run over the Database seam: which tables are
 * scanned how often (a join's inner side once, a LATERAL side per outer
 * row), that LIMIT stops the scans early, and the session's names. Results
 * themselves are checked against PostgreSQL in differential-joins.test.ts.
 */

/** Counts the pages each table's scans hand out. */
class CountingDatabase extends MemoryDatabase {
  readonly scans = new Map<string, number>();
  readonly pages = new Map<string, number>();

  override async *scan(tx: Transaction, table: Table): AsyncIterable<readonly Row[]> {
    this.scans.set(table.name, (this.scans.get(table.name) ?? 0) + 1);
    for await (const page of super.scan(tx, table)) {
      this.pages.set(table.name, (this.pages.get(table.name) ?? 0) + 1);
      yield page;
    }
  }

  reset(): void {
    this.scans.clear();
    this.pages.clear();
  }
}

let db: CountingDatabase;
let engine: QueryEngine;

beforeEach(async () => {
  db = new CountingDatabase();
  ({ engine } = await openSession(db));
  const values = Array.from({ length: 1000 }, (_, i) => `(${i}, ${i % 10})`).join(", ");
  await run(
    engine,
    "create table big (id int, k int)",
    `insert into big values ${values}`,
    "create table small (k int, name text)",
    "insert into small values (1, 'one'), (2, 'two'), (3, 'three')",
  );
  db.reset();
});

describe("joins over the Database seam", () => {
  it("scans a join's inner side once, however many outer rows there are", async () => {
    const result = await rows(engine, "select count(*) from big join small on big.k = small.k");
    expect(result).toEqual([["300"]]);
    expect(db.scans.get("big")).toBe(1);
    expect(db.scans.get("small")).toBe(1);
  });

  it("runs a LATERAL side again for each outer row", async () => {
    const result = await rows(
      engine,
      "select s.k, l.c from small s, lateral (select count(*) as c from big where big.k = s.k) l order by 1",
    );
    expect(result).toEqual([
      ["1", "100"],
      ["2", "100"],
      ["3", "100"],
    ]);
    expect(db.scans.get("big")).toBe(3);
  });

  it("runs an uncorrelated subquery once and a correlated one per row", async () => {
    await rows(engine, "select k from small where k < (select max(k) from big)");
    expect(db.scans.get("big")).toBe(1);
    db.reset();
    await rows(engine, "select k, (select count(*) from big where big.k = small.k) from small");
    expect(db.scans.get("big")).toBe(3);
  });

  it("stops scanning the outer side once LIMIT is reached", async () => {
    expect(await rows(engine, "select big.id, small.name from big join small on big.k = small.k limit 2")).toEqual([
      ["1", "one"],
      ["2", "two"],
    ]);
    expect(db.pages.get("big")).toBe(1);
  });

  it("answers current_user and current_database() from the session", async () => {
    expect(await rows(engine, "select current_user, current_database(), current_schema")).toEqual([
      ["test", "test", "public"],
    ]);
  });

  it("resolves schema-qualified tables and functions in public and pg_catalog", async () => {
    expect(
      await rows(engine, "select pg_catalog.count(*) from public.small join pg_catalog.small s2 using (k)"),
    ).toEqual([["3"]]);
    expect(await failure(engine, "select * from nope.small")).toMatchObject({
      code: "3F000",
      message: 'schema "nope" does not exist',
    });
    expect(await failure(engine, "select nope.count(*) from small")).toMatchObject({ code: "3F000" });
  });
});
