import { type GroupId, type NodeId, type PageId, type PageKey, pageKey } from "../../services/common/ids.js";
import type { Lsn } from "../../services/common/lsn.js";
import { newZeroPage, pageLsn } from "../../services/common/page.js";
import { type LogRecord, decodeRecords, encodeRecords } from "../../services/common/record.js";
import { redo } from "../../services/common/redo.js";
import { BufferPool, type DurableView, type PageSource } from "../../services/compute/access/buffer-pool.js";
import type { LogAppender } from "../../services/compute/access/mtr.js";
import type { RecordDraft } from "../../services/compute/log/log-writer.js";
import type { PageImage } from "../../services/compute/storage/page-client.js";

/**
 * An in-memory volume for access-layer tests: the log keeps every record and
 * "storage" materializes pages from them with the pure redo, exactly as a
 * storage node does, so reads after an eviction return storage's version.
 * Every record is durable at once (VDL = last LSN), so the pool may evict.
 */
export class MemoryVolume implements LogAppender, DurableView, PageSource {
  readonly records: LogRecord[] = [];
  private readonly stored = new Map<PageKey, Uint8Array>();
  lastLsn = 0 as Lsn;
  /** Reads wait this many event-loop turns (a seeded choice), so concurrent operations interleave. */
  private random: () => number;

  constructor(seed = 1) {
    this.random = mulberry32(seed);
  }

  append(drafts: readonly RecordDraft[]): LogRecord[] {
    const out = drafts.map((d, i): LogRecord => {
      const lsn = (this.lastLsn + 1 + i) as Lsn;
      return { ...d, lsn, prevLsnOfGroup: (lsn - 1) as Lsn, endsMtr: i === drafts.length - 1 };
    });
    this.lastLsn = out[out.length - 1]!.lsn;
    for (const r of out) {
      const key = pageKey(r.pageId);
      this.stored.set(key, redo(this.stored.get(key) ?? null, r));
      this.records.push(r);
    }
    return out;
  }

  vdl(): Lsn {
    return this.lastLsn;
  }

  scl(_node: NodeId, _group: GroupId): Lsn {
    return this.lastLsn;
  }

  async getPage(page: PageId): Promise<PageImage> {
    const turns = Math.floor(this.random() * 3);
    for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
    const image = this.stored.get(pageKey(page))?.slice() ?? newZeroPage();
    return { page: image, pageLsn: pageLsn(image) };
  }

  pool(capacityPages = 64): BufferPool {
    return new BufferPool(this, this, capacityPages);
  }

  /** Storage's page (materialized record by record). */
  storedPage(page: PageId): Uint8Array | undefined {
    return this.stored.get(pageKey(page));
  }

  /** Every page, materialized from scratch from the encoded log (what a node without images would do). */
  replayAll(): Map<PageKey, Uint8Array> {
    const out = new Map<PageKey, Uint8Array>();
    for (const r of decodeRecords(encodeRecords(this.records))) {
      out.set(pageKey(r.pageId), redo(out.get(pageKey(r.pageId)) ?? null, r));
    }
    return out;
  }
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function samePage(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}
