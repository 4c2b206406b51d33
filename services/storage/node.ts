import { InvariantError, assert } from "../common/assert.js";
import { type Epoch, type GroupId, type NodeId, type PageKey, pageKey, epoch as toEpoch } from "../common/ids.js";
import { INVALID_LSN, LSN_MAX, type Lsn, lsnMax, lsnMin } from "../common/lsn.js";
import type { Logger } from "../common/observe/log.js";
import type { LogRecord } from "../common/record.js";
import { failedPrecondition } from "./errors.js";
import type { Progress } from "./keys.js";
import { type MembershipConfig, Topology, sameMembership } from "./membership.js";
import type { StorageMetrics } from "./metrics.js";
import type { AckData, NodeHooks, RepairWrite, StreamSession, ValidatedBatch } from "./node-types.js";
import { type HeldHeader, Segment } from "./segment.js";
import {
  type NodeMeta,
  type Store,
  type StoreOp,
  putImageOp,
  putMetaOp,
  putProgressOp,
  putRecordOps,
} from "./store.js";
import { planTruncation } from "./truncation.js";
import { type Outcome, WriteQueue } from "./write-queue.js";

interface AppendItem {
  readonly session: StreamSession;
  readonly batch: ValidatedBatch;
}

interface Counters {
  vdlHint: Lsn;
  maxLsnSeen: Lsn;
  recordsStored: number;
  imagesStored: number;
}

/** A small copy (a record's payload is a view into a whole wire batch, which must not stay alive). */
function headerOf(r: LogRecord): HeldHeader {
  return { lsn: r.lsn, prevLsnOfGroup: r.prevLsnOfGroup, endsMtr: r.endsMtr };
}

const GROUP_COMMIT_BYTES_MAX = 16 * 1024 * 1024;
const INITIAL_META: NodeMeta = {
  epoch: toEpoch(0),
  truncateEpoch: toEpoch(0),
  truncateLsn: INVALID_LSN,
  membership: null,
};

/**
 * One storage node's state. Every mutation runs in the write queue, writes
 * one LevelDB batch, and only then is "published": reads (GetPage, GetState,
 * ReadLog, acks) see SCLs that are durable.
 */
export class StorageNode {
  hooks: NodeHooks = { recordsStored() {}, gap() {}, truncated() {}, fenced() {} };
  /** Bumped by every truncation and membership change: streams and pending work from before are stale. */
  generation = 0;
  private readonly queue: WriteQueue<AppendItem, AckData>;
  private published = new Map<GroupId, Lsn>();
  private closed = false;

  private constructor(
    readonly store: Store,
    readonly self: NodeId,
    private readonly log: Logger,
    private readonly metrics: StorageMetrics,
    private metaValue: NodeMeta,
    private topologyValue: Topology | null,
    private readonly segment: Segment,
    private readonly counters: Counters,
  ) {
    this.queue = new WriteQueue((items) => this.commitAppends(items), GROUP_COMMIT_BYTES_MAX);
    this.publish();
  }

  /** Rebuilds the node from disk: meta, progress, and only the index entries above each SCL. */
  static async open(store: Store, self: NodeId, log: Logger, metrics: StorageMetrics): Promise<StorageNode> {
    const meta = (await store.readMeta()) ?? INITIAL_META;
    const progress = await store.readProgress();
    const topology = meta.membership === null ? null : new Topology(meta.membership, self);
    const segment = new Segment(progress?.scls ?? []);
    for (const g of topology?.hosted ?? []) segment.addGroup(g);
    let held = 0;
    for (const g of segment.groupIds()) {
      for (const e of await store.groupEntries(g, segment.scl(g), LSN_MAX)) {
        if (segment.hold(g, e)) held++;
      }
      segment.advance(g);
    }
    const counters: Counters = {
      vdlHint: progress?.vdlHint ?? INVALID_LSN,
      maxLsnSeen: progress?.maxLsnSeen ?? INVALID_LSN,
      recordsStored: progress?.recordsStored ?? 0,
      imagesStored: progress?.imagesStored ?? 0,
    };
    log.info({ node: self, epoch: meta.epoch, groups: segment.groupIds().length, held }, "storage state loaded");
    return new StorageNode(store, self, log, metrics, meta, topology, segment, counters);
  }

  get meta(): NodeMeta {
    return this.metaValue;
  }

  get topology(): Topology | null {
    return this.topologyValue;
  }

  get vdlHint(): Lsn {
    return this.counters.vdlHint;
  }

  get maxLsnSeen(): Lsn {
    return this.counters.maxLsnSeen;
  }

  get recordsStored(): number {
    return this.counters.recordsStored;
  }

  get imagesStored(): number {
    return this.counters.imagesStored;
  }

  /** Whether the node has applied the truncation of its epoch (else it may hold records a writer change dropped). */
  get truncationCurrent(): boolean {
    return this.metaValue.truncateEpoch === this.metaValue.epoch;
  }

  /** The durable SCL of `group`, if the node has state for it. */
  scl(group: GroupId): Lsn | undefined {
    return this.published.get(group);
  }

  /** The hole below what the node holds for `group` (repair.ts fills it). */
  gap(group: GroupId): { after: Lsn; through: Lsn } | undefined {
    if (!this.segment.has(group)) return undefined;
    const gap = this.segment.gap(group);
    const durable = this.published.get(group) ?? INVALID_LSN;
    return gap === undefined ? undefined : { after: lsnMin(gap.after, durable), through: gap.through };
  }

  /** The hosted groups and their durable SCLs, as an Ack carries them. */
  ack(throughLsn: Lsn): AckData {
    const groups = this.topologyValue?.hosted ?? [];
    return {
      epoch: this.metaValue.epoch,
      throughLsn,
      groups,
      scls: groups.map((g) => this.published.get(g) ?? INVALID_LSN),
    };
  }

  /** Hello: fencing, the truncation of a newer epoch, the membership; answers with the node's SCLs. */
  hello(session: StreamSession, epoch: Epoch, truncateLsn: Lsn, membership: MembershipConfig): Promise<AckData> {
    return this.queue.exclusive(async () => {
      const before = this.metaValue;
      if (epoch < before.epoch) throw failedPrecondition(`epoch ${epoch} is older than the node's ${before.epoch}`);
      const ops: StoreOp[] = [];
      let meta = before;
      if (epoch > before.epoch || before.truncateEpoch < epoch) {
        ops.push(...(await this.truncateInMemory(truncateLsn)));
        meta = { ...meta, epoch, truncateEpoch: epoch, truncateLsn };
      } else if (truncateLsn !== before.truncateLsn) {
        this.log.warn(
          { node: this.self, epoch, lsn: truncateLsn, truncateLsn: before.truncateLsn },
          "Hello names another T",
        );
      }
      if (!sameMembership(meta.membership, membership)) {
        meta = { ...meta, membership };
        this.topologyValue = new Topology(membership, this.self);
        for (const g of this.topologyValue.hosted) this.segment.addGroup(g);
        this.generation++;
      }
      if (meta !== before) await this.commitMeta(meta, ops);
      session.epoch = epoch;
      session.generation = this.generation;
      if (epoch > before.epoch) this.hooks.fenced(epoch);
      return this.ack(INVALID_LSN);
    });
  }

  /** Queues a validated batch; resolves with its Ack once it is durable (group commit). */
  append(session: StreamSession, batch: ValidatedBatch): Promise<AckData> {
    return this.queue.append({ session, batch }, Math.max(1, batch.bytes));
  }

  /** SetEpoch: fences every older writer; accepted only for a newer epoch. */
  setEpoch(epoch: Epoch): Promise<void> {
    return this.queue.exclusive(async () => {
      if (epoch <= this.metaValue.epoch) {
        throw failedPrecondition(`epoch ${epoch} is not above the node's ${this.metaValue.epoch}`);
      }
      await this.commitMeta({ ...this.metaValue, epoch }, []);
      this.log.info({ node: this.self, epoch }, "fenced: new epoch");
      this.hooks.fenced(epoch);
    });
  }

  /** Truncate(e, T): drops records and images above T once per epoch. */
  truncate(epoch: Epoch, t: Lsn): Promise<void> {
    return this.queue.exclusive(async () => {
      const meta = this.metaValue;
      if (meta.epoch !== epoch) throw failedPrecondition(`truncate at epoch ${epoch}, the node is at ${meta.epoch}`);
      if (meta.truncateEpoch >= epoch) {
        if (meta.truncateLsn !== t)
          this.log.warn({ node: this.self, epoch, lsn: t }, "repeated truncate with another LSN");
        return;
      }
      const ops = await this.truncateInMemory(t);
      await this.commitMeta({ ...meta, truncateEpoch: epoch, truncateLsn: t }, ops);
    });
  }

  /** A peer knows a newer epoch and its truncation: apply them (docs/log-protocol.md, ReadLog). */
  learnEpoch(epoch: Epoch, t: Lsn): Promise<void> {
    return this.queue.exclusive(async () => {
      if (epoch <= this.metaValue.epoch) return;
      const ops = await this.truncateInMemory(t);
      await this.commitMeta({ ...this.metaValue, epoch, truncateEpoch: epoch, truncateLsn: t }, ops);
      this.log.info({ node: this.self, epoch, lsn: t }, "learned a newer epoch from a peer");
      this.hooks.fenced(epoch);
    });
  }

  /** Stores records fetched from a peer: how many were new; undefined when the node changed meanwhile (stale). */
  storeRepair(w: RepairWrite): Promise<number | undefined> {
    return this.queue.exclusive(async () => {
      if (w.generation !== this.generation || w.epoch !== this.metaValue.epoch) return undefined;
      const ops: StoreOp[] = [];
      const pages: PageKey[] = [];
      for (const r of w.records) {
        if (!this.segment.hold(w.group, headerOf(r.record))) continue;
        ops.push(...putRecordOps(w.group, r.record, r.encoded));
        pages.push(pageKey(r.record.pageId));
        this.counters.maxLsnSeen = lsnMax(this.counters.maxLsnSeen, r.record.lsn);
        this.counters.recordsStored++;
      }
      this.segment.cover(w.group, w.after, w.coverTo);
      this.segment.advance(w.group);
      ops.push(this.progressOp());
      await this.durableWrite(ops, true);
      this.publish();
      this.metrics.repairRecords.inc(pages.length);
      this.hooks.recordsStored(pages);
      return pages.length;
    });
  }

  /** Stores a materialized page image (derived data: not synced); skipped when stale or present. */
  storeImage(page: PageKey, group: GroupId, lsn: Lsn, image: Uint8Array, generation: number): Promise<boolean> {
    return this.queue.exclusive(async () => {
      const scl = this.published.get(group);
      if (generation !== this.generation || scl === undefined || lsn > scl || lsn === INVALID_LSN) return false;
      if (await this.store.hasImage(page, lsn)) return false;
      this.counters.imagesStored++;
      await this.durableWrite([putImageOp(page, lsn, image), this.progressOp()], false);
      return true;
    });
  }

  /** Waits for queued writes, then closes LevelDB; writes queued later fail (an ordinary error, not a crash). */
  async close(): Promise<void> {
    await this.queue.drain();
    this.closed = true;
    await this.store.close();
  }

  private async commitAppends(items: AppendItem[]): Promise<Outcome<AckData>[]> {
    const outcomes: (Outcome<AckData> | undefined)[] = [];
    const ops: StoreOp[] = [];
    const pages: PageKey[] = [];
    let bytes = 0;
    for (const item of items) {
      const refusal = this.refusal(item);
      if (refusal !== undefined) {
        item.session.failed = true;
        outcomes.push({ ok: false, error: refusal });
        continue;
      }
      ops.push(...this.holdBatch(item.batch, pages));
      bytes += item.batch.bytes;
      outcomes.push(undefined);
    }
    if (outcomes.every((o) => o !== undefined)) return outcomes as Outcome<AckData>[];
    const hosted = this.topologyValue!.hosted;
    for (const g of hosted) this.segment.advance(g);
    ops.push(this.progressOp());
    await this.durableWrite(ops, true);
    this.publish();
    const accepted = outcomes.filter((o) => o === undefined).length;
    this.metrics.appendBatches.inc(accepted);
    this.metrics.appendRecords.inc(pages.length);
    this.metrics.appendBytes.inc(bytes);
    this.hooks.recordsStored(pages);
    for (const g of hosted) if (this.segment.gap(g) !== undefined) this.hooks.gap(g);
    return outcomes.map((o, i) => o ?? { ok: true, value: this.ack(items[i]!.batch.to) });
  }

  private refusal(item: AppendItem): Error | undefined {
    const { session, batch } = item;
    const epoch = this.metaValue.epoch;
    if (session.failed) return failedPrecondition("the stream already failed");
    if (batch.epoch !== epoch || session.epoch !== epoch) {
      return failedPrecondition(`batch at epoch ${batch.epoch}, the node is at epoch ${epoch}`);
    }
    if (session.generation !== this.generation) {
      return failedPrecondition("the log was truncated or the membership changed since Hello: reconnect");
    }
    return undefined;
  }

  /** Holds the batch's new records (resends skipped) and notes that it covers (P, T] of every hosted group. */
  private holdBatch(batch: ValidatedBatch, pages: PageKey[]): StoreOp[] {
    const ops: StoreOp[] = [];
    for (const r of batch.records) {
      if (!this.segment.hold(r.group, headerOf(r.record))) continue;
      ops.push(...putRecordOps(r.group, r.record, r.encoded));
      pages.push(pageKey(r.record.pageId));
      this.counters.recordsStored++;
    }
    for (const g of this.topologyValue!.hosted) this.segment.cover(g, batch.from, batch.to);
    this.counters.vdlHint = lsnMax(this.counters.vdlHint, batch.vdl);
    this.counters.maxLsnSeen = lsnMax(this.counters.maxLsnSeen, batch.to);
    return ops;
  }

  /** Drops everything above t from memory and returns the deletes (the caller writes them with the meta). */
  private async truncateInMemory(t: Lsn): Promise<StoreOp[]> {
    const plan = await planTruncation(this.store, this.segment.groupIds(), t);
    this.segment.truncate(t);
    this.counters.recordsStored -= plan.records;
    this.counters.imagesStored -= plan.images;
    if (this.counters.vdlHint > t) {
      this.log.warn({ node: this.self, lsn: t, vdlHint: this.counters.vdlHint }, "truncation below the VDL hint");
      this.counters.vdlHint = t;
    }
    this.generation++;
    this.hooks.truncated(plan.pages);
    const level = plan.records + plan.images > 0 ? "info" : "debug";
    this.log[level]({ node: this.self, lsn: t, records: plan.records, images: plan.images }, "log truncated");
    return plan.ops;
  }

  private async commitMeta(meta: NodeMeta, ops: StoreOp[]): Promise<void> {
    await this.durableWrite([...ops, putMetaOp(meta), this.progressOp()], true);
    this.metaValue = meta;
    this.publish();
  }

  private progressOp(): StoreOp {
    const p: Progress = { ...this.counters, scls: this.segment.scls() };
    return putProgressOp(p);
  }

  private async durableWrite(ops: readonly StoreOp[], sync: boolean): Promise<void> {
    if (this.closed) throw new Error("the storage node is closed");
    const end = sync ? this.metrics.syncedWriteSeconds.startTimer() : undefined;
    try {
      await this.store.write(ops, sync);
    } catch (err) {
      // Memory is ahead of the disk now: the only safe move is to stop (restart rebuilds from disk).
      throw new InvariantError(`LevelDB write failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    end?.();
  }

  private publish(): void {
    this.published = this.segment.scls();
    const hosted = this.topologyValue?.hosted ?? [];
    for (const g of hosted) {
      const scl = this.published.get(g);
      assert(scl !== undefined, () => `hosted group ${g} has no SCL`);
      this.metrics.scl.set({ group: String(g) }, scl);
    }
    this.metrics.epoch.set(this.metaValue.epoch);
  }
}
