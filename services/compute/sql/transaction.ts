import type { Database, IsolationLevel, Transaction } from "../access/database.js";
import type { TransactionStatus } from "../wire/query-engine.js";
import type { SqlNotice } from "../wire/sql-error.js";
import { SessionClock } from "./clock.js";
import { Code, sqlError } from "./errors.js";
import type { BeginQuery } from "./query.js";

/**
 * A session's transaction state, as PostgreSQL's xact.c block states reduce
 * for us:
 * - idle: no transaction.
 * - implicit: statements run in a transaction that ends with the Query
 *   message (simple protocol) or at Sync (extended protocol).
 * - block: BEGIN was run; COMMIT or ROLLBACK ends it.
 * - failed: an error in a block; only ROLLBACK (or COMMIT, which rolls back) ends it.
 * The access layer's transaction is begun on first use, so `SELECT 1` and
 * `BEGIN; COMMIT` never touch it. An error rolls it back at once (freeing its
 * locks), whatever the state.
 */

export type BlockState = "idle" | "implicit" | "block" | "failed";

export type NoticeSink = (notice: SqlNotice) => void;

function warning(code: string, message: string): SqlNotice {
  return { severity: "WARNING", code, message };
}

export class SessionTransaction {
  private state: BlockState = "idle";
  private tx: Transaction | undefined;
  private isolation: IsolationLevel | undefined;
  private readOnlyBlock = false;
  private lockTimeoutMs = 0;
  /** Called when the transaction ends, so that open portals let go of it. */
  private readonly endListeners = new Set<() => void>();

  /** `ended` hears every transaction end (the session's settings keep or undo their SETs). */
  constructor(
    private readonly db: Database,
    private readonly ended: (committed: boolean) => void = () => {},
    /** now() is the start of the transaction: set when a statement leaves the idle state. */
    readonly clock: SessionClock = new SessionClock(),
  ) {}

  get blockState(): BlockState {
    return this.state;
  }

  status(): TransactionStatus {
    return this.state === "block" ? "T" : this.state === "failed" ? "E" : "I";
  }

  get failed(): boolean {
    return this.state === "failed";
  }

  get readOnly(): boolean {
    return this.readOnlyBlock;
  }

  /** A statement is about to run: outside a block it runs in an implicit transaction. */
  startStatement(): void {
    if (this.state !== "idle") return;
    this.state = "implicit";
    this.clock.startTransaction();
  }

  /** The access layer's transaction, begun on first use. */
  transaction(): Transaction {
    if (this.tx === undefined) {
      this.tx = this.db.begin(this.isolation);
      this.tx.setLockTimeout(this.lockTimeoutMs);
    }
    return this.tx;
  }

  /** lock_timeout for the statements that follow. */
  setLockTimeout(ms: number): void {
    this.lockTimeoutMs = ms;
    this.tx?.setLockTimeout(ms);
  }

  /** A cancel or statement timeout: a lock wait of the running statement ends now with `error`. */
  interrupt(error: Error): void {
    this.tx?.interrupt(error);
  }

  onEnd(listener: () => void): () => void {
    this.endListeners.add(listener);
    return () => this.endListeners.delete(listener);
  }

  begin(q: BeginQuery, notice: NoticeSink): void {
    if (this.state === "block") {
      notice(warning(Code.activeSqlTransaction, "there is already a transaction in progress"));
      return;
    }
    if (q.isolation !== undefined && this.tx !== undefined && this.tx.isolation !== q.isolation) {
      // Statements of this Query message already ran in the implicit transaction.
      throw sqlError(Code.activeSqlTransaction, "SET TRANSACTION ISOLATION LEVEL must be called before any query");
    }
    this.state = "block";
    this.isolation = q.isolation;
    this.readOnlyBlock = q.readOnly === true;
  }

  /** COMMIT: reports ROLLBACK when the block had failed; outside a block, warns and commits what is open. */
  async commit(notice: NoticeSink): Promise<"COMMIT" | "ROLLBACK"> {
    if (this.state === "failed") {
      this.reset();
      this.ended(false);
      return "ROLLBACK";
    }
    if (this.state !== "block") notice(warning(Code.noActiveSqlTransaction, "there is no transaction in progress"));
    await this.end(true);
    return "COMMIT";
  }

  async rollback(notice: NoticeSink): Promise<void> {
    if (this.state !== "block" && this.state !== "failed") {
      notice(warning(Code.noActiveSqlTransaction, "there is no transaction in progress"));
    }
    await this.end(false);
  }

  /** End of a Query message or Sync: commit the implicit transaction. */
  async finishImplicit(): Promise<void> {
    if (this.state === "implicit") await this.end(true);
  }

  /** A statement failed: roll back; a block becomes failed, anything else idle. */
  async abort(): Promise<void> {
    const inBlock = this.state === "block" || this.state === "failed";
    await this.end(false).catch(() => {}); // the statement's error is the one to report
    if (inBlock) this.state = "failed";
  }

  /** The connection ended. */
  async close(): Promise<void> {
    await this.end(false);
  }

  private async end(commit: boolean): Promise<void> {
    const tx = this.tx;
    this.reset();
    this.ended(commit);
    if (tx === undefined) return;
    if (commit) await this.db.commit(tx);
    else await this.db.rollback(tx);
  }

  private reset(): void {
    this.state = "idle";
    this.tx = undefined;
    this.isolation = undefined;
    this.readOnlyBlock = false;
    for (const listener of [...this.endListeners]) listener();
    this.endListeners.clear();
  }
}
