import { execFile } from "node:child_process";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCluster, TEST_PASSWORD, startLocalCluster } from "./support/local-cluster.js";

/**
 * PostgreSQL's own pgbench, unmodified, against the compute: initialization
 * (DROP, CREATE, TRUNCATE, COPY … FREEZE, VACUUM, ALTER TABLE … ADD PRIMARY
 * KEY), then short TPC-B runs in each query mode with 0 failed transactions,
 * and the invariant TPC-B keeps: every balance sum equals the history's.
 */
const run = promisify(execFile);
let cluster: LocalCluster;

beforeAll(async () => {
  cluster = await startLocalCluster({ compute: true });
});
afterAll(async () => {
  await cluster?.stop();
});

async function pgbench(args: readonly string[]): Promise<string> {
  const { stdout, stderr } = await run(
    "pgbench",
    ["-h", "127.0.0.1", "-p", String(cluster.computePort), "-U", "postgres", ...args, "postgres"],
    { env: { ...process.env, PGPASSWORD: TEST_PASSWORD }, maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout + stderr;
}

function processed(output: string): { done: number; failed: number } {
  const done = /number of transactions actually processed: (\d+)/.exec(output);
  const failed = /number of failed transactions: (\d+)/.exec(output);
  if (done === null || failed === null) throw new Error(`unexpected pgbench output:\n${output}`);
  return { done: Number(done[1]), failed: Number(failed[1]) };
}

async function sums(): Promise<string[]> {
  const client = new pg.Client({ connectionString: cluster.url });
  await client.connect();
  try {
    const out: string[] = [];
    for (const [column, table] of [
      ["abalance", "accounts"],
      ["tbalance", "tellers"],
      ["bbalance", "branches"],
      ["delta", "history"],
    ]) {
      const r = await client.query(`select sum(${column}) as s from pgbench_${table}`);
      out.push((r.rows[0] as { s: string | null }).s ?? "0");
    }
    return out;
  } finally {
    await client.end();
  }
}

describe("pgbench, unmodified", () => {
  it("initializes scale 1: 100,000 accounts with a primary key", { timeout: 300_000 }, async () => {
    const output = await pgbench(["-i", "-s", "1"]);
    expect(output).toContain("done in");
    const client = new pg.Client({ connectionString: cluster.url });
    await client.connect();
    const counts = await client.query(
      "select (select count(*) from pgbench_accounts) as a, (select count(*) from pgbench_branches) as b",
    );
    expect(counts.rows).toEqual([{ a: "100000", b: "1" }]);
    await client.end();
  });

  for (const mode of ["simple", "extended", "prepared"]) {
    it(`TPC-B -M ${mode} -c 4: no failed transactions, balances add up`, { timeout: 120_000 }, async () => {
      // Each run starts by truncating pgbench_history: the balances grow by its deltas.
      const [before] = await sums();
      const output = await pgbench(["-M", mode, "-c", "4", "-j", "2", "-T", "5"]);
      const { done, failed } = processed(output);
      expect(failed).toBe(0);
      expect(done).toBeGreaterThan(0);
      const [a, t, b, h] = await sums();
      expect({ t, b }).toEqual({ t: a, b: a });
      expect(BigInt(a!) - BigInt(before!)).toBe(BigInt(h!));
    });
  }

  it("HOT updates and prune on access keep pgbench_branches and pgbench_tellers at one page, with no VACUUM", {
    timeout: 120_000,
  }, async () => {
    // -n: no VACUUM before the run. 800 transactions each add a version to the one branch row
    // (about 40 bytes): without HOT chains pruned on access, the branch table would need 4 pages.
    const { done, failed } = processed(await pgbench(["-n", "-c", "4", "-j", "2", "-t", "200"]));
    expect({ done, failed }).toEqual({ done: 800, failed: 0 });
    const client = new pg.Client({ connectionString: cluster.url });
    await client.connect();
    const size = async (table: string) =>
      (await client.query(`select pg_relation_size('${table}') as size`)).rows[0].size as string;
    expect({ b: await size("pgbench_branches"), t: await size("pgbench_tellers") }).toEqual({ b: "8192", t: "8192" });
    await client.end();
  });

  it("select-only (-S) runs with no failures", { timeout: 120_000 }, async () => {
    const { done, failed } = processed(await pgbench(["-S", "-c", "4", "-j", "2", "-T", "3"]));
    expect(failed).toBe(0);
    expect(done).toBeGreaterThan(0);
  });
});
