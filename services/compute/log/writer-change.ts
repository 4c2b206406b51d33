import type { GetStateResponse__Output } from "../../../proto/gen/sediment/storage/GetStateResponse.js";
import type { GetStatusResponse__Output } from "../../../proto/gen/sediment/storage/GetStatusResponse.js";
import type { ReadLogResponse__Output } from "../../../proto/gen/sediment/storage/ReadLogResponse.js";
import type { SetEpochResponse__Output } from "../../../proto/gen/sediment/storage/SetEpochResponse.js";
import type { TruncateResponse__Output } from "../../../proto/gen/sediment/storage/TruncateResponse.js";
import { settleAll, unary } from "../../../proto/rpc.js";
import type { GroupId, NodeId } from "../../common/ids.js";
import { type Epoch, epoch as toEpoch } from "../../common/ids.js";
import type { Lsn } from "../../common/lsn.js";
import type { Logger } from "../../common/observe/log.js";
import { groupOf } from "../../common/placement.js";
import { type LogRecord, decodeRecords } from "../../common/record.js";
import { type RecoveryPlan, type ReplicaGroupState, type ReplicaState, chooseRecovery } from "../../common/recovery.js";
import type { StorageCluster } from "../storage/cluster.js";
import { DEFAULT_LOG_WRITER_LIMITS, LogWriter, type LogWriterConfig } from "./log-writer.js";

const RPC_TIMEOUT_MS = 2_000;

export class WriterChangeError extends Error {
  override name = "WriterChangeError";
}

export interface WriterChangeResult {
  readonly epoch: Epoch;
  readonly plan: RecoveryPlan;
  readonly writer: LogWriter;
  readonly fencedNodes: readonly NodeId[];
  readonly durationMs: number;
}

/**
 * Design section 7, steps 1–5, over gRPC: fence, read, choose, fetch the
 * records above the durable point, truncate. The caller starts the
 * LogService with the returned writer, which re-sends the carried records to
 * every replica (the copy step), and serves once VDL reaches the truncation
 * point. Truncation goes before the copy here: both only touch records at or
 * below T, and nothing is served until the copies are on their quorum.
 */
export async function changeWriter(
  cluster: StorageCluster,
  log: Logger,
  limits: Partial<Omit<LogWriterConfig, "placement" | "epoch">> = {},
): Promise<WriterChangeResult> {
  const started = performance.now();
  const epoch = await fence(cluster);
  const fencedNodes = [...epoch.accepted];
  const states = await readStates(cluster, fencedNodes, epoch.epoch);
  const plan = chooseRecovery(
    cluster.placement,
    [...states.values()].map((state) => toReplicaState(cluster, state)),
  );
  const carried = await fetchCarried(cluster, states, plan, epoch.epoch);
  await truncate(cluster, fencedNodes, epoch.epoch, plan.truncateLsn);
  const writer = new LogWriter(
    { placement: cluster.placement, epoch: epoch.epoch, ...DEFAULT_LOG_WRITER_LIMITS, ...limits },
    {
      nextLsn: plan.nextLsn,
      durableLsn: plan.fetchFromLsn,
      lastLsnOfGroup: plan.lastLsnOfGroup,
      carriedRecords: carried,
      truncateLsn: plan.truncateLsn,
    },
  );
  const durationMs = performance.now() - started;
  log.info(
    {
      epoch: epoch.epoch,
      truncateLsn: plan.truncateLsn,
      fromLsn: plan.fetchFromLsn,
      nextLsn: plan.nextLsn,
      carried: carried.length,
      nodes: fencedNodes,
      durationMs: Math.round(durationMs * 10) / 10,
    },
    "writer change: fenced, read, chose, truncated",
  );
  return { epoch: epoch.epoch, plan, writer, fencedNodes, durationMs };
}

/** Step 1: an epoch above every epoch seen, accepted by N−W+1 replicas of every group. */
async function fence(cluster: StorageCluster): Promise<{ epoch: Epoch; accepted: Set<NodeId> }> {
  const statuses = await settleAll(
    cluster.nodes.map(({ node }) => {
      const client = cluster.client(node);
      return [node, unary<GetStatusResponse__Output>((o, cb) => client.GetStatus({}, o, cb), RPC_TIMEOUT_MS)] as const;
    }),
  );
  let highest = 0;
  for (const status of statuses.values()) highest = Math.max(highest, status.epoch);
  const epoch = toEpoch(highest + 1);
  const accepted = await settleAll(
    cluster.nodes.map(({ node }) => {
      const client = cluster.client(node);
      return [
        node,
        unary<SetEpochResponse__Output>((o, cb) => client.SetEpoch({ epoch }, o, cb), RPC_TIMEOUT_MS),
      ] as const;
    }),
  );
  const nodes = new Set(accepted.keys());
  requireReadQuorum(cluster, nodes, `fence at epoch ${epoch}`);
  return { epoch, accepted: nodes };
}

function requireReadQuorum(cluster: StorageCluster, nodes: ReadonlySet<NodeId>, what: string): void {
  const { replicaCount, writeQuorum } = cluster.placement.config;
  const needed = replicaCount - writeQuorum + 1;
  cluster.placement.replicas.forEach((replicas, group) => {
    const have = replicas.filter((n) => nodes.has(n)).length;
    if (have < needed) {
      throw new WriterChangeError(`${what}: group ${group} reached ${have} of ${needed} replicas needed`);
    }
  });
}

/** Step 2. */
async function readStates(
  cluster: StorageCluster,
  nodes: readonly NodeId[],
  epoch: Epoch,
): Promise<Map<NodeId, GetStateResponse__Output>> {
  const states = await settleAll(
    nodes.map((node) => {
      const client = cluster.client(node);
      return [
        node,
        unary<GetStateResponse__Output>((o, cb) => client.GetState({ epoch }, o, cb), RPC_TIMEOUT_MS),
      ] as const;
    }),
  );
  requireReadQuorum(cluster, new Set(states.keys()), "read state");
  return states;
}

/**
 * A replica that reports no state for a group it should host (a new node, or
 * one whose volume was lost) holds nothing of it: SCL 0, no records.
 */
function toReplicaState(cluster: StorageCluster, state: GetStateResponse__Output): ReplicaState {
  const groups = new Map<GroupId, ReplicaGroupState>(
    (cluster.placement.groupsOfNode.get(state.nodeId as NodeId) ?? []).map((g) => [
      g,
      { scl: 0 as Lsn, lastLsnAtOrBelowHint: 0 as Lsn, above: [] },
    ]),
  );
  for (const g of state.groups) {
    groups.set(g.group as GroupId, {
      scl: g.scl as Lsn,
      lastLsnAtOrBelowHint: g.lastLsnAtOrBelowHint as Lsn,
      above: g.above.map((h) => ({ lsn: h.lsn as Lsn, prevLsnOfGroup: h.prevLsnOfGroup as Lsn, endsMtr: h.endsMtr })),
    });
  }
  return { node: state.nodeId as NodeId, vdlHint: state.vdlHint as Lsn, maxLsnSeen: state.maxLsnSeen as Lsn, groups };
}

/** Step 4's input: every record in (V0, T], gathered from the replicas read. */
async function fetchCarried(
  cluster: StorageCluster,
  states: ReadonlyMap<NodeId, GetStateResponse__Output>,
  plan: RecoveryPlan,
  epoch: Epoch,
): Promise<LogRecord[]> {
  if (plan.truncateLsn <= plan.fetchFromLsn) return [];
  const byLsn = new Map<number, LogRecord>();
  const reads: Promise<void>[] = [];
  for (const [node, state] of states) {
    const client = cluster.client(node);
    for (const g of state.groups) {
      const holdsSome = g.scl > plan.fetchFromLsn || g.above.some((h) => h.lsn <= plan.truncateLsn);
      if (!holdsSome) continue;
      reads.push(
        readGroup(client, epoch, g.group as GroupId, plan.fetchFromLsn, plan.truncateLsn).then((records) => {
          for (const r of records) byLsn.set(r.lsn, r);
        }),
      );
    }
  }
  await Promise.all(reads);
  const records = [...byLsn.values()].sort((a, b) => a.lsn - b.lsn);
  checkChains(cluster, records, plan);
  return records;
}

async function readGroup(
  client: ReturnType<StorageCluster["client"]>,
  epoch: Epoch,
  group: GroupId,
  after: Lsn,
  through: Lsn,
): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  let from = after;
  for (;;) {
    const request = { epoch, group, afterLsn: from, throughLsn: through, maxBytes: 4 * 1024 * 1024 };
    const res = await unary<ReadLogResponse__Output>((o, cb) => client.ReadLog(request, o, cb), RPC_TIMEOUT_MS);
    const records = decodeRecords(res.records);
    out.push(...records);
    if (!res.more || records.length === 0) return out;
    from = records[records.length - 1]!.lsn;
  }
}

/** Every group's records in (V0, T] must chain without a gap to its last record ≤ T. */
function checkChains(cluster: StorageCluster, records: readonly LogRecord[], plan: RecoveryPlan): void {
  const groupCount = cluster.placement.config.groupCount;
  const last = new Map<number, Lsn>();
  for (const r of records) {
    const g = groupOf(r.pageId, groupCount);
    const previous = last.get(g);
    if (previous !== undefined && r.prevLsnOfGroup !== previous) {
      throw new WriterChangeError(`group ${g}: record ${r.lsn} links to ${r.prevLsnOfGroup}, gathered ${previous}`);
    }
    last.set(g, r.lsn);
  }
  for (const [g, lsn] of last) {
    if (plan.lastLsnOfGroup[g] !== lsn) {
      throw new WriterChangeError(`group ${g}: gathered up to ${lsn}, plan says ${plan.lastLsnOfGroup[g]}`);
    }
  }
}

/** Step 5 on every replica fenced; the others learn (epoch, T) from the Hello. */
async function truncate(
  cluster: StorageCluster,
  nodes: readonly NodeId[],
  epoch: Epoch,
  truncateLsn: Lsn,
): Promise<void> {
  const done = await settleAll(
    nodes.map((node) => {
      const client = cluster.client(node);
      return [
        node,
        unary<TruncateResponse__Output>((o, cb) => client.Truncate({ epoch, truncateLsn }, o, cb), RPC_TIMEOUT_MS),
      ] as const;
    }),
  );
  requireReadQuorum(cluster, new Set(done.keys()), `truncate at ${truncateLsn}`);
}
