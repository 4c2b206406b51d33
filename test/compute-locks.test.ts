import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCluster, startLocalCluster } from "./support/local-cluster.js";

/**
 * Row-lock waits end the way PostgreSQL ends them: a deadlock fails one of
 * the transactions with 40P01 and the other goes on; lock_timeout fails the
 * waiter with 55P03; statement_timeout interrupts a wait (57014); SET is
 * undone by ROLLBACK and reported with ParameterStatus.
 */
let cluster: LocalCluster;

beforeAll(async () => {
  cluster = await startLocalCluster({ compute: true });
  const c = await connect();
  await c.query("create table locks (id int4 primary key, v int4)");
  await c.query("insert into locks values (1, 0), (2, 0)");
  await c.end();
});
afterAll(async () => {
  await cluster?.stop();
});

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: cluster.url });
  await client.connect();
  return client;
}

const code = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e: { code?: string }) => e.code,
  );

describe("lock waits", () => {
  it("a deadlock fails the transaction that closes the cycle (40P01); the other commits", async () => {
    const [a, b] = await Promise.all([connect(), connect()]);
    await a.query("begin");
    await b.query("begin");
    await a.query("update locks set v = v + 1 where id = 1");
    await b.query("update locks set v = v + 1 where id = 2");
    const aWaits = code(a.query("update locks set v = v + 1 where id = 2"));
    await new Promise((r) => setTimeout(r, 100));
    expect(await code(b.query("update locks set v = v + 1 where id = 1"))).toBe("40P01");
    await b.query("rollback");
    expect(await aWaits).toBe("ok");
    await a.query("commit");
    const rows = await a.query("select id, v from locks order by id");
    expect(rows.rows).toEqual([
      { id: 1, v: 1 },
      { id: 2, v: 1 },
    ]);
    await Promise.all([a.end(), b.end()]);
  });

  it("lock_timeout fails a waiter with 55P03 and statement_timeout interrupts one with 57014", async () => {
    const [a, b] = await Promise.all([connect(), connect()]);
    await a.query("begin");
    await a.query("update locks set v = v + 1 where id = 1");
    await b.query("set lock_timeout = '200ms'");
    let started = performance.now();
    const lockTimeout = await b.query("update locks set v = 0 where id = 1").catch((e: Error) => e);
    expect(lockTimeout).toMatchObject({ code: "55P03", message: "canceling statement due to lock timeout" });
    expect(performance.now() - started).toBeLessThan(2000);
    await b.query("reset lock_timeout");
    await b.query("set statement_timeout = 300");
    started = performance.now();
    const statementTimeout = await b.query("update locks set v = 0 where id = 1").catch((e: Error) => e);
    expect(statementTimeout).toMatchObject({ code: "57014", message: "canceling statement due to statement timeout" });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(await code(b.query("select pg_sleep(5)"))).toBe("57014");
    await a.query("rollback");
    await b.query("set statement_timeout = 0");
    expect(await code(b.query("update locks set v = v where id = 1"))).toBe("ok");
    await Promise.all([a.end(), b.end()]);
  });
});

describe("settings", () => {
  it("SET is undone by ROLLBACK, SET LOCAL at COMMIT; SHOW reads them; changes are reported", async () => {
    const c = await connect();
    const reported: string[] = [];
    c.on("notice", () => {});
    (
      c as unknown as {
        connection: { on(e: string, f: (m: { parameterName: string; parameterValue: string }) => void): void };
      }
    ).connection.on("parameterStatus", (m) => reported.push(`${m.parameterName}=${m.parameterValue}`));
    const show = async (name: string) => Object.values((await c.query(`show ${name}`)).rows[0] as object)[0];
    await c.query("begin");
    await c.query("set application_name = 'inside'");
    await c.query("rollback");
    expect(await show("application_name")).toBe("");
    await c.query("begin");
    await c.query("set local statement_timeout = '5s'");
    expect(await show("statement_timeout")).toBe("5s");
    await c.query("set search_path = public");
    await c.query("commit");
    expect(await show("statement_timeout")).toBe("0");
    expect(await show("search_path")).toBe("public");
    expect(reported).toContain("application_name=inside");
    expect(reported[reported.length - 1]).toBe("application_name=");
    await c.query("set lock_timeout = '2s'");
    const r = await c.query(
      "select current_setting('lock_timeout') as lt, current_setting('nope', true) as missing, version() as v",
    );
    expect(r.rows[0]).toMatchObject({ lt: "2s", missing: null });
    expect((r.rows[0] as { v: string }).v).toMatch(/^PostgreSQL 15\./);
    await expect(c.query("select current_setting('nope')")).rejects.toMatchObject({ code: "42704" });
    await expect(c.query("set no_such_setting = 1")).rejects.toMatchObject({ code: "42704" });
    await expect(c.query("show no_such_setting")).rejects.toMatchObject({ code: "42704" });
    await c.end();
  });
});
