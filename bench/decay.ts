/**
 * bench/decay.ts — does TPC-B throughput hold over a long run, and do the
 * hot tables stay small (issue 5's bar: the last `-P` interval's TPS at
 * least 0.8× the first's; pgbench_branches and pgbench_tellers under 100
 * pages after 10 minutes at scale 10)? Runs `pgbench -i -s <scale>`, then
 * `pgbench -c <clients> -j 2 -P <interval> -T <seconds>` against Sediment's
 * local cluster and against a vanilla PostgreSQL 15 in the same run, and
 * prints each one's first and last interval, their ratio, and the tables'
 * sizes in pages before and after.
 *
 *   npm run build && node dist/bench/decay.js [--scale 10] [--seconds 120] [--interval 5] [--clients 8]
 */
import pg from "pg";
import { TEST_PASSWORD, startLocalCluster } from "../test/support/local-cluster.js";
import { startVanillaPostgres } from "../test/support/vanilla-postgres.js";
import { type PgbenchTarget, option, pgbench } from "./pgbench-run.js";

const scale = option("scale", 10);
const seconds = option("seconds", 120);
const interval = option("interval", 5);
const clients = option("clients", 8);
const TABLES = ["pgbench_branches", "pgbench_tellers", "pgbench_accounts"] as const;

async function pages(target: PgbenchTarget): Promise<Record<string, number>> {
  const client = new pg.Client({
    host: "127.0.0.1",
    port: target.port,
    user: "postgres",
    password: target.password,
    database: "postgres",
  });
  await client.connect();
  try {
    const out: Record<string, number> = {};
    for (const table of TABLES) {
      const r = await client.query(`select pg_relation_size('${table}') as size`);
      out[table] = Number(r.rows[0].size) / 8192;
    }
    return out;
  } finally {
    await client.end();
  }
}

interface Run {
  readonly intervals: number[];
  readonly failed: number;
  readonly before: Record<string, number>;
  readonly after: Record<string, number>;
}

async function measure(target: PgbenchTarget): Promise<Run> {
  await pgbench(target, ["-i", "-s", String(scale), "-q"]);
  const before = await pages(target);
  const output = await pgbench(target, [
    "-c",
    String(clients),
    "-j",
    "2",
    "-P",
    String(interval),
    "-T",
    String(seconds),
  ]);
  const intervals = [...output.matchAll(/progress: [\d.]+ s, ([\d.]+) tps/g)].map((m) => Number(m[1]));
  const failed = /number of failed transactions: (\d+)/.exec(output);
  if (intervals.length < 2 || failed === null) throw new Error(`unexpected pgbench output:\n${output}`);
  return { intervals, failed: Number(failed[1]), before, after: await pages(target) };
}

const [cluster, vanilla] = await Promise.all([startLocalCluster({ compute: true }), startVanillaPostgres()]);
try {
  const ours = await measure({ port: cluster.computePort, password: TEST_PASSWORD });
  const theirs = await measure({ port: vanilla.port, password: "" });
  const row = (r: Run) => ({
    "first tps": r.intervals[0]!,
    "last tps": r.intervals.at(-1)!,
    "last/first": Number((r.intervals.at(-1)! / r.intervals[0]!).toFixed(2)),
    failed: r.failed,
    ...Object.fromEntries(TABLES.map((t) => [`${t.replace("pgbench_", "")} pages`, `${r.before[t]} → ${r.after[t]}`])),
  });
  console.table({ sediment: row(ours), postgresql: row(theirs) });
  console.log(JSON.stringify({ bench: "decay", scale, seconds, interval, clients, sediment: ours, postgres: theirs }));
} finally {
  await Promise.all([cluster.stop(), vanilla.stop()]);
}
