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

function tupleOffset(page: Uint8Array, slot: number): { offset: number; length: number } {
  assert(pageKind(page) === PageKind.Heap, "heap access on a non-heap page");
  assert(slot >= 0 && slot < heapSlotCount(page), () => `no heap slot ${slot}`);
  const dv = view(page);
  const at = PAGE_HEADER_BYTES + slot * LINE_POINTER_BYTES;
  return { offset: dv.getUint16(at, true), length: dv.getUint16(at + 2, true) };
}

export function heapTupleHeader(page: Uint8Array, slot: number): HeapTupleHeader {
  const { offset } = tupleOffset(page, slot);
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
  const { offset, length } = tupleOffset(page, slot);
  return page.subarray(offset + TUPLE_HEADER_BYTES, offset + length);
}

export function heapSetXmax(page: Uint8Array, slot: number, xmax: Xid, infomask: number): void {
  const { offset } = tupleOffset(page, slot);
  const dv = view(page);
  setU64(dv, offset + 8, xmax);
  dv.setUint16(offset + 20, infomask, true);
}
