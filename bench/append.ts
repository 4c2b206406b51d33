/**
 * bench/append.ts — records/s and append-to-VDL latency of the log writer
 * against a local cluster of 3 storage processes (started here by the real
 * supervisor on a fresh data dir), with 1 and 16 writers in flight.
 *
 *   npm run build && node dist/bench/append.js [--seconds 10]
 */
import { createLogger } from "../services/common/observe/log.js";
import { openVolume } from "../services/compute/log/open-log.js";
import { driveLog, percentile } from "../test/support/drive-log.js";
import { startLocalCluster } from "../test/support/local-cluster.js";
import { PageWorkload } from "../test/support/page-workload.js";

const secondsArg = process.argv.indexOf("--seconds");
const seconds = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 10;
const logger = createLogger("bench");
logger.level = "warn";

const cluster = await startLocalCluster();
try {
  const volume = await openVolume({ storage: cluster.storage }, logger);
  const workload = new PageWorkload(32, 42);
  // Warm up: connections, JIT, first pages.
  await driveLog(volume.log, workload, { writers: 4, recordsTarget: 5_000 });
  const rows: Record<string, string | number>[] = [];
  for (const writers of [1, 16]) {
    const result = await driveLog(volume.log, workload, {
      writers,
      recordsTarget: Number.MAX_SAFE_INTEGER,
      durationMs: seconds * 1000,
    });
    rows.push({
      writers,
      "records/s": Math.round(result.records / result.seconds),
      "MTRs/s": Math.round(result.mtrs / result.seconds),
      "p50 ms": percentile(result.latenciesMs, 50).toFixed(3),
      "p99 ms": percentile(result.latenciesMs, 99).toFixed(3),
      records: result.records,
    });
  }
  console.table(rows);
  console.log(JSON.stringify({ bench: "append", seconds, rows }));
  volume.close();
} finally {
  await cluster.stop();
}
