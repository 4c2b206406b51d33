import { readiness } from "../common/observe/health.js";
import { createLogger } from "../common/observe/log.js";
import { serveMetrics } from "../common/observe/metrics.js";
import { StorageServer } from "./server.js";

export interface StorageNodeOptions {
  readonly nodeId: number;
  readonly dataDir: string;
  readonly port: number;
  readonly host: string;
  readonly metricsPort: number;
}

/**
 * `sediment storage`: serves one data directory until SIGTERM/SIGINT, then
 * drains (StorageServer.stop), closes LevelDB and exits 0. The metrics port
 * opens first, so /livez answers while a large data directory loads; /readyz
 * says ready once the node serves and is complete for its groups.
 */
export async function runStorageNode(opts: StorageNodeOptions): Promise<void> {
  const log = createLogger("storage");
  readiness.set("serving", "starting: loading the data directory");
  const metrics = opts.metricsPort > 0 ? await serveMetrics(opts.metricsPort, opts.host) : undefined;
  const server = await StorageServer.start(opts, log);
  readiness.set("serving", undefined);
  readiness.watch("complete", () => server.notReadyReason());
  log.info(
    { port: server.port, node: opts.nodeId, dataDir: opts.dataDir, metricsPort: opts.metricsPort },
    "storage node listening",
  );
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ node: opts.nodeId, signal }, "storage node stopping");
    server.stop().then(
      () => {
        metrics?.close();
        log.info({ node: opts.nodeId }, "storage node stopped");
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err, node: opts.nodeId }, "storage node failed to stop cleanly");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}
