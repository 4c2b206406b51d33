import { type PrunePlan, type VersionFate, hotChain, planChangesPage, planHeapPrune } from "../../common/heap-chain.js";
import {
  HEAP_ONLY_TUPLE,
  type HeapTupleHeader,
  LINE_POINTER_BYTES,
  TUPLE_HEADER_BYTES,
  encodeHeapTuple,
  heapFits,
  heapFitsTuple,
  heapFreeBytes,
  heapInsertSlot,
  heapSlotCount,
  heapSlotUsed,
  heapTupleData,
  heapTupleHeader,
} from "../../common/heap-page.js";
import { type PageId, type Xid, pageId } from "../../common/ids.js";
import { PageKind, initPageHeader, newZeroPage, pageKind } from "../../common/page.js";
import { RecordKind } from "../../common/record.js";
import {
  heapHotUpdatePayload,
  heapInsertPayload,
  heapMultiInsertPayload,
  heapPrunePayload,
  heapSetXmaxPayload,
  pageInitPayload,
} from "../../common/redo.js";
import type { BufferPool } from "./buffer-pool.js";
import type { TupleId } from "./database.js";
import { type LogAppender, Mtr } from "./mtr.js";
import { RelationSizes } from "./relation-size.js";
import type { VersionHeader } from "./xact.js";

export interface HeapVersion extends VersionHeader {
  readonly tid: TupleId;
  readonly data: Uint8Array;
}

/**
 * What a prune needs from the transaction manager: commit status loaded
 * for a page's xids, then a synchronous verdict per version ("live" when
 * a status is not loaded).
 */
export interface PruneOracle {
  load(xids: readonly number[]): Promise<void>;
  fate(h: HeapTupleHeader): VersionFate;
}

/** Outcome of one page's prune: the plan it applied. */
export interface PruneResult {
  readonly plan: PrunePlan;
  /** Tuples left on the page after the prune. */
  readonly remaining: number;
}

/** Largest row a heap page takes (no TOAST yet). */
export const HEAP_ROW_BYTES_MAX = 8192 - 24 - 4 - TUPLE_HEADER_BYTES;

function versionAt(page: Uint8Array, tid: TupleId): HeapVersion {
  const h = heapTupleHeader(page, tid.slot);
  return { tid, xmin: h.xmin, xmax: h.xmax, cid: h.cid, data: heapTupleData(page, tid.slot).slice() };
}

/** The free bytes of a freshly formatted heap page. */
const EMPTY_PAGE_FREE_BYTES = (() => {
  const page = newZeroPage();
  initPageHeader(page, PageKind.Heap);
  return heapFreeBytes(page);
})();

const NO_PRUNE: PrunePlan = { unused: [], redirects: [], deadChains: [], freedTuples: 0 };

function pageXids(page: Uint8Array): number[] {
  const xids: number[] = [];
  const count = heapSlotCount(page);
  for (let slot = 0; slot < count; slot++) {
    if (!heapSlotUsed(page, slot)) continue;
    const h = heapTupleHeader(page, slot);
    xids.push(h.xmin, h.xmax);
  }
  return xids;
}

/**
 * Heap relations: slotted pages, extended one block at a time. The number of
 * blocks is not stored: blocks are formatted in order, so the first block
 * storage returns unformatted is the end (found once per relation by a
 * binary search, then tracked here). Inserts go to the last block, or first
 * to a block a prune freed space on: those are kept in memory only (a free
 * space map that starts empty after a restart, until the next VACUUM). An
 * UPDATE that changes no indexed column stays on its page when it fits (HOT,
 * common/heap-chain.ts).
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
    if (last !== undefined && heapFitsTuple(last, tuple.length)) {
      const slot = heapInsertSlot(last);
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
   * A bulk insert (COPY), as PostgreSQL's heap_multi_insert: fills the last
   * block, then new ones, with one HeapMultiInsert record per page (after a
   * PageInit on a new page), each page its own MTR. New tuples take new line
   * pointers. Returns the tids in input order.
   */
  async insertMany(
    relfile: number,
    xmin: Xid,
    cid: number,
    natts: number,
    rows: readonly Uint8Array[],
  ): Promise<TupleId[]> {
    const tuples = rows.map((data) => encodeHeapTuple({ xmin, xmax: 0 as Xid, cid, infomask: 0, natts }, data));
    const tids: TupleId[] = [];
    let next = 0;
    while (next < tuples.length) {
      let count = await this.blockCount(relfile);
      if (count > 0) await this.pool.get(pageId(relfile, count - 1));
      count = this.sizes.known(relfile)!; // may have grown while we waited
      const last = count > 0 ? this.pool.peek(pageId(relfile, count - 1)) : undefined;
      if (last === undefined && count > 0) continue; // evicted meanwhile
      const fresh = last === undefined || !heapFits(last, tuples[next]!.length);
      const block = fresh ? count : count - 1;
      let free = fresh ? EMPTY_PAGE_FREE_BYTES : heapFreeBytes(last!);
      let slot = fresh ? 0 : heapSlotCount(last!);
      const batch: { slot: number; tuple: Uint8Array }[] = [];
      for (let t = tuples[next]; t !== undefined && free >= t.length + LINE_POINTER_BYTES; t = tuples[next]) {
        batch.push({ slot, tuple: t });
        free -= t.length + LINE_POINTER_BYTES;
        slot++;
        next++;
      }
      if (batch.length === 0) throw new Error(`a tuple of ${tuples[next]!.length} bytes fits no heap page`);
      const id = pageId(relfile, block);
      const mtr = new Mtr(this.pool, this.log);
      if (fresh) mtr.change(id, RecordKind.PageInit, pageInitPayload(PageKind.Heap));
      mtr.change(id, RecordKind.HeapMultiInsert, heapMultiInsertPayload(batch)).commit();
      if (fresh) this.sizes.set(relfile, count + 1);
      for (const b of batch) tids.push({ block, slot: b.slot });
    }
    return tids;
  }

  /**
   * Tries the blocks VACUUM freed space on, forgetting those too full for
   * this tuple. The tuple may take a line pointer a prune made unused (see
   * heapSlotCount for why that is safe).
   */
  private async insertIntoFreedBlock(relfile: number, tuple: Uint8Array): Promise<TupleId | undefined> {
    const blocks = this.withSpace.get(relfile);
    if (blocks === undefined) return undefined;
    for (const block of blocks) {
      const id = pageId(relfile, block);
      await this.pool.get(id);
      const page = this.pool.peek(id);
      if (page === undefined) continue; // evicted meanwhile: try it next time
      if (pageKind(page) !== PageKind.Heap || !heapFitsTuple(page, tuple.length)) {
        blocks.delete(block);
        continue;
      }
      const slot = heapInsertSlot(page);
      new Mtr(this.pool, this.log).change(id, RecordKind.HeapInsert, heapInsertPayload(slot, tuple)).commit();
      return { block, slot };
    }
    if (blocks.size === 0) this.withSpace.delete(relfile);
    return undefined;
  }

  /**
   * Prunes one block (common/heap-chain.ts): on access when `cleaned` is
   * empty, or for VACUUM, which names the dead chains whose index entries it
   * removed. One HeapPrune MTR when anything changes; a block that freed
   * space is remembered for inserts.
   */
  async prune(
    relfile: number,
    block: number,
    oracle: PruneOracle,
    cleaned?: ReadonlySet<number>,
  ): Promise<PruneResult> {
    const id = pageId(relfile, block);
    for (;;) {
      await oracle.load(pageXids(await this.pool.get(id)));
      const page = this.pool.peek(id);
      if (page === undefined) continue; // evicted between the read and now
      if (pageKind(page) !== PageKind.Heap) return { plan: NO_PRUNE, remaining: 0 };
      const result = this.pruneCached(id, page, oracle, cleaned);
      if (result.plan.freedTuples > 0) this.noteSpace(relfile, block);
      return result;
    }
  }

  /**
   * Whether every version of the chain at `root` is dead (true for an unused
   * slot), judged on the cached page without awaiting; false when the page
   * is not cached.
   */
  peekChainDead(relfile: number, root: TupleId, oracle: PruneOracle): boolean {
    const page = this.pool.peek(pageId(relfile, root.block));
    if (page === undefined || pageKind(page) !== PageKind.Heap) return false;
    return hotChain(page, root.slot).every((slot) => oracle.fate(heapTupleHeader(page, slot)) === "dead");
  }

  /** VACUUM's first look at a block: the chains whose every version is dead, with the newest version's bytes. */
  async deadChains(relfile: number, block: number, oracle: PruneOracle): Promise<{ root: number; data: Uint8Array }[]> {
    const id = pageId(relfile, block);
    for (;;) {
      await oracle.load(pageXids(await this.pool.get(id)));
      const page = this.pool.peek(id);
      if (page === undefined) continue;
      if (pageKind(page) !== PageKind.Heap) return [];
      const plan = planHeapPrune(page, (h) => oracle.fate(h));
      return plan.deadChains.map((c) => ({ root: c.root, data: heapTupleData(page, c.keySlot).slice() }));
    }
  }

  /** Synchronous part of a prune, on a page in the pool whose xids' statuses are loaded. */
  private pruneCached(id: PageId, page: Uint8Array, oracle: PruneOracle, cleaned?: ReadonlySet<number>): PruneResult {
    const plan = planHeapPrune(page, (h) => oracle.fate(h), cleaned);
    if (planChangesPage(plan)) {
      new Mtr(this.pool, this.log).change(id, RecordKind.HeapPrune, heapPrunePayload(plan)).commit();
    }
    let remaining = 0;
    const count = heapSlotCount(page);
    for (let slot = 0; slot < count; slot++) if (heapSlotUsed(page, slot)) remaining++;
    return { plan, remaining };
  }

  private noteSpace(relfile: number, block: number): void {
    let blocks = this.withSpace.get(relfile);
    if (blocks === undefined) {
      blocks = new Set();
      this.withSpace.set(relfile, blocks);
    }
    blocks.add(block);
  }

  /**
   * The new half of an UPDATE that changes no indexed column (the old
   * version's xmax is already set): a heap-only version on the old one's
   * page, linked from it, in one HeapHotUpdate record. When the page is
   * full it is pruned first (PostgreSQL's heap_page_prune_opt). Returns
   * undefined when it still does not fit: the caller inserts elsewhere,
   * with index entries.
   */
  async hotUpdate(
    relfile: number,
    old: TupleId,
    xmin: Xid,
    cid: number,
    natts: number,
    data: Uint8Array,
    oracle: PruneOracle,
  ): Promise<TupleId | undefined> {
    const tuple = encodeHeapTuple({ xmin, xmax: 0 as Xid, cid, infomask: HEAP_ONLY_TUPLE, natts }, data);
    const id = pageId(relfile, old.block);
    for (let pruned = false; ; ) {
      const page = await this.pool.get(id);
      if (!heapFitsTuple(page, tuple.length)) {
        if (pruned) return undefined;
        await oracle.load(pageXids(page));
        const cached = this.pool.peek(id);
        if (cached === undefined) continue;
        this.pruneCached(id, cached, oracle);
        pruned = true;
        continue;
      }
      if (!heapSlotUsed(page, old.slot)) return undefined; // cannot happen: our xmax keeps it
      const slot = heapInsertSlot(page);
      new Mtr(this.pool, this.log)
        .change(id, RecordKind.HeapHotUpdate, heapHotUpdatePayload(old.slot, slot, tuple))
        .commit();
      return { block: old.block, slot };
    }
  }

  /**
   * The versions of the HOT chain an index entry names (its root), oldest
   * first; [] when the root holds nothing any more. Row bytes are copies.
   */
  async readChain(relfile: number, root: TupleId): Promise<HeapVersion[]> {
    const page = await this.pool.get(pageId(relfile, root.block));
    if (pageKind(page) !== PageKind.Heap) return [];
    return hotChain(page, root.slot).map((slot) => versionAt(page, { block: root.block, slot }));
  }

  /** Every HOT chain on one block: its root slot and versions, oldest first (row bytes are copies). */
  async readChains(relfile: number, block: number): Promise<{ root: number; versions: HeapVersion[] }[]> {
    const page = await this.pool.get(pageId(relfile, block));
    if (pageKind(page) !== PageKind.Heap) return [];
    const out: { root: number; versions: HeapVersion[] }[] = [];
    const count = heapSlotCount(page);
    for (let root = 0; root < count; root++) {
      const versions = hotChain(page, root).map((slot) => versionAt(page, { block, slot }));
      if (versions.length > 0) out.push({ root, versions });
    }
    return out;
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
