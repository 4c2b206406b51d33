import type { Lsn } from "../../services/common/lsn.js";
import type { LogService } from "../../services/compute/log/log-service.js";
import type { PageWorkload } from "./page-workload.js";

export interface DriveResult {
  readonly records: number;
  readonly mtrs: number;
  readonly seconds: number;
  /** Append-to-VDL latency of each MTR, milliseconds. */
  readonly latenciesMs: Float64Array;
}

/**
 * `writers` concurrent loops, each: wait for room, append one MTR
 * (synchronously, applying it to the local pages), wait until VDL covers it.
 * Stops after `recordsTarget` records or when `stop()` says so.
 */
export async function driveLog(
  log: LogService,
  workload: PageWorkload,
  options: { writers: number; recordsTarget: number; durationMs?: number; onMtr?: (lastLsn: Lsn) => void },
): Promise<DriveResult> {
  let records = 0;
  let mtrs = 0;
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = options.durationMs === undefined ? Number.POSITIVE_INFINITY : started + options.durationMs;
  const loop = async () => {
    while (records < options.recordsTarget && performance.now() < deadline) {
      await log.whenCanAppend();
      const drafts = workload.nextMtr();
      if (drafts.length === 0) continue;
      const t0 = performance.now();
      const appended = log.append(drafts);
      workload.apply(appended);
      records += appended.length;
      mtrs++;
      const last = appended[appended.length - 1]!.lsn;
      options.onMtr?.(last);
      await log.waitForVdl(last);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: options.writers }, loop));
  return { records, mtrs, seconds: (performance.now() - started) / 1000, latenciesMs: Float64Array.from(latencies) };
}

export function percentile(values: Float64Array, p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = values.slice().sort();
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
