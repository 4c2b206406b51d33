import { assert } from "./assert.js";
import { getU64, setU64, view } from "./bytes.js";
import type { Xid } from "./ids.js";
import { PAGE_HEADER_BYTES, PageKind, pageKind, pageLower, pageUpper, setPageLowerUpper } from "./page.js";

/**
 * Slotted heap page, PostgreSQL style: line pointers grow up from the header,
 * tuples grow down from the end. A line pointer is u16 offset + u16 length.
 *
 * Tuple header (HeapTupleHeader-like, 24 bytes), then the row bytes:
 *   0  u64 xmin
 *   8  u64 xmax      (0 = none)
 *  16  u32 cid       command id inside the inserting/deleting transaction
 *  20  u16 infomask
 *  22  u16 natts
 */
export const LINE_POINTER_BYTES = 4;
export const TUPLE_HEADER_BYTES = 24;

export interface HeapTupleHeader {
  readonly xmin: Xid;
  readonly xmax: Xid;
  readonly cid: number;
  readonly infomask: number;
  readonly natts: number;
}

/**
 * Line pointers are never removed, only marked unused (offset 0, length 0)
 * by VACUUM's prune: slot numbers stay stable, so index entries and update
 * links that still name a pruned slot find nothing there rather than another
 * row. A tuple is at least TUPLE_HEADER_BYTES long, so length 0 is unambiguous.
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

export function encodeHeapTuple(header: HeapTupleHeader, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(TUPLE_HEADER_BYTES + data.length);
  const dv = view(out);
  setU64(dv, 0, header.xmin);
  setU64(dv, 8, header.xmax);
  dv.setUint32(16, header.cid, true);
  dv.setUint16(20, header.infomask, true);
  dv.setUint16(22, header.natts, true);
  out.set(data, TUPLE_HEADER_BYTES);
  return out;
}

/** Appends `tuple` at line pointer `slot`, which must be the next one (redo asserts it). */
export function heapAppendTuple(page: Uint8Array, slot: number, tuple: Uint8Array): void {
  assert(pageKind(page) === PageKind.Heap, "heap insert on a non-heap page");
  assert(slot === heapSlotCount(page), () => `heap insert at slot ${slot}, expected ${heapSlotCount(page)}`);
  assert(tuple.length >= TUPLE_HEADER_BYTES, "tuple shorter than its header");
  assert(heapFits(page, tuple.length), "heap insert does not fit");
  const lower = pageLower(page);
  const upper = pageUpper(page) - tuple.length;
  page.set(tuple, upper);
  const dv = view(page);
  dv.setUint16(lower, upper, true);
  dv.setUint16(lower + 2, tuple.length, true);
  setPageLowerUpper(page, lower + LINE_POINTER_BYTES, upper);
}

/** Whether `slot` holds a tuple (false once VACUUM pruned it). Only used slots may be read. */
export function heapSlotUsed(page: Uint8Array, slot: number): boolean {
  if (slot < 0 || slot >= heapSlotCount(page)) return false;
  return view(page).getUint16(PAGE_HEADER_BYTES + slot * LINE_POINTER_BYTES + 2, true) !== 0;
}

/**
 * VACUUM's prune of one page: the listed slots become unused, and the tuples
 * of the used slots are packed together at the end of the page (in their
 * old offset order, as PostgreSQL's compactify_tuples), so the freed bytes
 * join the one free gap between lower and upper; that gap is zeroed. Slot
 * numbers do not change. Every listed slot must exist and be in use.
 */
export function heapPrune(page: Uint8Array, slots: readonly number[]): void {
  assert(pageKind(page) === PageKind.Heap, "heap prune on a non-heap page");
  const dv = view(page);
  for (const slot of slots) {
    assert(heapSlotUsed(page, slot), () => `heap prune of slot ${slot}, which is not in use`);
    const at = PAGE_HEADER_BYTES + slot * LINE_POINTER_BYTES;
    dv.setUint32(at, 0, true);
  }
  const live: { slot: number; offset: number; bytes: Uint8Array }[] = [];
  const count = heapSlotCount(page);
  for (let slot = 0; slot < count; slot++) {
    const { offset, length } = tupleOffset(page, slot);
    if (length !== 0) live.push({ slot, offset, bytes: page.slice(offset, offset + length) });
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
  assert(at.length !== 0, () => `heap slot ${slot} is unused`);
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

/** The row bytes after the tuple header: a view, not a copy. */
export function heapTupleData(page: Uint8Array, slot: number): Uint8Array {
  const { offset, length } = usedTupleOffset(page, slot);
  return page.subarray(offset + TUPLE_HEADER_BYTES, offset + length);
}

export function heapSetXmax(page: Uint8Array, slot: number, xmax: Xid, infomask: number): void {
  const { offset } = usedTupleOffset(page, slot);
  const dv = view(page);
  setU64(dv, offset + 8, xmax);
  dv.setUint16(offset + 20, infomask, true);
}
