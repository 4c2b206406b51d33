import type { Epoch, GroupId, PageKey } from "../common/ids.js";
import type { Lsn } from "../common/lsn.js";
import type { LogRecord } from "../common/record.js";

/** The shapes the storage node's parts exchange (node.ts owns the state). */
/** A record from the wire, decoded and placed: its group and its encoded bytes (stored as they came). */
export interface StoredRecord {
  readonly record: LogRecord;
  readonly group: GroupId;
  readonly encoded: Uint8Array;
}

/** A Batch that passed validation (append-batch.ts). */
export interface ValidatedBatch {
  readonly epoch: Epoch;
  readonly from: Lsn;
  readonly to: Lsn;
  readonly vdl: Lsn;
  readonly records: readonly StoredRecord[];
  readonly bytes: number;
}

/** An AppendLog stream as the node sees it: what its Hello established. */
export interface StreamSession {
  epoch: Epoch;
  generation: number;
  failed: boolean;
}

export interface AckData {
  readonly epoch: Epoch;
  readonly throughLsn: Lsn;
  readonly groups: readonly GroupId[];
  readonly scls: readonly Lsn[];
}

/** Records fetched from a peer for one group: they are every record of it in (after, coverTo]. */
export interface RepairWrite {
  readonly group: GroupId;
  readonly after: Lsn;
  readonly coverTo: Lsn;
  readonly records: readonly StoredRecord[];
  readonly generation: number;
  readonly epoch: Epoch;
}

/** Who else reacts to the node's changes (materializer, repairer, open streams). */
export interface NodeHooks {
  recordsStored(pages: readonly PageKey[]): void;
  gap(group: GroupId): void;
  truncated(pages: ReadonlySet<PageKey>): void;
  fenced(epoch: Epoch): void;
}
