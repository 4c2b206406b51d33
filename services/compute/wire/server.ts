import { randomBytes } from "node:crypto";
import { type Server, type Socket, createServer } from "node:net";
import type { Logger } from "../../common/observe/log.js";
import { CancelRegistry } from "./cancel-registry.js";
import { MESSAGE_BYTES_MAX_DEFAULT } from "./framer.js";
import type { SessionFactory } from "./query-engine.js";
import { SCRAM_ITERATIONS_DEFAULT, scramCredentials } from "./scram.js";
import { Session, type Transport } from "./session.js";
import { SqlError, SqlState } from "./sql-error.js";

/**
 * The socket adapter: a TCP server whose connections each feed a Session.
 * Everything about the protocol lives in Session and below; this file only
 * moves bytes, pauses and resumes, and makes sure no socket event can bring
 * the process down.
 */

export interface WireServerOptions {
  readonly host?: string;
  /** 0 picks a free port (see WireServer.port). */
  readonly port: number;
  /** The password of `user`, plain text (SEDIMENT_PASSWORD); only its SCRAM verifier is kept. */
  readonly password: string;
  readonly user?: string;
  readonly database?: string;
  readonly factory: SessionFactory;
  readonly log: Logger;
  readonly serverVersion?: string;
  readonly messageBytesMax?: number;
  readonly connectionsMax?: number;
  readonly startupTimeoutMs?: number;
  readonly preparedStatementsMax?: number;
  readonly portalsMax?: number;
  readonly scramIterations?: number;
}

export const WIRE_DEFAULTS = {
  host: "127.0.0.1",
  user: "postgres",
  database: "postgres",
  serverVersion: "15.0 (Sediment)",
  messageBytesMax: MESSAGE_BYTES_MAX_DEFAULT,
  connectionsMax: 100,
  startupTimeoutMs: 60_000,
  preparedStatementsMax: 10_000,
  portalsMax: 10_000,
  scramIterations: SCRAM_ITERATIONS_DEFAULT,
} as const;

/** After we close, a client that keeps its side open is cut off this much later. */
const CLOSE_GRACE_MS = 2_000;

/** The password for SCRAM, from SEDIMENT_PASSWORD. */
export function passwordFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const password = env.SEDIMENT_PASSWORD;
  if (password === undefined || password === "") {
    throw new Error("SEDIMENT_PASSWORD is not set: the compute node needs the password of its PostgreSQL user");
  }
  return password;
}

function socketTransport(socket: Socket): Transport {
  return {
    write: (bytes) => {
      socket.write(bytes);
    },
    get congested() {
      return socket.writableNeedDrain;
    },
    drained: () =>
      new Promise<void>((resolve) => {
        if (!socket.writableNeedDrain || socket.destroyed) return resolve();
        const done = (): void => {
          socket.off("drain", done);
          socket.off("close", done);
          resolve();
        };
        socket.on("drain", done);
        socket.on("close", done);
      }),
    end: () => {
      if (socket.destroyed) return;
      // Keep reading (and dropping) what the client still sends: closing with unread
      // input would reset the connection and could lose the ErrorResponse just written.
      socket.end();
      socket.resume();
      setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
    },
    pause: () => socket.pause(),
    resume: () => socket.resume(),
  };
}

export class WireServer {
  private readonly sessions = new Set<Session>();
  private readonly whenEmpty: (() => void)[] = [];

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly log: Logger,
  ) {}

  static async start(options: WireServerOptions): Promise<WireServer> {
    const o = { ...WIRE_DEFAULTS, ...withoutUndefined(options) };
    const registry = new CancelRegistry();
    const sessionOptions = {
      auth: {
        user: o.user,
        database: o.database,
        credentials: scramCredentials(o.password, undefined, o.scramIterations),
        mockSecret: randomBytes(32),
      },
      serverVersion: o.serverVersion,
      factory: o.factory,
      registry,
      connectionsMax: o.connectionsMax,
      messageBytesMax: o.messageBytesMax,
      startupTimeoutMs: o.startupTimeoutMs,
      preparedStatementsMax: o.preparedStatementsMax,
      portalsMax: o.portalsMax,
      log: o.log,
    };
    const server = createServer({ noDelay: true, keepAlive: true });
    // Sockets in the handshake count too; cancel requests need a few spare.
    server.maxConnections = 2 * o.connectionsMax + 16;
    const port = await new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(o.port, o.host, () => {
        server.off("error", reject);
        const address = server.address();
        resolve(typeof address === "object" && address !== null ? address.port : o.port);
      });
    });
    const wire = new WireServer(server, port, o.log);
    server.on("connection", (socket) => wire.accept(socket, sessionOptions));
    server.on("error", (err) => o.log.error({ err }, "wire server error"));
    o.log.info({ host: o.host, port }, "accepting PostgreSQL connections");
    return wire;
  }

  /** Open connections, including those still in their handshake. */
  get connectionCount(): number {
    return this.sessions.size;
  }

  /**
   * Stop listening and end every session with 57P01, as a PostgreSQL shutdown
   * does. With `graceMs`, a drain first: idle sessions end at once, the others
   * once their running statement or open transaction has replied (a COMMIT
   * gets its ack), and whatever is still running after `graceMs` is cut off
   * as by PostgreSQL's fast shutdown. Resolves once every connection is gone.
   */
  async close(options: { readonly graceMs?: number } = {}): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const error = new SqlError(SqlState.adminShutdown, "terminating connection due to administrator command", {
      severity: "FATAL",
    });
    const graceMs = options.graceMs ?? 0;
    if (graceMs > 0 && this.sessions.size > 0) {
      for (const session of this.sessions) session.stopWhenIdle(error);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.allSessionsEnded(), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
      if (this.sessions.size > 0) this.log.warn({ sessions: this.sessions.size, graceMs }, "terminating busy sessions");
    }
    for (const session of this.sessions) session.terminate(error);
    await closed;
  }

  /** Resolves when no session is left (sessions leave the set when their socket closes). */
  private allSessionsEnded(): Promise<void> {
    if (this.sessions.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.whenEmpty.push(resolve));
  }

  private accept(socket: Socket, options: ConstructorParameters<typeof Session>[1]): void {
    const session = new Session(socketTransport(socket), options);
    this.sessions.add(session);
    socket.on("data", (chunk: Buffer) => session.receive(chunk));
    socket.on("error", (err) => this.log.debug({ err, processId: session.processId }, "client socket error"));
    socket.on("close", () => {
      this.sessions.delete(session);
      session.disconnected();
      if (this.sessions.size === 0) for (const resolve of this.whenEmpty.splice(0)) resolve();
    });
  }
}

function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
