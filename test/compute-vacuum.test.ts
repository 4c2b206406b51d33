import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCluster, sleep, startLocalCluster } from "./support/local-cluster.js";

/**
 * VACUUM through the whole stack: dead versions of updated rows are pruned
 * (index entries first, then one HeapPrune record per page), their space is
 * used again so a table updated over and over stops growing, a REPEATABLE
 * READ snapshot taken before the updates keeps its versions, and everything
 * reads back right through the index and a seq scan, also after kill -9 of
 * the compute (the prune records are redone by storage like any other).
 */
let cluster: LocalCluster;

beforeAll(async () => {
  cluster = await startLocalCluster({ compute: true });
});
afterAll(async () => {
  await cluster?.stop();
});

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: cluster.url });
  await client.connect();
  return client;
}

const ROWS = 200;
const PAD = "x".repeat(100);

async function size(c: pg.Client): Promise<number> {
  const r = await c.query("select pg_relation_size('t') as size");
  return Number(r.rows[0].size);
}

/** Every row through a seq scan (count and sum) and some through the primary key. */
async function expectRows(c: pg.Client, v: number): Promise<void> {
  const all = await c.query("select count(*) as n, sum(v) as s, min(v) as lo, max(v) as hi from t");
  expect(all.rows[0]).toEqual({ n: String(ROWS), s: String(ROWS * v), lo: v, hi: v });
  for (const id of [1, 2, 77, ROWS]) {
    const r = await c.query("select id, v, pad from t where id = $1", [id]);
    expect(r.rows).toEqual([{ id, v, pad: PAD }]);
  }
}

describe("VACUUM", () => {
  it("prunes dead versions, reuses their space, spares an older snapshot's, and survives kill -9", async () => {
    const c = await connect();
    const infos: string[] = [];
    c.on("notice", (n) => infos.push(n.message ?? ""));
    await c.query("create table t (id int4 primary key, v int4 not null, pad text not null)");
    const values = Array.from({ length: ROWS }, (_, i) => `(${i + 1}, 0, '${PAD}')`);
    await c.query(`insert into t values ${values.join(",")}`);
    const initial = await size(c);
    expect(initial).toBeGreaterThan(0);
    expect(initial % 8192).toBe(0);

    // A snapshot from before the updates, kept open across VACUUM.
    const old = await connect();
    await old.query("begin isolation level repeatable read");
    expect((await old.query("select sum(v) as s from t")).rows[0].s).toBe("0");

    for (let round = 0; round < 10; round++) await c.query("update t set v = v + 1");
    const grown = await size(c);
    expect(grown).toBeGreaterThan(initial * 5);

    await c.query("vacuum verbose t");
    expect(infos.at(-1)).toMatch(/tuples: 0 removed/); // the old snapshot still sees every version
    expect((await old.query("select sum(v) as s from t")).rows[0].s).toBe("0");
    const viaIndex = await old.query("select v from t where id = 77");
    expect(viaIndex.rows).toEqual([{ v: 0 }]);
    await old.query("commit");
    await old.end();

    await c.query("vacuum verbose t");
    expect(infos.at(-1)).toMatch(new RegExp(`tuples: ${10 * ROWS} removed, ${ROWS} remain`));
    await expectRows(c, 10);
    expect(await size(c)).toBe(grown); // no truncation: the space is reused instead

    // Updates that VACUUM keeps up with stay within the space already there.
    for (let round = 0; round < 20; round++) {
      await c.query("update t set v = v + 1");
      if (round % 2 === 1) await c.query("vacuum t");
    }
    const after = await size(c);
    expect(after).toBeLessThanOrEqual(grown + 2 * 8192); // only line pointers accumulate
    await expectRows(c, 30);

    // VACUUM of every table, and of a catalog (left alone), are accepted.
    expect((await c.query("vacuum")).command).toBe("VACUUM");
    expect((await c.query("vacuum pg_class")).command).toBe("VACUUM");
    await c.end();

    const pid = cluster.kill9("compute");
    await cluster.waitRestarted("compute", pid);
    let again: pg.Client | undefined;
    for (let i = 0; i < 200 && again === undefined; i++) {
      again = await connect().catch(async () => {
        await sleep(50);
        return undefined;
      });
    }
    const d = again!;
    await expectRows(d, 30);
    expect(await size(d)).toBe(after);
    await expect(d.query(`insert into t values (5, 0, 'dup')`)).rejects.toMatchObject({ code: "23505" });
    await d.query("update t set v = v + 1");
    await d.query("vacuum t");
    await expectRows(d, 31);
    await d.end();
  }, 120_000);

  it("runs while other sessions update and insert: nothing is lost, nothing seen twice", async () => {
    const setup = await connect();
    await setup.query("create table acct (id int4 primary key, bal int4 not null)");
    await setup.query(`insert into acct select g, 0 from generate_series(1, 50) g`);
    await setup.query("create table hist (id int4 not null, delta int4 not null)");
    const workers = await Promise.all([connect(), connect()]);
    let stop = false;
    const work = workers.map(async (w, n) => {
      let i = 0;
      while (!stop) {
        const id = ((i++ * 7 + n * 13) % 50) + 1;
        await w.query("begin");
        await w.query("update acct set bal = bal + 1 where id = $1", [id]);
        await w.query("insert into hist values ($1, 1)", [id]);
        await w.query("commit");
      }
    });
    const vacuums = await connect();
    for (let round = 0; round < 15; round++) {
      await vacuums.query("vacuum acct, hist");
      await sleep(50);
    }
    stop = true;
    await Promise.all(work);
    await vacuums.query("vacuum acct");
    const sums = await setup.query(
      "select (select sum(bal) from acct) as a, (select count(*) from hist) as h, (select count(*) from acct) as n",
    );
    expect(Number(sums.rows[0].h)).toBeGreaterThan(10);
    expect(sums.rows[0].a).toBe(sums.rows[0].h);
    expect(sums.rows[0].n).toBe("50");
    for (const id of [1, 25, 50]) {
      const viaIndex = await setup.query("select bal from acct where id = $1", [id]);
      const viaHist = await setup.query("select count(*) as c from hist where id = $1", [id]);
      expect(viaIndex.rows).toEqual([{ bal: Number(viaHist.rows[0].c) }]);
    }
    for (const c of [setup, vacuums, ...workers]) await c.end();
  }, 120_000);
});
