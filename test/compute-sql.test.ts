import { execFileSync } from "node:child_process";
import { connect } from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCluster, TEST_PASSWORD, startLocalCluster } from "./support/local-cluster.js";
import { type VanillaPostgres, startVanillaPostgres } from "./support/vanilla-postgres.js";

/**
 * Differential: the same statements through node-postgres against Sediment
 * (3 storage processes + compute, under the supervisor) and against a
 * vanilla PostgreSQL started in the same run; results, command tags and
 * SQLSTATEs must match.
 */
let cluster: LocalCluster;
let vanilla: VanillaPostgres;

beforeAll(async () => {
  [cluster, vanilla] = await Promise.all([startLocalCluster({ compute: true }), startVanillaPostgres()]);
});
afterAll(async () => {
  await Promise.all([cluster?.stop(), vanilla?.stop()]);
});

type Outcome = { command: string | null; rows: unknown[][] } | { error: string };

async function runAll(url: string, statements: readonly string[]): Promise<Outcome[]> {
  const client = new pg.Client({ connectionString: url, types: { getTypeParser: () => (v: string) => v } });
  await client.connect();
  const out: Outcome[] = [];
  try {
    for (const sql of statements) {
      try {
        const r = await client.query({ text: sql, rowMode: "array" });
        out.push({ command: r.command, rows: r.rows as unknown[][] });
      } catch (error) {
        out.push({ error: (error as { code?: string }).code ?? String(error) });
      }
    }
  } finally {
    await client.end();
  }
  return out;
}

const SCRIPT = [
  "create table accounts (id int4 not null, balance int8, owner text, active bool)",
  "create table accounts (id int4)",
  "insert into accounts values (1, 100, 'ann', true), (2, 200, 'bob', false), (3, null, null, null)",
  "insert into accounts (id, owner) values (4, 'dan')",
  "insert into accounts (balance) values (5)",
  "select * from accounts order by id",
  "select id, owner from accounts where balance > 150 or owner = 'dan' order by id desc",
  "select count(*), sum(balance), sum(id) from accounts",
  "select * from accounts order by balance nulls first, id limit 2",
  "update accounts set balance = balance + 1 where id <= 2",
  "delete from accounts where id = 3",
  "select id, balance from accounts order by id",
  "begin",
  "insert into accounts values (10, 1000, 'tx', true)",
  "select count(*) from accounts",
  "rollback",
  "select count(*) from accounts",
  "begin",
  "update accounts set owner = 'zed' where id = 4",
  "commit",
  "select owner from accounts where id = 4",
  "select * from missing_table",
  "select nope from accounts",
  "select 1",
  "select 2 + 3 * 4, 7 / 2, -7 % 3, 'a' = 'a', null is null",
  "select 1 / 0",
  "select 2147483647 + 1",
  "drop table accounts",
  "drop table accounts",
  "drop table if exists accounts",
];

describe("SQL through the compute, compared with PostgreSQL", () => {
  it("gives the same results, command tags and SQLSTATEs as PostgreSQL", async () => {
    const [ours, theirs] = await Promise.all([runAll(cluster.url, SCRIPT), runAll(vanilla.url, SCRIPT)]);
    for (let i = 0; i < SCRIPT.length; i++) {
      expect({ sql: SCRIPT[i], outcome: ours[i] }).toEqual({ sql: SCRIPT[i], outcome: theirs[i] });
    }
  });

  it("concurrent READ COMMITTED increments of one row are never lost (the newest version is re-checked)", async () => {
    const setup = new pg.Client({ connectionString: cluster.url });
    await setup.connect();
    await setup.query("create table counter (id int4 not null, v int8 not null)");
    await setup.query("insert into counter values (1, 0), (2, 0)");
    const clients = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const c = new pg.Client({ connectionString: cluster.url });
        await c.connect();
        return c;
      }),
    );
    await Promise.all(
      clients.map(async (c) => {
        for (let i = 0; i < 25; i++) {
          await c.query("begin");
          await c.query("update counter set v = v + 1 where id = 1");
          await c.query("update counter set v = v + 10 where v >= 0 and id = 2");
          await c.query("commit");
        }
      }),
    );
    const rows = (await setup.query("select id, v from counter order by id")).rows;
    expect(rows).toEqual([
      { id: 1, v: "100" },
      { id: 2, v: "1000" },
    ]);
    await Promise.all([...clients, setup].map((c) => c.end()));
  });

  it("garbage, an oversized message and a wrong protocol version get an error or a close; other sessions go on", async () => {
    const keeper = new pg.Client({ connectionString: cluster.url });
    await keeper.connect();
    const port = cluster.computePort;
    const send = (bytes: Buffer) =>
      new Promise<string>((resolve) => {
        const socket = connect(port, "127.0.0.1", () => socket.write(bytes));
        let got = Buffer.alloc(0);
        socket.on("data", (d) => {
          got = Buffer.concat([got, d]);
        });
        socket.on("error", () => resolve(`closed ${got.toString("latin1")}`));
        socket.on("close", () => resolve(`closed ${got.toString("latin1")}`));
        setTimeout(() => {
          socket.destroy();
          resolve(`open ${got.toString("latin1")}`);
        }, 3_000);
      });
    const garbage = await send(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    const oversized = Buffer.alloc(8);
    oversized.writeInt32BE(0x7fffffff, 0);
    oversized.writeInt32BE(196608, 4);
    const tooBig = await send(oversized);
    const v2 = Buffer.alloc(8);
    v2.writeInt32BE(8, 0);
    v2.writeInt32BE(2 << 16, 4);
    const wrongVersion = await send(v2);
    for (const answer of [garbage, tooBig, wrongVersion]) expect(answer.startsWith("closed")).toBe(true);
    expect(wrongVersion).toContain("0A000");
    expect((await keeper.query("select 1 as one")).rows).toEqual([{ one: 1 }]);
    await keeper.end();
  });

  it("psql runs several statements in one Query with PostgreSQL's implicit transaction rules", () => {
    const psql = (sql: string) =>
      execFileSync("psql", [cluster.url, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=0", "-c", sql], {
        env: { ...process.env, PGPASSWORD: TEST_PASSWORD },
        stdio: ["ignore", "pipe", "pipe"],
      }).toString();
    psql("create table m (id int4)");
    psql("begin; insert into m values (1); insert into m values (2); commit;");
    expect(() => psql("insert into m values (3); select 1/0;")).toThrow();
    expect(psql("select count(*) from m").trim()).toBe("2");
    psql("drop table m");
  });
});
