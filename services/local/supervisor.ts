import { existsSync, mkdirSync } from "node:fs";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Logger, createLogger } from "../common/observe/log.js";
import { type BackoffPolicy, DEFAULT_BACKOFF } from "./backoff.js";
import {
  type ClusterFile,
  ensureComputePorts,
  findFreePorts,
  loadOrCreateClusterFile,
  loadOrCreatePassword,
} from "./cluster-file.js";
import {
  isAlive,
  isProcessRunning,
  liveSupervisor,
  pidFilePath,
  readPidFile,
  removePidFile,
  removeSupervisorFile,
  writeSupervisorFile,
} from "./pid-files.js";
import { type Role, localRoles } from "./roles.js";
import { SupervisedProcess } from "./supervised-process.js";

export const DEFAULT_DATA_DIR = "./.sediment";
export const DEFAULT_COMPUTE_PORT = 55432;
export const LOCAL_HOST = "127.0.0.1";

export interface LocalClusterOptions {
  readonly dataDir?: string;
  /** The compute's PostgreSQL port. */
  readonly port?: number;
  /** `dist/services/cli.js`; found next to this module (or under dist/ when run from source) by default. */
  readonly cliPath?: string;
  readonly log?: Logger;
  readonly say?: (line: string) => void;
  readonly backoff?: BackoffPolicy;
  /** How long a child gets between SIGTERM and SIGKILL. */
  readonly stopGraceMs?: number;
  /** Run the compute role when it is built (default true); false for a caller that is the writer itself. */
  readonly compute?: boolean;
  /** Compute processes (default 1); more run as hot standbys (services/local/roles.ts). */
  readonly computes?: number;
}

export interface LocalCluster {
  readonly dataDir: string;
  readonly cluster: ClusterFile;
  readonly computePort: number;
  /** The storage nodes' gRPC addresses (`host:port`) and metrics ports, by node id. */
  readonly storage: readonly { nodeId: number; address: string; port: number; metricsPort: number }[];
  /** Every role, including those that cannot run (`unavailable`). */
  readonly roles: readonly Role[];
  /** Where the compute's password is (`<data-dir>/password`), or undefined when it came from SEDIMENT_PASSWORD. */
  readonly passwordFile: string | undefined;
  pid(role: string): number | undefined;
  restarts(role: string): number;
  /** Resolves true once every running role accepts TCP connections, false after `timeoutMs`. */
  waitReady(timeoutMs: number): Promise<boolean>;
  /** SIGTERM every child (compute first), SIGKILL after the grace period; removes the pid files. Idempotent. */
  stop(): Promise<void>;
  /** Signals every child now without waiting: SIGKILL by default (a second Ctrl-C). */
  kill(signal?: NodeJS.Signals): void;
}

export function defaultCliPath(): string {
  const candidates = [
    new URL("../cli.js", import.meta.url),
    new URL("../../dist/services/cli.js", import.meta.url),
  ].map((u) => fileURLToPath(u));
  return candidates.find((p) => existsSync(p)) ?? candidates[0]!;
}

/**
 * Starts the local cluster on `dataDir`: picks (or reuses) its ports, stops
 * children a crashed supervisor left behind, and spawns every runnable role.
 * Throws when another supervisor runs on the same data directory.
 */
export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const dataDir = resolve(options.dataDir ?? DEFAULT_DATA_DIR);
  const requestedPort = options.port ?? DEFAULT_COMPUTE_PORT;
  const cliPath = options.cliPath ?? defaultCliPath();
  const log = options.log ?? createLogger("local", { dataDir });
  const say = options.say ?? (() => {});
  const graceMs = options.stopGraceMs ?? 5_000;
  if (!existsSync(cliPath)) throw new Error(`${cliPath} not found: run \`npm run build\` first`);

  mkdirSync(join(dataDir, "logs"), { recursive: true });
  const other = liveSupervisor(dataDir);
  if (other !== undefined) throw new Error(`another supervisor (pid ${other.pid}) is running on ${dataDir}`);
  writeSupervisorFile(dataDir, { pid: process.pid, computePort: requestedPort, startedAt: new Date().toISOString() });

  try {
    const loaded = await loadOrCreateClusterFile(dataDir, { host: LOCAL_HOST, avoidPorts: [requestedPort] });
    const created = loaded.created;
    const cluster = await ensureComputePorts(dataDir, loaded.cluster, options.computes ?? 1, [requestedPort]);
    const computePort =
      requestedPort !== 0
        ? requestedPort
        : (
            await findFreePorts(1, LOCAL_HOST, [
              ...cluster.storage.flatMap((n) => [n.port, n.metricsPort]),
              cluster.compute.metricsPort,
              ...(cluster.compute.metricsPorts ?? []),
              ...(cluster.compute.lockPort !== undefined ? [cluster.compute.lockPort] : []),
            ])
          )[0]!;
    if (computePort !== requestedPort) {
      writeSupervisorFile(dataDir, { pid: process.pid, computePort, startedAt: new Date().toISOString() });
    }
    log.info({ created, storage: cluster.storage }, created ? "chose cluster ports" : "reusing cluster ports");
    const compute = options.compute ?? true;
    const fromEnv = process.env.SEDIMENT_PASSWORD;
    const password =
      fromEnv !== undefined && fromEnv !== "" ? { password: fromEnv, file: undefined } : loadOrCreatePassword(dataDir);
    const roles = localRoles({
      cliPath,
      dataDir,
      cluster,
      computePort,
      compute,
      computePassword: password.password,
      computes: options.computes ?? 1,
    });
    await stopLeftovers(dataDir, roles, graceMs, log, say);

    const processes = new Map<string, SupervisedProcess>();
    for (const role of roles) {
      if (role.unavailable !== undefined) {
        log.info({ role: role.name, reason: role.unavailable }, "role not started");
        continue;
      }
      const child = new SupervisedProcess(role, {
        cliPath,
        pidFile: pidFilePath(dataDir, role.name),
        logFile: join(dataDir, "logs", `${role.name}.log`),
        backoff: options.backoff ?? DEFAULT_BACKOFF,
        log,
        say,
      });
      processes.set(role.name, child);
      child.start();
    }
    return makeHandle({ dataDir, cluster, computePort, roles, processes, graceMs, log, passwordFile: password.file });
  } catch (err) {
    removeSupervisorFile(dataDir);
    throw err;
  }
}

function makeHandle(s: {
  dataDir: string;
  cluster: ClusterFile;
  computePort: number;
  roles: Role[];
  processes: Map<string, SupervisedProcess>;
  graceMs: number;
  log: Logger;
  passwordFile: string | undefined;
}): LocalCluster {
  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    const running = [...s.processes.values()];
    const tiers = [...new Set(running.map((p) => p.role.tier))].sort((a, b) => b - a);
    for (const tier of tiers) {
      await Promise.all(running.filter((p) => p.role.tier === tier).map((p) => p.stop(s.graceMs)));
    }
    for (const role of s.roles) removePidFile(pidFilePath(s.dataDir, role.name));
    removeSupervisorFile(s.dataDir);
    s.log.info("local cluster stopped");
  };
  return {
    dataDir: s.dataDir,
    cluster: s.cluster,
    computePort: s.computePort,
    storage: s.cluster.storage.map((n) => ({
      nodeId: n.nodeId,
      address: `${s.cluster.host}:${n.port}`,
      port: n.port,
      metricsPort: n.metricsPort,
    })),
    roles: s.roles,
    passwordFile: s.passwordFile,
    pid: (role) => s.processes.get(role)?.pid,
    restarts: (role) => s.processes.get(role)?.restarts ?? 0,
    waitReady: (timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      const running = [...s.processes.values()].map((p) => p.role);
      return Promise.all(running.map((r) => waitForTcp(r.host, r.port, deadline))).then((ok) => ok.every(Boolean));
    },
    stop: () => {
      stopping ??= stop();
      return stopping;
    },
    kill: (signal = "SIGKILL") => {
      for (const p of s.processes.values()) p.signal(signal);
    },
  };
}

/** Children of a supervisor that died without stopping them (their pid file names a live process with their argv). */
async function stopLeftovers(
  dataDir: string,
  roles: readonly Role[],
  graceMs: number,
  log: Logger,
  say: (line: string) => void,
): Promise<void> {
  await Promise.all(
    roles.map(async (role) => {
      const pidFile = pidFilePath(dataDir, role.name);
      const pid = readPidFile(pidFile);
      if (pid !== undefined && isProcessRunning(pid, role.args)) {
        log.warn({ role: role.name, childPid: pid }, "stopping a child left by a previous supervisor");
        say(`${role.name}: stopping pid ${pid} left running by a previous supervisor`);
        await terminate(pid, graceMs);
      }
      removePidFile(pidFile);
    }),
  );
}

async function terminate(pid: number, graceMs: number): Promise<void> {
  const kill = (signal: NodeJS.Signals): void => {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  };
  kill("SIGTERM");
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid)) kill("SIGKILL");
  while (isAlive(pid) && Date.now() < deadline + 2_000) await sleep(50);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Probes host:port until a TCP connect succeeds (true) or the deadline passes (false). */
export async function waitForTcp(host: string, port: number, deadline: number): Promise<boolean> {
  for (;;) {
    if (await canConnect(host, port)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
}

export function canConnect(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}
