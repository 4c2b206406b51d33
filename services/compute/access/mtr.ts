import { assert } from "../../common/assert.js";
import { type PageId, type PageKey, pageKey } from "../../common/ids.js";
import type { Lsn } from "../../common/lsn.js";
import { newZeroPage, pageLsn } from "../../common/page.js";
import { type LogRecord, RecordKind } from "../../common/record.js";
import { redoInPlace } from "../../common/redo.js";
import type { RecordDraft } from "../log/log-writer.js";
import type { BufferPool } from "./buffer-pool.js";

/** Appends an MTR's records to the log (LogService in production). */
export interface LogAppender {
  append(drafts: readonly RecordDraft[]): LogRecord[];
  readonly lastLsn: Lsn;
}

interface Change {
  readonly pageId: PageId;
  readonly kind: RecordKind;
  readonly payload: Uint8Array;
}

/**
 * A mini-transaction: the records of one atomic multi-page change. Build it
 * with `change`, then `commit` appends all records as one contiguous LSN
 * range and applies them to the pool's buffers with the shared redo, in one
 * synchronous step (invariants 1 and 7). Every page must be pinned first.
 */
export class Mtr {
  private readonly changes: Change[] = [];

  constructor(
    private readonly pool: BufferPool,
    private readonly log: LogAppender,
  ) {}

  change(pageId: PageId, kind: RecordKind, payload: Uint8Array): this {
    this.changes.push({ pageId, kind, payload });
    return this;
  }

  /** Appends and applies; returns the LSN of the last record (the consistency point). */
  commit(): Lsn {
    assert(this.changes.length > 0, "empty MTR");
    const base = this.log.lastLsn + 1;
    const lastOfPage = new Map<PageKey, Lsn>();
    const drafts: RecordDraft[] = this.changes.map((c, i) => {
      const key = pageKey(c.pageId);
      const buffer = this.pool.peek(c.pageId);
      const prev = lastOfPage.get(key) ?? (buffer === undefined ? (0 as Lsn) : pageLsn(buffer));
      lastOfPage.set(key, (base + i) as Lsn);
      return { pageId: c.pageId, prevLsnOfPage: prev, kind: c.kind, payload: c.payload };
    });
    for (const c of this.changes) {
      if (this.pool.peek(c.pageId) !== undefined) continue;
      // Only a page being formatted may be missing: any other must have been pinned.
      assert(c.kind === RecordKind.PageInit, "MTR on a page that is not pinned");
      this.pool.adoptNew(c.pageId, newZeroPage());
    }
    const records = this.log.append(drafts);
    assert(records[0]!.lsn === base, "MTR LSNs must be contiguous from the log's last LSN");
    for (const record of records) redoInPlace(this.pool.peek(record.pageId)!, record);
    this.pool.trim();
    return records[records.length - 1]!.lsn;
  }
}
