import * as grpc from "@grpc/grpc-js";
import type { Epoch } from "../common/ids.js";
import type { Lsn } from "../common/lsn.js";
import type { Logger } from "../common/observe/log.js";
import { validateBatch, validateHello } from "./append-batch.js";
import { type CallStatus, failedPrecondition, invalidArgument, statusOf } from "./errors.js";
import { decoded } from "./grpc-guard.js";
import { Topology } from "./membership.js";
import { storageMetrics } from "./metrics.js";
import type { StorageNode } from "./node.js";
import type { AckData, StreamSession } from "./node-types.js";
import type { AppendRequest__Output, AppendResponse } from "./wire.js";

const ackSeconds = storageMetrics().appendAckSeconds;

type AppendCall = grpc.ServerDuplexStream<AppendRequest__Output, AppendResponse>;

/** Batches queued per stream before the stream stops reading (HTTP/2 flow control pushes back on the writer). */
const PENDING_PAUSE = 16;
const PENDING_RESUME = 4;

/**
 * One AppendLog stream (docs/log-protocol.md §1–2): a Hello, then batches.
 * Validation is synchronous, in arrival order; the durable write and the
 * epoch checks happen in the node's write queue, whose completions arrive in
 * queue order, so acks go out in batch order. The first error ends the
 * stream with its status; acks already due are sent before it.
 */
class AppendStream {
  readonly session: StreamSession = { epoch: 0 as Epoch, generation: -1, failed: false };
  private topology: Topology | null = null;
  private lastTo: Lsn | undefined;
  private pending = 0;
  private ended = false;
  private halfClosed = false;
  private draining = false;
  private readonly onEnded: (() => void)[] = [];

  constructor(
    private readonly node: StorageNode,
    private readonly call: AppendCall,
    private readonly log: Logger,
    private readonly onClose: () => void,
  ) {
    call.on("data", (message: AppendRequest__Output) => this.receive(message));
    call.on("end", () => {
      this.halfClosed = true;
      this.maybeFinish();
    });
    call.on("cancelled", () => this.close());
    call.on("error", () => this.close());
  }

  /** Ends the stream if its Hello was accepted at an epoch older than `epoch`. */
  fence(epoch: Epoch): void {
    if (this.session.generation >= 0 && this.session.epoch < epoch) {
      this.fail({ code: grpc.status.FAILED_PRECONDITION, details: `fenced: the node moved to epoch ${epoch}` });
    }
  }

  /**
   * Shutdown: take no further batch, let those in the write queue reach their
   * LevelDB write and their ack, then end the stream with UNAVAILABLE (the
   * writer reconnects later, or to the restarted node, and resends what was
   * not acked). Resolves once the stream has ended.
   */
  drain(): Promise<void> {
    this.draining = true;
    // Read on and drop (receive): a paused call whose input is not consumed never closes,
    // which would hold the server's graceful shutdown until it cancels the call.
    this.call.resume();
    this.maybeFinish();
    return this.ended ? Promise.resolve() : new Promise((resolve) => this.onEnded.push(resolve));
  }

  private receive(message: AppendRequest__Output): void {
    if (this.ended || this.draining) return;
    try {
      const m = decoded(message);
      if (m.msg === "hello" && m.hello) this.hello(m.hello);
      else if (m.msg === "batch" && m.batch) this.batch(m.batch);
      else throw invalidArgument("AppendRequest carries neither a Hello nor a Batch");
    } catch (err) {
      this.fail(statusOf(this.log, err));
    }
  }

  private hello(hello: NonNullable<AppendRequest__Output["hello"]>): void {
    if (this.topology !== null) throw invalidArgument("a second Hello on one stream");
    const h = validateHello(hello, this.node.self);
    this.topology = new Topology(h.membership, this.node.self);
    this.track(this.node.hello(this.session, h.epoch, h.truncateLsn, h.membership));
  }

  private batch(batch: NonNullable<AppendRequest__Output["batch"]>): void {
    if (this.topology === null) throw failedPrecondition("a Batch before the Hello");
    const received = performance.now();
    const b = validateBatch(batch, this.topology, this.lastTo);
    this.lastTo = b.to;
    this.track(this.node.append(this.session, b), received);
  }

  private track(result: Promise<AckData>, receivedAt?: number): void {
    this.pending++;
    if (this.pending >= PENDING_PAUSE) this.call.pause();
    result.then(
      (ack) => {
        this.settled();
        if (!this.ended) this.call.write({ ack: { ...ack, groups: [...ack.groups], scls: [...ack.scls] } });
        if (receivedAt !== undefined) ackSeconds.observe((performance.now() - receivedAt) / 1000);
        this.maybeFinish();
      },
      (err: unknown) => {
        this.settled();
        this.fail(statusOf(this.log, err));
      },
    );
  }

  private settled(): void {
    this.pending--;
    if (this.pending === PENDING_RESUME && !this.ended) this.call.resume();
  }

  private maybeFinish(): void {
    if (this.pending !== 0 || this.ended) return;
    if (this.halfClosed) {
      this.close();
      this.call.end();
    } else if (this.draining) {
      this.close();
      this.call.emit("error", { code: grpc.status.UNAVAILABLE, details: "the storage node is shutting down" });
    }
  }

  private fail(status: CallStatus): void {
    if (this.ended) return;
    this.close();
    this.log.warn({ node: this.node.self, code: status.code, details: status.details }, "AppendLog stream ended");
    this.call.emit("error", { code: status.code, details: status.details });
  }

  private close(): void {
    if (this.ended) return;
    this.ended = true;
    this.session.failed = true;
    this.onClose();
    for (const resolve of this.onEnded.splice(0)) resolve();
  }
}

/** The AppendLog handler, and a way to end the streams of fenced writers. */
export class AppendService {
  private readonly streams = new Set<AppendStream>();

  constructor(
    private readonly node: StorageNode,
    private readonly log: Logger,
  ) {}

  private draining = false;

  readonly handler = (call: AppendCall): void => {
    if (this.draining) {
      call.emit("error", { code: grpc.status.UNAVAILABLE, details: "the storage node is shutting down" });
      return;
    }
    const stream: AppendStream = new AppendStream(this.node, call, this.log, () => this.streams.delete(stream));
    this.streams.add(stream);
  };

  fence(epoch: Epoch): void {
    for (const s of [...this.streams]) s.fence(epoch);
  }

  /** Shutdown: every stream finishes the batches it holds, acks them, and ends (AppendStream.drain). */
  async drain(): Promise<void> {
    this.draining = true;
    await Promise.all([...this.streams].map((s) => s.drain()));
  }
}
