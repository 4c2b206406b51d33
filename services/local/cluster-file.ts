import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { type Server, createServer } from "node:net";
import { join } from "node:path";
import { z } from "zod";

/**
 * `<data-dir>/cluster.json`: the internal ports of a local cluster, chosen
 * free once and reused by every later run on the same data directory, so
 * storage nodes keep their addresses (and compute its membership) across
 * restarts. The compute's client port is a flag (`--port`), not stored here.
 */
const port = z.number().int().min(1).max(65_535);

export const ClusterFileSchema = z.object({
  version: z.literal(1),
  host: z.string().min(1),
  storage: z
    .array(z.object({ nodeId: z.number().int().nonnegative(), port, metricsPort: port }))
    .min(1)
    .refine((nodes) => nodes.every((n, i) => n.nodeId === i), "storage node ids must be 0..n-1 in order"),
  compute: z.object({
    metricsPort: port,
    /** With `--computes` > 1: the loopback port whose holder is the writer (compute's `--election lock`). */
    lockPort: port.optional(),
    /** With `--computes` > 1: compute-i's metrics port (index 0 is `metricsPort`). */
    metricsPorts: z.array(port).optional(),
  }),
  createdAt: z.string(),
});

export type ClusterFile = z.infer<typeof ClusterFileSchema>;

export const CLUSTER_FILE_NAME = "cluster.json";
export const STORAGE_NODE_COUNT = 3;

export function clusterFilePath(dataDir: string): string {
  return join(dataDir, CLUSTER_FILE_NAME);
}

export class ClusterFileError extends Error {
  override name = "ClusterFileError";
}

/** Reads and validates cluster.json; undefined when the data directory has none yet. */
export function readClusterFile(dataDir: string): ClusterFile | undefined {
  const path = clusterFilePath(dataDir);
  if (!existsSync(path)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new ClusterFileError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = ClusterFileSchema.safeParse(json);
  if (!parsed.success) {
    throw new ClusterFileError(
      `${path} is invalid (${parsed.error.issues.map((i) => `${i.path.join(".") || "<root>"}: ${i.message}`).join("; ")}); ` +
        "fix it, or delete it to choose new ports",
    );
  }
  return parsed.data;
}

/** The cluster.json of `dataDir`, created with fresh free ports on first use. */
export async function loadOrCreateClusterFile(
  dataDir: string,
  options: { host: string; avoidPorts?: readonly number[] },
): Promise<{ cluster: ClusterFile; created: boolean }> {
  const existing = readClusterFile(dataDir);
  if (existing !== undefined) return { cluster: existing, created: false };
  const ports = await findFreePorts(2 * STORAGE_NODE_COUNT + 1, options.host, options.avoidPorts ?? []);
  const take = (): number => ports.shift()!;
  const cluster: ClusterFile = {
    version: 1,
    host: options.host,
    storage: Array.from({ length: STORAGE_NODE_COUNT }, (_, nodeId) => ({ nodeId, port: take(), metricsPort: take() })),
    compute: { metricsPort: take() },
    createdAt: new Date().toISOString(),
  };
  const path = clusterFilePath(dataDir);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(cluster, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
  return { cluster, created: true };
}

/**
 * The cluster file with a lock port and one metrics port per compute process,
 * added (free ports, then written back) the first time `--computes` asks for
 * more than the file has; unchanged otherwise.
 */
export async function ensureComputePorts(
  dataDir: string,
  cluster: ClusterFile,
  computes: number,
  avoid: readonly number[],
): Promise<ClusterFile> {
  const metricsPorts = cluster.compute.metricsPorts ?? [cluster.compute.metricsPort];
  if (computes <= 1 || (cluster.compute.lockPort !== undefined && metricsPorts.length >= computes)) return cluster;
  const used = [
    ...avoid,
    ...cluster.storage.flatMap((n) => [n.port, n.metricsPort]),
    ...metricsPorts,
    ...(cluster.compute.lockPort !== undefined ? [cluster.compute.lockPort] : []),
  ];
  const fresh = await findFreePorts(computes - metricsPorts.length + 1, cluster.host, used);
  const updated: ClusterFile = {
    ...cluster,
    compute: {
      ...cluster.compute,
      lockPort: cluster.compute.lockPort ?? fresh.pop()!,
      metricsPorts: [...metricsPorts, ...fresh].slice(0, Math.max(computes, metricsPorts.length)),
    },
  };
  const path = clusterFilePath(dataDir);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(updated, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
  return updated;
}

/**
 * `count` distinct ports that are free now: each found by binding port 0.
 * All listeners stay open until the last is bound, so the ports differ.
 */
export async function findFreePorts(count: number, host: string, avoid: readonly number[]): Promise<number[]> {
  const servers: Server[] = [];
  const ports: number[] = [];
  try {
    while (ports.length < count) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, host, () => resolve());
      });
      const address = server.address();
      if (address === null || typeof address === "string") throw new Error("unexpected listen address");
      if (!avoid.includes(address.port)) ports.push(address.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

export const PASSWORD_FILE_NAME = "password";

/** The local cluster's default password: local mode listens on loopback only. */
export const LOCAL_DEFAULT_PASSWORD = "postgres";

/**
 * The local compute's PostgreSQL password (user `postgres`) when SEDIMENT_PASSWORD is not set:
 * `<data-dir>/password` (mode 0600), written with the default `postgres` on first use; edit it
 * to change the password of that data directory.
 */
export function loadOrCreatePassword(dataDir: string): { password: string; file: string } {
  const file = join(dataDir, PASSWORD_FILE_NAME);
  if (existsSync(file)) {
    const password = readFileSync(file, "utf8").trim();
    if (password.length > 0) return { password, file };
  }
  const password = LOCAL_DEFAULT_PASSWORD;
  writeFileSync(`${file}.tmp`, `${password}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
  return { password, file };
}
