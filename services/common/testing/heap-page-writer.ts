import { type PageId, pageId } from "../ids.js";
import { INVALID_LSN, lsn } from "../lsn.js";
import { PageKind, pageLsn } from "../page.js";
import { type LogRecord, RecordKind } from "../record.js";
import { pageInitPayload, redo } from "../redo.js";

/**
 * For tests of heap page records: a heap page changed the only allowed way,
 * by making a record and applying redo, with every record kept so a test can
 * replay them as storage would.
 */
export class HeapPageWriter {
  page: Uint8Array;
  readonly records: LogRecord[] = [];

  constructor(readonly id: PageId = pageId(16384, 0)) {
    this.page = this.apply(RecordKind.PageInit, pageInitPayload(PageKind.Heap), null);
  }

  apply(kind: RecordKind, payload: Uint8Array, page: Uint8Array | null = this.page): Uint8Array {
    const record: LogRecord = {
      lsn: lsn(this.records.length + 1),
      pageId: this.id,
      prevLsnOfPage: page === null ? INVALID_LSN : pageLsn(page),
      prevLsnOfGroup: INVALID_LSN,
      kind,
      endsMtr: true,
      payload,
    };
    this.records.push(record);
    this.page = redo(page, record);
    return this.page;
  }
}
