import { Histogram } from "prom-client";
import { XidStatus, clogGetStatus, clogLocation } from "../../common/clog-page.js";
import { type Xid, pageId } from "../../common/ids.js";
import type { Lsn } from "../../common/lsn.js";
import { registry } from "../../common/observe/metrics.js";
import { PageKind, pageKind } from "../../common/page.js";
import { RecordKind } from "../../common/record.js";
import { clogSetStatusPayload, pageInitPayload } from "../../common/redo.js";
import { AccessFailure } from "./access-error.js";
import type { BufferPool } from "./buffer-pool.js";
import { FROZEN_XID } from "./catalog-relations.js";
import { CLOG_RELFILE, type ControlCounters, FIRST_XID } from "./control.js";
import type { IsolationLevel, Transaction, TupleId } from "./database.js";
import { type LogAppender, Mtr } from "./mtr.js";

/** PostgreSQL-style snapshot: xids ≥ xmax, or in `running`, are not yet visible. */
export interface Snapshot {
  readonly xmax: number;
  readonly running: ReadonlySet<number>;
}

const commitSeconds = new Histogram({
  name: "sediment_commit_seconds",
  help: "Commit latency: CLOG record appended to VDL covering it",
  buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5],
  registers: [registry],
});

export class TransactionState implements Transaction {
  xid: Xid | undefined;
  cid = 0;
  snapshot: Snapshot;
  /** The xid this transaction is waiting for (a row lock, a unique key), for deadlock detection. */
  waitingFor: number | undefined;
  /** Ends the current wait with an error (cancel, lock timeout). */
  interruptWait: ((error: Error) => void) | undefined;
  /** lock_timeout of the running statement, 0 for none. */
  lockTimeoutMs = 0;
  /** Command ids at which this transaction deleted tuples (combo cid, kept in memory). */
  readonly cmax = new Map<string, number>();
  finished = false;

  constructor(
    readonly isolation: IsolationLevel,
    snapshot: Snapshot,
    private readonly manager: TransactionManager,
  ) {
    this.snapshot = snapshot;
  }

  setLockTimeout(ms: number): void {
    this.lockTimeoutMs = ms;
  }

  interrupt(error: Error): void {
    this.interruptWait?.(error);
  }

  /**
   * READ COMMITTED takes a snapshot per statement; REPEATABLE READ at its
   * first statement, as PostgreSQL does (not at BEGIN).
   */
  startCommand(): void {
    this.cid++;
    if (this.isolation === "read committed" || this.cid === 1) this.snapshot = this.manager.takeSnapshot();
  }
}

/** Names one tuple version across relations (for the in-memory cmax map). */
export function versionKey(relfile: number, tid: TupleId): string {
  return `${relfile}:${tid.block}:${tid.slot}`;
}

/** What visibility needs of a tuple version. */
export interface VersionHeader {
  readonly xmin: number;
  readonly xmax: number;
  readonly cid: number;
}

/**
 * Transactions, commit status and visibility (design section 6). Commit
 * status lives in CLOG pages and is cached here; a committing transaction
 * stays running for every snapshot until VDL covers its commit record, so
 * nobody sees what a crash could take back. Every xid of an earlier writer
 * that CLOG does not mark committed is aborted.
 */
export class TransactionManager {
  private readonly running = new Map<number, TransactionState>();
  /** Every transaction begun and not ended, with or without an xid: their snapshots bound the global xmin. */
  private readonly active = new Set<TransactionState>();
  private readonly status = new Map<number, XidStatus>();
  private readonly waiters = new Map<number, (() => void)[]>();

  constructor(
    private readonly pool: BufferPool,
    private readonly log: LogAppender & { waitForVdl(lsn: Lsn): Promise<void> },
    private readonly counters: ControlCounters,
  ) {}

  begin(isolation: IsolationLevel = "read committed"): TransactionState {
    const tx = new TransactionState(isolation, this.takeSnapshot(), this);
    this.active.add(tx);
    return tx;
  }

  /**
   * PostgreSQL's global xmin: every xid below it has ended and is seen as
   * ended by every snapshot in use, so a version deleted by a committed xid
   * below it is dead to everyone, now and later.
   */
  globalXmin(): number {
    let xmin = this.counters.peek("xid");
    for (const tx of this.active) {
      xmin = Math.min(xmin, tx.snapshot.xmax);
      for (const xid of tx.snapshot.running) xmin = Math.min(xmin, xid);
    }
    for (const xid of this.running.keys()) xmin = Math.min(xmin, xid);
    return xmin;
  }

  /**
   * Whether no snapshot can ever see the version (status must be loaded):
   * its inserter aborted, or its deleter committed below `globalXmin`.
   */
  isDeadToAll(v: VersionHeader, globalXmin: number): boolean {
    if (!this.running.has(v.xmin) && !this.isCommitted(v.xmin)) return true;
    return v.xmax !== 0 && v.xmax < globalXmin && this.isCommitted(v.xmax);
  }

  takeSnapshot(): Snapshot {
    return { xmax: this.counters.peek("xid"), running: new Set(this.running.keys()) };
  }

  /** Assigns the transaction's xid on its first write. */
  async assignXid(tx: TransactionState): Promise<Xid> {
    if (tx.xid !== undefined) return tx.xid;
    const xid = (await this.counters.allocate("xid")) as Xid;
    tx.xid = xid;
    this.running.set(xid, tx);
    return xid;
  }

  isRunning(xid: number): boolean {
    return this.running.has(xid);
  }

  /** Loads the commit status of these xids (CLOG reads) so `isCommitted` can answer synchronously. */
  async loadStatus(xids: Iterable<number>): Promise<void> {
    let blocks: Set<number> | undefined;
    for (const xid of xids) {
      if (xid < FIRST_XID || this.status.has(xid) || this.running.has(xid)) continue;
      const block = clogLocation(xid as Xid).block;
      // Usually cached: then nothing is awaited (a point read calls this once per row version).
      if (this.pool.peekBlock(CLOG_RELFILE, block) !== undefined) continue;
      blocks ??= new Set();
      blocks.add(block);
    }
    if (blocks !== undefined) await this.pool.pin([...blocks].map((b) => pageId(CLOG_RELFILE, b)));
  }

  /** Like isCommitted, or undefined when the CLOG page is not loaded (call loadStatus). */
  committedIfKnown(xid: number): boolean | undefined {
    if (xid < FIRST_XID || this.running.has(xid) || this.status.has(xid)) return this.isCommitted(xid);
    const page = this.pool.peek(pageId(CLOG_RELFILE, clogLocation(xid as Xid).block));
    return page === undefined ? undefined : this.isCommitted(xid);
  }

  /** True only for a transaction committed and durable. Requires `loadStatus` for old xids. */
  isCommitted(xid: number): boolean {
    if (xid < FIRST_XID) return xid === FROZEN_XID;
    if (this.running.has(xid)) return false;
    const known = this.status.get(xid);
    if (known !== undefined) return known === XidStatus.Committed;
    const { block, index } = clogLocation(xid as Xid);
    const page = this.pool.peek(pageId(CLOG_RELFILE, block));
    if (page === undefined) throw new Error(`CLOG block ${block} not loaded`);
    const committed = pageKind(page) === PageKind.Clog && clogGetStatus(page, index) === XidStatus.Committed;
    // An xid of an earlier writer that is not committed never will be.
    if (xid < this.counters.firstXid) this.status.set(xid, committed ? XidStatus.Committed : XidStatus.Aborted);
    return committed;
  }

  /** Whether the version is visible to the current command of `tx` (PostgreSQL's HeapTupleSatisfiesMVCC). */
  isVisible(tx: TransactionState, v: VersionHeader, key: string): boolean {
    if (!this.xidVisibleAsCreator(tx, v.xmin, v.cid)) return false;
    if (v.xmax === 0) return true;
    if (v.xmax === tx.xid) {
      const cmax = tx.cmax.get(key);
      return cmax !== undefined && cmax >= tx.cid;
    }
    return !this.committedInSnapshot(tx.snapshot, v.xmax);
  }

  private xidVisibleAsCreator(tx: TransactionState, xmin: number, cid: number): boolean {
    if (xmin === tx.xid) return cid < tx.cid;
    return this.committedInSnapshot(tx.snapshot, xmin);
  }

  private committedInSnapshot(snapshot: Snapshot, xid: number): boolean {
    if (xid >= snapshot.xmax || snapshot.running.has(xid)) return false;
    return this.isCommitted(xid);
  }

  /**
   * `tx` waits for `xid` to end (a lock it holds): 40P01 at once when that
   * closes a cycle of waits (PostgreSQL finds it after deadlock_timeout; the
   * transaction that closes the cycle is the one that fails), 55P03 after
   * lock_timeout, or the error `interrupt` is given (a cancel).
   */
  async waitForHolder(tx: TransactionState, xid: number): Promise<void> {
    if (!this.running.has(xid)) return;
    const seen = new Set<TransactionState>();
    for (let t = this.running.get(xid); t !== undefined && !seen.has(t); t = this.running.get(t.waitingFor ?? 0)) {
      seen.add(t);
      if (t === tx || t.waitingFor === tx.xid) {
        throw new AccessFailure("40P01", "deadlock detected", undefined, {
          detail: `Transaction ${tx.xid ?? "(none)"} waits for transaction ${xid}, which waits for it.`,
        });
      }
      if (t.waitingFor === undefined) break;
    }
    tx.waitingFor = xid;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        tx.interruptWait = reject;
        if (tx.lockTimeoutMs > 0) {
          timer = setTimeout(
            () => reject(new AccessFailure("55P03", "canceling statement due to lock timeout")),
            tx.lockTimeoutMs,
          );
        }
        void this.waitForEnd(xid).then(resolve);
      });
    } finally {
      clearTimeout(timer);
      tx.waitingFor = undefined;
      tx.interruptWait = undefined;
    }
  }

  /** Resolves when `xid` has committed durably or aborted. */
  waitForEnd(xid: number): Promise<void> {
    if (!this.running.has(xid)) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.waiters.get(xid) ?? [];
      list.push(resolve);
      this.waiters.set(xid, list);
    });
  }

  async commit(tx: TransactionState): Promise<void> {
    if (tx.finished) return;
    tx.finished = true;
    this.active.delete(tx);
    if (tx.xid === undefined) return;
    const started = performance.now();
    const lsn = await this.setStatus(tx.xid, XidStatus.Committed);
    try {
      await this.log.waitForVdl(lsn);
    } catch (error) {
      // Fenced: the commit may or may not survive; this writer must stop serving.
      this.running.delete(tx.xid);
      throw new AccessFailure(
        "57P01",
        `terminating connection: the commit of transaction ${tx.xid} could not be made durable (${(error as Error).message})`,
      );
    }
    this.finish(tx.xid, XidStatus.Committed);
    commitSeconds.observe((performance.now() - started) / 1000);
  }

  async rollback(tx: TransactionState): Promise<void> {
    if (tx.finished) return;
    tx.finished = true;
    this.active.delete(tx);
    if (tx.xid === undefined) return;
    // No need to wait: a crash aborts an uncommitted xid anyway.
    await this.setStatus(tx.xid, XidStatus.Aborted);
    this.finish(tx.xid, XidStatus.Aborted);
  }

  private finish(xid: Xid, status: XidStatus): void {
    this.status.set(xid, status);
    this.running.delete(xid);
    for (const wake of this.waiters.get(xid) ?? []) wake();
    this.waiters.delete(xid);
  }

  private async setStatus(xid: Xid, status: XidStatus): Promise<Lsn> {
    const { block, index } = clogLocation(xid);
    const page = pageId(CLOG_RELFILE, block);
    const image = await this.pool.get(page);
    const mtr = new Mtr(this.pool, this.log);
    if (pageKind(image) === PageKind.Uninitialized)
      mtr.change(page, RecordKind.PageInit, pageInitPayload(PageKind.Clog));
    return mtr.change(page, RecordKind.ClogSetStatus, clogSetStatusPayload(index, status)).commit();
  }
}
