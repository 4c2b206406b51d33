import { createRequire } from "node:module";
import { serialize } from "pg-protocol";
import type { BackendMessage } from "pg-protocol/dist/messages.js";
import { Parser } from "pg-protocol/dist/parser.js";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { FieldDescription } from "./backend-messages.js";
import { CancelRegistry } from "./cancel-registry.js";
import type { Portal, PreparedStatement, QueryEngine, ResultSink, RowSink } from "./query-engine.js";
import { scramCredentials } from "./scram.js";
import { Session, type SessionOptions, type Transport } from "./session.js";
import { SqlError } from "./sql-error.js";

/**
 * Session on an in-memory transport: the protocol's rules message by
 * message, with node-postgres's serializer as the client and its parser
 * reading our replies.
 */

const pgSasl = createRequire(import.meta.url)("pg/lib/crypto/sasl.js") as {
  startSession(mechanisms: string[]): { response: string };
  continueSession(session: { response: string }, password: string, serverData: string): Promise<void>;
};

const PASSWORD = "pw";
const CREDENTIALS = scramCredentials(PASSWORD, Buffer.alloc(16, 7), 16);
const INT4: FieldDescription = {
  name: "n",
  tableOid: 0,
  columnAttnum: 0,
  typeOid: 23,
  typeSize: 4,
  typeModifier: -1,
  format: 0,
};

class FakeTransport implements Transport {
  readonly writes: Buffer[] = [];
  congested = false;
  ended = false;
  paused = false;
  private readonly parser = new Parser();
  private parsed: Record<string, unknown>[] = [];
  private drainWaiters: (() => void)[] = [];

  write(bytes: Uint8Array): void {
    const b = Buffer.from(bytes);
    this.writes.push(b);
    this.parser.parse(b, (m: BackendMessage) =>
      this.parsed.push({ ...m, message: (m as { message?: string }).message }),
    );
  }
  drained(): Promise<void> {
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }
  drain(): void {
    this.congested = false;
    for (const w of this.drainWaiters.splice(0)) w();
  }
  end(): void {
    this.ended = true;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  /** Messages received since the last call. */
  take(): Record<string, unknown>[] {
    return this.parsed.splice(0);
  }
}

/** A scriptable engine: `select <n>` answers n; everything else is configurable per test. */
class FakeEngine implements QueryEngine {
  status: "I" | "T" | "E" = "I";
  readonly calls: string[] = [];
  readonly failures: string[] = [];
  closed = false;
  cancels = 0;
  rows = 3;
  simple: (sql: string, out: ResultSink) => Promise<void> = async (sql, out) => {
    const m = /^select (\d+)$/.exec(sql);
    if (m === null) throw new SqlError("42601", `syntax error: ${sql}`);
    out.rowDescription([INT4]);
    out.dataRow([m[1]!]);
    out.commandComplete("SELECT 1");
  };

  simpleQuery(sql: string, out: ResultSink): Promise<void> {
    this.calls.push(`query ${sql}`);
    return this.simple(sql, out);
  }

  async prepare(sql: string, types: readonly number[]): Promise<PreparedStatement> {
    this.calls.push(`prepare ${sql}`);
    if (sql === "bad") throw new SqlError("42601", "syntax error");
    const returnsRows = sql.startsWith("select");
    return {
      paramTypeOids: sql.includes("$1") ? [types[0] || 23] : [],
      fields: returnsRows ? [INT4] : null,
      bind: async (params, paramFormats, resultFormats): Promise<Portal> => {
        this.calls.push(`bind ${params.length} ${paramFormats.join("")} ${resultFormats.join("")}`);
        let sent = 0;
        return {
          fields: returnsRows ? [{ ...INT4, format: resultFormats[0] ?? 0 }] : null,
          execute: async (out: RowSink, rowsMax: number) => {
            this.calls.push(`execute ${rowsMax}`);
            for (let n = 0; sent < this.rows; n++) {
              if (rowsMax > 0 && n === rowsMax) return "suspended";
              out.dataRow([String(sent++)]);
            }
            out.commandComplete(returnsRows ? `SELECT ${sent}` : "INSERT 0 1");
            return "complete";
          },
          close: () => this.calls.push("close portal"),
        };
      },
      close: () => this.calls.push("close statement"),
    };
  }

  async sync(): Promise<void> {
    this.calls.push("sync");
  }

  statementFailed(error: Error): void {
    this.failures.push(error.message);
  }

  transactionStatus(): "I" | "T" | "E" {
    return this.status;
  }

  cancel(): void {
    this.cancels++;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

function options(engine: QueryEngine, overrides: Partial<SessionOptions> = {}): SessionOptions {
  return {
    auth: { user: "postgres", database: "postgres", credentials: CREDENTIALS, mockSecret: Buffer.alloc(8) },
    serverVersion: "15.0 (Sediment)",
    factory: async () => engine,
    registry: new CancelRegistry(),
    connectionsMax: 10,
    messageBytesMax: 1024 * 1024,
    startupTimeoutMs: 10_000,
    preparedStatementsMax: 100,
    portalsMax: 100,
    log: pino({ level: "silent" }),
    ...overrides,
  };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; !condition(); i++) {
    if (i > 1000) throw new Error("condition not reached");
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

interface Harness {
  readonly session: Session;
  readonly transport: FakeTransport;
  readonly engine: FakeEngine;
  /** Send bytes, wait until the session is quiet, return the replies. */
  send(...messages: Buffer[]): Promise<Record<string, unknown>[]>;
}

/** A StartupMessage with exactly these parameters (node-postgres's adds client_encoding). */
function startupMessage(parameters: Record<string, string>): Buffer {
  const body = Buffer.from(`${Object.entries(parameters).flat().join("\0")}\0\0`);
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length);
  head.writeInt32BE(196608, 4);
  return Buffer.concat([head, body]);
}

async function connected(
  engine = new FakeEngine(),
  overrides: Partial<SessionOptions> = {},
  startup: Record<string, string> = { user: "postgres", database: "postgres" },
): Promise<Harness> {
  const transport = new FakeTransport();
  const session = new Session(transport, options(engine, overrides));
  const send = async (...messages: Buffer[]) => {
    session.receive(Buffer.concat(messages));
    await settle();
    return transport.take();
  };
  const [sasl] = await send(startupMessage(startup));
  expect(sasl).toMatchObject({ name: "authenticationSASL", mechanisms: ["SCRAM-SHA-256"] });
  const client = pgSasl.startSession(["SCRAM-SHA-256"]);
  const [first] = await send(serialize.sendSASLInitialResponseMessage("SCRAM-SHA-256", client.response));
  await pgSasl.continueSession(client, PASSWORD, (first as { data: string }).data);
  session.receive(serialize.sendSCRAMClientFinalMessage(client.response));
  await until(() => transport.ended || transport.writes.length >= 3);
  return { session, transport, engine, send };
}

const names = (messages: Record<string, unknown>[]): unknown[] => messages.map((m) => m.name);

describe("Session startup", () => {
  it("authenticates, reports settings and the key, and is ready", async () => {
    const h = await connected();
    const messages = h.transport.take();
    expect(names(messages).slice(0, 2)).toEqual(["authenticationSASLFinal", "authenticationOk"]);
    expect(messages.filter((m) => m.name === "parameterStatus")).toHaveLength(13);
    expect(names(messages).slice(-2)).toEqual(["backendKeyData", "readyForQuery"]);
    expect(h.session.processId).toBe(1);
  });

  it("negotiates protocol 3.2 and unknown _pq_ options down to 3.0", async () => {
    const transport = new FakeTransport();
    const session = new Session(transport, options(new FakeEngine()));
    const body = Buffer.from("user\0postgres\0_pq_.magic\0on\0\0");
    const head = Buffer.alloc(8);
    head.writeInt32BE(8 + body.length);
    head.writeInt32BE((3 << 16) | 2, 4);
    session.receive(Buffer.concat([head, body]));
    await settle();
    const [negotiate] = transport.writes;
    expect(negotiate?.subarray(0, 1).toString()).toBe("v");
    expect(negotiate?.readInt32BE(5)).toBe(0); // newest minor we support
    expect(negotiate?.readInt32BE(9)).toBe(1);
    expect(negotiate?.subarray(13, 13 + "_pq_.magic".length).toString()).toBe("_pq_.magic");
  });

  it("refuses client encodings it cannot convert, and replication connections", async () => {
    for (const [startup, code] of [
      [{ user: "postgres", client_encoding: "LATIN1" }, "22023"],
      [{ user: "postgres", replication: "database" }, "0A000"],
    ] as const) {
      const h = await connected(new FakeEngine(), {}, startup);
      expect(h.transport.take()).toContainEqual(expect.objectContaining({ name: "error", code, severity: "FATAL" }));
      expect(h.transport.ended).toBe(true);
    }
  });

  it("refuses a session beyond connectionsMax with 53300", async () => {
    const registry = new CancelRegistry();
    registry.register(() => {});
    const transport = new FakeTransport();
    new Session(transport, options(new FakeEngine(), { registry, connectionsMax: 1 })).receive(
      serialize.startup({ user: "postgres" }),
    );
    await settle();
    expect(transport.take()).toEqual([
      expect.objectContaining({ code: "53300", message: "sorry, too many clients already" }),
    ]);
    expect(transport.ended).toBe(true);
  });

  it("gives up on a client that does not finish its handshake in time", async () => {
    const transport = new FakeTransport();
    new Session(transport, options(new FakeEngine(), { startupTimeoutMs: 20 })).receive(
      serialize.startup({ user: "postgres" }),
    );
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(transport.take()).toContainEqual(expect.objectContaining({ code: "57014", severity: "FATAL" }));
    expect(transport.ended).toBe(true);
  });

  it("sends a FATAL from the factory and closes", async () => {
    const factory = async (): Promise<QueryEngine> => {
      throw new SqlError("53300", "no engine for you");
    };
    const h = await connected(new FakeEngine(), { factory });
    expect(h.transport.take()).toContainEqual(
      expect.objectContaining({ code: "53300", severity: "FATAL", message: "no engine for you" }),
    );
    expect(h.transport.ended).toBe(true);
  });
});

describe("Session simple query", () => {
  it("answers rows, then ReadyForQuery with the engine's status", async () => {
    const h = await connected();
    h.transport.take();
    h.engine.status = "T";
    expect(names(await h.send(serialize.query("select 5")))).toEqual([
      "rowDescription",
      "dataRow",
      "commandComplete",
      "readyForQuery",
    ]);
  });

  it("sends an engine's SqlError with ReadyForQuery, an unexpected exception as XX000, and goes on", async () => {
    const h = await connected();
    h.transport.take();
    expect(await h.send(serialize.query("nonsense"))).toEqual([
      expect.objectContaining({ name: "error", code: "42601", severity: "ERROR" }),
      expect.objectContaining({ name: "readyForQuery", status: "I" }),
    ]);
    h.engine.simple = async () => {
      throw new TypeError("a bug");
    };
    expect(await h.send(serialize.query("select 1"))).toEqual([
      expect.objectContaining({ name: "error", code: "XX000", message: "a bug" }),
      expect.objectContaining({ name: "readyForQuery" }),
    ]);
    expect(h.engine.failures).toEqual([]); // the engine raised these itself
  });

  it("closes after a FATAL error from the engine", async () => {
    const h = await connected();
    h.transport.take();
    h.engine.simple = async () => {
      throw new SqlError("57P01", "terminating connection", { severity: "FATAL" });
    };
    expect(names(await h.send(serialize.query("select 1")))).toEqual(["error"]);
    expect(h.transport.ended).toBe(true);
    await until(() => h.engine.closed);
  });

  it("writes a large result out as it grows, and passes on backpressure", async () => {
    const h = await connected();
    h.transport.take();
    let waited = false;
    h.engine.simple = async (_sql, out) => {
      out.rowDescription([INT4]);
      for (let i = 0; i < 10_000; i++) out.dataRow(["x".repeat(100)]);
      h.transport.congested = true;
      const pressure = out.backpressure();
      expect(pressure).toBeInstanceOf(Promise);
      setTimeout(() => h.transport.drain(), 5);
      await pressure;
      waited = true;
      expect(out.backpressure()).toBeUndefined();
      out.commandComplete("SELECT 10000");
    };
    const writesBefore = h.transport.writes.length;
    h.session.receive(serialize.query("select many"));
    await until(() => waited);
    await settle();
    expect(h.transport.writes.length - writesBefore).toBeGreaterThan(10);
    expect(h.transport.take().filter((m) => m.name === "dataRow")).toHaveLength(10_000);
  });

  it("answers a malformed Query with ERROR and ReadyForQuery, FunctionCall with 0A000, and ignores stray COPY data", async () => {
    const h = await connected();
    h.transport.take();
    const malformed = Buffer.from([0x51, 0, 0, 0, 6, 0x61, 0x62]); // no terminator
    const call = Buffer.from([0x46, 0, 0, 0, 14, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect(await h.send(malformed, call, serialize.copyData(Buffer.from("x")), serialize.copyDone())).toEqual([
      expect.objectContaining({ name: "error", code: "08P01", message: "invalid string in message" }),
      expect.objectContaining({ name: "readyForQuery" }),
      expect.objectContaining({ name: "error", code: "0A000" }),
      expect.objectContaining({ name: "readyForQuery" }),
    ]);
    expect(h.engine.failures).toHaveLength(2);
  });
});

describe("Session extended query protocol", () => {
  it("answers a pipelined batch in one write", async () => {
    const h = await connected();
    h.transport.take();
    const writes = h.transport.writes.length;
    const replies = await h.send(
      serialize.parse({ text: "select $1", types: [23] }),
      serialize.bind({ values: ["1"] }),
      serialize.describe({ type: "P" }),
      serialize.execute(),
      serialize.sync(),
    );
    expect(names(replies)).toEqual([
      "parseComplete",
      "bindComplete",
      "rowDescription",
      "dataRow",
      "dataRow",
      "dataRow",
      "commandComplete",
      "readyForQuery",
    ]);
    expect(h.transport.writes.length - writes).toBe(1);
    expect(h.engine.calls.slice(-4)).toEqual(["bind 1 0 0", "execute 0", "sync", "close portal"]);
  });

  it("describes statements (ParameterDescription, RowDescription or NoData)", async () => {
    const h = await connected();
    h.transport.take();
    const replies = await h.send(
      serialize.parse({ name: "q", text: "select $1" }),
      serialize.describe({ type: "S", name: "q" }),
      serialize.parse({ name: "i", text: "insert" }),
      serialize.describe({ type: "S", name: "i" }),
      serialize.sync(),
    );
    expect(replies).toEqual([
      expect.objectContaining({ name: "parseComplete" }),
      expect.objectContaining({ name: "parameterDescription", dataTypeIDs: [23] }),
      expect.objectContaining({ name: "rowDescription" }),
      expect.objectContaining({ name: "parseComplete" }),
      expect.objectContaining({ name: "parameterDescription", dataTypeIDs: [] }),
      expect.objectContaining({ name: "noData" }),
      expect.objectContaining({ name: "readyForQuery" }),
    ]);
  });

  it("suspends a portal at rowsMax and resumes it", async () => {
    const h = await connected();
    h.transport.take();
    h.engine.status = "T"; // portals live until the transaction ends
    const replies = await h.send(
      serialize.parse({ text: "select" }),
      serialize.bind({ portal: "c" }),
      serialize.execute({ portal: "c", rows: 2 }),
      serialize.execute({ portal: "c", rows: 2 }),
      serialize.sync(),
    );
    expect(names(replies)).toEqual([
      "parseComplete",
      "bindComplete",
      "dataRow",
      "dataRow",
      "portalSuspended",
      "dataRow",
      "commandComplete",
      "readyForQuery",
    ]);
  });

  it("after an error discards everything until Sync, then ReadyForQuery", async () => {
    const h = await connected();
    h.transport.take();
    const replies = await h.send(
      serialize.parse({ text: "bad" }),
      serialize.bind({}),
      serialize.describe({ type: "P" }),
      serialize.execute(),
      serialize.query("select 1"),
      serialize.sync(),
      serialize.query("select 2"),
    );
    expect(replies).toEqual([
      expect.objectContaining({ name: "error", code: "42601" }),
      expect.objectContaining({ name: "readyForQuery" }),
      expect.objectContaining({ name: "rowDescription" }),
      expect.objectContaining({ name: "dataRow", fields: ["2"] }),
      expect.objectContaining({ name: "commandComplete" }),
      expect.objectContaining({ name: "readyForQuery" }),
    ]);
    expect(h.engine.calls).not.toContain("query select 1");
    expect(h.engine.failures).toEqual([]);
  });

  it("reports naming and counting errors with PostgreSQL's codes and tells the engine", async () => {
    const h = await connected();
    h.transport.take();
    const cases: [Buffer[], string, string][] = [
      [[serialize.bind({ statement: "nope" })], "26000", 'prepared statement "nope" does not exist'],
      [[serialize.bind({})], "26000", "unnamed prepared statement does not exist"],
      [[serialize.execute({ portal: "nope" })], "34000", 'portal "nope" does not exist'],
      [[serialize.describe({ type: "P", name: "x" })], "34000", 'portal "x" does not exist'],
      [
        [serialize.parse({ name: "s", text: "select" }), serialize.parse({ name: "s", text: "select" })],
        "42P05",
        'prepared statement "s" already exists',
      ],
      [
        [serialize.bind({ portal: "p", statement: "s" }), serialize.bind({ portal: "p", statement: "s" })],
        "42P03",
        'cursor "p" already exists',
      ],
      [
        [serialize.bind({ statement: "s", values: ["1"] })],
        "08P01",
        'bind message supplies 1 parameters, but prepared statement "s" requires 0',
      ],
    ];
    h.engine.status = "T";
    for (const [messages, code, message] of cases) {
      const replies = await h.send(...messages, serialize.sync());
      expect(replies.filter((m) => m.name === "error")).toEqual([expect.objectContaining({ code, message })]);
      expect(replies.at(-1)).toMatchObject({ name: "readyForQuery" });
    }
    expect(h.engine.failures).toHaveLength(cases.length);
  });

  it("closes statements and portals, silently when they do not exist", async () => {
    const h = await connected();
    h.transport.take();
    h.engine.status = "T";
    const replies = await h.send(
      serialize.parse({ name: "s", text: "select" }),
      serialize.bind({ portal: "p", statement: "s" }),
      serialize.close({ type: "P", name: "p" }),
      serialize.close({ type: "S", name: "s" }),
      serialize.close({ type: "S", name: "never" }),
      serialize.execute({ portal: "p" }),
      serialize.sync(),
    );
    expect(names(replies)).toEqual([
      "parseComplete",
      "bindComplete",
      "closeComplete",
      "closeComplete",
      "closeComplete",
      "error",
      "readyForQuery",
    ]);
    expect(h.engine.calls).toContain("close statement");
    expect(h.engine.calls).toContain("close portal");
  });

  it("answers Parse with 0A000 when the engine has no extended protocol", async () => {
    const engine = new FakeEngine();
    const simpleOnly: QueryEngine = {
      simpleQuery: (sql, out) => engine.simpleQuery(sql, out),
      transactionStatus: () => "I",
      cancel: () => {},
      close: async () => {},
    };
    const h = await connected(engine, { factory: async () => simpleOnly });
    h.transport.take();
    expect(await h.send(serialize.parse({ text: "select 1" }), serialize.bind({}), serialize.sync())).toEqual([
      expect.objectContaining({ code: "0A000", message: "extended query protocol is not supported" }),
      expect.objectContaining({ name: "readyForQuery" }),
    ]);
  });

  it("flushes on Flush without waiting for Sync", async () => {
    const h = await connected();
    h.transport.take();
    expect(names(await h.send(serialize.parse({ text: "select" }), serialize.flush()))).toEqual(["parseComplete"]);
  });
});

describe("Session lifetime", () => {
  it("cancels through the registry and releases the engine after the running call, when the client leaves", async () => {
    const registry = new CancelRegistry();
    const h = await connected(new FakeEngine(), { registry });
    let finish: () => void = () => {};
    h.engine.simple = () =>
      new Promise<void>((resolve) => {
        finish = resolve;
      });
    h.session.receive(serialize.query("select 1"));
    await settle();
    const key = { processId: h.session.processId!, secretKey: 0 };
    expect(registry.cancel(key.processId, 12345)).toBe(false);
    h.session.disconnected();
    expect(h.engine.cancels).toBe(1);
    expect(h.engine.closed).toBe(false); // not while simpleQuery runs
    finish();
    await until(() => h.engine.closed);
    expect(registry.size).toBe(0);
  });

  it("ends on Terminate", async () => {
    const h = await connected();
    await h.send(serialize.end());
    expect(h.transport.ended).toBe(true);
    await until(() => h.engine.closed);
  });

  it("closes with 08P01 on a broken stream after startup", async () => {
    const h = await connected();
    h.transport.take();
    expect(await h.send(Buffer.from("Q\xff\xff\xff\xff", "latin1"))).toEqual([
      expect.objectContaining({ code: "08P01", severity: "FATAL", message: "invalid message length" }),
    ]);
    expect(h.transport.ended).toBe(true);
  });

  it("pauses the socket while a call runs and input piles up", async () => {
    const h = await connected();
    let finish: () => void = () => {};
    h.engine.simple = (_sql, out) =>
      new Promise<void>((resolve) => {
        finish = () => {
          out.commandComplete("SELECT 0");
          resolve();
        };
      });
    h.session.receive(serialize.query("slow"));
    await settle();
    const pipelined = Buffer.concat(Array.from({ length: 200 }, () => serialize.query("x".repeat(10_000))));
    h.session.receive(pipelined);
    expect(h.transport.paused).toBe(true);
    h.engine.simple = async (_sql, out) => out.commandComplete("SELECT 0");
    finish();
    await until(() => !h.transport.paused);
  });
});
