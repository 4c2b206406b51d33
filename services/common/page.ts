import { getU64, setU64, view } from "./bytes.js";
import type { Lsn } from "./lsn.js";

/**
 * Common 8 KiB page header, modelled on PostgreSQL's PageHeaderData:
 *
 *   0  u64 page_lsn    LSN of the last record applied
 *   8  u16 checksum    reserved (0) until page checksums land
 *  10  u16 flags
 *  12  u16 lower       end of the line pointer array (heap)
 *  14  u16 upper       start of tuple space (heap)
 *  16  u16 special     start of the special space (= page size when none)
 *  18  u8  page_kind
 *  19  u8  layout_version
 *  20  u32 reserved
 */
export const PAGE_SIZE_BYTES = 8192;
export const PAGE_HEADER_BYTES = 24;
export const PAGE_LAYOUT_VERSION = 1;

export enum PageKind {
  Uninitialized = 0,
  Heap = 1,
  Clog = 2,
  Control = 3,
  /** Block 0 of an index relfile: root and height (btree-page.ts). */
  BtreeMeta = 4,
  BtreeLeaf = 5,
  BtreeInternal = 6,
}

export const PAGE_KIND_MAX = PageKind.BtreeInternal;

export function newZeroPage(): Uint8Array {
  return new Uint8Array(PAGE_SIZE_BYTES);
}

export function pageLsn(page: Uint8Array): Lsn {
  return getU64(view(page), 0) as Lsn;
}

export function setPageLsn(page: Uint8Array, lsn: Lsn): void {
  setU64(view(page), 0, lsn);
}

export function pageKind(page: Uint8Array): PageKind {
  return page[18] as PageKind;
}

export function pageLower(page: Uint8Array): number {
  return view(page).getUint16(12, true);
}

export function pageUpper(page: Uint8Array): number {
  return view(page).getUint16(14, true);
}

export function setPageLowerUpper(page: Uint8Array, lower: number, upper: number): void {
  const dv = view(page);
  dv.setUint16(12, lower, true);
  dv.setUint16(14, upper, true);
}

/** Formats a zeroed page as `kind` (keeps the page LSN). */
export function initPageHeader(page: Uint8Array, kind: PageKind): void {
  const dv = view(page);
  dv.setUint16(8, 0, true);
  dv.setUint16(10, 0, true);
  dv.setUint16(12, PAGE_HEADER_BYTES, true);
  dv.setUint16(14, PAGE_SIZE_BYTES, true);
  dv.setUint16(16, PAGE_SIZE_BYTES, true);
  page[18] = kind;
  page[19] = PAGE_LAYOUT_VERSION;
  dv.setUint32(20, 0, true);
}
