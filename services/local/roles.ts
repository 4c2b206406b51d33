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
  /** Compute processes (`--computes`): 1 is the writer alone; more run as hot standbys behind the lock port. */
  readonly computes?: number;
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

/**
 * One compute is `compute`, the writer at once (`--election none`). With
 * `--computes n` > 1 they are `compute-0` … `compute-(n-1)`, all alike
 * (`--election lock` on cluster.json's lock port): whichever binds the lock
 * port first is the writer and alone listens on the client port; the others
 * wait as hot standbys, and one takes over the instant the writer dies. The
 * dead one is restarted as usual and becomes a standby in turn.
 */
function computeRoles(ctx: RoleContext): Role[] {
  const count = ctx.computes ?? 1;
  if (count <= 1) return [computeRole(ctx, "compute", ctx.cluster.compute.metricsPort, [])];
  const { lockPort, metricsPorts } = ctx.cluster.compute;
  if (lockPort === undefined || metricsPorts === undefined || metricsPorts.length < count) {
    throw new Error(`cluster.json has no lock port or too few compute metrics ports for ${count} computes`);
  }
  return Array.from({ length: count }, (_, i) =>
    computeRole(ctx, `compute-${i}`, metricsPorts[i]!, ["--election", "lock", "--lock-port", String(lockPort)]),
  );
}

function computeRole(ctx: RoleContext, name: string, metricsPort: number, election: readonly string[]): Role {
  const { host } = ctx.cluster;
  const main = join(dirname(ctx.cliPath), "compute", "main.js");
  return {
    name,
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
      String(metricsPort),
      ...election,
    ],
    host,
    port: ctx.computePort,
    metricsPort,
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
  return [...storageRoles(ctx), ...computeRoles(ctx)];
}
