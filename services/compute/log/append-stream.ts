import * as grpc from "@grpc/grpc-js";
import type { AppendRequest } from "../../../proto/gen/sediment/storage/AppendRequest.js";
import type { AppendResponse__Output } from "../../../proto/gen/sediment/storage/AppendResponse.js";
import type { Hello } from "../../../proto/gen/sediment/storage/Hello.js";
import type { StorageClient } from "../../../proto/gen/sediment/storage/Storage.js";
import type { GroupId, NodeId } from "../../common/ids.js";
import type { Lsn } from "../../common/lsn.js";
import type { Logger } from "../../common/observe/log.js";
import type { OutgoingBatch } from "./log-writer.js";

export interface AppendStreamEvents {
  onConnected(node: NodeId): void;
  onAck(node: NodeId, throughLsn: Lsn, scls: Map<GroupId, Lsn>): void;
  onDisconnected(node: NodeId, error: grpc.ServiceError | undefined): void;
}

const BACKOFF_MS_MIN = 20;
const BACKOFF_MS_MAX = 250;

/**
 * One node's AppendLog stream: Hello on open, batches after, acks back;
 * reconnects with backoff. A thin adapter: every decision is the LogWriter's.
 */
export class AppendStream {
  private call: grpc.ClientDuplexStream<AppendRequest, AppendResponse__Output> | undefined;
  private backoffMs = BACKOFF_MS_MIN;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly node: NodeId,
    private readonly client: StorageClient,
    private readonly hello: Hello,
    private readonly events: AppendStreamEvents,
    private readonly log: Logger,
  ) {}

  open(): void {
    if (this.closed || this.call !== undefined) return;
    // waitForReady: a call made while the node is down waits for the channel
    // to connect instead of failing at once; the Hello goes out the moment it does.
    const metadata = new grpc.Metadata({ waitForReady: true });
    const call = this.client.AppendLog(metadata);
    this.call = call;
    let answered = false;
    call.on("data", (response: AppendResponse__Output) => {
      const ack = response.ack;
      if (ack === null || ack === undefined) return;
      if (!answered) {
        answered = true;
        this.backoffMs = BACKOFF_MS_MIN;
      }
      const scls = new Map<GroupId, Lsn>();
      for (let i = 0; i < ack.groups.length; i++) scls.set(ack.groups[i] as GroupId, ack.scls[i] as Lsn);
      this.events.onAck(this.node, ack.throughLsn as Lsn, scls);
    });
    const finish = (error: grpc.ServiceError | undefined) => {
      if (this.call !== call) return;
      this.call = undefined;
      this.events.onDisconnected(this.node, error);
      this.scheduleReconnect();
    };
    call.on("error", (error: grpc.ServiceError) => finish(error));
    call.on("end", () => finish(undefined));
    call.write({ hello: this.hello });
    this.events.onConnected(this.node);
  }

  send(batch: OutgoingBatch, epoch: number): boolean {
    if (this.call === undefined) return false;
    this.call.write({
      batch: {
        epoch,
        prevThroughLsn: batch.prevThroughLsn,
        throughLsn: batch.throughLsn,
        vdl: batch.vdl,
        records: Buffer.from(batch.records.buffer, batch.records.byteOffset, batch.records.byteLength),
      },
    });
    return true;
  }

  /** Drops the stream now; the reconnect follows after backoff. */
  restart(reason: string): void {
    const call = this.call;
    if (call === undefined) return;
    this.log.info({ node: this.node, reason }, "restarting append stream");
    this.call = undefined;
    call.cancel();
    this.events.onDisconnected(this.node, undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.timer !== undefined) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MS_MAX);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.open();
    }, delay);
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const call = this.call;
    this.call = undefined;
    call?.cancel();
  }
}
