import {
  TUPLE_HEADER_BYTES,
  encodeHeapTuple,
  heapFits,
  heapSlotCount,
  heapSlotUsed,
  heapTupleData,
  heapTupleHeader,
} from "../../common/heap-page.js";
import { type PageId, type Xid, pageId } from "../../common/ids.js";
import { PageKind, pageKind } from "../../common/page.js";
import { RecordKind } from "../../common/record.js";
import { heapInsertPayload, heapPrunePayload, heapSetXmaxPayload, pageInitPayload } from "../../common/redo.js";
import type { BufferPool } from "./buffer-pool.js";
import type { TupleId } from "./database.js";
import { type LogAppender, Mtr } from "./mtr.js";
import { RelationSizes } from "./relation-size.js";
import type { VersionHeader } from "./xact.js";

export interface HeapVersion extends VersionHeader {
  readonly tid: TupleId;
  readonly data: Uint8Array;
}

/** Largest row a heap page takes (no TOAST yet). */
export const HEAP_ROW_BYTES_MAX = 8192 - 24 - 4 - TUPLE_HEADER_BYTES;

/**
 * Heap relations: slotted pages, extended one block at a time. The number of
 * blocks is not stored: blocks are formatted in order, so the first block
 * storage returns unformatted is the end (found once per relation by a
 * binary search, then tracked here). Inserts go to the last block, or first
 * to a block VACUUM freed space on: those are kept in memory only (a free
 * space map that starts empty after a restart, until the next VACUUM).
 */
export class HeapStore {
  private readonly sizes: RelationSizes;
  /** Per relfile, blocks VACUUM pruned that may take new tuples, in the order they were freed. */
  private readonly withSpace = new Map<number, Set<number>>();

  constructor(
    private readonly pool: BufferPool,
    private readonly log: LogAppender,
  ) {
    this.sizes = new RelationSizes(pool);
  }

  blockCount(relfile: number): Promise<number> {
    return this.sizes.count(relfile);
  }

  /** Inserts a tuple version; returns where it went. One MTR (two when the relation grows). */
  async insert(relfile: number, xmin: Xid, cid: number, natts: number, data: Uint8Array): Promise<TupleId> {
    const tuple = encodeHeapTuple({ xmin, xmax: 0 as Xid, cid, infomask: 0, natts }, data);
    const reused = await this.insertIntoFreedBlock(relfile, tuple);
    if (reused !== undefined) return reused;
    let count = await this.blockCount(relfile);
    if (count > 0) await this.pool.get(pageId(relfile, count - 1));
    count = this.sizes.known(relfile)!; // may have grown while we waited
    const last = count > 0 ? this.pool.peek(pageId(relfile, count - 1)) : undefined;
    if (last !== undefined && heapFits(last, tuple.length)) {
      const slot = heapSlotCount(last);
      new Mtr(this.pool, this.log)
        .change(pageId(relfile, count - 1), RecordKind.HeapInsert, heapInsertPayload(slot, tuple))
        .commit();
      return { block: count - 1, slot };
    }
    if (last === undefined && count > 0) return this.insert(relfile, xmin, cid, natts, data); // evicted meanwhile
    const page: PageId = pageId(relfile, count);
    new Mtr(this.pool, this.log)
      .change(page, RecordKind.PageInit, pageInitPayload(PageKind.Heap))
      .change(page, RecordKind.HeapInsert, heapInsertPayload(0, tuple))
      .commit();
    this.sizes.set(relfile, count + 1);
    return { block: count, slot: 0 };
  }

  /**
   * Tries the blocks VACUUM freed space on, forgetting those too full for
   * this tuple. The new tuple always takes a new line pointer at the end of
   * the array, never a pruned one: an index entry or update link that still
   * names a pruned slot must keep finding nothing there, not another row.
   */
  private async insertIntoFreedBlock(relfile: number, tuple: Uint8Array): Promise<TupleId | undefined> {
    const blocks = this.withSpace.get(relfile);
    if (blocks === undefined) return undefined;
    for (const block of blocks) {
      const id = pageId(relfile, block);
      await this.pool.get(id);
      const page = this.pool.peek(id);
      if (page === undefined) continue; // evicted meanwhile: try it next time
      if (pageKind(page) !== PageKind.Heap || !heapFits(page, tuple.length)) {
        blocks.delete(block);
        continue;
      }
      const slot = heapSlotCount(page);
      new Mtr(this.pool, this.log).change(id, RecordKind.HeapInsert, heapInsertPayload(slot, tuple)).commit();
      return { block, slot };
    }
    if (blocks.size === 0) this.withSpace.delete(relfile);
    return undefined;
  }

  /**
   * VACUUM's prune of one block: one HeapPrune MTR freeing `slots` (those
   * still in use: a slot pruned meanwhile is skipped), after which inserts
   * may use the block again. Returns how many slots were freed. The caller
   * removes the versions' index entries first.
   */
  async prune(relfile: number, block: number, slots: readonly number[]): Promise<number> {
    const id = pageId(relfile, block);
    for (;;) {
      await this.pool.get(id);
      const page = this.pool.peek(id);
      if (page === undefined) continue; // evicted between the read and now
      const live = slots.filter((slot) => heapSlotUsed(page, slot));
      if (live.length > 0) {
        new Mtr(this.pool, this.log).change(id, RecordKind.HeapPrune, heapPrunePayload(live)).commit();
      }
      let blocks = this.withSpace.get(relfile);
      if (blocks === undefined) {
        blocks = new Set();
        this.withSpace.set(relfile, blocks);
      }
      blocks.add(block);
      return live.length;
    }
  }

  /**
   * The versions on one block (all of them but pruned slots; visibility is
   * the caller's). The row bytes are copies: VACUUM's prune moves tuples
   * within the page while a reader may still be awaiting between read and decode.
   */
  async readBlock(relfile: number, block: number): Promise<HeapVersion[]> {
    const page = await this.pool.get(pageId(relfile, block));
    const out: HeapVersion[] = [];
    if (pageKind(page) !== PageKind.Heap) return out;
    const slots = heapSlotCount(page);
    for (let slot = 0; slot < slots; slot++) {
      if (!heapSlotUsed(page, slot)) continue;
      const h = heapTupleHeader(page, slot);
      out.push({
        tid: { block, slot },
        xmin: h.xmin,
        xmax: h.xmax,
        cid: h.cid,
        data: heapTupleData(page, slot).slice(),
      });
    }
    return out;
  }

  /**
   * One version, or undefined when the slot does not exist (a tid from an
   * index of a truncated relfile) or was pruned by VACUUM.
   */
  async readVersion(relfile: number, tid: TupleId): Promise<HeapVersion | undefined> {
    const page = await this.pool.get(pageId(relfile, tid.block));
    if (pageKind(page) !== PageKind.Heap || !heapSlotUsed(page, tid.slot)) return undefined;
    const h = heapTupleHeader(page, tid.slot);
    return { tid, xmin: h.xmin, xmax: h.xmax, cid: h.cid, data: heapTupleData(page, tid.slot).slice() };
  }

  /** The header of a version whose page is cached, undefined when it is not cached, null when the slot was pruned. */
  peekHeader(relfile: number, tid: TupleId): VersionHeader | null | undefined {
    const page = this.pool.peek(pageId(relfile, tid.block));
    if (page === undefined) return undefined;
    if (pageKind(page) !== PageKind.Heap || !heapSlotUsed(page, tid.slot)) return null;
    const h = heapTupleHeader(page, tid.slot);
    return { xmin: h.xmin, xmax: h.xmax, cid: h.cid };
  }

  /** Brings the page of `tid` into the pool; read its header with `peekHeader` right after. */
  async pin(relfile: number, tid: TupleId): Promise<void> {
    await this.pool.get(pageId(relfile, tid.block));
  }

  /** Sets xmax (delete, or the old half of an update). The page must be pinned just before. */
  setXmax(relfile: number, tid: TupleId, xmax: Xid): void {
    new Mtr(this.pool, this.log)
      .change(pageId(relfile, tid.block), RecordKind.HeapSetXmax, heapSetXmaxPayload(tid.slot, xmax, 0))
      .commit();
  }
}
