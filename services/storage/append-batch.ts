import { type Epoch, type GroupId, type NodeId, epoch as toEpoch } from "../common/ids.js";
import type { Lsn } from "../common/lsn.js";
import { RECORD_HEADER_BYTES, decodeRecordAt } from "../common/record.js";
import { invalidArgument, wireInt } from "./errors.js";
import { type MembershipConfig, type Topology, membershipFromWire } from "./membership.js";
import type { StoredRecord, ValidatedBatch } from "./node-types.js";
import type { Batch__Output, Hello__Output } from "./wire.js";

/** Validation of AppendLog messages (docs/log-protocol.md): pure, throws StatusError / RecordFormatError. */
export interface ValidatedHello {
  readonly epoch: Epoch;
  readonly truncateLsn: Lsn;
  readonly membership: MembershipConfig;
}

export function validateHello(hello: Hello__Output, self: NodeId): ValidatedHello {
  return {
    epoch: toEpoch(wireInt(hello.epoch, "hello.epoch")),
    truncateLsn: wireInt(hello.truncateLsn, "hello.truncate_lsn") as Lsn,
    membership: membershipFromWire(hello.membership, self),
  };
}

/**
 * A batch must hold every record of the node's groups in (P, T]: records
 * decode, ascend, lie in (P, T], belong to hosted groups, and chain per group
 * (the first record of a group in the batch links to at most P, each next one
 * to the previous). `expectFrom`: the T of the stream's previous batch.
 */
export function validateBatch(batch: Batch__Output, topology: Topology, expectFrom: Lsn | undefined): ValidatedBatch {
  const from = wireInt(batch.prevThroughLsn, "batch.prev_through_lsn") as Lsn;
  const to = wireInt(batch.throughLsn, "batch.through_lsn") as Lsn;
  if (to < from) throw invalidArgument(`batch through_lsn ${to} is below prev_through_lsn ${from}`);
  if (expectFrom !== undefined && from !== expectFrom) {
    throw invalidArgument(`batch starts at ${from}, the stream's previous batch ended at ${expectFrom}`);
  }
  const bytes = batch.records;
  const records: StoredRecord[] = [];
  const lastOfGroup = new Map<GroupId, Lsn>();
  let offset = 0;
  let last = from;
  while (offset < bytes.length) {
    const record = decodeRecordAt(bytes, offset);
    const size = RECORD_HEADER_BYTES + record.payload.length;
    if (record.lsn <= last) throw invalidArgument(`record ${record.lsn} is out of order or not above ${from}`);
    if (record.lsn > to) throw invalidArgument(`record ${record.lsn} is above through_lsn ${to}`);
    const group = topology.groupOf(record.pageId);
    if (!topology.hosts(group)) throw invalidArgument(`record ${record.lsn} is in group ${group}, not hosted here`);
    const prev = lastOfGroup.get(group);
    if (prev === undefined ? record.prevLsnOfGroup > from : record.prevLsnOfGroup !== prev) {
      throw invalidArgument(`record ${record.lsn} breaks the chain of group ${group}`);
    }
    lastOfGroup.set(group, record.lsn);
    records.push({ record, group, encoded: bytes.subarray(offset, offset + size) });
    last = record.lsn;
    offset += size;
  }
  return {
    epoch: toEpoch(wireInt(batch.epoch, "batch.epoch")),
    from,
    to,
    vdl: wireInt(batch.vdl, "batch.vdl") as Lsn,
    records,
    bytes: bytes.length,
  };
}
