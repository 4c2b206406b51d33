import { assert } from "./assert.js";
import { compareBytes, getU16, getU32, setU16, setU32 } from "./bytes.js";
import { PAGE_HEADER_BYTES, PAGE_SIZE_BYTES, PageKind, initPageHeader, pageKind } from "./page.js";

/**
 * B-tree pages (PostgreSQL nbtree-like, Lehman-Yao right-links, no high keys).
 *
 * Block 0 of an index relfile is the metapage (PageKind.BtreeMeta), body at 24:
 *   u32 root     block of the root page
 *   u32 height   number of levels (1: the root is a leaf)
 *
 * Every other block is a leaf (level 0) or internal page (level ≥ 1):
 *   24 …         item pointers, u16 offset + u16 length each, in item order;
 *                the header's `lower` is their end
 *   upper …      item bytes, packed against the special space (`upper` in the
 *                header is their start; a delete compacts them)
 *   8184  u32 right_link   next page on the same level (0 = none: block 0 is
 *                          the metapage, never a sibling)
 *   8188  u16 level
 *   8190  u16 reserved
 *
 * An "entry" is key bytes followed by a heap tid (u32 block, u16 slot, both
 * big-endian); entries order by (key bytes, tid) and are unique, because the
 * tid is part of them. A leaf item is an entry. An internal item is u32 child
 * (little-endian) followed by the separator entry: the child holds entries ≥
 * that separator and < the next item's. The first item of an internal page
 * is the child alone (4 bytes), the "minus infinity" downlink.
 */
export const BTREE_SPECIAL_BYTES = 8;
const SPECIAL_OFFSET = PAGE_SIZE_BYTES - BTREE_SPECIAL_BYTES;
export const BTREE_ITEM_POINTER_BYTES = 4;
export const TID_BYTES = 6;
export const CHILD_BYTES = 4;
/** Right link of the rightmost page of a level. */
export const BTREE_NO_SIBLING = 0;
/** Bytes for item pointers and items on an empty page. */
export const BTREE_PAGE_CAPACITY_BYTES = SPECIAL_OFFSET - PAGE_HEADER_BYTES;
/**
 * Largest key, so that at least three internal items fit on a page and either
 * half of any split fits (PostgreSQL's btree limit is 2704 bytes too).
 */
export const BTREE_KEY_BYTES_MAX = 2694;
const LEVEL_MAX = 0xffff;

/** A heap tuple id (compute's TupleId has this shape). */
export interface HeapTid {
  readonly block: number;
  readonly slot: number;
}

export interface BtreePageContent {
  readonly kind: PageKind.BtreeLeaf | PageKind.BtreeInternal;
  readonly level: number;
  readonly rightLink: number;
  /** Items in order (leaf items, or internal items with the minus-infinity one first). */
  readonly items: readonly Uint8Array[];
}

export interface BtreeMeta {
  readonly root: number;
  readonly height: number;
}

// The header's lower/upper (page.ts), read without a DataView: this is the hot path.
const lowerOf = (page: Uint8Array): number => getU16(page, 12);
const upperOf = (page: Uint8Array): number => getU16(page, 14);
function setLowerUpper(page: Uint8Array, lower: number, upper: number): void {
  setU16(page, 12, lower);
  setU16(page, 14, upper);
}

// --- entries and items ------------------------------------------------------

export function encodeEntry(key: Uint8Array, tid: HeapTid): Uint8Array {
  assert(key.length <= BTREE_KEY_BYTES_MAX, () => `index key of ${key.length} bytes`);
  const out = new Uint8Array(key.length + TID_BYTES);
  out.set(key);
  const at = key.length; // big-endian, so tids compare as bytes
  out[at] = tid.block >>> 24;
  out[at + 1] = (tid.block >>> 16) & 0xff;
  out[at + 2] = (tid.block >>> 8) & 0xff;
  out[at + 3] = tid.block & 0xff;
  out[at + 4] = tid.slot >>> 8;
  out[at + 5] = tid.slot & 0xff;
  return out;
}

/** The key part of an entry: a view. */
export function entryKey(entry: Uint8Array): Uint8Array {
  return entry.subarray(0, entry.length - TID_BYTES);
}

export function entryTid(entry: Uint8Array): HeapTid {
  const at = entry.length - TID_BYTES;
  const block = entry[at]! * 0x100_0000 + ((entry[at + 1]! << 16) | (entry[at + 2]! << 8) | entry[at + 3]!);
  return { block, slot: (entry[at + 4]! << 8) | entry[at + 5]! };
}

/** (key, tid) order; the tid bytes are big-endian, so they compare as bytes. */
export function compareEntries(a: Uint8Array, b: Uint8Array): number {
  const ka = a.length - TID_BYTES;
  const kb = b.length - TID_BYTES;
  const n = Math.min(ka, kb);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  if (ka !== kb) return ka - kb;
  for (let i = 0; i < TID_BYTES; i++) {
    const d = a[ka + i]! - b[kb + i]!;
    if (d !== 0) return d;
  }
  return 0;
}

export function internalItem(child: number, separator: Uint8Array | null): Uint8Array {
  const out = new Uint8Array(CHILD_BYTES + (separator?.length ?? 0));
  setU32(out, 0, child);
  if (separator !== null) out.set(separator, CHILD_BYTES);
  return out;
}

export function internalChild(item: Uint8Array): number {
  return getU32(item, 0);
}

/** The separator entry of an internal item (empty for the minus-infinity item): a view. */
export function internalSeparator(item: Uint8Array): Uint8Array {
  return item.subarray(CHILD_BYTES);
}

// --- page access --------------------------------------------------------------

export function isBtreeNode(kind: PageKind): kind is PageKind.BtreeLeaf | PageKind.BtreeInternal {
  return kind === PageKind.BtreeLeaf || kind === PageKind.BtreeInternal;
}

function assertNode(page: Uint8Array): void {
  assert(isBtreeNode(pageKind(page)), () => `B-tree access on a page of kind ${pageKind(page)}`);
  assert(getU16(page, 16) === SPECIAL_OFFSET, "B-tree page without its special space");
}

export function btreeItemCount(page: Uint8Array): number {
  assertNode(page);
  return (lowerOf(page) - PAGE_HEADER_BYTES) / BTREE_ITEM_POINTER_BYTES;
}

export function btreeLevel(page: Uint8Array): number {
  assertNode(page);
  return getU16(page, SPECIAL_OFFSET + 4);
}

export function btreeRightLink(page: Uint8Array): number {
  assertNode(page);
  return getU32(page, SPECIAL_OFFSET);
}

/** Item `index` of the page: a view into the page (copy it before the page changes). */
export function btreeItem(page: Uint8Array, index: number): Uint8Array {
  const count = btreeItemCount(page);
  assert(index >= 0 && index < count, () => `no B-tree item ${index} of ${count}`);
  const at = PAGE_HEADER_BYTES + index * BTREE_ITEM_POINTER_BYTES;
  const offset = getU16(page, at);
  return page.subarray(offset, offset + getU16(page, at + 2));
}

export function btreeFreeBytes(page: Uint8Array): number {
  assertNode(page);
  return upperOf(page) - lowerOf(page);
}

/** Whether an item of `itemBytes` fits with its pointer. */
export function btreeFits(page: Uint8Array, itemBytes: number): boolean {
  return btreeFreeBytes(page) >= itemBytes + BTREE_ITEM_POINTER_BYTES;
}

/** Bytes `items` take on a page, pointers included. */
export function btreeItemsBytes(items: readonly Uint8Array[]): number {
  let total = 0;
  for (const item of items) total += item.length + BTREE_ITEM_POINTER_BYTES;
  return total;
}

/** The page's content as a list of item copies (for a split). */
export function btreeContent(page: Uint8Array): BtreePageContent {
  const items: Uint8Array[] = [];
  const count = btreeItemCount(page);
  for (let i = 0; i < count; i++) items.push(btreeItem(page, i).slice());
  const kind = pageKind(page) as PageKind.BtreeLeaf | PageKind.BtreeInternal;
  return { kind, level: btreeLevel(page), rightLink: btreeRightLink(page), items };
}

/** Compares two items of a page of `kind` by their entries (the minus-infinity item is lowest). */
function compareItems(kind: PageKind, a: Uint8Array, b: Uint8Array): number {
  if (kind === PageKind.BtreeLeaf) return compareEntries(a, b);
  if (a.length === CHILD_BYTES) return b.length === CHILD_BYTES ? 0 : -1;
  if (b.length === CHILD_BYTES) return 1;
  return compareEntries(internalSeparator(a), internalSeparator(b));
}

function assertItemShape(kind: PageKind, item: Uint8Array, first: boolean): void {
  if (kind === PageKind.BtreeLeaf) {
    assert(item.length >= TID_BYTES && item.length <= BTREE_KEY_BYTES_MAX + TID_BYTES, "bad B-tree leaf item");
  } else if (first) {
    assert(item.length === CHILD_BYTES, "first internal item must be the minus-infinity downlink");
  } else {
    assert(
      item.length >= CHILD_BYTES + TID_BYTES && item.length <= CHILD_BYTES + BTREE_KEY_BYTES_MAX + TID_BYTES,
      "bad B-tree internal item",
    );
  }
  if (kind === PageKind.BtreeInternal) assert(internalChild(item) !== 0, "downlink to the metapage");
}

// --- changes (called by redo only) ---------------------------------------------

/** Inserts `item` at `index`, keeping items strictly ordered (asserted). */
export function btreeInsertItem(page: Uint8Array, index: number, item: Uint8Array): void {
  const count = btreeItemCount(page);
  const kind = pageKind(page);
  assert(index >= 0 && index <= count, () => `B-tree insert at ${index} of ${count}`);
  assert(kind === PageKind.BtreeLeaf || index > 0, "insert before the minus-infinity downlink");
  assertItemShape(kind, item, false);
  assert(btreeFits(page, item.length), "B-tree insert does not fit");
  if (index > 0) assert(compareItems(kind, btreeItem(page, index - 1), item) < 0, "B-tree insert out of order");
  if (index < count) assert(compareItems(kind, item, btreeItem(page, index)) < 0, "B-tree insert out of order");
  const lower = lowerOf(page);
  const upper = upperOf(page) - item.length;
  page.set(item, upper);
  const at = PAGE_HEADER_BYTES + index * BTREE_ITEM_POINTER_BYTES;
  page.copyWithin(at + BTREE_ITEM_POINTER_BYTES, at, lower);
  setU16(page, at, upper);
  setU16(page, at + 2, item.length);
  setLowerUpper(page, lower + BTREE_ITEM_POINTER_BYTES, upper);
}

/** Removes the leaf item at `index` and compacts the item space, so free space stays one gap. */
export function btreeDeleteItem(page: Uint8Array, index: number): void {
  const count = btreeItemCount(page);
  assert(pageKind(page) === PageKind.BtreeLeaf, "B-tree delete on an internal page");
  assert(index >= 0 && index < count, () => `B-tree delete at ${index} of ${count}`);
  const at = PAGE_HEADER_BYTES + index * BTREE_ITEM_POINTER_BYTES;
  const offset = getU16(page, at);
  const length = getU16(page, at + 2);
  const upper = upperOf(page);
  const lower = lowerOf(page);
  page.copyWithin(upper + length, upper, offset); // items below the removed one move up
  page.fill(0, upper, upper + length);
  page.copyWithin(at, at + BTREE_ITEM_POINTER_BYTES, lower);
  page.fill(0, lower - BTREE_ITEM_POINTER_BYTES, lower);
  for (let p = PAGE_HEADER_BYTES; p < lower - BTREE_ITEM_POINTER_BYTES; p += BTREE_ITEM_POINTER_BYTES) {
    const o = getU16(page, p);
    if (o < offset) setU16(page, p, o + length);
  }
  setLowerUpper(page, lower - BTREE_ITEM_POINTER_BYTES, upper + length);
}

/** Replaces the whole page (a split half, a new root, a built page); items must be strictly ordered. */
export function btreeWritePage(page: Uint8Array, content: BtreePageContent): void {
  assert(isBtreeNode(pageKind(page)), "B-tree write on a page that is not a B-tree node");
  assert(isBtreeNode(content.kind), "B-tree write of a non-node kind");
  assert(
    (content.kind === PageKind.BtreeLeaf) === (content.level === 0) && content.level <= LEVEL_MAX,
    () => `B-tree ${content.kind === PageKind.BtreeLeaf ? "leaf" : "internal page"} at level ${content.level}`,
  );
  assert(content.kind === PageKind.BtreeLeaf || content.items.length > 0, "internal page without items");
  assert(content.rightLink >= 0 && content.rightLink <= 0xffff_ffff, "bad right link");
  assert(btreeItemsBytes(content.items) <= BTREE_PAGE_CAPACITY_BYTES, "B-tree page content does not fit");
  page.fill(0, 8); // keep the LSN; redo sets the new one
  initPageHeader(page, content.kind);
  setU16(page, 16, SPECIAL_OFFSET);
  setU32(page, SPECIAL_OFFSET, content.rightLink);
  setU16(page, SPECIAL_OFFSET + 4, content.level);
  setLowerUpper(page, PAGE_HEADER_BYTES, SPECIAL_OFFSET);
  content.items.forEach((item, i) => {
    assertItemShape(content.kind, item, i === 0);
    if (i > 0) assert(compareItems(content.kind, content.items[i - 1]!, item) < 0, "B-tree items out of order");
    btreeAppendUnchecked(page, item);
  });
}

function btreeAppendUnchecked(page: Uint8Array, item: Uint8Array): void {
  const lower = lowerOf(page);
  const upper = upperOf(page) - item.length;
  page.set(item, upper);
  setU16(page, lower, upper);
  setU16(page, lower + 2, item.length);
  setLowerUpper(page, lower + BTREE_ITEM_POINTER_BYTES, upper);
}

export function btreeSetMeta(page: Uint8Array, meta: BtreeMeta): void {
  assert(pageKind(page) === PageKind.BtreeMeta, "B-tree meta write on a non-meta page");
  assert(meta.root >= 1 && meta.root <= 0xffff_ffff, () => `bad B-tree root ${meta.root}`);
  assert(meta.height >= 1 && meta.height <= LEVEL_MAX + 1, () => `bad B-tree height ${meta.height}`);
  setU32(page, PAGE_HEADER_BYTES, meta.root);
  setU32(page, PAGE_HEADER_BYTES + 4, meta.height);
}

export function btreeMeta(page: Uint8Array): BtreeMeta {
  assert(pageKind(page) === PageKind.BtreeMeta, "B-tree meta read on a non-meta page");
  const meta = { root: getU32(page, PAGE_HEADER_BYTES), height: getU32(page, PAGE_HEADER_BYTES + 4) };
  assert(meta.root !== 0, "B-tree metapage without a root");
  return meta;
}

// --- search -------------------------------------------------------------------

/** Leaf: the first index whose entry is ≥ `entry` (the item count when none). */
export function leafLowerBound(page: Uint8Array, entry: Uint8Array): number {
  let low = 0;
  let high = btreeItemCount(page);
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (compareEntries(btreeItem(page, mid), entry) < 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Internal: the index of the last item whose separator is ≤ `entry` (0, the minus-infinity item, at least). */
export function internalChildIndex(page: Uint8Array, entry: Uint8Array): number {
  return internalLastBefore(page, (separator) => compareEntries(separator, entry) <= 0);
}

/**
 * Internal: the last index i whose separator satisfies `before` (0 when none
 * does). `before` must hold for a prefix of the separators.
 */
export function internalLastBefore(page: Uint8Array, before: (separator: Uint8Array) => boolean): number {
  let low = 1;
  let high = btreeItemCount(page);
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (before(internalSeparator(btreeItem(page, mid)))) low = mid + 1;
    else high = mid;
  }
  return low - 1;
}

/**
 * compareKeyToBound of item `index`'s key and `bound`, read in place: the key
 * of a leaf entry, or of an internal item's separator (`internal`). A search
 * probes ~10 items a page; making views of them cost more than comparing.
 * `index` must be below the item count (the caller's search range).
 */
export function compareItemKeyToBound(page: Uint8Array, index: number, internal: boolean, bound: Uint8Array): number {
  const at = PAGE_HEADER_BYTES + index * BTREE_ITEM_POINTER_BYTES;
  const offset = getU16(page, at);
  const start = internal ? offset + CHILD_BYTES : offset;
  const keyLength = offset + getU16(page, at + 2) - TID_BYTES - start;
  const n = Math.min(keyLength, bound.length);
  for (let i = 0; i < n; i++) {
    const d = page[start + i]! - bound[i]!;
    if (d !== 0) return d;
  }
  return n - bound.length;
}

/** Order of a key and a bound that may be a prefix of it (index-key.ts: column encodings are prefix-free). */
export function compareKeyToBound(key: Uint8Array, bound: Uint8Array): number {
  return compareBytes(key.length > bound.length ? key.subarray(0, bound.length) : key, bound);
}
