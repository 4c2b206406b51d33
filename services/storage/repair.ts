import * as grpc from "@grpc/grpc-js";
import { CHANNEL_OPTIONS, loadStorageProto } from "../../proto/load.js";
import { unary } from "../../proto/rpc.js";
import type { GroupId, NodeId } from "../common/ids.js";
import { type Lsn, lsnMin } from "../common/lsn.js";
import type { Logger } from "../common/observe/log.js";
import { RECORD_HEADER_BYTES, RecordFormatError, decodeRecordAt } from "../common/record.js";
import { statusOf } from "./errors.js";
import type { Topology } from "./membership.js";
import type { StorageNode } from "./node.js";
import type { StoredRecord } from "./node-types.js";
import type { ReadLogResponse__Output, StorageClient } from "./wire.js";

export interface RepairOptions {
  /** Consecutive fruitless rounds (every peer tried) before giving up until the next gap report. */
  readonly roundsMax: number;
  readonly backoffMs: number;
  readonly backoffMaxMs: number;
  readonly deadlineMs: number;
  readonly maxBytes: number;
}

export const REPAIR_DEFAULTS: RepairOptions = {
  roundsMax: 8,
  backoffMs: 50,
  backoffMaxMs: 2_000,
  deadlineMs: 5_000,
  maxBytes: 4 * 1024 * 1024,
};

interface Peer {
  readonly nodeId: NodeId;
  readonly address: string;
}

/** A peer's records for `group` in (after, through], checked like a batch; throws RecordFormatError. */
export function decodePeerRecords(
  bytes: Uint8Array,
  topology: Topology,
  group: GroupId,
  after: Lsn,
  through: Lsn,
): StoredRecord[] {
  const out: StoredRecord[] = [];
  let last: number = after;
  for (let offset = 0; offset < bytes.length; ) {
    const record = decodeRecordAt(bytes, offset);
    const size = RECORD_HEADER_BYTES + record.payload.length;
    if (record.lsn <= last || record.lsn > through)
      throw new RecordFormatError(`peer record ${record.lsn} out of range`);
    if (topology.groupOf(record.pageId) !== group)
      throw new RecordFormatError(`peer record ${record.lsn} in another group`);
    out.push({ record, group, encoded: bytes.slice(offset, offset + size) });
    last = record.lsn;
    offset += size;
  }
  return out;
}

/**
 * Fills a group's gap (SCL below records or batches it already holds) with
 * ReadLog from the other replicas of the group (docs/log-protocol.md §3):
 * stores the records (synced), notes what the peer's SCL proves complete,
 * and re-applies the SCL rules. One repair per group at a time; peers are
 * tried in turn, with backoff between fruitless rounds, bounded.
 */
export class Repairer {
  private readonly active = new Set<GroupId>();
  private readonly clients = new Map<string, StorageClient>();
  private stopped = false;

  constructor(
    private readonly node: StorageNode,
    private readonly log: Logger,
    private readonly options: RepairOptions = REPAIR_DEFAULTS,
  ) {}

  /** Starts repairing `group` unless a repair of it is already running. */
  request(group: GroupId): void {
    if (this.stopped || this.active.has(group)) return;
    this.active.add(group);
    void this.run(group)
      .catch((err: unknown) => statusOf(this.log, err))
      .finally(() => this.active.delete(group));
  }

  stop(): void {
    this.stopped = true;
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  private async run(group: GroupId): Promise<void> {
    let fruitless = 0;
    while (!this.stopped && fruitless < this.options.roundsMax) {
      if (!this.node.truncationCurrent || this.node.gap(group) === undefined) return;
      if (await this.round(group, fruitless)) {
        fruitless = 0;
        continue;
      }
      fruitless++;
      await sleep(Math.min(this.options.backoffMs * 2 ** fruitless, this.options.backoffMaxMs));
    }
    if (fruitless >= this.options.roundsMax) {
      this.log.warn({ group, lsn: this.node.scl(group), node: this.node.self }, "repair gave up for now");
    }
  }

  /** Asks each peer in turn; true once one of them moved the node forward. */
  private async round(group: GroupId, rotation: number): Promise<boolean> {
    const peers = this.node.topology?.peersOf(group) ?? [];
    for (let i = 0; i < peers.length && !this.stopped; i++) {
      if (await this.fetchFrom(peers[(i + rotation) % peers.length]!, group)) return true;
    }
    return false;
  }

  private async fetchFrom(peer: Peer, group: GroupId): Promise<boolean> {
    const gap = this.node.gap(group);
    const topology = this.node.topology;
    if (gap === undefined || topology === null) return true;
    const { epoch } = this.node.meta;
    const generation = this.node.generation;
    const fields = { group, lsn: gap.after, through: gap.through, node: this.node.self, peer: peer.nodeId };
    let response: ReadLogResponse__Output;
    try {
      response = await this.readLog(peer, { epoch, group, afterLsn: gap.after, throughLsn: gap.through });
    } catch (err) {
      this.log.warn({ ...fields, err: (err as Error).message }, "repair: ReadLog failed");
      return false;
    }
    if (response.epoch > epoch && response.truncateEpoch === response.epoch) {
      await this.node.learnEpoch(response.epoch as typeof epoch, response.truncateLsn as Lsn);
      return true;
    }
    if (response.epoch !== epoch || response.truncateEpoch !== response.epoch) return false;
    let records: StoredRecord[];
    try {
      records = decodePeerRecords(response.records, topology, group, gap.after, gap.through);
    } catch (err) {
      this.log.warn({ ...fields, err: (err as Error).message }, "repair: peer sent bad records");
      return false;
    }
    const last = records[records.length - 1]?.record.lsn ?? gap.after;
    const coverTo = lsnMin(response.scl as Lsn, response.more ? last : gap.through);
    const sclBefore = this.node.scl(group);
    const stored = await this.node.storeRepair({ group, after: gap.after, coverTo, records, generation, epoch });
    if (stored === undefined) return true; // the node changed meanwhile: look again
    const moved = this.node.scl(group) !== sclBefore;
    if (stored > 0 || moved) this.log.info({ ...fields, stored, scl: this.node.scl(group) }, "repair: gap filled");
    return stored > 0 || moved;
  }

  private readLog(
    peer: Peer,
    request: { epoch: number; group: GroupId; afterLsn: Lsn; throughLsn: Lsn },
  ): Promise<ReadLogResponse__Output> {
    const client = this.client(peer.address);
    const full = { ...request, maxBytes: this.options.maxBytes };
    return unary<ReadLogResponse__Output>((o, cb) => client.ReadLog(full, o, cb), this.options.deadlineMs);
  }

  private client(address: string): StorageClient {
    let client = this.clients.get(address);
    if (client === undefined) {
      const Storage = loadStorageProto().sediment.storage.Storage;
      client = new Storage(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
      this.clients.set(address, client);
    }
    return client;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
