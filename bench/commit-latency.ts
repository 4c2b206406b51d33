/**
 * bench/commit-latency.ts — single-client INSERT + COMMIT latency (p50, p99)
 * and commits/s over a fixed time, against the local cluster (3 storage
 * processes + compute, started here) and against a vanilla PostgreSQL 15
 * started in the same run (fsync on, synchronous_commit on).
 *
 *   npm run build && node dist/bench/commit-latency.js [--seconds 10]
 */
import pg from "pg";
import { percentile } from "../test/support/drive-log.js";
import { startLocalCluster } from "../test/support/local-cluster.js";
import { startVanillaPostgres } from "../test/support/vanilla-postgres.js";

const secondsArg = process.argv.indexOf("--seconds");
const seconds = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 10;

async function measure(url: string): Promise<Record<string, string | number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query("drop table if exists bench_commit");
  await client.query("create table bench_commit (id int4 not null, payload text)");
  for (let i = 0; i < 200; i++) await client.query(`insert into bench_commit values (${i}, 'warm')`);
  const latencies: number[] = [];
  const started = performance.now();
  let i = 0;
  while (performance.now() - started < seconds * 1000) {
    const t0 = performance.now();
    await client.query("begin");
    await client.query(`insert into bench_commit values (${i++}, 'payload ${i}')`);
    await client.query("commit");
    latencies.push(performance.now() - t0);
  }
  const elapsed = (performance.now() - started) / 1000;
  await client.end();
  const l = Float64Array.from(latencies);
  return {
    "commits/s": Math.round(latencies.length / elapsed),
    "p50 ms": percentile(l, 50).toFixed(3),
    "p99 ms": percentile(l, 99).toFixed(3),
    commits: latencies.length,
  };
}

const [cluster, vanilla] = await Promise.all([startLocalCluster({ compute: true }), startVanillaPostgres()]);
try {
  const sediment = await measure(cluster.url);
  const postgres = await measure(vanilla.url);
  console.table({ sediment, "postgresql 15 (single node)": postgres });
  console.log(JSON.stringify({ bench: "commit-latency", seconds, sediment, postgres }));
} finally {
  await Promise.all([cluster.stop(), vanilla.stop()]);
}
