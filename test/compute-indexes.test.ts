import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sameAsPostgres as compare, connectText } from "./support/compare-postgres.js";
import { type LocalCluster, startLocalCluster } from "./support/local-cluster.js";
import { type VanillaPostgres, startVanillaPostgres } from "./support/vanilla-postgres.js";

/**
 * B-tree indexes, TRUNCATE and VACUUM through the whole stack, compared with
 * a vanilla PostgreSQL started in the same run: results, command tags,
 * SQLSTATEs, messages and DETAIL lines must match.
 */
let cluster: LocalCluster;
let vanilla: VanillaPostgres;

beforeAll(async () => {
  [cluster, vanilla] = await Promise.all([startLocalCluster({ compute: true }), startVanillaPostgres()]);
});
afterAll(async () => {
  await Promise.all([cluster?.stop(), vanilla?.stop()]);
});

const sameAsPostgres = (script: readonly string[]) => compare(cluster.url, vanilla.url, script);
const connect = connectText;

describe("B-tree indexes compared with PostgreSQL", () => {
  it("primary keys, unique and plain indexes: lookups, ranges, duplicates, NULLs", async () => {
    await sameAsPostgres([
      "create table kv (k int4 primary key, v text, g int8)",
      "insert into kv values (1, 'one', 10), (2, 'two', 20), (3, 'three', 30)",
      "insert into kv values (2, 'again', 0)",
      "insert into kv values (null, 'null key', 0)",
      "select * from kv where k = 2",
      "select v from kv where k >= 2 and k < 3",
      "select k from kv where 3 > k order by k",
      "create index on kv (g)",
      "create unique index kv_v on kv (v)",
      "insert into kv values (4, 'two', 40)",
      "insert into kv values (5, null, 50), (6, null, 60)",
      "select k from kv where v is null order by k",
      "select k, g from kv where g = 30",
      "update kv set k = 3 where k = 2",
      "update kv set k = 7 where k = 2",
      "select k, v from kv where k = 7",
      "update kv set v = 'two!' where k = 7",
      "select k, v from kv where k = 7",
      "delete from kv where k = 1",
      "insert into kv values (1, 'one again', 11)",
      "select k, v from kv where k = 1",
      "create index kv_g_idx on kv (k)",
      "create index if not exists kv_g_idx on kv (k)",
      "alter table kv add primary key (g)",
      "drop index kv_pkey",
      "drop index kv_g_idx",
      "drop index kv_g_idx",
      "drop index if exists kv_g_idx",
      "select count(*) from kv where g = 30",
      "drop table kv",
      "create table pair (a int4, b text, c int4)",
      "insert into pair values (1, 'x', 1), (1, 'y', 2), (2, 'x', 3), (1, 'x', 4)",
      "alter table pair add primary key (a, b)",
      "delete from pair where c = 4",
      "alter table pair add primary key (a, b)",
      "insert into pair values (1, 'x', 5)",
      "insert into pair values (null, 'z', 6)",
      "select c from pair where a = 1 and b = 'y'",
      "select c from pair where a = 1 order by c",
      "select c from pair where a = 1 and b > 'x'",
      "alter table pair add constraint pair_c unique (c)",
      "insert into pair values (9, 'q', 1)",
      "alter table pair add primary key (c)",
      "alter table if exists nothing_here add primary key (c)",
      "alter table pair add primary key (nope)",
      "create table twice (a int4 primary key, b int4 primary key)",
      "create table dup_col (a int4, primary key (a, a))",
      "create table keyed (id int8 not null, name text unique, primary key (id))",
      "insert into keyed values (1, 'a'), (2, 'a')",
      "insert into keyed values (1, 'b')",
      "select * from keyed",
    ]);
  });

  it("EXPLAIN shows the index scan the planner chose, as PostgreSQL prints it with COSTS OFF", async () => {
    const c = await connect(cluster.url);
    await c.query("create table ex (id int4 primary key, g int4, v text)");
    await c.query("create index ex_g_v on ex (g, v)");
    const plan = async (sql: string) =>
      (await c.query({ text: `explain ${sql}`, rowMode: "array" })).rows.map((r) => (r as string[])[0]);
    expect(await plan("select * from ex where id = 5")).toEqual([
      "Index Scan using ex_pkey on ex",
      "  Index Cond: (id = 5)",
    ]);
    expect(await plan("update ex set v = 'x' where id = 5")).toEqual([
      "Update on ex",
      "  ->  Index Scan using ex_pkey on ex",
      "        Index Cond: (id = 5)",
    ]);
    expect(await plan("select v from ex where g = 1 and v >= 'k' order by v limit 3")).toEqual([
      "Limit",
      "  ->  Sort",
      "        ->  Index Scan using ex_g_v on ex",
      "              Index Cond: ((g = 1) AND (v >= 'k'::text))",
    ]);
    expect(await plan("select count(*) from ex where v = 'a'")).toEqual([
      "Aggregate",
      "  ->  Seq Scan on ex",
      "        Filter: (…)",
    ]);
    await expect(c.query("explain analyze select 1")).rejects.toMatchObject({ code: "0A000" });
    await c.end();
  });

  it("TRUNCATE empties tables and their indexes, and is rolled back with its transaction", async () => {
    await sameAsPostgres([
      "create table t1 (id int4 primary key, v int4)",
      "create table t2 (id int4)",
      "insert into t1 values (1, 1), (2, 2)",
      "insert into t2 values (1)",
      "begin",
      "truncate t1, t2",
      "select count(*) from t1",
      "insert into t1 values (1, 10)",
      "rollback",
      "select * from t1 order by id",
      "select * from t2",
      "begin",
      "truncate table t1",
      "insert into t1 values (2, 20)",
      "insert into t1 values (2, 21)",
      "commit",
      "truncate t1",
      "insert into t1 values (2, 20)",
      "select * from t1 where id = 2",
      "truncate missing",
      "truncate pg_class",
      "vacuum t1",
      "vacuum analyze t1, t2",
      "analyze t1",
      "vacuum (verbose false) t1",
      "vacuum missing",
      "begin",
      "vacuum t1",
      "rollback",
      "drop table t1, t2",
    ]);
  });

  it("two sessions inserting the same key: the second waits, then fails or succeeds with the first's outcome", async () => {
    const a = await connect(cluster.url);
    const b = await connect(cluster.url);
    await a.query("create table uq (k int4 primary key)");
    for (const outcome of ["commit", "rollback"] as const) {
      await a.query("begin");
      await a.query("insert into uq values (7)");
      let settled = false;
      const second = b.query("insert into uq values (7)").then(
        () => "inserted",
        (e: { code?: string }) => e.code,
      );
      void second.finally(() => {
        settled = true;
      });
      await new Promise((r) => setTimeout(r, 200));
      expect(settled).toBe(false); // waiting for the first transaction
      await a.query(outcome);
      expect(await second).toBe(outcome === "commit" ? "23505" : "inserted");
      await a.query("delete from uq");
    }
    await Promise.all([a.end(), b.end()]);
  });

  it("a transaction another one waits for on a key can still insert that key again (and gets 23505 at once)", async () => {
    const a = await connect(cluster.url);
    const b = await connect(cluster.url);
    await a.query("create table uq2 (k int4 primary key)");
    await a.query("begin");
    await a.query("insert into uq2 values (1)");
    const second = b.query("insert into uq2 values (1)").then(
      () => "inserted",
      (e: { code?: string }) => e.code,
    );
    await new Promise((r) => setTimeout(r, 200));
    await expect(a.query("insert into uq2 values (1)")).rejects.toMatchObject({ code: "23505" });
    await a.query("rollback");
    expect(await second).toBe("inserted");
    await Promise.all([a.end(), b.end()]);
  });

  it("many rows: index lookups find every row after splits, and the index survives kill -9 of the compute", async () => {
    const client = await connect(cluster.url);
    await client.query("create table big (id int4 primary key, pad text)");
    const rows = 20_000;
    for (let start = 0; start < rows; start += 1000) {
      const values = Array.from({ length: 1000 }, (_, i) => `(${((start + i) * 7919) % rows}, 'row ${start + i}')`);
      await client.query(`insert into big values ${values.join(",")}`);
    }
    await client.query("create index big_pad on big (pad)");
    await client.end();
    const old = cluster.kill9("compute");
    await cluster.waitRestarted("compute", old);
    let again: pg.Client | undefined;
    for (let i = 0; i < 100 && again === undefined; i++) {
      again = await connect(cluster.url).catch(async () => {
        await new Promise((r) => setTimeout(r, 100));
        return undefined;
      });
    }
    const c = again!;
    for (const id of [0, 1, 4242, rows - 1]) {
      const r = await c.query("select id from big where id = $1", [id]);
      expect(r.rows).toEqual([{ id: String(id) }]);
    }
    const range = await c.query("select count(*) from big where id >= 100 and id < 1100");
    expect(range.rows).toEqual([{ count: "1000" }]);
    const byPad = await c.query("select id from big where pad = 'row 12345'");
    expect(byPad.rows).toEqual([{ id: String((12345 * 7919) % rows) }]);
    await expect(c.query("insert into big values (4242, 'dup')")).rejects.toMatchObject({ code: "23505" });
    await c.end();
  });
});
