import * as grpc from "@grpc/grpc-js";
import type { GetStatusResponse__Output } from "../../proto/gen/sediment/storage/GetStatusResponse.js";
import { CHANNEL_OPTIONS, loadStorageProto } from "../../proto/load.js";
import { unary } from "../../proto/rpc.js";
import { readClusterFile } from "./cluster-file.js";
import { isProcessRunning, pidFilePath, readPidFile, readSupervisorFile } from "./pid-files.js";
import { DEFAULT_COMPUTE_PORT, canConnect } from "./supervisor.js";
import { type LockHolder, readLockHolder } from "./writer-lock.js";

/** `sediment status`: one GetStatus call per storage node of a local cluster, as a table. */
export interface NodeStatus {
  readonly node: number;
  readonly address: string;
  readonly state: "up" | "down" | "no GetStatus";
  readonly detail?: string;
  readonly status?: GetStatusResponse__Output;
}

const DEADLINE_MS = 1_000;

export function getStorageStatus(node: number, address: string): Promise<NodeStatus> {
  const proto = loadStorageProto();
  const client = new proto.sediment.storage.Storage(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  return unary<GetStatusResponse__Output>((o, cb) => client.getStatus({}, o, cb), DEADLINE_MS)
    .then(
      (status): NodeStatus => ({ node, address, state: "up", status }),
      (err: grpc.ServiceError | Error): NodeStatus => {
        if (!("code" in err)) return { node, address, state: "down", detail: "empty response" };
        const state = err.code === grpc.status.UNIMPLEMENTED ? "no GetStatus" : "down";
        return { node, address, state, detail: grpc.status[err.code] ?? String(err.code) };
      },
    )
    .finally(() => client.close());
}

function sclRange(status: GetStatusResponse__Output | undefined): [string, string] {
  if (status === undefined || status.scls.length === 0) return ["-", "-"];
  return [String(Math.min(...status.scls)), String(Math.max(...status.scls))];
}

export function formatStatusTable(rows: readonly NodeStatus[]): string {
  const header = ["node", "address", "state", "epoch", "groups", "min SCL", "max SCL", "max LSN seen"];
  const cells = rows.map((r) => {
    const [min, max] = sclRange(r.status);
    return [
      `storage-${r.node}`,
      r.address,
      r.detail !== undefined ? `${r.state} (${r.detail})` : r.state,
      r.status !== undefined ? String(r.status.epoch) : "-",
      r.status !== undefined ? String(r.status.groups.length) : "-",
      min,
      max,
      r.status !== undefined ? String(r.status.maxLsnSeen) : "-",
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  return [header, ...cells]
    .map((line) =>
      line
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** Prints the table; the exit code is 0 when every storage node answered, 1 otherwise. */
export async function runStatus(opts: { dataDir: string }): Promise<number> {
  const cluster = readClusterFile(opts.dataDir);
  if (cluster === undefined) {
    process.stderr.write(`no local cluster in ${opts.dataDir} (start one with \`sediment local\`)\n`);
    return 1;
  }
  const rows = await Promise.all(cluster.storage.map((n) => getStorageStatus(n.nodeId, `${cluster.host}:${n.port}`)));
  const supervisor = readSupervisorFile(opts.dataDir);
  const computePort = supervisor?.computePort ?? DEFAULT_COMPUTE_PORT;
  const computeUp = await canConnect(cluster.host, computePort);
  const supervisorUp = supervisor !== undefined && isProcessRunning(supervisor.pid, ["local"]);
  process.stdout.write(`${formatStatusTable(rows)}\n`);
  process.stdout.write(
    `compute    ${cluster.host}:${computePort}  ${computeUp ? "up" : "down"}` +
      `${supervisorUp ? `  (supervisor pid ${supervisor.pid})` : "  (no supervisor running)"}\n`,
  );
  const lockPort = cluster.compute.lockPort;
  const computes = cluster.compute.metricsPorts?.length ?? 0;
  if (lockPort !== undefined && computes > 1) {
    const holder = await readLockHolder(cluster.host, lockPort);
    for (const line of formatComputeRoles(opts.dataDir, computes, holder, cluster.host)) {
      process.stdout.write(`${line}\n`);
    }
  }
  return rows.every((r) => r.state === "up") ? 0 : 1;
}

/**
 * One line per compute process of `--computes n`: the writer is the process
 * that holds the lock port (it says so itself); every other live one is a standby.
 */
export function formatComputeRoles(
  dataDir: string,
  computes: number,
  holder: LockHolder | undefined,
  host: string,
): string[] {
  return Array.from({ length: computes }, (_, i) => {
    const name = `compute-${i}`;
    const pid = readPidFile(pidFilePath(dataDir, name));
    const running = pid !== undefined && isProcessRunning(pid, ["compute"]);
    const role = !running
      ? "down"
      : holder?.pid === pid
        ? holder.state === "serving"
          ? `writer, serving on ${host}:${holder.port}`
          : "writer, recovering (not serving yet)"
        : "standby";
    return `${name.padEnd(10)} pid ${running ? String(pid) : "-"}  ${role}`;
  });
}
