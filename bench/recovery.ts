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
import { TEST_PASSWORD, startLocalCluster } from "../test/support/local-cluster.js";
import { startVanillaPostgres } from "../test/support/vanilla-postgres.js";
import { firstServed, option, pgbench } from "./pgbench-run.js";

const seconds = option("seconds", 20);
const rounds = option("rounds", 3);

const [cluster, vanilla] = await Promise.all([
  startLocalCluster({ compute: true }),
  startVanillaPostgres({ checkpoint_timeout: "3600", max_wal_size: "20GB" }),
]);
try {
  const sedimentMs: number[] = [];
  const postgresMs: number[] = [];
  await pgbench({ port: cluster.computePort, password: TEST_PASSWORD }, ["-i", "-s", "1", "-q"]);
  await pgbench({ port: vanilla.port, password: "" }, ["-i", "-s", "1", "-q"]);
  for (let round = 0; round < rounds; round++) {
    await pgbench({ port: cluster.computePort, password: TEST_PASSWORD }, [
      "-n",
      "-c",
      "8",
      "-j",
      "2",
      "-T",
      String(seconds),
    ]);
    const oldPid = cluster.pidOf("compute");
    const killedAt = performance.now();
    cluster.kill9("compute");
    await cluster.waitRestarted("compute", oldPid, 60_000);
    sedimentMs.push(Math.round((await firstServed(cluster.url)) - killedAt));

    await pgbench({ port: vanilla.port, password: "" }, ["-n", "-c", "8", "-j", "2", "-T", String(seconds)]);
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
