import type { Logger } from "../../common/observe/log.js";
import { computePlacement } from "../../common/placement.js";
import { StorageCluster, type StorageNodeAddress } from "../storage/cluster.js";
import { PageClient } from "../storage/page-client.js";
import { LogService } from "./log-service.js";
import type { LogWriterConfig } from "./log-writer.js";
import { type WriterChangeResult, changeWriter } from "./writer-change.js";

export interface VolumeOptions {
  readonly storage: readonly StorageNodeAddress[];
  readonly groupCount?: number;
  readonly replicaCount?: number;
  readonly writeQuorum?: number;
  readonly limits?: Partial<Omit<LogWriterConfig, "placement" | "epoch">>;
  /** How long to wait for the carried records to reach their quorum. */
  readonly readyTimeoutMs?: number;
}

export const DEFAULT_GROUP_COUNT = 16;

/** A writer's handle on the volume: the log to append to and the pages to read. */
export interface Volume {
  readonly cluster: StorageCluster;
  readonly log: LogService;
  readonly pages: PageClient;
  readonly change: WriterChangeResult;
  close(): void;
}

/**
 * Becomes the writer of the volume: runs the writer change (fence, read,
 * choose, truncate), starts the append streams, and returns once VDL has
 * reached the truncation point, i.e. once the volume may be served.
 */
export async function openVolume(options: VolumeOptions, logger: Logger): Promise<Volume> {
  const placement = computePlacement({
    nodes: options.storage.map((s) => s.node),
    groupCount: options.groupCount ?? DEFAULT_GROUP_COUNT,
    replicaCount: options.replicaCount ?? 3,
    writeQuorum: options.writeQuorum ?? 2,
  });
  const cluster = new StorageCluster(options.storage, placement);
  try {
    const change = await changeWriter(cluster, logger, options.limits);
    const log = new LogService(change.writer, cluster, change.plan.truncateLsn, logger);
    log.start();
    await withTimeout(log.waitForVdl(change.plan.truncateLsn), options.readyTimeoutMs ?? 10_000, "volume ready");
    const pages = new PageClient(cluster);
    return {
      cluster,
      log,
      pages,
      change,
      close() {
        log.close();
        pages.close();
        cluster.close();
      },
    };
  } catch (error) {
    cluster.close();
    throw error;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
