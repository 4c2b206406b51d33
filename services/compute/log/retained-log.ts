import { assert } from "../../common/assert.js";
import type { GroupId } from "../../common/ids.js";
import { INVALID_LSN, type Lsn } from "../../common/lsn.js";

/** One record the writer still holds for resending. `bytes` is a view into its MTR's buffer. */
export interface RetainedRecord {
  readonly lsn: Lsn;
  readonly group: GroupId;
  readonly bytes: Uint8Array;
  /** Bytes appended to the log up to and including this record. */
  readonly cumulativeBytes: number;
}

/**
 * The writer's window of records not yet known to be on every replica: a
 * deque ordered by LSN. Records at or below `trimmedThrough` are gone from it.
 */
export class RetainedLog {
  private entries: RetainedRecord[] = [];
  private head = 0;
  private appendedBytes = 0;
  private retainedBytesValue = 0;
  private trimmedThroughValue: Lsn;

  constructor(trimmedThrough: Lsn = INVALID_LSN) {
    this.trimmedThroughValue = trimmedThrough;
  }

  push(lsn: Lsn, group: GroupId, bytes: Uint8Array): void {
    const last = this.last();
    assert(lsn > (last?.lsn ?? this.trimmedThroughValue), "retained records must ascend");
    this.appendedBytes += bytes.length;
    this.retainedBytesValue += bytes.length;
    this.entries.push({ lsn, group, bytes, cumulativeBytes: this.appendedBytes });
  }

  get size(): number {
    return this.entries.length - this.head;
  }

  get retainedBytes(): number {
    return this.retainedBytesValue;
  }

  /** Every record at or below this LSN has been dropped from the window. */
  get trimmedThrough(): Lsn {
    return this.trimmedThroughValue;
  }

  first(): RetainedRecord | undefined {
    return this.entries[this.head];
  }

  last(): RetainedRecord | undefined {
    return this.size > 0 ? this.entries[this.entries.length - 1] : undefined;
  }

  at(index: number): RetainedRecord {
    return this.entries[this.head + index]!;
  }

  /** Index of the first record with LSN > lsn (size when none). */
  indexAfter(lsn: Lsn): number {
    let lo = this.head;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.lsn <= lsn) lo = mid + 1;
      else hi = mid;
    }
    return lo - this.head;
  }

  /** Bytes of the retained records with LSN > lsn. */
  bytesAfter(lsn: Lsn): number {
    const index = this.indexAfter(lsn);
    if (index === 0) return this.retainedBytesValue;
    return this.appendedBytes - this.at(index - 1).cumulativeBytes;
  }

  dropFirst(): RetainedRecord {
    const entry = this.entries[this.head];
    assert(entry !== undefined, "drop from an empty retained log");
    this.head++;
    this.retainedBytesValue -= entry.bytes.length;
    this.trimmedThroughValue = entry.lsn;
    if (this.head > 4096 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    return entry;
  }
}
