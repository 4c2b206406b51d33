import pg from "pg";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { QueryEngine, ResultSink, TransactionStatus } from "./query-engine.js";
import { WireServer } from "./server.js";

/**
 * WireServer.close({ graceMs }) on a real socket with node-postgres: the drain
 * that SIGTERM runs. The engine is a stand-in knowing only BEGIN, COMMIT (which
 * waits for the test to release it, like a commit waiting for its quorum) and
 * INSERT; the SQL is not under test here, the session's lifetime is.
 */

const PASSWORD = "drain-test";

class GatedCommitEngine implements QueryEngine {
  private status: TransactionStatus = "I";
  constructor(private readonly commits: CommitGate) {}

  async simpleQuery(sql: string, out: ResultSink): Promise<void> {
    const statement = sql.trim().toLowerCase();
    this.commits.ran.push(statement);
    if (statement === "begin") {
      this.status = "T";
      out.commandComplete("BEGIN");
    } else if (statement === "commit") {
      await this.commits.wait();
      this.status = "I";
      out.commandComplete("COMMIT");
    } else {
      out.commandComplete("INSERT 0 1");
    }
  }

  transactionStatus(): TransactionStatus {
    return this.status;
  }

  cancel(): void {}
  async close(): Promise<void> {}
}

/** COMMITs park here until release(); `arrived` resolves when the first one does. */
class CommitGate {
  /** Every statement any session ran, in order. */
  readonly ran: string[] = [];
  private releaseAll: () => void = () => {};
  private readonly released = new Promise<void>((resolve) => {
    this.releaseAll = resolve;
  });
  private onArrive: () => void = () => {};
  readonly arrived = new Promise<void>((resolve) => {
    this.onArrive = resolve;
  });

  wait(): Promise<void> {
    this.onArrive();
    return this.released;
  }

  release(): void {
    this.releaseAll();
  }
}

const clients: pg.Client[] = [];
let server: WireServer | undefined;

afterEach(async () => {
  for (const c of clients.splice(0)) await c.end().catch(() => {});
  await server?.close();
  server = undefined;
});

async function start(gate: CommitGate): Promise<WireServer> {
  server = await WireServer.start({
    port: 0,
    password: PASSWORD,
    factory: async () => new GatedCommitEngine(gate),
    log: pino({ level: "silent" }),
    scramIterations: 16,
  });
  return server;
}

async function connect(port: number): Promise<{ client: pg.Client; ended: Promise<{ code?: string }> }> {
  const client = new pg.Client({ host: "127.0.0.1", port, user: "postgres", password: PASSWORD, database: "postgres" });
  clients.push(client);
  // The FATAL ErrorResponse, then "Connection terminated unexpectedly": the first one counts.
  const ended = new Promise<{ code?: string }>((resolve) =>
    client.on("error", (err) => resolve(err as { code?: string })),
  );
  await client.connect();
  return { client, ended };
}

describe("WireServer drain (graceful shutdown)", () => {
  it("ends idle sessions at once, lets a running COMMIT reply first, and refuses new connections", async () => {
    const gate = new CommitGate();
    const wire = await start(gate);
    const idle = await connect(wire.port);
    const busy = await connect(wire.port);
    await busy.client.query("begin");
    await busy.client.query("insert");
    const commit = busy.client.query("commit");
    await gate.arrived;

    const closing = wire.close({ graceMs: 10_000 });
    expect((await idle.ended).code).toBe("57P01");
    await new Promise((resolve) => setTimeout(resolve, 50));
    gate.release();
    expect((await commit).command).toBe("COMMIT");
    expect((await busy.ended).code).toBe("57P01");
    await closing;
    await expect(connect(wire.port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("waits for an open transaction block to end, and runs no statement after it", async () => {
    const gate = new CommitGate();
    gate.release();
    const wire = await start(gate);
    const { client, ended } = await connect(wire.port);
    await client.query("begin");
    const closing = wire.close({ graceMs: 10_000 });
    // Still in its transaction: the session keeps serving it, to its COMMIT …
    expect((await client.query("insert")).command).toBe("INSERT");
    expect((await client.query("commit")).command).toBe("COMMIT");
    // … and the first statement after it ended is not run.
    expect((await ended).code).toBe("57P01");
    await expect(client.query("insert")).rejects.toThrow();
    await closing;
    expect(gate.ran).toEqual(["begin", "insert", "commit"]);
  });

  it("cuts off a transaction still open when the grace period ends", async () => {
    const wire = await start(new CommitGate());
    const { client, ended } = await connect(wire.port);
    await client.query("begin");
    const started = performance.now();
    await wire.close({ graceMs: 300 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect((await ended).code).toBe("57P01");
  });
});
