import { Counter, Gauge, Histogram } from "prom-client";
import { registry } from "../common/observe/metrics.js";

/** The storage node's metrics, registered once per process in the shared registry. */
export interface StorageMetrics {
  readonly appendBatches: Counter;
  readonly appendRecords: Counter;
  readonly appendBytes: Counter;
  readonly syncedWriteSeconds: Histogram;
  readonly appendAckSeconds: Histogram;
  readonly getPageSeconds: Histogram;
  readonly materializerBacklog: Gauge;
  readonly scl: Gauge<"group">;
  readonly epoch: Gauge;
  readonly repairRecords: Counter;
}

let created: StorageMetrics | undefined;

export function storageMetrics(): StorageMetrics {
  created ??= {
    appendBatches: new Counter({
      name: "sediment_storage_append_batches_total",
      help: "Batches acknowledged on AppendLog streams",
      registers: [registry],
    }),
    appendRecords: new Counter({
      name: "sediment_storage_append_records_total",
      help: "New records stored from AppendLog batches (resends not counted)",
      registers: [registry],
    }),
    appendBytes: new Counter({
      name: "sediment_storage_append_bytes_total",
      help: "Encoded record bytes received in AppendLog batches",
      registers: [registry],
    }),
    appendAckSeconds: new Histogram({
      name: "sediment_storage_append_ack_seconds",
      help: "A batch received on an AppendLog stream until its ack is written back",
      buckets: [0.0005, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.01, 0.05, 0.25],
      registers: [registry],
    }),
    syncedWriteSeconds: new Histogram({
      name: "sediment_storage_synced_write_seconds",
      help: "Latency of one synced LevelDB batch (group commit)",
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    getPageSeconds: new Histogram({
      name: "sediment_storage_get_page_seconds",
      help: "Latency of one GetPage request",
      buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.5],
      registers: [registry],
    }),
    materializerBacklog: new Gauge({
      name: "sediment_storage_materializer_backlog_pages",
      help: "Pages with at least K records since their last image",
      registers: [registry],
    }),
    scl: new Gauge({
      name: "sediment_storage_scl",
      help: "Segment complete LSN per hosted group",
      labelNames: ["group"] as const,
      registers: [registry],
    }),
    epoch: new Gauge({ name: "sediment_storage_epoch", help: "The node's volume epoch", registers: [registry] }),
    repairRecords: new Counter({
      name: "sediment_storage_repair_records_total",
      help: "Records copied from peers to fill gaps",
      registers: [registry],
    }),
  };
  return created;
}
