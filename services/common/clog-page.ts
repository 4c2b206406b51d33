import { assert } from "./assert.js";
import type { Xid } from "./ids.js";
import { PAGE_HEADER_BYTES, PAGE_SIZE_BYTES, PageKind, pageKind } from "./page.js";

/** Commit status of transactions: 2 bits per xid after the page header. */
export enum XidStatus {
  InProgress = 0,
  Committed = 1,
  Aborted = 2,
  SubCommitted = 3,
}

export const CLOG_XIDS_PER_PAGE = (PAGE_SIZE_BYTES - PAGE_HEADER_BYTES) * 4;

/** Which CLOG block holds `xid`, and where inside it. */
export function clogLocation(xid: Xid): { block: number; index: number } {
  return { block: Math.floor(xid / CLOG_XIDS_PER_PAGE), index: xid % CLOG_XIDS_PER_PAGE };
}

export function clogGetStatus(page: Uint8Array, index: number): XidStatus {
  assert(pageKind(page) === PageKind.Clog, "CLOG read on a non-CLOG page");
  assert(index >= 0 && index < CLOG_XIDS_PER_PAGE, () => `CLOG index ${index} out of range`);
  const byte = page[PAGE_HEADER_BYTES + (index >> 2)]!;
  return ((byte >> ((index & 3) * 2)) & 3) as XidStatus;
}

export function clogSetStatus(page: Uint8Array, index: number, status: XidStatus): void {
  assert(pageKind(page) === PageKind.Clog, "CLOG write on a non-CLOG page");
  assert(index >= 0 && index < CLOG_XIDS_PER_PAGE, () => `CLOG index ${index} out of range`);
  const at = PAGE_HEADER_BYTES + (index >> 2);
  const shift = (index & 3) * 2;
  page[at] = (page[at]! & ~(3 << shift)) | (status << shift);
}
