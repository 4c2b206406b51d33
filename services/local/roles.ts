import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import type { ClusterFile } from "./cluster-file.js";

/**
 * The processes of a local cluster. Each role is one entry: its name (pid
 * file `<name>.pid`, log `logs/<name>.log`), its `sediment` arguments, the
 * port that says it is serving, and whether it can run at all. Roles start in
 * list order and stop in reverse tier order (compute before storage).
 */
export interface Role {
  readonly name: string;
  readonly kind: "storage" | "compute";
  /** Arguments after `node dist/services/cli.js`. */
  readonly args: readonly string[];
  readonly host: string;
  readonly port: number;
  readonly metricsPort: number;
  /** Stopped before lower tiers. */
  readonly tier: number;
  /** Why the role cannot run (e.g. not built yet), or undefined when it can. */
  readonly unavailable: string | undefined;
  /** Added to the supervisor's environment. */
  readonly env: Readonly<Record<string, string>>;
  /** Exit codes that mean "do not restart me" (the supervisor leaves the role down and says why). */
  readonly finalExitCodes: ReadonlyMap<number, string>;
}

/**
 * services/compute/main.ts `EXIT_FENCED`: a newer writer fenced this compute. Restarting it would
 * fence that writer in turn (two writers taking the volume from each other), so it stays down.
 */
export const COMPUTE_EXIT_FENCED = 75;

export interface RoleContext {
  readonly cliPath: string;
  readonly dataDir: string;
  readonly cluster: ClusterFile;
  /** The compute's PostgreSQL port (`--port`). */
  readonly computePort: number;
  /** False with `--no-compute` (e.g. a test or benchmark that is the writer itself). */
  readonly compute: boolean;
  /** SEDIMENT_PASSWORD for compute: the supervisor's own, or the data dir's generated one. */
  readonly computePassword: string;
}

export function storageDataDir(dataDir: string, nodeId: number): string {
  return join(dataDir, `storage-${nodeId}`);
}

function storageRoles(ctx: RoleContext): Role[] {
  const { host } = ctx.cluster;
  return ctx.cluster.storage.map((node) => ({
    name: `storage-${node.nodeId}`,
    kind: "storage",
    args: [
      "storage",
      "--node-id",
      String(node.nodeId),
      "--data-dir",
      storageDataDir(ctx.dataDir, node.nodeId),
      "--host",
      host,
      "--port",
      String(node.port),
      "--metrics-port",
      String(node.metricsPort),
    ],
    host,
    port: node.port,
    metricsPort: node.metricsPort,
    tier: 0,
    unavailable: undefined,
    env: {},
    finalExitCodes: new Map(),
  }));
}

function computeRole(ctx: RoleContext): Role {
  const { host } = ctx.cluster;
  const main = join(dirname(ctx.cliPath), "compute", "main.js");
  return {
    name: "compute",
    kind: "compute",
    args: [
      "compute",
      "--host",
      host,
      "--port",
      String(ctx.computePort),
      "--storage",
      ctx.cluster.storage.map((n) => `${host}:${n.port}`).join(","),
      "--metrics-port",
      String(ctx.cluster.compute.metricsPort),
    ],
    host,
    port: ctx.computePort,
    metricsPort: ctx.cluster.compute.metricsPort,
    tier: 1,
    unavailable: !ctx.compute
      ? "not started (--no-compute)"
      : existsSync(main)
        ? undefined
        : `not built yet (no ${main})`,
    env: { SEDIMENT_PASSWORD: ctx.computePassword },
    finalExitCodes: new Map([[COMPUTE_EXIT_FENCED, "fenced by a newer writer"]]),
  };
}

export function localRoles(ctx: RoleContext): Role[] {
  return [...storageRoles(ctx), computeRole(ctx)];
}
