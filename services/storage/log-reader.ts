import { GRPC_MESSAGE_BYTES_MAX } from "../../proto/load.js";
import { type GroupId, groupId } from "../common/ids.js";
import { INVALID_LSN, LSN_MAX, type Lsn } from "../common/lsn.js";
import { failedPrecondition, invalidArgument, unavailable, wireInt } from "./errors.js";
import type { StorageNode } from "./node.js";
import type { GetStateResponse, GroupState, ReadLogRequest__Output, ReadLogResponse } from "./wire.js";

export const READ_LOG_BYTES_DEFAULT = 4 * 1024 * 1024;
/** Room for the response's other fields under the message limit. */
const READ_LOG_BYTES_MAX = GRPC_MESSAGE_BYTES_MAX - 64 * 1024;
const ENTRIES_PER_STEP = 512;

/**
 * ReadLog (docs/log-protocol.md): the stored records of one group in
 * (after, through], ascending, at most max_bytes (at least one record).
 *
 * Epochs: a caller with a newer epoch gets FAILED_PRECONDITION; an older
 * caller gets the node's epoch and truncation with the answer so it can
 * apply them first, unless the node has not applied the truncation of its
 * own epoch (then UNAVAILABLE). A caller *at* the node's epoch is served even
 * before the truncation: that is the new writer of the epoch reading the
 * records it must copy (design section 7, step 4), between fencing and
 * truncating; peers repairing themselves discard such answers (repair.ts).
 */
export async function readLog(node: StorageNode, request: ReadLogRequest__Output): Promise<ReadLogResponse> {
  const callerEpoch = wireInt(request.epoch, "epoch");
  const after = wireInt(request.afterLsn, "after_lsn") as Lsn;
  const through = wireInt(request.throughLsn, "through_lsn") as Lsn;
  if (through < after) throw invalidArgument(`through_lsn ${through} is below after_lsn ${after}`);
  const meta = node.meta;
  if (callerEpoch > meta.epoch) throw failedPrecondition(`caller epoch ${callerEpoch} is newer than ${meta.epoch}`);
  if (callerEpoch < meta.epoch && !node.truncationCurrent) {
    throw unavailable(`node has not applied the truncation of epoch ${meta.epoch}`);
  }
  const group = groupId(request.group);
  const scl = node.scl(group) ?? INVALID_LSN; // read before the records: every record <= it is already stored
  const budget = Math.min(request.maxBytes === 0 ? READ_LOG_BYTES_DEFAULT : request.maxBytes, READ_LOG_BYTES_MAX);
  const { parts, more } = await collect(node, group, after, through, budget);
  return {
    epoch: meta.epoch,
    truncateEpoch: meta.truncateEpoch,
    truncateLsn: meta.truncateLsn,
    scl,
    records: Buffer.concat(parts),
    more,
  };
}

async function collect(
  node: StorageNode,
  group: GroupId,
  after: Lsn,
  through: Lsn,
  budget: number,
): Promise<{ parts: Uint8Array[]; more: boolean }> {
  const parts: Uint8Array[] = [];
  let total = 0;
  let cursor: number = after;
  for (;;) {
    const entries = await node.store.groupEntries(group, cursor, through, false, ENTRIES_PER_STEP);
    const values = await node.store.recordBytes(entries);
    for (const value of values) {
      if (parts.length > 0 && total + value.length > budget) return { parts, more: true };
      parts.push(value);
      total += value.length;
    }
    if (entries.length < ENTRIES_PER_STEP) return { parts, more: false };
    cursor = entries[entries.length - 1]!.lsn;
  }
}

/**
 * GetState (design section 7, step 2): per hosted group its SCL, the headers
 * of every record held above the VDL hint, and the newest record at or below it.
 */
export async function getState(node: StorageNode, callerEpoch: number): Promise<GetStateResponse> {
  const meta = node.meta;
  if (callerEpoch > meta.epoch) throw failedPrecondition(`caller epoch ${callerEpoch} is newer than ${meta.epoch}`);
  const hint = node.vdlHint;
  const groups: GroupState[] = [];
  for (const g of node.topology?.hosted ?? []) {
    const scl = node.scl(g) ?? INVALID_LSN;
    const above = await node.store.groupEntries(g, hint, LSN_MAX);
    const below = await node.store.groupEntries(g, INVALID_LSN, hint, true, 1);
    groups.push({
      group: g,
      scl,
      above: above.map((e) => ({ lsn: e.lsn, prevLsnOfGroup: e.prevLsnOfGroup, endsMtr: e.endsMtr })),
      lastLsnAtOrBelowHint: below[0]?.lsn ?? INVALID_LSN,
    });
  }
  return {
    nodeId: node.self,
    epoch: meta.epoch,
    truncateEpoch: meta.truncateEpoch,
    truncateLsn: meta.truncateLsn,
    vdlHint: hint,
    maxLsnSeen: node.maxLsnSeen,
    groups,
  };
}
