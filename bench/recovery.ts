/**
 * bench/recovery.ts — crash recovery time after a write load, Sediment vs a
 * vanilla PostgreSQL 15 started in the same run (checkpoints held off, so its
 * recovery replays all the WAL of the load, as in BASELINES.md).
 *
 * Both get `pgbench -i -s 1`, then `pgbench -c 8 -j 2 -T <seconds>` TPC-B.
 * Sediment: kill -9 of the compute; the supervisor restarts it at once; the
 * time runs from the kill to the first successful query. PostgreSQL: an
 * immediate shutdown (no checkpoint), then a start on the same data; the
 * time runs from the start to accepting connections (replay included).
 * Several rounds, each after its own write load.
 *
 *   npm run build && node dist/bench/recovery.js [--seconds 20] [--rounds 3]
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import pg from "pg";
import { TEST_PASSWORD, sleep, startLocalCluster } from "../test/support/local-cluster.js";
import { startVanillaPostgres } from "../test/support/vanilla-postgres.js";

const run = promisify(execFile);

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

const seconds = option("seconds", 20);
const rounds = option("rounds", 3);

async function pgbench(port: number, password: string, args: readonly string[]): Promise<string> {
  const { stdout, stderr } = await run(
    "pgbench",
    ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", ...args, "postgres"],
    { env: { ...process.env, PGPASSWORD: password }, maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout + stderr;
}

/** Polls until a query over the pgbench tables succeeds; the time of the first success. */
async function firstServed(url: string, deadlineMs = 120_000): Promise<number> {
  const end = performance.now() + deadlineMs;
  while (performance.now() < end) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    try {
      await client.connect();
      await client.query("select count(*) from pgbench_branches");
      return performance.now();
    } catch {
      await sleep(5);
    } finally {
      await client.end().catch(() => {});
    }
  }
  throw new Error("not serving after the crash");
}

const [cluster, vanilla] = await Promise.all([
  startLocalCluster({ compute: true }),
  startVanillaPostgres({ checkpoint_timeout: "3600", max_wal_size: "20GB" }),
]);
try {
  const sedimentMs: number[] = [];
  const postgresMs: number[] = [];
  await pgbench(cluster.computePort, TEST_PASSWORD, ["-i", "-s", "1", "-q"]);
  await pgbench(vanilla.port, "", ["-i", "-s", "1", "-q"]);
  for (let round = 0; round < rounds; round++) {
    await pgbench(cluster.computePort, TEST_PASSWORD, ["-n", "-c", "8", "-j", "2", "-T", String(seconds)]);
    const oldPid = cluster.pidOf("compute");
    const killedAt = performance.now();
    cluster.kill9("compute");
    await cluster.waitRestarted("compute", oldPid, 60_000);
    sedimentMs.push(Math.round((await firstServed(cluster.url)) - killedAt));

    await pgbench(vanilla.port, "", ["-n", "-c", "8", "-j", "2", "-T", String(seconds)]);
    const replayMs = await vanilla.crashAndRestart();
    const readyAt = performance.now();
    const servedAt = await firstServed(vanilla.url);
    postgresMs.push(Math.round(replayMs + (servedAt - readyAt)));
    console.log(`round ${round + 1}: sediment ${sedimentMs[round]} ms, postgresql ${postgresMs[round]} ms`);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.table({
    "kill → serving (ms)": { sediment: median(sedimentMs), "postgresql 15": median(postgresMs) },
  });
  console.log(JSON.stringify({ bench: "recovery", seconds, rounds, sedimentMs, postgresMs }));
} finally {
  await Promise.all([cluster.stop(), vanilla.stop()]);
}
