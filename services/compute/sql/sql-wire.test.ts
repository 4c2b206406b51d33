import { connect } from "node:net";
import pg from "pg";
import { serialize } from "pg-protocol";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WireServer } from "../wire/server.js";
import { createSqlSessionFactory } from "./session-factory.js";
import { MemoryDatabase } from "./testing/memory-database.js";

/**
 * The SQL engine behind the real wire layer, driven by node-postgres: simple
 * queries, parameterized queries (Parse/Bind/Execute/Sync), errors with their
 * fields, and a CancelRequest interrupting pg_sleep. The Database below is the
 * in-memory test double.
 */

const PASSWORD = "sql wire test";
let server: WireServer;

beforeAll(async () => {
  server = await WireServer.start({
    port: 0,
    password: PASSWORD,
    log: pino({ level: "silent" }),
    factory: createSqlSessionFactory(new MemoryDatabase()),
  });
});

afterAll(async () => {
  await server?.close();
});

async function withClient<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    host: "127.0.0.1",
    port: server.port,
    user: "postgres",
    password: PASSWORD,
    database: "postgres",
  });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

function sendCancel(processId: number, secretKey: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, "127.0.0.1", () => socket.end(serialize.cancel(processId, secretKey)));
    socket.on("close", () => resolve());
    socket.on("error", reject);
  });
}

describe("SQL over the wire with node-postgres", () => {
  it("creates, inserts with parameters, selects with parsed types", async () => {
    await withClient(async (client) => {
      await client.query("create table accounts (id int not null, balance bigint, owner text, active boolean)");
      const insert = "insert into accounts (id, balance, owner, active) values ($1, $2, $3, $4)";
      expect((await client.query(insert, [1, 100, "ann", true])).rowCount).toBe(1);
      expect((await client.query(insert, [2, null, "bob", false])).rowCount).toBe(1);
      const r = await client.query("select id, balance, owner, active from accounts where id >= $1 order by id", [1]);
      expect(r.rows).toEqual([
        { id: 1, balance: "100", owner: "ann", active: true },
        { id: 2, balance: null, owner: "bob", active: false },
      ]);
      expect(r.fields.map((f) => f.dataTypeID)).toEqual([23, 20, 25, 16]);
      const named = await client.query({ name: "sum", text: "select count(*), sum(balance) from accounts" });
      expect(named.rows).toEqual([{ count: "2", sum: "100" }]);
      expect(
        (await client.query({ name: "sum", text: "select count(*), sum(balance) from accounts" })).rows,
      ).toHaveLength(1);
    });
  });

  it("runs a multi-statement Query and reports errors with SQLSTATE and position", async () => {
    await withClient(async (client) => {
      const results = (await client.query(
        "create table m (a int); insert into m values (1), (2); select a from m order by a desc",
      )) as unknown as pg.QueryResult[];
      expect(results.map((r) => r.command)).toEqual(["CREATE", "INSERT", "SELECT"]);
      expect(results[2]?.rows).toEqual([{ a: 2 }, { a: 1 }]);
      await expect(client.query("select * from missing")).rejects.toMatchObject({ code: "42P01", position: "15" });
      await expect(client.query("select a from m where a = $1", ["x"])).rejects.toMatchObject({ code: "22P02" });
      await client.query("begin");
      await expect(client.query("select 1/0")).rejects.toMatchObject({ code: "22012" });
      await expect(client.query("select 1")).rejects.toMatchObject({ code: "25P02" });
      await client.query("rollback");
      expect((await client.query("select 1 as one")).rows).toEqual([{ one: 1 }]);
    });
  });

  it("cancels a running pg_sleep (57014) and keeps the session usable", async () => {
    await withClient(async (client) => {
      const { processID, secretKey } = client as unknown as { processID: number; secretKey: number };
      const sleeping = client.query("select pg_sleep(60)").then(
        () => new Error("not cancelled"),
        (err: unknown) => err,
      );
      await new Promise((r) => setTimeout(r, 50));
      await sendCancel(processID, secretKey);
      expect(await sleeping).toMatchObject({ code: "57014", message: "canceling statement due to user request" });
      expect((await client.query("select 2 as two")).rows).toEqual([{ two: 2 }]);
    });
  });
});
