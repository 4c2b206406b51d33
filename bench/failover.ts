/**
 * bench/failover.ts — writer failover of `sediment local --computes 2`: a
 * TPC-B load (`pgbench -c 4 -j 2`) runs while the writer is killed with
 * kill -9; the time runs from the kill to the first successful query on the
 * read-write port (served by the standby, which bound the lock port, fenced,
 * recovered, then listened). pgbench itself stops at the kill (it does not
 * reconnect); the killed compute comes back as the standby for the next round.
 *
 *   npm run build && node dist/bench/failover.js [--rounds 5] [--load-seconds 3]
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readLockHolder } from "../services/local/writer-lock.js";
import { TEST_PASSWORD, sleep, startLocalCluster, waitFor } from "../test/support/local-cluster.js";
import { firstServed } from "./pgbench-run.js";

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

const rounds = option("rounds", 5);
const loadSeconds = option("load-seconds", 3);

function pgbench(port: number, args: readonly string[]): Promise<void> {
  return new Promise((resolve) => {
    execFile(
      "pgbench",
      ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", ...args, "postgres"],
      { env: { ...process.env, PGPASSWORD: TEST_PASSWORD }, maxBuffer: 64 * 1024 * 1024 },
      () => resolve(), // a load cut by the kill exits non-zero: expected
    );
  });
}

const cluster = await startLocalCluster({ compute: true, computes: 2 });
try {
  const lockPort = JSON.parse(readFileSync(join(cluster.dataDir, "cluster.json"), "utf8")).compute.lockPort as number;
  const serving = async () => {
    let pid = 0;
    await waitFor(
      async () => {
        const holder = await readLockHolder("127.0.0.1", lockPort);
        pid = holder?.state === "serving" ? holder.pid : 0;
        return pid !== 0;
      },
      60_000,
      "a serving writer",
    );
    return pid;
  };
  await serving();
  await pgbench(cluster.computePort, ["-i", "-s", "1", "-q"]);
  const failoverMs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const writerPid = await serving();
    const standby = ["compute-0", "compute-1"].find((n) => cluster.pidOf(n) !== writerPid)!;
    await waitFor(() => cluster.pidOf(standby) > 0, 30_000, "a standby");
    await sleep(2_000); // the standby (restarted last round) is up and polling the lock
    const load = pgbench(cluster.computePort, ["-n", "-c", "4", "-j", "2", "-T", String(loadSeconds * 2)]);
    await sleep(loadSeconds * 1000);
    const killedAt = performance.now();
    process.kill(writerPid, "SIGKILL");
    failoverMs.push(Math.round((await firstServed(cluster.url)) - killedAt));
    await load;
    console.log(`round ${round + 1}: ${failoverMs[round]} ms from kill -9 of the writer to the first query`);
  }
  const sorted = [...failoverMs].sort((a, b) => a - b);
  console.table({
    "kill -9 → first query (ms)": {
      min: sorted[0],
      median: sorted[Math.floor(sorted.length / 2)],
      max: sorted[sorted.length - 1],
    },
  });
  console.log(JSON.stringify({ bench: "failover", rounds, loadSeconds, failoverMs }));
} finally {
  await cluster.stop();
}
