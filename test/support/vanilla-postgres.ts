import { execFileSync, spawn } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "./local-cluster.js";
import { findFreePort } from "./ports.js";

/**
 * A vanilla PostgreSQL started for one test or benchmark run, to compare
 * results and figures in the same run (BASELINES.md). Runs as the `postgres`
 * OS user when we are root (PostgreSQL refuses root). fsync and
 * synchronous_commit stay on, as in the baselines.
 */
export interface VanillaPostgres {
  readonly port: number;
  readonly url: string;
  /**
   * Crash and restart: an immediate shutdown (no checkpoint, like kill -9 of
   * the server), then a start on the same data directory. Resolves with the
   * milliseconds from the start until it accepts connections again, which is
   * its WAL replay.
   */
  crashAndRestart(): Promise<number>;
  stop(): Promise<void>;
}

export function postgresBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(root, versions[0]!, "bin") : undefined;
}

function asPostgresUser(command: string, args: readonly string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [command, [...args]];
  return ["runuser", ["-u", "postgres", "--", command, ...args]];
}

export async function startVanillaPostgres(settings: Record<string, string> = {}): Promise<VanillaPostgres> {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error("PostgreSQL is not installed (apt-get install postgresql)");
  const dir = mkdtempSync(join(tmpdir(), "sediment-pg-"));
  const data = join(dir, "data");
  if (process.getuid?.() === 0) chownSync(dir, uid("postgres"), gid("postgres"));
  const [initCmd, initArgs] = asPostgresUser(join(bin, "initdb"), [
    "-D",
    data,
    "-U",
    "postgres",
    "--auth=trust",
    "-E",
    "UTF8",
    "--locale=C",
  ]);
  execFileSync(initCmd, initArgs, { stdio: "ignore" });
  const port = await findFreePort();
  const options = { shared_buffers: "128MB", fsync: "on", synchronous_commit: "on", ...settings };
  const args = ["-D", data, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1"];
  for (const [k, v] of Object.entries(options)) args.push("-c", `${k}=${v}`);
  const [cmd, cmdArgs] = asPostgresUser(join(bin, "postgres"), args);
  let child = spawn(cmd, cmdArgs, { stdio: "ignore" });
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const ready = (intervalMs: number) =>
    waitFor(
      () => {
        try {
          execFileSync(join(bin, "pg_isready"), ["-h", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
          return true;
        } catch {
          return false;
        }
      },
      300_000,
      "vanilla PostgreSQL to accept connections",
      intervalMs,
    );
  await ready(100);
  return {
    port,
    url,
    async crashAndRestart() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      const [stopCmd, stopArgs] = asPostgresUser(join(bin, "pg_ctl"), ["stop", "-D", data, "-m", "immediate", "-w"]);
      execFileSync(stopCmd, stopArgs, { stdio: "ignore" });
      await exited;
      const started = performance.now();
      child = spawn(cmd, cmdArgs, { stdio: "ignore" });
      await ready(10);
      return performance.now() - started;
    },
    async stop() {
      // runuser does not pass signals on: ask pg_ctl for a fast shutdown.
      const exited = new Promise((resolve) => child.once("exit", resolve));
      const [stopCmd, stopArgs] = asPostgresUser(join(bin, "pg_ctl"), ["stop", "-D", data, "-m", "fast", "-w"]);
      try {
        execFileSync(stopCmd, stopArgs, { stdio: "ignore" });
      } catch {
        child.kill("SIGKILL");
      }
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function uid(user: string): number {
  return Number(execFileSync("id", ["-u", user]).toString().trim());
}

function gid(user: string): number {
  return Number(execFileSync("id", ["-g", user]).toString().trim());
}
