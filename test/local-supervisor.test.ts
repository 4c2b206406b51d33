import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../services/common/observe/log.js";
import { isAlive } from "../services/local/pid-files.js";
import { sleep, startLocalCluster } from "../services/local/supervisor.js";

/**
 * `sediment local` as a user runs it: the built CLI in its own session, no
 * stdin, no TTY. Needs `npm run build` (dist/) first, like `npm test` does.
 */
const CLI = fileURLToPath(new URL("../dist/services/cli.js", import.meta.url));
const STORAGE = ["storage-0", "storage-1", "storage-2"];

interface Supervisor {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

function startSupervisor(dataDir: string, port: number): Supervisor {
  const child = spawn(process.execPath, [CLI, "local", "--data-dir", dataDir, "--port", String(port)], {
    detached: true, // setsid: its own session and process group, no controlling terminal
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

function readPid(dataDir: string, role: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, `${role}.pid`), "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function livePid(dataDir: string, role: string, not?: number): number | undefined {
  const pid = readPid(dataDir, role);
  return pid !== undefined && pid !== not && isAlive(pid) ? pid : undefined;
}

function canConnect(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(undefined));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

interface ClusterJson {
  storage: { nodeId: number; port: number; metricsPort: number }[];
}

function readCluster(dataDir: string): ClusterJson | undefined {
  const path = join(dataDir, "cluster.json");
  return existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as ClusterJson) : undefined;
}

/** Waits for the 3 pid files (live processes) and the 3 gRPC ports; returns the pids. */
async function waitServing(dataDir: string, sup: Supervisor): Promise<number[]> {
  const cluster = await waitFor("cluster.json", 10_000, () => readCluster(dataDir));
  try {
    const pids = await Promise.all(STORAGE.map((r) => waitFor(`${r}.pid`, 10_000, () => livePid(dataDir, r))));
    for (const node of cluster.storage) await waitFor(`port ${node.port}`, 10_000, () => canConnect(node.port));
    return pids;
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- supervisor output ---\n${sup.output()}`);
  }
}

async function stopSupervisor(sup: Supervisor): Promise<number | null> {
  sup.child.kill("SIGTERM");
  return Promise.race([sup.exited, sleep(10_000).then(() => -1)]);
}

describe("sediment local", () => {
  let dataDir = "";
  const started: Supervisor[] = [];

  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} missing: run \`npm run build\` first`);
    dataDir = mkdtempSync(join(tmpdir(), "sediment-local-"));
  });

  afterAll(async () => {
    for (const sup of started) if (sup.child.exitCode === null) await stopSupervisor(sup);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("supervises 3 storage nodes, restarts a killed one, stops cleanly, and reuses its ports", async () => {
    const port = await freePort();
    const sup = startSupervisor(dataDir, port);
    started.push(sup);
    const pids = await waitServing(dataDir, sup);

    // Each pid file names the serving node process itself, not a wrapper.
    for (const [i, pid] of pids.entries()) {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      expect(argv[0]).toBe(process.execPath);
      expect(argv).toContain("storage");
      expect(argv).toContain(join(dataDir, `storage-${i}`));
    }
    // Only the roles' pid files (compute.pid too once compute is built), never the supervisor's.
    const pidFiles = readdirSync(dataDir).filter((f) => f.endsWith(".pid") && f !== "compute.pid");
    expect(pidFiles.sort()).toEqual(STORAGE.map((r) => `${r}.pid`));
    expect(sup.output()).toContain("storage-2");
    expect(sup.output()).toContain(dataDir);
    const cluster = readCluster(dataDir)!;

    // One supervisor per data dir.
    const second = spawnSync(process.execPath, [CLI, "local", "--data-dir", dataDir, "--port", "0"], {
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 15_000,
    });
    expect(second.status).toBe(1);
    expect(second.stderr.toString()).toContain("another supervisor");

    // kill -9: restarted at once, under a new pid, serving on the same port.
    const killedAt = Date.now();
    process.kill(pids[1]!, "SIGKILL");
    const restarted = await waitFor("storage-1 restart", 2_500, () => livePid(dataDir, "storage-1", pids[1]));
    expect(restarted).not.toBe(pids[1]);
    await waitFor("storage-1 port again", 5_000, () => canConnect(cluster.storage[1]!.port));
    expect(Date.now() - killedAt).toBeLessThan(7_000);
    expect(sup.output()).toMatch(/storage-1 \(pid \d+\) killed by SIGKILL/);
    expect(existsSync(join(dataDir, "logs", "storage-1.log"))).toBe(true);

    // SIGTERM: every child stops, the supervisor exits 0, pid files go, data stays.
    const children = [pids[0]!, restarted, pids[2]!];
    expect(await stopSupervisor(sup)).toBe(0);
    for (const pid of children) expect(isAlive(pid)).toBe(false);
    expect(readdirSync(dataDir).filter((f) => f.endsWith(".pid"))).toEqual([]);
    expect(existsSync(join(dataDir, "storage-0"))).toBe(true);

    // Same data dir again: same ports, same data directories.
    const again = startSupervisor(dataDir, port);
    started.push(again);
    const pids2 = await waitServing(dataDir, again);
    expect(readCluster(dataDir)).toEqual(cluster);
    for (const [i, pid] of pids2.entries()) {
      expect(readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")).toContain(String(cluster.storage[i]!.port));
    }
    expect(await stopSupervisor(again)).toBe(0);
    for (const pid of pids2) expect(isAlive(pid)).toBe(false);
  }, 40_000);

  it("runs in-process too: startLocalCluster() gives ports, pids and stop()", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sediment-local-inproc-"));
    const log = createLogger("local-test");
    log.level = "silent";
    const cluster = await startLocalCluster({ dataDir: dir, port: 0, log, compute: false });
    try {
      expect(await cluster.waitReady(15_000)).toBe(true);
      expect(cluster.storage.map((n) => n.port)).toEqual(readCluster(dir)!.storage.map((n) => n.port));
      for (const role of STORAGE) expect(readPid(dir, role)).toBe(cluster.pid(role));
      expect(cluster.roles.find((r) => r.kind === "compute")?.unavailable).toContain("--no-compute");
      expect(existsSync(join(dir, "compute.pid"))).toBe(false);
    } finally {
      await cluster.stop();
    }
    expect(readdirSync(dir).filter((f) => f.endsWith(".pid") || f === "supervisor.json")).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);
});
