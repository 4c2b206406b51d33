import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type NodeId, nodeId } from "../../services/common/ids.js";
import type { StorageNodeAddress } from "../../services/compute/storage/cluster.js";
import { isAlive } from "../../services/local/pid-files.js";
import { canConnect, sleep } from "../../services/local/supervisor.js";
import { findFreePort } from "./ports.js";

export { isAlive, sleep };

/** The built CLI (tests and benchmarks run real processes from dist/). */
export const CLI = fileURLToPath(
  new URL("../../dist/services/cli.js", import.meta.url).href.replace("/dist/dist/", "/dist/"),
);

/** The compute's password in tests (SEDIMENT_PASSWORD of the supervisor). */
export const TEST_PASSWORD = "sediment-test";

export interface LocalCluster {
  readonly dataDir: string;
  readonly storage: readonly StorageNodeAddress[];
  /** 0 without compute. */
  readonly computePort: number;
  /** postgres:// URL of the compute. */
  readonly url: string;
  pidOf(name: string): number;
  /** kill -9 of one server process; returns its pid. */
  kill9(name: string): number;
  /** Waits until `<name>.pid` names a live process other than `oldPid`. */
  waitRestarted(name: string, oldPid: number, timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

/** Runs `sediment local` as a user would (no TTY, no stdin) on a fresh data dir. */
export async function startLocalCluster(
  options: { dataDir?: string; keep?: boolean; compute?: boolean; computes?: number } = {},
): Promise<LocalCluster> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "sediment-test-"));
  // Without compute, the caller is the volume's writer itself.
  const computePort = options.compute ? await findFreePort() : 0;
  const args = [CLI, "local", "--data-dir", dataDir, "--port", String(computePort)];
  if (!options.compute) args.push("--no-compute");
  if (options.computes !== undefined) args.push("--computes", String(options.computes));
  const supervisor: ChildProcess = spawn(process.execPath, args, {
    stdio: ["ignore", "ignore", "inherit"],
    env: {
      ...process.env,
      SEDIMENT_LOG_LEVEL: process.env.SEDIMENT_LOG_LEVEL ?? "warn",
      SEDIMENT_PASSWORD: TEST_PASSWORD,
    },
  });
  const clusterFile = join(dataDir, "cluster.json");
  await waitFor(() => existsSync(clusterFile), 15_000, "cluster.json");
  const file = JSON.parse(readFileSync(clusterFile, "utf8")) as {
    host: string;
    storage: { nodeId: number; port: number }[];
  };
  const storage = file.storage.map((s) => ({ node: nodeId(s.nodeId) as NodeId, address: `${file.host}:${s.port}` }));
  for (const s of file.storage) await waitFor(() => canConnect(file.host, s.port), 15_000, `storage-${s.nodeId} port`);
  if (options.compute) await waitFor(() => canConnect(file.host, computePort), 30_000, "compute port");
  const pidOf = (name: string) => Number(readFileSync(join(dataDir, `${name}.pid`), "utf8").trim());
  return {
    dataDir,
    storage,
    computePort,
    url: `postgres://postgres:${TEST_PASSWORD}@${file.host}:${computePort}/postgres`,
    pidOf,
    kill9(name) {
      const pid = pidOf(name);
      process.kill(pid, "SIGKILL");
      return pid;
    },
    async waitRestarted(name, oldPid, timeoutMs = 10_000) {
      let pid = oldPid;
      await waitFor(
        () => {
          try {
            pid = pidOf(name);
            return pid !== oldPid && isAlive(pid);
          } catch {
            return false;
          }
        },
        timeoutMs,
        `${name} restart`,
      );
      return pid;
    },
    async stop() {
      if (supervisor.exitCode === null) {
        const exited = new Promise((resolve) => supervisor.once("exit", resolve));
        supervisor.kill("SIGTERM");
        await Promise.race([exited, sleep(10_000)]);
        if (supervisor.exitCode === null) supervisor.kill("SIGKILL");
      }
      if (options.keep !== true && process.env.SEDIMENT_TEST_KEEP === undefined && options.dataDir === undefined)
        rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  intervalMs = 25,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}
