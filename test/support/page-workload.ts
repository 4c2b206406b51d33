import { encodeHeapTuple, heapFits, heapSlotCount } from "../../services/common/heap-page.js";
import { type PageId, type PageKey, type Xid, pageId, pageIdOfKey, pageKey } from "../../services/common/ids.js";
import { INVALID_LSN } from "../../services/common/lsn.js";
import { PageKind, newZeroPage, pageLsn } from "../../services/common/page.js";
import { type LogRecord, RecordKind } from "../../services/common/record.js";
import { heapInsertPayload, pageInitPayload, redoInPlace } from "../../services/common/redo.js";
import type { RecordDraft } from "../../services/compute/log/log-writer.js";

/**
 * A page-level workload for the log without SQL: MTRs of heap inserts over
 * many pages and relations (so over many groups), applied to local pages
 * with the shared `redo` exactly as compute will. Snapshots keep copies of
 * every page at chosen LSNs to compare with what storage serves.
 */
export class PageWorkload {
  readonly pages = new Map<PageKey, Uint8Array>();
  private readonly fillBlock: number[]; // per relation: the block being filled
  private seed: number;
  private counter = 0;

  constructor(
    readonly relations: number,
    seed = 1,
  ) {
    this.fillBlock = new Array(relations).fill(0);
    this.seed = seed >>> 0 || 1;
  }

  private random(n: number): number {
    this.seed ^= this.seed << 13;
    this.seed ^= this.seed >>> 17;
    this.seed ^= this.seed << 5;
    return (this.seed >>> 0) % n;
  }

  /** The next MTR: 1–3 inserts on distinct pages (one record per page, so back-links are known). */
  nextMtr(): RecordDraft[] {
    const count = 1 + this.random(3);
    const drafts: RecordDraft[] = [];
    const used = new Set<PageKey>();
    for (let i = 0; i < count; i++) {
      const rel = this.random(this.relations);
      const page = this.pageWithRoom(rel);
      const key = pageKey(page);
      if (used.has(key)) continue;
      used.add(key);
      const image = this.pages.get(key);
      if (image === undefined) {
        // A page's first record formats it; its insert comes in a later MTR.
        drafts.push({
          pageId: page,
          prevLsnOfPage: INVALID_LSN,
          kind: RecordKind.PageInit,
          payload: pageInitPayload(PageKind.Heap),
        });
        continue;
      }
      const tuple = this.tuple();
      drafts.push({
        pageId: page,
        prevLsnOfPage: pageLsn(image),
        kind: RecordKind.HeapInsert,
        payload: heapInsertPayload(heapSlotCount(image), tuple),
      });
    }
    return drafts;
  }

  private tuple(): Uint8Array {
    const n = ++this.counter;
    const data = new TextEncoder().encode(`row ${n} ${"x".repeat(this.random(60))}`);
    return encodeHeapTuple({ xmin: n as Xid, xmax: 0 as Xid, cid: 0, infomask: 0, natts: 1 }, data);
  }

  private pageWithRoom(rel: number): PageId {
    for (;;) {
      const page = pageId(100 + rel, this.fillBlock[rel]!);
      const image = this.pages.get(pageKey(page));
      if (image === undefined || heapFits(image, 24 + 16 + 60)) return page;
      // Spread relations over several placement chunks (and so groups).
      this.fillBlock[rel] = this.fillBlock[rel]! + 1 + (this.random(4) === 0 ? 128 : 0);
    }
  }

  /** Applies appended records to the local pages with the shared redo. */
  apply(records: readonly LogRecord[]): void {
    for (const record of records) {
      const key = pageKey(record.pageId);
      let image = this.pages.get(key);
      if (image === undefined) {
        image = newZeroPage();
        this.pages.set(key, image);
      }
      redoInPlace(image, record);
    }
  }

  snapshot(): Map<PageKey, Uint8Array> {
    return new Map([...this.pages].map(([k, v]) => [k, v.slice()]));
  }

  static pageIdOf(key: PageKey): PageId {
    return pageIdOfKey(key);
  }
}
