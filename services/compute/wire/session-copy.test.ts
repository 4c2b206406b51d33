import { createRequire } from "node:module";
import { serialize } from "pg-protocol";
import type { BackendMessage } from "pg-protocol/dist/messages.js";
import { Parser } from "pg-protocol/dist/parser.js";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { CancelRegistry } from "./cancel-registry.js";
import type { PreparedStatement, QueryEngine, RowSink } from "./query-engine.js";
import { scramCredentials } from "./scram.js";
import { Session, type Transport } from "./session.js";
import { SqlError } from "./sql-error.js";

/**
 * The COPY sub-protocol of a session, message by message: node-postgres's
 * serializer plays the client, its parser reads our replies, and a small
 * engine runs COPY statements over the sink's copyIn/copyOut.
 */

const pgSasl = createRequire(import.meta.url)("pg/lib/crypto/sasl.js") as {
  startSession(mechanisms: string[]): { response: string };
  continueSession(session: { response: string }, password: string, serverData: string): Promise<void>;
};

const PASSWORD = "pw";

class FakeTransport implements Transport {
  congested = false;
  ended = false;
  paused = false;
  private readonly parser = new Parser();
  private parsed: Record<string, unknown>[] = [];

  write(bytes: Uint8Array): void {
    this.parser.parse(Buffer.from(bytes), (m: BackendMessage) =>
      this.parsed.push({ ...m, message: (m as { message?: string }).message }),
    );
  }
  async drained(): Promise<void> {}
  end(): void {
    this.ended = true;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  take(): Record<string, unknown>[] {
    return this.parsed.splice(0);
  }
}

/**
 * `copy in`: reads every CopyData (each awaited through `gate`), answers COPY n
 * with the bytes it got; `copy fail`: fails after the first chunk; `copy out`:
 * sends two rows.
 */
class CopyEngine implements QueryEngine {
  received: string[] = [];
  iterationError: SqlError | undefined;
  gate: () => Promise<void> = async () => {};

  async simpleQuery(sql: string, out: RowSink): Promise<void> {
    await this.run(sql, out);
  }

  async prepare(sql: string): Promise<PreparedStatement> {
    return {
      paramTypeOids: [],
      fields: null,
      bind: async () => ({
        fields: null,
        execute: async (out: RowSink) => {
          await this.run(sql, out);
          return "complete";
        },
      }),
    };
  }

  private async run(sql: string, out: RowSink): Promise<void> {
    if (sql === "copy out") {
      const copy = out.copyOut!({ format: 0, columnFormats: [0, 0] });
      copy.data("1\ta\n");
      copy.data(Buffer.from("2\tb\n"));
      copy.done();
      out.commandComplete("COPY 2");
      return;
    }
    if (sql !== "copy in" && sql !== "copy fail") {
      out.commandComplete("SELECT 0");
      return;
    }
    try {
      for await (const chunk of out.copyIn!({ format: 0, columnFormats: [0] })) {
        this.received.push(Buffer.from(chunk).toString());
        if (sql === "copy fail") throw new SqlError("22P02", 'invalid input syntax for type integer: "x"');
        await this.gate();
      }
    } catch (err) {
      if (err instanceof SqlError && err.code !== "22P02") this.iterationError = err;
      throw err;
    }
    out.commandComplete(`COPY ${this.received.length}`);
  }

  transactionStatus(): "I" {
    return "I";
  }
  cancel(): void {}
  async close(): Promise<void> {}
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

async function connected(engine: CopyEngine) {
  const transport = new FakeTransport();
  const session = new Session(transport, {
    auth: {
      user: "postgres",
      database: "postgres",
      credentials: scramCredentials(PASSWORD, Buffer.alloc(16, 7), 16),
      mockSecret: Buffer.alloc(8),
    },
    serverVersion: "15.0 (Sediment)",
    factory: async () => engine,
    registry: new CancelRegistry(),
    connectionsMax: 10,
    messageBytesMax: 1024 * 1024,
    startupTimeoutMs: 10_000,
    preparedStatementsMax: 100,
    portalsMax: 100,
    log: pino({ level: "silent" }),
  });
  const send = async (...messages: Buffer[]) => {
    session.receive(Buffer.concat(messages));
    await settle();
    return transport.take();
  };
  await send(serialize.startup({ user: "postgres", database: "postgres" }));
  const client = pgSasl.startSession(["SCRAM-SHA-256"]);
  const [first] = await send(serialize.sendSASLInitialResponseMessage("SCRAM-SHA-256", client.response));
  await pgSasl.continueSession(client, PASSWORD, (first as { data: string }).data);
  const ready = await send(serialize.sendSCRAMClientFinalMessage(client.response));
  expect(ready.at(-1)).toMatchObject({ name: "readyForQuery" });
  return { session, transport, send };
}

const names = (messages: Record<string, unknown>[]): unknown[] => messages.map((m) => m.name);
const data = (text: string): Buffer => serialize.copyData(Buffer.from(text));

describe("Session COPY FROM STDIN", () => {
  it("answers CopyInResponse, hands over CopyData, skips Flush and Sync, ends at CopyDone", async () => {
    const engine = new CopyEngine();
    const h = await connected(engine);
    const start = await h.send(serialize.query("copy in"));
    expect(start).toMatchObject([{ name: "copyInResponse", binary: false, columnTypes: [0] }]);
    const end = await h.send(data("1\n"), serialize.flush(), data("2\n"), serialize.sync(), serialize.copyDone());
    expect(end).toMatchObject([{ name: "commandComplete", text: "COPY 2" }, { name: "readyForQuery" }]);
    expect(engine.received).toEqual(["1\n", "2\n"]);
  });

  it("fails the statement on CopyFail with 57014 and PostgreSQL's message", async () => {
    const engine = new CopyEngine();
    const h = await connected(engine);
    await h.send(serialize.query("copy in"));
    const replies = await h.send(data("1\n"), serialize.copyFail("client gave up"));
    expect(replies).toMatchObject([
      { name: "error", code: "57014", message: "COPY from stdin failed: client gave up" },
      { name: "readyForQuery" },
    ]);
  });

  it("after the engine fails, answers at once and ignores the rest of the copy", async () => {
    const engine = new CopyEngine();
    const h = await connected(engine);
    await h.send(serialize.query("copy fail"));
    const failed = await h.send(data("x\n"));
    expect(failed).toMatchObject([{ name: "error", code: "22P02" }, { name: "readyForQuery" }]);
    const after = await h.send(data("more\n"), serialize.copyDone(), serialize.query("select"));
    expect(names(after)).toEqual(["commandComplete", "readyForQuery"]);
  });

  it("reports another message during COPY as 08P01, then ends the session (protocol sync is lost)", async () => {
    const engine = new CopyEngine();
    const h = await connected(engine);
    await h.send(serialize.query("copy in"));
    const replies = await h.send(serialize.query("select 1"));
    expect(replies).toMatchObject([
      {
        name: "error",
        severity: "ERROR",
        code: "08P01",
        message: "unexpected message type 0x51 during COPY from stdin",
      },
      {
        name: "error",
        severity: "FATAL",
        code: "08P01",
        message: "terminating connection because protocol synchronization was lost",
      },
    ]);
    expect(h.transport.ended).toBe(true);
  });

  it("runs a COPY from Execute; a Sync sent during the copy is swallowed, as in PostgreSQL", async () => {
    const engine = new CopyEngine();
    const h = await connected(engine);
    const start = await h.send(
      serialize.parse({ text: "copy in" }),
      serialize.bind({}),
      serialize.execute({}),
      serialize.sync(),
    );
    expect(names(start)).toEqual(["parseComplete", "bindComplete", "copyInResponse"]);
    const done = await h.send(data("1\n"), serialize.copyDone());
    expect(names(done)).toEqual(["commandComplete"]);
    expect(names(await h.send(serialize.sync()))).toEqual(["readyForQuery"]);
  });

  it("reads the socket only as fast as the engine takes the data", async () => {
    const engine = new CopyEngine();
    let open: () => void = () => {};
    engine.gate = () => new Promise<void>((resolve) => (open = resolve));
    const h = await connected(engine);
    await h.send(serialize.query("copy in"));
    const chunk = "x".repeat(64 * 1024);
    h.session.receive(Buffer.concat(Array.from({ length: 40 }, () => data(chunk))));
    await settle();
    expect(h.transport.paused).toBe(true);
    expect(engine.received.length).toBe(1);
    engine.gate = async () => {};
    open();
    await settle();
    expect(h.transport.paused).toBe(false);
    expect(engine.received.length).toBe(40);
    expect(await h.send(serialize.copyDone())).toMatchObject([{ name: "commandComplete", text: "COPY 40" }, {}]);
  });

  it("fails the copy with 08006 when the client goes away", async () => {
    const engine = new CopyEngine();
    const h = await connected(engine);
    await h.send(serialize.query("copy in"), data("1\n"));
    h.session.disconnected();
    await settle();
    expect(engine.iterationError).toMatchObject({ code: "08006" });
  });
});

describe("Session COPY TO STDOUT", () => {
  it("sends CopyOutResponse, one CopyData per row, CopyDone, then the tag", async () => {
    const h = await connected(new CopyEngine());
    const replies = await h.send(serialize.query("copy out"));
    expect(replies).toMatchObject([
      { name: "copyOutResponse", binary: false, columnTypes: [0, 0] },
      { name: "copyData", chunk: Buffer.from("1\ta\n") },
      { name: "copyData", chunk: Buffer.from("2\tb\n") },
      { name: "copyDone" },
      { name: "commandComplete", text: "COPY 2" },
      { name: "readyForQuery" },
    ]);
  });
});
