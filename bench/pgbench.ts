/**
 * bench/pgbench.ts — PostgreSQL's pgbench, unmodified, against Sediment's
 * local cluster (3 storage processes + compute, started here) and against a
 * vanilla PostgreSQL 15 started in the same run (fsync on, synchronous_commit
 * on, single node): `-i -s <scale>`, then TPC-B with `-M simple` and
 * `-M prepared`, and select-only `-S`, each `-c <clients> -j 2 -T <seconds>`.
 * Prints TPS and mean/p99 latency side by side with the ratios.
 *
 *   npm run build && node dist/bench/pgbench.js [--scale 10] [--seconds 30] [--clients 8]
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { percentile } from "../test/support/drive-log.js";
import { TEST_PASSWORD, startLocalCluster } from "../test/support/local-cluster.js";
import { startVanillaPostgres } from "../test/support/vanilla-postgres.js";
import { type PgbenchTarget as Target, option, pgbench } from "./pgbench-run.js";

const scale = option("scale", 10);
const seconds = option("seconds", 30);
const clients = option("clients", 8);

interface Result {
  tps: number;
  "mean ms": number;
  "p99 ms": number;
  failed: number;
}

/** One timed run; latencies from pgbench's per-transaction log (-l), in microseconds. */
async function measure(target: Target, args: readonly string[]): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), "sediment-pgbench-"));
  try {
    const output = await pgbench(target, [
      ...args,
      "-c",
      String(clients),
      "-j",
      "2",
      "-T",
      String(seconds),
      "-l",
      "--log-prefix",
      join(dir, "log"),
    ]);
    const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(output);
    const failed = /number of failed transactions: (\d+)/.exec(output);
    if (tps === null || failed === null) throw new Error(`unexpected pgbench output:\n${output}`);
    const latencies: number[] = [];
    for (const file of readdirSync(dir)) {
      for (const line of readFileSync(join(dir, file), "utf8").split("\n")) {
        const fields = line.split(" ");
        if (fields.length >= 3) latencies.push(Number(fields[2]) / 1000);
      }
    }
    const l = Float64Array.from(latencies);
    const mean = latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length);
    return {
      tps: Math.round(Number(tps[1])),
      "mean ms": Number(mean.toFixed(2)),
      "p99 ms": Number(percentile(l, 99).toFixed(2)),
      failed: Number(failed[1]),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function initialize(target: Target): Promise<number> {
  const started = performance.now();
  await pgbench(target, ["-i", "-s", String(scale), "-q"]);
  return Math.round((performance.now() - started) / 100) / 10;
}

const [cluster, vanilla] = await Promise.all([startLocalCluster({ compute: true }), startVanillaPostgres()]);
try {
  const sediment: Target = { port: cluster.computePort, password: TEST_PASSWORD };
  const postgres: Target = { port: vanilla.port, password: "" };
  const rows: Record<string, Record<string, number | string>> = {};
  const init = { sediment: await initialize(sediment), postgres: await initialize(postgres) };
  rows[`-i -s ${scale} (s)`] = {
    sediment: init.sediment,
    postgresql: init.postgres,
    ratio: ratio(init.postgres, init.sediment),
  };
  const modes: [string, string[]][] = [
    ["TPC-B simple", ["-M", "simple"]],
    ["TPC-B prepared", ["-M", "prepared"]],
    ["-S prepared", ["-S", "-M", "prepared"]],
  ];
  const json: Record<string, unknown> = { bench: "pgbench", scale, seconds, clients, init };
  for (const [name, args] of modes) {
    const ours = await measure(sediment, args);
    const theirs = await measure(postgres, args);
    json[name] = { sediment: ours, postgres: theirs };
    rows[`${name} tps`] = { sediment: ours.tps, postgresql: theirs.tps, ratio: ratio(ours.tps, theirs.tps) };
    rows[`${name} mean ms`] = { sediment: ours["mean ms"], postgresql: theirs["mean ms"], ratio: "" };
    rows[`${name} p99 ms`] = { sediment: ours["p99 ms"], postgresql: theirs["p99 ms"], ratio: "" };
    rows[`${name} failed`] = { sediment: ours.failed, postgresql: theirs.failed, ratio: "" };
  }
  console.table(rows);
  console.log(JSON.stringify(json));
} finally {
  await Promise.all([cluster.stop(), vanilla.stop()]);
}

/** ours / theirs, two decimals (for times, pass them swapped: higher is better). */
function ratio(ours: number, theirs: number): string {
  return theirs === 0 ? "" : `${(ours / theirs).toFixed(2)}×`;
}
