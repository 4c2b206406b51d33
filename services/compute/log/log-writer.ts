import { assert } from "../../common/assert.js";
import type { Epoch, GroupId, NodeId, PageId } from "../../common/ids.js";
import { INVALID_LSN, type Lsn, lsnMax, lsnMin } from "../../common/lsn.js";
import { type Placement, groupOf } from "../../common/placement.js";
import { QuorumTracker, VdlTracker } from "../../common/quorum.js";
import { type LogRecord, type RecordKind, encodeRecordInto, recordBytes } from "../../common/record.js";
import { RetainedLog } from "./retained-log.js";

/**
 * The log writer as a pure state machine (etcd-io/raft style): `append` and
 * `step(message)` change state, `ready()` says what to send, `advance(ready)`
 * marks it sent. No I/O, no clock: the gRPC adapter and the simulator drive
 * the same code.
 */
export interface LogWriterConfig {
  readonly placement: Placement;
  readonly epoch: Epoch;
  /** Records not yet on every replica are kept up to this many bytes for resending. */
  readonly resendBytesMax: number;
  /** A batch to one node carries at most this many record bytes. */
  readonly batchBytesMax: number;
  /** Batches sent to one node and not yet acknowledged. */
  readonly inflightBatchesMax: number;
}

export const DEFAULT_LOG_WRITER_LIMITS = {
  resendBytesMax: 64 * 1024 * 1024,
  batchBytesMax: 1024 * 1024,
  inflightBatchesMax: 1,
} as const;

/** Where a new writer starts: from the recovery plan (design section 7 step 6). */
export interface LogWriterStart {
  readonly nextLsn: Lsn;
  /** Every record at or below this LSN is on its write quorum (a past VDL). */
  readonly durableLsn: Lsn;
  readonly lastLsnOfGroup: readonly Lsn[];
  /** Records above durableLsn kept by recovery, to be re-sent to every replica. */
  readonly carriedRecords: readonly LogRecord[];
  /** The truncation point: the VDL of this writer once carriedRecords are on their quorum. */
  readonly truncateLsn: Lsn;
}

export interface RecordDraft {
  readonly pageId: PageId;
  readonly prevLsnOfPage: Lsn;
  readonly kind: RecordKind;
  readonly payload: Uint8Array;
}

export type LogWriterMessage =
  | { readonly type: "connected"; readonly node: NodeId }
  | { readonly type: "disconnected"; readonly node: NodeId }
  /** First answer on a stream: the node's SCLs; the second is the acknowledged batch's through LSN. */
  | {
      readonly type: "ack";
      readonly node: NodeId;
      readonly throughLsn: Lsn;
      readonly scls: ReadonlyMap<GroupId, Lsn>;
    };

export interface OutgoingBatch {
  readonly node: NodeId;
  readonly prevThroughLsn: Lsn;
  readonly throughLsn: Lsn;
  readonly vdl: Lsn;
  readonly records: Uint8Array;
  readonly recordCount: number;
}

export interface Ready {
  readonly batches: readonly OutgoingBatch[];
  /** Nodes whose stream must be restarted: the window no longer holds what they still need. */
  readonly reconnect: readonly NodeId[];
}

type NodePhase = "down" | "hello" | "up";

interface NodeState {
  phase: NodePhase;
  sentThrough: Lsn;
  inflight: number;
  groups: ReadonlySet<GroupId>;
}

export class LogWriter {
  private nextLsnValue: Lsn;
  private readonly lastLsnOfGroup: Lsn[];
  private readonly retained: RetainedLog;
  private readonly quorum: QuorumTracker;
  private readonly vdlTracker: VdlTracker;
  private readonly nodes = new Map<NodeId, NodeState>();
  private readonly pendingReconnect = new Set<NodeId>();
  /** Records up to here must be sent as soon as a node can take a batch. */
  private flushTarget: Lsn = INVALID_LSN;

  constructor(
    readonly config: LogWriterConfig,
    start: LogWriterStart,
  ) {
    const { placement } = config;
    assert(start.lastLsnOfGroup.length === placement.config.groupCount, "one back-link per group");
    assert(start.nextLsn > start.truncateLsn && start.truncateLsn >= start.durableLsn, "bad writer start");
    this.nextLsnValue = start.nextLsn;
    this.lastLsnOfGroup = [...start.lastLsnOfGroup];
    this.retained = new RetainedLog(start.durableLsn);
    this.quorum = new QuorumTracker(placement);
    this.vdlTracker = new VdlTracker(start.durableLsn);
    for (const record of start.carriedRecords) {
      assert(record.lsn > start.durableLsn && record.lsn <= start.truncateLsn, "carried record out of range");
      const bytes = new Uint8Array(recordBytes(record));
      encodeRecordInto(bytes, 0, record);
      this.retained.push(record.lsn, groupOf(record.pageId, placement.config.groupCount), bytes);
    }
    if (start.truncateLsn > start.durableLsn) this.vdlTracker.addConsistencyPoint(start.truncateLsn);
    this.flushTarget = (start.nextLsn - 1) as Lsn;
    for (const [node, groups] of placement.groupsOfNode) {
      this.nodes.set(node, { phase: "down", sentThrough: INVALID_LSN, inflight: 0, groups: new Set(groups) });
    }
  }

  get epoch(): Epoch {
    return this.config.epoch;
  }

  /** The highest LSN assigned so far. */
  get lastLsn(): Lsn {
    return (this.nextLsnValue - 1) as Lsn;
  }

  vcl(): Lsn {
    return this.quorum.vcl();
  }

  vdl(): Lsn {
    return this.vdlTracker.vdl();
  }

  scl(node: NodeId, group: GroupId): Lsn {
    return this.quorum.scl(node, group);
  }

  retainedBytes(): number {
    return this.retained.retainedBytes;
  }

  /** Back-pressure: false while the records not yet on a write quorum fill the resend window. */
  canAppend(): boolean {
    return this.retained.bytesAfter(this.quorum.vcl()) < this.config.resendBytesMax;
  }

  /**
   * Appends one MTR: one contiguous LSN range, encoded into one buffer, the
   * last record ending the MTR (invariant 7: synchronous, no await inside).
   */
  append(drafts: readonly RecordDraft[]): LogRecord[] {
    assert(drafts.length > 0, "an MTR has at least one record");
    const groupCount = this.config.placement.config.groupCount;
    const records: LogRecord[] = [];
    const groups: GroupId[] = [];
    let totalBytes = 0;
    for (let i = 0; i < drafts.length; i++) {
      const d = drafts[i]!;
      const lsn = this.nextLsnValue;
      this.nextLsnValue = (lsn + 1) as Lsn;
      const group = groupOf(d.pageId, groupCount);
      groups.push(group);
      const record: LogRecord = {
        lsn,
        pageId: d.pageId,
        prevLsnOfPage: d.prevLsnOfPage,
        prevLsnOfGroup: this.lastLsnOfGroup[group]!,
        kind: d.kind,
        endsMtr: i === drafts.length - 1,
        payload: d.payload,
      };
      this.lastLsnOfGroup[group] = lsn;
      records.push(record);
      totalBytes += recordBytes(record);
    }
    const buffer = new Uint8Array(totalBytes);
    let offset = 0;
    records.forEach((record, i) => {
      const end = encodeRecordInto(buffer, offset, record);
      this.retained.push(record.lsn, groups[i]!, buffer.subarray(offset, end));
      offset = end;
    });
    this.vdlTracker.addConsistencyPoint(records[records.length - 1]!.lsn);
    return records;
  }

  step(message: LogWriterMessage): void {
    const node = this.nodes.get(message.node);
    assert(node !== undefined, () => `unknown node ${message.node}`);
    switch (message.type) {
      case "connected":
        node.phase = "hello";
        node.inflight = 0;
        this.pendingReconnect.delete(message.node);
        return;
      case "disconnected":
        node.phase = "down";
        node.inflight = 0;
        this.pendingReconnect.delete(message.node);
        return;
      case "ack":
        this.onAck(message.node, node, message.throughLsn, message.scls);
        return;
    }
  }

  private onAck(id: NodeId, node: NodeState, throughLsn: Lsn, scls: ReadonlyMap<GroupId, Lsn>): void {
    if (node.phase === "down") return; // a late answer from a stream already given up
    for (const [group, scl] of scls) {
      if (node.groups.has(group)) this.quorum.ack(id, group, lsnMin(scl, this.lastLsn));
    }
    if (node.phase === "hello") {
      // Resend from the lowest point this node lacks that the window still holds.
      let low = this.lastLsn;
      for (const group of node.groups) low = lsnMin(low, this.quorum.scl(id, group));
      node.sentThrough = lsnMin(lsnMax(low, this.retained.trimmedThrough), this.lastLsn);
      node.phase = "up";
    } else {
      assert(node.inflight > 0 && throughLsn <= node.sentThrough, "ack for a batch never sent");
      node.inflight--;
    }
    this.vdlTracker.advance(this.quorum.vcl());
    this.trim();
  }

  /** Drops records every replica holds, then (past the bound) records already on their quorum. */
  private trim(): void {
    const placement = this.config.placement;
    for (;;) {
      const first = this.retained.first();
      if (first === undefined) return;
      const replicas = placement.replicas[first.group]!;
      const everywhere = replicas.every((n) => this.quorum.scl(n, first.group) >= first.lsn);
      const overBound = this.retained.retainedBytes > this.config.resendBytesMax;
      if (!everywhere && !(overBound && this.quorum.pgcl(first.group) >= first.lsn)) return;
      this.retained.dropFirst();
      if (everywhere) continue;
      for (const n of replicas) {
        const state = this.nodes.get(n)!;
        if (state.phase !== "down" && state.sentThrough < first.lsn && this.quorum.scl(n, first.group) < first.lsn) {
          this.pendingReconnect.add(n);
        }
      }
    }
  }

  /**
   * Asks for the log through `lsn` to be sent (a commit waits on it). Until
   * then records wait, unless they fill a quarter batch or `tick` comes: so
   * a transaction's records ride in its commit's batch and a commit costs
   * one synced write, not one per statement (PostgreSQL flushes WAL at
   * commit for the same reason).
   */
  requestFlush(lsn: Lsn): void {
    if (lsn > this.flushTarget) this.flushTarget = lsnMin(lsn, this.lastLsn);
  }

  /** The periodic flush (PostgreSQL's walwriter): everything appended so far goes out. */
  tick(): void {
    this.requestFlush(this.lastLsn);
  }

  /** Whether records are appended but not yet asked for (the adapter then arms its tick). */
  hasUnrequested(): boolean {
    return this.flushTarget < this.lastLsn;
  }

  ready(): Ready {
    const batches: OutgoingBatch[] = [];
    const eagerBytes = this.config.batchBytesMax / 4;
    for (const [id, node] of this.nodes) {
      if (node.phase !== "up" || node.inflight >= this.config.inflightBatchesMax) continue;
      if (this.pendingReconnect.has(id) || node.sentThrough >= this.lastLsn) continue;
      const wanted = this.flushTarget > node.sentThrough || this.retained.bytesAfter(node.sentThrough) >= eagerBytes;
      if (wanted) batches.push(this.buildBatch(id, node));
    }
    return { batches, reconnect: [...this.pendingReconnect] };
  }

  private buildBatch(id: NodeId, node: NodeState): OutgoingBatch {
    const parts: Uint8Array[] = [];
    let bytes = 0;
    let through = this.lastLsn;
    for (let i = this.retained.indexAfter(node.sentThrough); i < this.retained.size; i++) {
      const entry = this.retained.at(i);
      if (!node.groups.has(entry.group)) continue;
      if (bytes > 0 && bytes + entry.bytes.length > this.config.batchBytesMax) {
        through = (entry.lsn - 1) as Lsn;
        break;
      }
      parts.push(entry.bytes);
      bytes += entry.bytes.length;
    }
    const records = new Uint8Array(bytes);
    let offset = 0;
    for (const part of parts) {
      records.set(part, offset);
      offset += part.length;
    }
    return {
      node: id,
      prevThroughLsn: node.sentThrough,
      throughLsn: through,
      vdl: this.vdl(),
      records,
      recordCount: parts.length,
    };
  }

  /** Marks the batches of `ready` as sent. */
  advance(ready: Ready): void {
    for (const batch of ready.batches) {
      const node = this.nodes.get(batch.node)!;
      assert(batch.prevThroughLsn === node.sentThrough, "batches to a node must be contiguous");
      node.sentThrough = batch.throughLsn;
      node.inflight++;
    }
  }
}
