import { assert } from "../../common/assert.js";
import {
  BTREE_KEY_BYTES_MAX,
  BTREE_NO_SIBLING,
  btreeContent,
  btreeFits,
  btreeItem,
  btreeItemCount,
  btreeLevel,
  btreeMeta,
  btreeRightLink,
  compareEntries,
  compareItemKeyToBound,
  encodeEntry,
  entryKey,
  entryTid,
  internalChild,
  internalChildIndex,
  internalItem,
  internalSeparator,
  leafLowerBound,
} from "../../common/btree-page.js";
import { type PageId, pageId } from "../../common/ids.js";
import { PageKind, pageKind } from "../../common/page.js";
import { RecordKind } from "../../common/record.js";
import {
  btreeDeletePayload,
  btreeInsertPayload,
  btreeMetaSetPayload,
  btreeWritePayload,
  pageInitPayload,
} from "../../common/redo.js";
import { AccessFailure } from "./access-error.js";
import { buildBtree } from "./btree-build.js";
import { SPLIT_FRACTION_MIDDLE, SPLIT_FRACTION_RIGHTMOST, planSplit } from "./btree-split.js";
import type { BufferPool } from "./buffer-pool.js";
import type { TupleId } from "./database.js";
import { type LogAppender, Mtr } from "./mtr.js";
import { RelationSizes } from "./relation-size.js";

export { BTREE_KEY_BYTES_MAX } from "../../common/btree-page.js";

export interface IndexEntry {
  readonly key: Uint8Array;
  readonly tid: TupleId;
}

export interface KeyBound {
  readonly key: Uint8Array;
  readonly inclusive: boolean;
}

/** Tries of one insert or delete before we call it a bug (each try loads what the last one missed). */
const ATTEMPTS_MAX = 1000;
const META_BLOCK = 0;

/** The pages from the root down to the leaf for one entry, all cached. */
interface CachedPath {
  readonly blocks: readonly number[];
  readonly pages: readonly Uint8Array[];
}

/**
 * B-tree indexes (page layout in services/common/btree-page.ts): entries are
 * (key bytes, heap tid), unique and ordered; keys come from index-key.ts.
 *
 * Concurrency on one event loop: an insert or delete first walks the tree
 * with awaits, which only brings the pages into the pool; it then walks it
 * again synchronously from the cache and builds and commits its MTR in that
 * same synchronous step, so it always acts on the tree as it is. If a page
 * on the way is not cached (evicted, or a split made a new one), it loads
 * and tries again. A split (both halves, the parent's downlink, maybe a new
 * root and the metapage, recursively up) is one MTR.
 *
 * Scans follow right links (Lehman-Yao): entries only ever move right (a
 * split keeps the left half in place; pages are never merged), so a scan
 * that read a leaf can go on at that leaf's right sibling after any number
 * of splits, skipping entries not strictly after the last one it returned.
 */
export class BtreeStore {
  private readonly sizes: RelationSizes;
  /** Walks that found part of their path uncached after loading it (observability and tests). */
  retries = 0;

  constructor(
    private readonly pool: BufferPool,
    private readonly log: LogAppender,
  ) {
    this.sizes = new RelationSizes(pool);
  }

  /** Formats the metapage and an empty root leaf of a new index relfile (one MTR). */
  async create(relfile: number): Promise<void> {
    const meta = pageId(relfile, META_BLOCK);
    const root = pageId(relfile, 1);
    new Mtr(this.pool, this.log)
      .change(meta, RecordKind.PageInit, pageInitPayload(PageKind.BtreeMeta))
      .change(meta, RecordKind.BtreeMetaSet, btreeMetaSetPayload({ root: 1, height: 1 }))
      .change(root, RecordKind.PageInit, pageInitPayload(PageKind.BtreeLeaf))
      .change(
        root,
        RecordKind.BtreeWrite,
        btreeWritePayload({ kind: PageKind.BtreeLeaf, level: 0, rightLink: BTREE_NO_SIBLING, items: [] }),
      )
      .commit();
    this.sizes.set(relfile, 2);
  }

  /**
   * Builds a new index (a relfile never written) from entries sorted by
   * (key, tid): bottom-up, full pages, one BtreeWrite each (btree-build.ts).
   */
  async build(relfile: number, sorted: Iterable<IndexEntry>): Promise<void> {
    assert((await this.sizes.count(relfile)) === 0, () => `index build into relfile ${relfile}, which has pages`);
    const entries = (function* () {
      for (const e of sorted) yield checkedEntry(relfile, e);
    })();
    this.sizes.set(relfile, await buildBtree(this.pool, this.log, relfile, entries));
  }

  /** Adds (key, tid); splits pages as needed, each split being one MTR. */
  async insert(relfile: number, entry: IndexEntry): Promise<void> {
    const item = checkedEntry(relfile, entry);
    await this.retrying(relfile, item, (path) => this.insertInto(relfile, path, item));
  }

  /**
   * Removes (key, tid); false when absent, or when `unless` (asked at the
   * last moment, with nothing awaited between it and the removal) says the
   * entry is wanted after all.
   */
  async delete(relfile: number, entry: IndexEntry, unless?: () => boolean): Promise<boolean> {
    if (entry.key.length > BTREE_KEY_BYTES_MAX) return false; // never inserted
    const item = encodeEntry(entry.key, entry.tid);
    return this.retrying(relfile, item, (path) => {
      if (unless?.() === true) return false;
      const leaf = path.pages[path.pages.length - 1]!;
      const index = leafLowerBound(leaf, item);
      if (index === btreeItemCount(leaf) || compareEntries(btreeItem(leaf, index), item) !== 0) return false;
      const block = path.blocks[path.blocks.length - 1]!;
      new Mtr(this.pool, this.log)
        .change(pageId(relfile, block), RecordKind.BtreeDelete, btreeDeletePayload(index))
        .commit();
      return true;
    });
  }

  /**
   * Entries within the bounds in (key, tid) order, a leaf's worth at a time.
   * Bounds compare by key prefix: a bound of one column's encoding matches
   * every multi-column key that starts with it.
   */
  async *scan(relfile: number, lower?: KeyBound, upper?: KeyBound): AsyncIterable<readonly IndexEntry[]> {
    // Keys are compared in place (compareItemKeyToBound): a view per probe was most of a lookup's garbage.
    const upperMax = upper === undefined ? 0 : upper.inclusive ? 0 : -1;
    // Cached pages are read without awaiting (a point lookup then awaits nothing down here).
    let block = this.cachedLeafFor(relfile, lower) ?? (await this.leafFor(relfile, lower));
    let last: Uint8Array | undefined;
    while (block !== BTREE_NO_SIBLING) {
      const page = this.pool.peekBlock(relfile, block) ?? (await this.pool.get(pageId(relfile, block)));
      // From here to the yield nothing awaits: the page is read as one version.
      assert(pageKind(page) === PageKind.BtreeLeaf, () => `index ${relfile} block ${block} is not a leaf`);
      const count = btreeItemCount(page);
      const after = last;
      let index =
        after === undefined
          ? firstIndex(count, (i) => satisfiesLower(page, i, false, lower))
          : firstIndex(
              count,
              (i) => satisfiesLower(page, i, false, lower) && compareEntries(btreeItem(page, i), after) > 0,
            );
      const batch: IndexEntry[] = [];
      let done = false;
      for (; index < count; index++) {
        if (upper !== undefined && compareItemKeyToBound(page, index, false, upper.key) > upperMax) {
          done = true;
          break;
        }
        const item = btreeItem(page, index);
        batch.push({ key: entryKey(item).slice(), tid: entryTid(item) });
      }
      if (batch.length > 0) last = btreeItem(page, index - 1).slice();
      block = done ? BTREE_NO_SIBLING : btreeRightLink(page);
      if (batch.length > 0) yield batch;
    }
  }

  /** `leafFor` from cached pages only, synchronously; undefined when one on the way is not cached. */
  private cachedLeafFor(relfile: number, lower: KeyBound | undefined): number | undefined {
    const meta = this.pool.peekBlock(relfile, META_BLOCK);
    if (meta === undefined) return undefined;
    const { root, height } = btreeMeta(meta);
    let block = root;
    for (let level = height - 1; level > 0; level--) {
      const page = this.pool.peekBlock(relfile, block);
      if (page === undefined) return undefined;
      assert(btreeLevel(page) === level, () => `index ${relfile} block ${block} is not at level ${level}`);
      block = internalChild(btreeItem(page, lastBeforeLower(page, lower)));
    }
    return block;
  }

  /** The leftmost leaf that can hold an entry satisfying `lower` (the leftmost leaf without one). */
  private async leafFor(relfile: number, lower: KeyBound | undefined): Promise<number> {
    const { root, height } = btreeMeta(await this.pool.get(pageId(relfile, META_BLOCK)));
    let block = root;
    for (let level = height - 1; level > 0; level--) {
      const page = await this.pool.get(pageId(relfile, block));
      assert(btreeLevel(page) === level, () => `index ${relfile} block ${block} is not at level ${level}`);
      block = internalChild(btreeItem(page, lastBeforeLower(page, lower)));
    }
    return block;
  }

  /**
   * Runs `act` on the cached path to `item`'s leaf; when part of the path is
   * not cached, loads it (with awaits) and tries again.
   */
  private async retrying<T>(relfile: number, item: Uint8Array, act: (path: CachedPath) => T): Promise<T> {
    await this.sizes.count(relfile);
    for (let attempt = 0; attempt < ATTEMPTS_MAX; attempt++) {
      const path = this.cachedPath(relfile, item);
      if (path !== undefined) return act(path);
      if (attempt > 0) this.retries++;
      await this.load(relfile, item);
    }
    assert(false, () => `index ${relfile}: no cached path after ${ATTEMPTS_MAX} attempts`);
  }

  /** The path from the metapage to `item`'s leaf, synchronously; undefined when a page is not cached. */
  private cachedPath(relfile: number, item: Uint8Array): CachedPath | undefined {
    const blocks: number[] = [META_BLOCK];
    const pages: Uint8Array[] = [];
    let page = this.pool.peek(pageId(relfile, META_BLOCK));
    if (page === undefined) return undefined;
    pages.push(page);
    const { root, height } = btreeMeta(page);
    let block = root;
    for (let level = height - 1; ; level--) {
      page = this.pool.peek(pageId(relfile, block));
      if (page === undefined) return undefined;
      assert(btreeLevel(page) === level, () => `index ${relfile} block ${block} is not at level ${level}`);
      blocks.push(block);
      pages.push(page);
      if (level === 0) return { blocks, pages };
      block = internalChild(btreeItem(page, internalChildIndex(page, item)));
    }
  }

  /** Brings the path to `item`'s leaf into the pool (it may change while we wait: the caller re-walks it). */
  private async load(relfile: number, item: Uint8Array): Promise<void> {
    const meta = await this.pool.get(pageId(relfile, META_BLOCK));
    const { root, height } = btreeMeta(meta);
    let block = root;
    for (let level = height - 1; level > 0; level--) {
      const page = await this.pool.get(pageId(relfile, block));
      if (btreeLevel(page) !== level) return; // cannot happen (a block keeps its level); the re-walk asserts
      block = internalChild(btreeItem(page, internalChildIndex(page, item)));
    }
    await this.pool.get(pageId(relfile, block));
  }

  /** Inserts `item` into the leaf of `path`, splitting up the path as needed: one MTR. Synchronous. */
  private insertInto(relfile: number, path: CachedPath, entry: Uint8Array): void {
    const { blocks, pages } = path;
    const mtr = new Mtr(this.pool, this.log);
    let nextBlock = this.sizes.known(relfile)!;
    let item = entry;
    for (let i = blocks.length - 1; i >= 1; i--) {
      const page = pages[i]!;
      const block = blocks[i]!;
      const leaf = i === blocks.length - 1;
      const index = leaf ? leafLowerBound(page, item) : internalChildIndex(page, internalSeparator(item)) + 1;
      if (leaf && index < btreeItemCount(page)) {
        assert(compareEntries(btreeItem(page, index), item) !== 0, () => `index ${relfile}: entry inserted twice`);
      }
      if (btreeFits(page, item.length)) {
        mtr.change(pageId(relfile, block), RecordKind.BtreeInsert, btreeInsertPayload(index, item));
        break;
      }
      const content = btreeContent(page);
      const items = [...content.items];
      items.splice(index, 0, item);
      const atRightEnd = index === content.items.length && content.rightLink === BTREE_NO_SIBLING;
      const plan = planSplit(content.kind, items, atRightEnd ? SPLIT_FRACTION_RIGHTMOST : SPLIT_FRACTION_MIDDLE);
      const right = nextBlock++;
      write(mtr, pageId(relfile, block), { ...content, rightLink: right, items: plan.left }, false);
      write(mtr, pageId(relfile, right), { ...content, items: plan.right }, true);
      item = internalItem(right, plan.separator);
      if (i === 1) {
        const root = nextBlock++;
        const level = content.level + 1;
        write(
          mtr,
          pageId(relfile, root),
          {
            kind: PageKind.BtreeInternal,
            level,
            rightLink: BTREE_NO_SIBLING,
            items: [internalItem(block, null), item],
          },
          true,
        );
        const meta = pageId(relfile, META_BLOCK);
        mtr.change(meta, RecordKind.BtreeMetaSet, btreeMetaSetPayload({ root, height: level + 1 }));
      }
    }
    mtr.commit();
    this.sizes.set(relfile, nextBlock);
  }
}

function write(mtr: Mtr, page: PageId, content: Parameters<typeof btreeWritePayload>[0], fresh: boolean): void {
  if (fresh) mtr.change(page, RecordKind.PageInit, pageInitPayload(content.kind));
  mtr.change(page, RecordKind.BtreeWrite, btreeWritePayload(content));
}

/**
 * An entry's bytes; a key over the B-tree limit fails as PostgreSQL's does
 * (54000). The caller knows the index's name: check `BTREE_KEY_BYTES_MAX`
 * first to name it in the message, as PostgreSQL does.
 */
function checkedEntry(relfile: number, entry: IndexEntry): Uint8Array {
  if (entry.key.length > BTREE_KEY_BYTES_MAX) {
    throw new AccessFailure(
      "54000",
      `index row size ${entry.key.length} exceeds btree version 4 maximum ${BTREE_KEY_BYTES_MAX} for index with relfile ${relfile}`,
    );
  }
  return encodeEntry(entry.key, entry.tid);
}

/** The first index in [0, count) where `holds` is true, `holds` being false then true. */
/** Whether item `index`'s key (a separator's, for `internal`) is within `lower`. */
function satisfiesLower(page: Uint8Array, index: number, internal: boolean, lower: KeyBound | undefined): boolean {
  return lower === undefined || compareItemKeyToBound(page, index, internal, lower.key) >= (lower.inclusive ? 0 : 1);
}

/** Internal page: the last item whose separator is below `lower` (0, the minus-infinity item, when none is). */
function lastBeforeLower(page: Uint8Array, lower: KeyBound | undefined): number {
  let low = 1;
  let high = btreeItemCount(page);
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (!satisfiesLower(page, mid, true, lower)) low = mid + 1;
    else high = mid;
  }
  return low - 1;
}

function firstIndex(count: number, holds: (index: number) => boolean): number {
  let low = 0;
  let high = count;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (holds(mid)) high = mid;
    else low = mid + 1;
  }
  return low;
}
