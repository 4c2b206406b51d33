import { type Server, type Socket, createServer } from "node:net";
import type { Logger } from "../../common/observe/log.js";
import { type WriterElection, sleep } from "./election.js";

/**
 * `--election lock` (`sediment local --computes 2`): the writer is whoever
 * has bound a dedicated lock port on loopback. Chosen over the alternatives:
 * - the kernel closes a dead process's listening socket the instant it dies
 *   (kill -9 included), so there is no TTL to wait out, unlike a Lease;
 * - unlike binding the read-write port itself, the lock is taken before the
 *   writer change, so the rw port is bound only once the new writer has
 *   fenced the old epoch and recovered: a client never reaches a process
 *   that cannot serve yet (the local analogue of `sediment-rw` selecting the
 *   `role=writer` pod);
 * - unlike `flock`, it needs no native addon, and a listening socket with no
 *   connections leaves no TIME_WAIT behind; unlike an abstract unix socket,
 *   it works on macOS too;
 * - the holder answers who it is on the port itself (one JSON line, see
 *   `LockHolderInfo`), which is how `sediment status` names the writer: the
 *   answer dies with the process, so it is never stale.
 * Only the same host can take part: this is for the local cluster.
 */
export interface LockHolderInfo {
  readonly pid: number;
  /** "recovering": won, running the writer change; "serving": accepts SQL on `port`. */
  readonly state: "recovering" | "serving";
  readonly port: number | null;
  readonly since: string;
}

/** How often a standby tries to bind: the failover time is at most this plus recovery. */
export const LOCK_RETRY_MS = 20;

export class LockPortElection implements WriterElection {
  readonly kind = "lock";
  private server: Server | undefined;
  private info: LockHolderInfo | undefined;
  private readonly lostListeners: ((reason: string) => void)[] = [];
  private released = false;
  private lost = false;

  constructor(private readonly options: { readonly host: string; readonly port: number; readonly log: Logger }) {}

  async campaign(signal?: AbortSignal): Promise<void> {
    const { host, port, log } = this.options;
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      const server = createServer((socket) => this.answer(socket));
      const error = await listen(server, host, port);
      if (error === undefined) {
        this.server = server;
        this.info = { pid: process.pid, state: "recovering", port: null, since: new Date().toISOString() };
        server.on("error", (err) => this.lose(`lock port error: ${err.message}`));
        server.on("close", () => this.lose("lock port closed"));
        log.info({ lockPort: port, attempts: attempt + 1 }, "won the writer lock");
        return;
      }
      if (error.code !== "EADDRINUSE") throw error;
      if (attempt === 0) log.info({ lockPort: port }, "standby: another process holds the writer lock; waiting");
      await sleep(LOCK_RETRY_MS, signal);
    }
  }

  onLost(listener: (reason: string) => void): void {
    this.lostListeners.push(listener);
  }

  async serving(info: { readonly port: number }): Promise<void> {
    if (this.info !== undefined) this.info = { ...this.info, state: "serving", port: info.port };
  }

  async release(): Promise<void> {
    this.released = true;
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private answer(socket: Socket): void {
    socket.on("error", () => {});
    socket.end(`${JSON.stringify(this.info)}\n`);
  }

  private lose(reason: string): void {
    if (this.released || this.lost) return;
    this.lost = true;
    for (const listener of this.lostListeners) listener(reason);
  }
}

function listen(server: Server, host: string, port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const onError = (err: NodeJS.ErrnoException): void => resolve(err);
    server.once("error", onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off("error", onError);
      resolve(undefined);
    });
  });
}
