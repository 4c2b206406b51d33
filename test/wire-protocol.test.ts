import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { type Socket, connect } from "node:net";
import { promisify } from "node:util";
import pg from "pg";
import { serialize } from "pg-protocol";
import type { BackendMessage } from "pg-protocol/dist/messages.js";
import { Parser } from "pg-protocol/dist/parser.js";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  FieldDescription,
  Portal,
  PreparedStatement,
  QueryEngine,
  ResultSink,
  RowSink,
} from "../services/compute/wire/query-engine.js";
import { WireServer } from "../services/compute/wire/server.js";
import { SqlError } from "../services/compute/wire/sql-error.js";

/**
 * The wire layer on a real socket, with real clients (node-postgres, psql) and
 * hostile raw bytes. The SQL behind it is EchoIntegerEngine: a stand-in that
 * only knows `select <integer>`, `select $1::int` and `select pg_sleep(…)`,
 * so that these tests exercise the protocol, not SQL. It lives here and only
 * here: it is not an engine and must never ship.
 */

const PASSWORD = "correct horse battery staple";
const INT4 = 23;

function int4Field(name: string, format: 0 | 1 = 0): FieldDescription {
  return { name, tableOid: 0, columnAttnum: 0, typeOid: INT4, typeSize: 4, typeModifier: -1, format };
}

const SELECT_LITERAL = /^select\s+(-?\d+)(?:\s+as\s+(\w+))?$/i;
const SELECT_PARAM = /^select\s+\$1(?:::int4?|::integer)?(?:\s+as\s+(\w+))?$/i;
const SLEEP = /^select\s+pg_sleep\(\s*\d+(?:\.\d+)?\s*\)$/i;

/** Test-only stand-in for the SQL engine: evaluates integer selects by regex. */
class EchoIntegerEngine implements QueryEngine {
  cancels = 0;
  closed = false;
  private wakeSleeper: (() => void) | undefined;

  async simpleQuery(sql: string, out: ResultSink): Promise<void> {
    const statements = sql
      .split(";")
      .map((s) => s.trim())
      .filter((s) => s !== "");
    if (statements.length === 0) out.emptyQuery();
    for (const statement of statements) await this.run(statement, out);
  }

  async prepare(sql: string, paramTypeOids: readonly number[]): Promise<PreparedStatement> {
    const text = sql.trim().replace(/;$/, "");
    const literal = SELECT_LITERAL.exec(text);
    const param = SELECT_PARAM.exec(text);
    if (literal === null && param === null) throw syntaxError(text);
    if (paramTypeOids.some((oid) => oid !== 0 && oid !== INT4)) {
      throw new SqlError("42804", "EchoIntegerEngine takes int4 parameters only");
    }
    const name = (literal?.[2] ?? param?.[1]) || "?column?";
    return {
      paramTypeOids: param === null ? [] : [INT4],
      fields: [int4Field(name)],
      bind: async (params, paramFormats, resultFormats): Promise<Portal> => {
        if (resultFormats[0] === 1) throw new SqlError("0A000", "EchoIntegerEngine answers in text only");
        const value = literal !== null ? literal[1]! : paramText(params[0] ?? null, paramFormats[0] ?? 0);
        let done = false;
        return {
          fields: [int4Field(name)],
          execute: async (sink: RowSink): Promise<"complete"> => {
            if (!done) sink.dataRow([value]);
            done = true;
            sink.commandComplete("SELECT 1");
            return "complete";
          },
        };
      },
    };
  }

  transactionStatus(): "I" {
    return "I";
  }

  get sleeping(): boolean {
    return this.wakeSleeper !== undefined;
  }

  cancel(): void {
    this.cancels++;
    this.wakeSleeper?.();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeSleeper?.();
  }

  private async run(statement: string, out: ResultSink): Promise<void> {
    const literal = SELECT_LITERAL.exec(statement);
    if (literal !== null) {
      out.rowDescription([int4Field(literal[2] ?? "?column?")]);
      out.dataRow([literal[1]!]);
      out.commandComplete("SELECT 1");
      return;
    }
    if (SLEEP.test(statement)) {
      // Sleeps until cancelled: the cancel test needs a statement that is surely running.
      await new Promise<void>((resolve) => {
        this.wakeSleeper = resolve;
      });
      this.wakeSleeper = undefined;
      throw new SqlError("57014", "canceling statement due to user request");
    }
    throw syntaxError(statement);
  }
}

function syntaxError(statement: string): SqlError {
  return new SqlError("42601", `EchoIntegerEngine knows only "select <integer>", not: ${statement}`, { position: 1 });
}

function paramText(value: Uint8Array | null, format: 0 | 1): string | null {
  if (value === null) return null;
  if (format === 1) return String(Buffer.from(value).readInt32BE(0));
  return Buffer.from(value).toString("utf8");
}

// ---- harness ----

let server: WireServer;
const engines: EchoIntegerEngine[] = [];

beforeAll(async () => {
  server = await WireServer.start({
    port: 0,
    password: PASSWORD,
    connectionsMax: 20,
    log: pino({ level: "silent" }),
    factory: async () => {
      const engine = new EchoIntegerEngine();
      engines.push(engine);
      return engine;
    },
  });
});

afterAll(async () => {
  await server?.close();
});

function config(overrides: Partial<pg.ClientConfig> = {}): pg.ClientConfig {
  return {
    host: "127.0.0.1",
    port: server.port,
    user: "postgres",
    password: PASSWORD,
    database: "postgres",
    ...overrides,
  };
}

async function withClient<T>(
  use: (client: pg.Client) => Promise<T>,
  overrides: Partial<pg.ClientConfig> = {},
): Promise<T> {
  const client = new pg.Client(config(overrides));
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

async function connectError(overrides: Partial<pg.ClientConfig>): Promise<Error & { code?: string }> {
  const client = new pg.Client(config(overrides));
  client.on("error", () => {}); // the connection error also arrives here
  try {
    await client.connect();
  } catch (err) {
    return err as Error & { code?: string };
  } finally {
    await client.end().catch(() => {});
  }
  throw new Error("connect succeeded");
}

/** Send bytes on a fresh socket; everything the server answers until it closes (or the timeout). */
function rawExchange(bytes: Uint8Array[], timeoutMs = 5_000): Promise<{ data: Buffer; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(server.port, "127.0.0.1");
    const received: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ data: Buffer.concat(received), closed: false });
    }, timeoutMs);
    socket.on("connect", () => {
      for (const b of bytes) socket.write(b);
    });
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(received), closed: true });
    });
  });
}

function backendMessages(data: Buffer): BackendMessage[] {
  const messages: BackendMessage[] = [];
  new Parser().parse(data, (m) => messages.push(m));
  return messages;
}

function startupBytes(code: number): Buffer {
  const body = Buffer.from("user\0postgres\0database\0postgres\0\0");
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(code, 4);
  return Buffer.concat([head, body]);
}

async function expectStillServing(): Promise<void> {
  await withClient(async (client) => {
    expect((await client.query("select 7 as seven")).rows).toEqual([{ seven: 7 }]);
  });
}

// ---- tests ----

describe("wire protocol with node-postgres", () => {
  it("authenticates with SCRAM-SHA-256 and runs select 1 (simple protocol)", async () => {
    await withClient(async (client) => {
      const result = await client.query("select 1");
      expect(result.rows).toEqual([{ "?column?": 1 }]);
      expect(result.fields[0]).toMatchObject({ name: "?column?", dataTypeID: INT4 });
      expect(result.command).toBe("SELECT");
    });
  });

  it("reports PostgreSQL 15's settings and a BackendKeyData at startup", async () => {
    const client = new pg.Client(config({ application_name: "wire-test" }));
    const status = new Map<string, string>();
    const connection = (client as unknown as { connection: NodeJS.EventEmitter }).connection;
    connection.on("parameterStatus", (m: { parameterName: string; parameterValue: string }) =>
      status.set(m.parameterName, m.parameterValue),
    );
    await client.connect();
    try {
      expect(Object.fromEntries(status)).toMatchObject({
        server_version: expect.stringMatching(/^15\.\d+/),
        server_encoding: "UTF8",
        client_encoding: "UTF8",
        DateStyle: "ISO, MDY",
        IntervalStyle: "postgres",
        TimeZone: "UTC",
        integer_datetimes: "on",
        standard_conforming_strings: "on",
        application_name: "wire-test",
        is_superuser: "on",
        session_authorization: "postgres",
      });
      const { processID } = client as unknown as { processID: number };
      expect(processID).toBeGreaterThan(0);
    } finally {
      await client.end();
    }
  });

  it("runs several statements in one simple query, and an empty one", async () => {
    await withClient(async (client) => {
      const results = (await client.query("select 1; select 2 as two")) as unknown as pg.QueryResult[];
      expect(results.map((r) => r.rows)).toEqual([[{ "?column?": 1 }], [{ two: 2 }]]);
      const empty = await client.query("");
      expect(empty.rows).toEqual([]);
    });
  });

  it("routes a parameterized query through Parse/Bind/Describe/Execute/Sync", async () => {
    await withClient(async (client) => {
      expect((await client.query("select $1::int as n", [42])).rows).toEqual([{ n: 42 }]);
      expect((await client.query("select $1::int as n", [null])).rows).toEqual([{ n: null }]);
      const named = { name: "echo", text: "select $1::int as n", values: [7] };
      expect((await client.query(named)).rows).toEqual([{ n: 7 }]);
      expect((await client.query({ ...named, values: [8] })).rows).toEqual([{ n: 8 }]);
    });
  });

  it("recovers from an error in the extended protocol: skip until Sync, then ReadyForQuery", async () => {
    await withClient(async (client) => {
      await expect(client.query("select $1::text || 'x'", ["a"])).rejects.toMatchObject({
        code: "42601",
        position: "1",
      });
      await expect(client.query("select $1::int", [1, 2])).rejects.toMatchObject({ code: "08P01" });
      expect((await client.query("select $1::int as n", [5])).rows).toEqual([{ n: 5 }]);
      await expect(client.query("select nothing")).rejects.toMatchObject({ code: "42601", severity: "ERROR" });
      expect((await client.query("select 3 as n")).rows).toEqual([{ n: 3 }]);
    });
  });

  it("rejects a wrong password with 28P01", async () => {
    const err = await connectError({ password: "wrong" });
    expect(err).toMatchObject({ code: "28P01", message: 'password authentication failed for user "postgres"' });
  });

  it("rejects an unknown user exactly like a wrong password", async () => {
    const err = await connectError({ user: "mallory" });
    expect(err).toMatchObject({ code: "28P01", message: 'password authentication failed for user "mallory"' });
  });

  it("rejects an unknown database with 3D000, after authentication", async () => {
    const err = await connectError({ database: "nope" });
    expect(err).toMatchObject({ code: "3D000", message: 'database "nope" does not exist' });
  });

  it("closes the engine on Terminate", async () => {
    const before = engines.length;
    await withClient(async (client) => {
      await client.query("select 1");
    });
    const engine = engines[before]!;
    await waitUntil(() => engine.closed);
  });
});

describe("wire protocol against hostile and odd clients", () => {
  it("answers SSLRequest and GSSENCRequest with 'N' and goes on in plain text", async () => {
    const gss = Buffer.alloc(8);
    gss.writeInt32BE(8, 0);
    gss.writeInt32BE(80877104, 4);
    const { data } = await rawExchange([serialize.requestSsl(), gss, startupBytes(196608)], 500);
    expect(data.subarray(0, 2).toString("latin1")).toBe("NN");
    expect(backendMessages(data.subarray(2))[0]).toMatchObject({ name: "authenticationSASL" });
  });

  it("refuses protocol 2.0 with 0A000 and closes", async () => {
    const { data, closed } = await rawExchange([startupBytes(0x0002_0000)]);
    expect(closed).toBe(true);
    expect(backendMessages(data)).toEqual([
      expect.objectContaining({
        name: "error",
        code: "0A000",
        severity: "FATAL",
        message: "unsupported frontend protocol 2.0: server supports 3.0 to 3.0",
      }),
    ]);
  });

  it("answers garbage with a FATAL 08P01 and closes, while other connections go on", async () => {
    await withClient(async (bystander) => {
      const http = Buffer.from("GET / HTTP/1.1\r\nHost: example\r\n\r\n");
      const { data, closed } = await rawExchange([http]);
      expect(closed).toBe(true);
      expect(backendMessages(data)).toEqual([
        expect.objectContaining({ name: "error", code: "08P01", message: "invalid length of startup packet" }),
      ]);
      const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256));
      expect((await rawExchange([startupBytes(196608), random])).closed).toBe(true);
      expect((await bystander.query("select 11 as n")).rows).toEqual([{ n: 11 }]);
    });
  });

  it("closes an authenticated session that sends an unknown message type", async () => {
    const client = new pg.Client(config());
    await client.connect();
    const errored = new Promise<Error>((resolve) => client.on("error", resolve));
    const ended = new Promise<void>((resolve) => client.on("end", () => resolve()));
    (client as unknown as { connection: { stream: Socket } }).connection.stream.write(Buffer.from("Zgarbage"));
    expect(await errored).toMatchObject({ code: "08P01", message: "invalid frontend message type 90" });
    await ended;
    await expectStillServing();
  });

  it("refuses a message claiming 2 GiB without allocating it", async () => {
    const before = process.memoryUsage().arrayBuffers;
    const header = Buffer.from([0x70, 0x7f, 0xff, 0xff, 0xff]);
    const { data, closed } = await rawExchange([startupBytes(196608), header, Buffer.alloc(64 * 1024)]);
    expect(closed).toBe(true);
    expect(backendMessages(data)).toEqual([
      expect.objectContaining({ name: "authenticationSASL" }),
      expect.objectContaining({ name: "error", code: "08P01", message: "invalid message length" }),
    ]);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(256 * 1024 * 1024);

    const client = new pg.Client(config());
    await client.connect();
    const errored = new Promise<Error>((resolve) => client.on("error", resolve));
    const stream = (client as unknown as { connection: { stream: Socket } }).connection.stream;
    stream.write(Buffer.from([0x51, 0x7f, 0xff, 0xff, 0xff]));
    expect(await errored).toMatchObject({ code: "08P01", message: "invalid message length" });
    await expectStillServing();
  });

  it("routes a CancelRequest with the right key to the engine's cancel(), and ignores a wrong key", async () => {
    await withClient(async (client) => {
      const { processID, secretKey } = client as unknown as { processID: number; secretKey: number };
      const engine = engines.at(-1)!;
      const sleeping = client.query("select pg_sleep(1000)").then(
        () => new Error("not cancelled"),
        (err: unknown) => err,
      );
      await waitUntil(() => engine.sleeping);
      await rawExchange([serialize.cancel(processID, secretKey ^ 1)]);
      expect(engine.cancels).toBe(0);
      const { data, closed } = await rawExchange([serialize.cancel(processID, secretKey)]);
      expect(closed).toBe(true);
      expect(data.length).toBe(0);
      expect(await sleeping).toMatchObject({ code: "57014", message: "canceling statement due to user request" });
      expect(engine.cancels).toBe(1);
      expect((await client.query("select 12 as n")).rows).toEqual([{ n: 12 }]);
    });
  });
});

const PSQL = "/usr/bin/psql";
describe.skipIf(!existsSync(PSQL))("wire protocol with psql", () => {
  it("runs select 1 with PGPASSWORD (after an SSLRequest answered 'N')", async () => {
    const { stdout } = await promisify(execFile)(
      PSQL,
      ["-h", "127.0.0.1", "-p", String(server.port), "-U", "postgres", "-d", "postgres", "-X", "-At", "-c", "select 1"],
      { env: { ...process.env, PGPASSWORD: PASSWORD, PGSSLMODE: "prefer", PGCONNECT_TIMEOUT: "10" }, timeout: 20_000 },
    );
    expect(stdout.trim()).toBe("1");
  });

  it("fails with psql's own report of a wrong password", async () => {
    const run = promisify(execFile)(
      PSQL,
      ["-h", "127.0.0.1", "-p", String(server.port), "-U", "postgres", "-d", "postgres", "-X", "-At", "-c", "select 1"],
      { env: { ...process.env, PGPASSWORD: "wrong", PGCONNECT_TIMEOUT: "10" }, timeout: 20_000 },
    );
    await expect(run).rejects.toMatchObject({
      stderr: expect.stringContaining('password authentication failed for user "postgres"'),
    });
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not reached");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
