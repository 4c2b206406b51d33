import { assert } from "./assert.js";
import { getU64, setU64, view } from "./bytes.js";
import type { Xid } from "./ids.js";
import { PAGE_HEADER_BYTES, PageKind, pageKind, pageLower, pageUpper, setPageLowerUpper } from "./page.js";

/**
 * Slotted heap page, PostgreSQL style: line pointers grow up from the header,
 * tuples grow down from the end. A line pointer is u16 offset + u16 length,
 * in one of three states: unused (0, 0), normal (a tuple's offset and
 * length), or redirect (the target slot, REDIRECT_LENGTH): a HOT chain's
 * root whose first versions were pruned points at the chain's next member.
 *
 * Tuple header (HeapTupleHeader-like, 26 bytes), then the row bytes:
 *   0  u64 xmin
 *   8  u64 xmax      (0 = none)
 *  16  u32 cid       command id inside the inserting/deleting transaction
 *  20  u16 infomask  HEAP_HOT_UPDATED, HEAP_ONLY_TUPLE
 *  22  u16 natts
 *  24  u16 next      HOT link: the slot of the next version on this page (NO_SLOT: none)
 */
export const LINE_POINTER_BYTES = 4;
export const TUPLE_HEADER_BYTES = 26;
/** A line pointer's length field when it redirects (its offset field is then the target slot). */
const REDIRECT_LENGTH = 0xffff;
export const NO_SLOT = 0xffff;
/** The version was updated in place on its page: `next` names the newer version (PostgreSQL's HEAP_HOT_UPDATED). */
export const HEAP_HOT_UPDATED = 0x4000;
/** The version has no index entries of its own: reached only through its HOT chain's root (HEAP_ONLY_TUPLE). */
export const HEAP_ONLY_TUPLE = 0x8000;

export interface HeapTupleHeader {
  readonly xmin: Xid;
  readonly xmax: Xid;
  readonly cid: number;
  readonly infomask: number;
  readonly natts: number;
}

/**
 * Line pointers are never removed, only made unused by a prune (offset 0,
 * length 0): slot numbers stay stable. An unused slot may take a new tuple
 * (heapPlaceTuple): a root slot only becomes unused once its index entries
 * are gone (VACUUM), and a heap-only one has none; readers that still hold
 * a slot number check the version's xmin against the xmax of the version
 * that led them there. A tuple is at least TUPLE_HEADER_BYTES long, so
 * length 0 is unambiguous.
 */
export function heapSlotCount(page: Uint8Array): number {
  return (pageLower(page) - PAGE_HEADER_BYTES) / LINE_POINTER_BYTES;
}

export function heapFreeBytes(page: Uint8Array): number {
  return pageUpper(page) - pageLower(page);
}

/** Whether a tuple of `tupleBytes` (header included) fits with a new line pointer. */
export function heapFits(page: Uint8Array, tupleBytes: number): boolean {
  return heapFreeBytes(page) >= tupleBytes + LINE_POINTER_BYTES;
}

/** The slot a new tuple takes: the first unused line pointer, else a new one at the end. */
export function heapInsertSlot(page: Uint8Array): number {
  const count = heapSlotCount(page);
  const dv = view(page);
  for (let slot = 0; slot < count; slot++) {
    if (dv.getUint32(PAGE_HEADER_BYTES + slot * LINE_POINTER_BYTES, true) === 0) return slot;
  }
  return count;
}

/** Whether a tuple of `tupleBytes` fits at heapInsertSlot (no new line pointer when one is reused). */
export function heapFitsTuple(page: Uint8Array, tupleBytes: number): boolean {
  const pointer = heapInsertSlot(page) < heapSlotCount(page) ? 0 : LINE_POINTER_BYTES;
  return heapFreeBytes(page) >= tupleBytes + pointer;
}

export function encodeHeapTuple(header: HeapTupleHeader, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(TUPLE_HEADER_BYTES + data.length);
  const dv = view(out);
  setU64(dv, 0, header.xmin);
  setU64(dv, 8, header.xmax);
  dv.setUint32(16, header.cid, true);
  dv.setUint16(20, header.infomask, true);
  dv.setUint16(22, header.natts, true);
  dv.setUint16(24, NO_SLOT, true);
  out.set(data, TUPLE_HEADER_BYTES);
  return out;
}

/**
 * Places `tuple` at `slot`: either the next new line pointer, or an unused
 * one (redo asserts which). Both sides pick the slot with heapInsertSlot.
 */
export function heapPlaceTuple(page: Uint8Array, slot: number, tuple: Uint8Array): void {
  assert(pageKind(page) === PageKind.Heap, "heap insert on a non-heap page");
  const count = heapSlotCount(page);
  assert(slot <= count, () => `heap insert at slot ${slot}, past the end (${count})`);
  assert(slot === count || lineState(page, slot) === "unused", () => `heap insert at slot ${slot}, which is in use`);
  assert(tuple.length >= TUPLE_HEADER_BYTES, "tuple shorter than its header");
  const pointerBytes = slot === count ? LINE_POINTER_BYTES : 0;
  assert(heapFreeBytes(page) >= tuple.length + pointerBytes, "heap insert does not fit");
  const lower = pageLower(page) + pointerBytes;
  const upper = pageUpper(page) - tuple.length;
  page.set(tuple, upper);
  const dv = view(page);
  dv.setUint16(PAGE_HEADER_BYTES + slot * LINE_POINTER_BYTES, upper, true);
  dv.setUint16(PAGE_HEADER_BYTES + slot * LINE_POINTER_BYTES + 2, tuple.length, true);
  setPageLowerUpper(page, lower, upper);
}

export type LineState = "unused" | "normal" | "redirect";

function lineState(page: Uint8Array, slot: number): LineState {
  const length = view(page).getUint16(PAGE_HEADER_BYTES + slot * LINE_POINTER_BYTES + 2, true);
  return length === 0 ? "unused" : length === REDIRECT_LENGTH ? "redirect" : "normal";
}

/** The state of line pointer `slot` ("unused" past the end too). */
export function heapSlotState(page: Uint8Array, slot: number): LineState {
  if (slot < 0 || slot >= heapSlotCount(page)) return "unused";
  return lineState(page, slot);
}

/** Whether `slot` holds a tuple (not unused, not a redirect). Only such slots may be read. */
export function heapSlotUsed(page: Uint8Array, slot: number): boolean {
  return heapSlotState(page, slot) === "normal";
}

/** Where a redirecting line pointer leads. */
export function heapRedirectTarget(page: Uint8Array, slot: number): number {
  assert(heapSlotState(page, slot) === "redirect", () => `heap slot ${slot} is not a redirect`);
  return view(page).getUint16(PAGE_HEADER_BYTES + slot * LINE_POINTER_BYTES, true);
}

/**
 * A prune of one page (design section 6, HOT): `unused` line pointers drop
 * their tuple or redirect; each redirect pair [from, to] makes `from` (a
 * HOT chain's root) lead to `to`, dropping the tuple it held. Then the
 * remaining tuples are packed at the end of the page (in their old offset
 * order, as PostgreSQL's compactify_tuples), so the freed bytes join the one
 * free gap between lower and upper, which is zeroed. Slot numbers do not change.
 */
export interface HeapPruneChanges {
  readonly unused: readonly number[];
  readonly redirects: readonly (readonly [number, number])[];
}

export function heapPrune(page: Uint8Array, changes: HeapPruneChanges): void {
  assert(pageKind(page) === PageKind.Heap, "heap prune on a non-heap page");
  const dv = view(page);
  const count = heapSlotCount(page);
  const touched = new Set<number>();
  for (const slot of [...changes.unused, ...changes.redirects.map(([from]) => from)]) {
    assert(slot >= 0 && slot < count && lineState(page, slot) !== "unused", () => `heap prune of unused slot ${slot}`);
    assert(!touched.has(slot), () => `heap prune names slot ${slot} twice`);
    touched.add(slot);
  }
  for (const slot of changes.unused) dv.setUint32(PAGE_HEADER_BYTES + slot * LINE_POINTER_BYTES, 0, true);
  for (const [from, to] of changes.redirects) {
    assert(to < count && !touched.has(to) && lineState(page, to) === "normal", () => `heap redirect to slot ${to}`);
    const at = PAGE_HEADER_BYTES + from * LINE_POINTER_BYTES;
    dv.setUint16(at, to, true);
    dv.setUint16(at + 2, REDIRECT_LENGTH, true);
  }
  const live: { slot: number; offset: number; bytes: Uint8Array }[] = [];
  for (let slot = 0; slot < count; slot++) {
    if (lineState(page, slot) !== "normal") continue;
    const { offset, length } = tupleOffset(page, slot);
    live.push({ slot, offset, bytes: page.slice(offset, offset + length) });
  }
  live.sort((a, b) => b.offset - a.offset);
  let upper = dv.getUint16(16, true); // special: the end of the tuple space
  for (const t of live) {
    upper -= t.bytes.length;
    page.set(t.bytes, upper);
    dv.setUint16(PAGE_HEADER_BYTES + t.slot * LINE_POINTER_BYTES, upper, true);
  }
  const lower = pageLower(page);
  assert(upper >= lower, "heap prune: tuples overlap the line pointers");
  page.fill(0, lower, upper);
  setPageLowerUpper(page, lower, upper);
}

function tupleOffset(page: Uint8Array, slot: number): { offset: number; length: number } {
  assert(pageKind(page) === PageKind.Heap, "heap access on a non-heap page");
  assert(slot >= 0 && slot < heapSlotCount(page), () => `no heap slot ${slot}`);
  const dv = view(page);
  const at = PAGE_HEADER_BYTES + slot * LINE_POINTER_BYTES;
  return { offset: dv.getUint16(at, true), length: dv.getUint16(at + 2, true) };
}

function usedTupleOffset(page: Uint8Array, slot: number): { offset: number; length: number } {
  const at = tupleOffset(page, slot);
  assert(at.length !== 0 && at.length !== REDIRECT_LENGTH, () => `heap slot ${slot} holds no tuple`);
  return at;
}

export function heapTupleHeader(page: Uint8Array, slot: number): HeapTupleHeader {
  const { offset } = usedTupleOffset(page, slot);
  const dv = view(page);
  return {
    xmin: getU64(dv, offset) as Xid,
    xmax: getU64(dv, offset + 8) as Xid,
    cid: dv.getUint32(offset + 16, true),
    infomask: dv.getUint16(offset + 20, true),
    natts: dv.getUint16(offset + 22, true),
  };
}

/** A version's HOT link: the slot of the next version (meaningful with HEAP_HOT_UPDATED; NO_SLOT when none). */
export function heapHotLink(page: Uint8Array, slot: number): number {
  const { offset } = usedTupleOffset(page, slot);
  return view(page).getUint16(offset + 24, true);
}

/** The row bytes after the tuple header: a view, not a copy. */
export function heapTupleData(page: Uint8Array, slot: number): Uint8Array {
  const { offset, length } = usedTupleOffset(page, slot);
  return page.subarray(offset + TUPLE_HEADER_BYTES, offset + length);
}

/**
 * Sets xmax and the infomask bits other than the HOT ones: HEAP_ONLY_TUPLE
 * stays as it was (it describes how the version was inserted), and
 * HEAP_HOT_UPDATED is cleared (an earlier updater aborted; a HOT update sets
 * it again with its link).
 */
export function heapSetXmax(page: Uint8Array, slot: number, xmax: Xid, infomask: number): void {
  const { offset } = usedTupleOffset(page, slot);
  const dv = view(page);
  setU64(dv, offset + 8, xmax);
  const hot = dv.getUint16(offset + 20, true) & HEAP_ONLY_TUPLE;
  dv.setUint16(offset + 20, hot | (infomask & ~(HEAP_ONLY_TUPLE | HEAP_HOT_UPDATED)), true);
}

/**
 * A HOT update's second half (its xmax is already set): `tuple`, a heap-only
 * version, goes to `newSlot` on the same page, and the old version links to
 * it (HEAP_HOT_UPDATED, next).
 */
export function heapHotUpdate(page: Uint8Array, oldSlot: number, newSlot: number, tuple: Uint8Array): void {
  const { offset } = usedTupleOffset(page, oldSlot);
  assert(tuple.length >= TUPLE_HEADER_BYTES, "tuple shorter than its header");
  assert((view(tuple).getUint16(20, true) & HEAP_ONLY_TUPLE) !== 0, "a HOT update's new version must be heap-only");
  heapPlaceTuple(page, newSlot, tuple);
  const dv = view(page); // an insert never moves the tuples already there: `offset` still holds
  dv.setUint16(offset + 20, dv.getUint16(offset + 20, true) | HEAP_HOT_UPDATED, true);
  dv.setUint16(offset + 24, newSlot, true);
}
