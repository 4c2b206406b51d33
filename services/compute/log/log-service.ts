import type * as grpc from "@grpc/grpc-js";
import { Counter, Gauge, Histogram } from "prom-client";
import type { GroupId, NodeId } from "../../common/ids.js";
import type { Lsn } from "../../common/lsn.js";
import type { Logger } from "../../common/observe/log.js";
import { registry } from "../../common/observe/metrics.js";
import type { LogRecord } from "../../common/record.js";
import type { StorageCluster } from "../storage/cluster.js";
import { AppendStream } from "./append-stream.js";
import type { LogWriter, RecordDraft } from "./log-writer.js";

/** A newer writer fenced this one off: nothing it appends can become durable. */
export class FencedError extends Error {
  override name = "FencedError";
}

const GRPC_FAILED_PRECONDITION = 9;
/** Longest a record waits for a commit to carry it to storage. */
const TICK_MS = 5;

const metrics = {
  vdl: new Gauge({ name: "sediment_writer_vdl", help: "Volume durable LSN", registers: [registry] }),
  vcl: new Gauge({ name: "sediment_writer_vcl", help: "Volume complete LSN", registers: [registry] }),
  records: new Counter({ name: "sediment_writer_records_total", help: "Records appended", registers: [registry] }),
  batches: new Counter({
    name: "sediment_writer_batches_total",
    help: "Batches sent to storage nodes",
    labelNames: ["node"],
    registers: [registry],
  }),
  ackSeconds: new Histogram({
    name: "sediment_writer_ack_seconds",
    help: "Batch sent to a storage node until its ack arrived",
    buckets: [0.0002, 0.0005, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.01, 0.05],
    registers: [registry],
  }),
  retainedBytes: new Gauge({
    name: "sediment_writer_retained_bytes",
    help: "Bytes kept for resending",
    registers: [registry],
  }),
};

interface VdlWaiter {
  readonly lsn: Lsn;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * Drives the pure LogWriter with real AppendLog streams: flushes after every
 * change (coalesced in a microtask, so appends of one tick share a batch),
 * and wakes commits waiting on VDL.
 */
export class LogService {
  private readonly streams = new Map<NodeId, AppendStream>();
  private vdlWaiters: VdlWaiter[] = [];
  private appendWaiters: (() => void)[] = [];
  private flushQueued = false;
  private fencedError: FencedError | undefined;
  private readonly down = new Set<NodeId>();
  private readonly fencedListeners: ((error: FencedError) => void)[] = [];
  private tickTimer: NodeJS.Timeout | undefined;
  /** Send times of the batches in flight, per node, oldest first. */
  private readonly sentAt = new Map<NodeId, number[]>();

  constructor(
    readonly writer: LogWriter,
    private readonly cluster: StorageCluster,
    truncateLsn: Lsn,
    private readonly log: Logger,
  ) {
    const hello = { epoch: writer.epoch, truncateLsn, membership: cluster.membership(), writerId: process.pid };
    for (const { node } of cluster.nodes) {
      this.streams.set(
        node,
        new AppendStream(
          node,
          cluster.client(node),
          hello,
          {
            onConnected: (n) => this.onStep({ type: "connected", node: n }),
            onAck: (n, throughLsn, scls) => this.onAck(n, throughLsn, scls),
            onDisconnected: (n, error) => this.onDisconnected(n, error),
          },
          log,
        ),
      );
    }
  }

  start(): void {
    for (const { node } of this.cluster.nodes) this.sentAt.set(node, []);
    for (const stream of this.streams.values()) stream.open();
  }

  vdl(): Lsn {
    return this.writer.vdl();
  }

  /** Appends one MTR synchronously (invariant 7). Check `whenCanAppend` before building it. */
  append(drafts: readonly RecordDraft[]): LogRecord[] {
    if (this.fencedError !== undefined) throw this.fencedError;
    const records = this.writer.append(drafts);
    metrics.records.inc(records.length);
    this.queueFlush();
    this.armTick();
    return records;
  }

  /** Resolves when the resend window has room (back-pressure). */
  whenCanAppend(): Promise<void> {
    if (this.fencedError !== undefined) return Promise.reject(this.fencedError);
    if (this.writer.canAppend()) return Promise.resolve();
    return new Promise((resolve) => this.appendWaiters.push(resolve));
  }

  /** Resolves once VDL ≥ lsn (invariant 2: only then may a commit be acknowledged). */
  waitForVdl(lsn: Lsn): Promise<void> {
    if (this.writer.vdl() >= lsn) return Promise.resolve();
    if (this.fencedError !== undefined) return Promise.reject(this.fencedError);
    this.writer.requestFlush(lsn);
    this.queueFlush();
    return new Promise((resolve, reject) => {
      const waiter = { lsn, resolve, reject };
      let i = this.vdlWaiters.length;
      while (i > 0 && this.vdlWaiters[i - 1]!.lsn > lsn) i--;
      this.vdlWaiters.splice(i, 0, waiter);
    });
  }

  private onStep(message: Parameters<LogWriter["step"]>[0]): void {
    this.writer.step(message);
    this.queueFlush();
  }

  private onAck(node: NodeId, throughLsn: Lsn, scls: Map<GroupId, Lsn>): void {
    const sentAt = throughLsn > 0 ? this.sentAt.get(node)?.shift() : undefined;
    if (sentAt !== undefined) metrics.ackSeconds.observe((performance.now() - sentAt) / 1000);
    if (this.down.delete(node)) this.log.info({ node }, "append stream back");
    this.writer.step({ type: "ack", node, throughLsn, scls });
    this.wake();
    this.queueFlush();
  }

  private onDisconnected(node: NodeId, error: grpc.ServiceError | undefined): void {
    this.sentAt.set(node, []);
    this.writer.step({ type: "disconnected", node });
    if (error?.code === GRPC_FAILED_PRECONDITION) {
      this.fence(new FencedError(`storage node ${node} refused epoch ${this.writer.epoch}: ${error.details}`));
      return;
    }
    if (error !== undefined && error.code !== 1 /* CANCELLED */ && !this.down.has(node)) {
      this.down.add(node); // one line per outage, not one per reconnect attempt
      this.log.warn({ node, code: error.code, err: error.details }, "append stream failed; reconnecting");
    }
  }

  /** Calls `listener` once, when a newer writer fences this one. */
  onFenced(listener: (error: FencedError) => void): void {
    this.fencedListeners.push(listener);
  }

  private fence(error: FencedError): void {
    if (this.fencedError !== undefined) return;
    this.fencedError = error;
    this.log.error({ err: error.message, epoch: this.writer.epoch }, "writer fenced");
    for (const waiter of this.vdlWaiters) waiter.reject(error);
    this.vdlWaiters = [];
    for (const stream of this.streams.values()) stream.close();
    for (const listener of this.fencedListeners) listener(error);
  }

  private wake(): void {
    const vdl = this.writer.vdl();
    metrics.vdl.set(vdl);
    metrics.vcl.set(this.writer.vcl());
    metrics.retainedBytes.set(this.writer.retainedBytes());
    let n = 0;
    while (n < this.vdlWaiters.length && this.vdlWaiters[n]!.lsn <= vdl) this.vdlWaiters[n++]!.resolve();
    if (n > 0) this.vdlWaiters.splice(0, n);
    if (this.appendWaiters.length > 0 && this.writer.canAppend()) {
      const waiters = this.appendWaiters;
      this.appendWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Records nobody waits for still go out within TICK_MS (and VDL advances, so pages can be evicted). */
  private armTick(): void {
    if (this.tickTimer !== undefined || !this.writer.hasUnrequested()) return;
    // Only what was appended before arming: a later transaction's records
    // wait for its own commit instead of taking the batch slot before it.
    const through = this.writer.lastLsn;
    this.tickTimer = setTimeout(() => {
      this.tickTimer = undefined;
      this.writer.requestFlush(through);
      this.queueFlush();
      this.armTick();
    }, TICK_MS);
  }

  private queueFlush(): void {
    if (this.flushQueued || this.fencedError !== undefined) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      this.flush();
    });
  }

  private flush(): void {
    const ready = this.writer.ready();
    for (const node of ready.reconnect) this.streams.get(node)?.restart("resend window passed the node");
    if (ready.reconnect.length > 0) {
      this.queueFlush();
      return;
    }
    const now = performance.now();
    const sent = ready.batches.filter((batch) => {
      const ok = this.streams.get(batch.node)!.send(batch, this.writer.epoch);
      if (ok) {
        metrics.batches.inc({ node: String(batch.node) });
        this.sentAt.get(batch.node)?.push(now);
      }
      return ok;
    });
    this.writer.advance({ batches: sent, reconnect: [] });
  }

  close(): void {
    if (this.tickTimer !== undefined) clearTimeout(this.tickTimer);
    for (const stream of this.streams.values()) stream.close();
    const error = new FencedError("log service closed");
    for (const waiter of this.vdlWaiters) waiter.reject(error);
    this.vdlWaiters = [];
  }
}
