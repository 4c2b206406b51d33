import { execFile } from "node:child_process";
import { promisify } from "node:util";
import pg from "pg";
import { sleep } from "../test/support/local-cluster.js";

const run = promisify(execFile);

/** A PostgreSQL endpoint pgbench connects to as `postgres` over loopback. */
export interface PgbenchTarget {
  readonly port: number;
  readonly password: string;
}

/** Runs PostgreSQL's pgbench against `target`; stdout and stderr together (pgbench reports on both). */
export async function pgbench(target: PgbenchTarget, args: readonly string[]): Promise<string> {
  const { stdout, stderr } = await run(
    "pgbench",
    ["-h", "127.0.0.1", "-p", String(target.port), "-U", "postgres", ...args, "postgres"],
    { env: { ...process.env, PGPASSWORD: target.password }, maxBuffer: 256 * 1024 * 1024 },
  );
  return stdout + stderr;
}

/** A numeric option `--name value` of the bench's command line. */
export function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

/**
 * Polls `url` until a query over the pgbench tables succeeds (a crashed or
 * failed-over server serves again); the time of the first success.
 */
export async function firstServed(url: string, deadlineMs = 120_000): Promise<number> {
  const end = performance.now() + deadlineMs;
  while (performance.now() < end) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    client.on("error", () => {});
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
  throw new Error(`${url}: not serving after ${deadlineMs} ms`);
}
