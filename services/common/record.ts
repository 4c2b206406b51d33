import { assert } from "./assert.js";
import { getU64, setU64, view } from "./bytes.js";
import { crc32c } from "./crc32c.js";
import { type BlockNumber, type PageId, RELFILE_MAX, type RelFile, pageId } from "./ids.js";
import type { Lsn } from "./lsn.js";
import { PAGE_SIZE_BYTES } from "./page.js";

/**
 * Redo record encoding. A batch is the plain concatenation of records in one
 * buffer, so a batch of thousands of records is one allocation and one
 * protobuf `bytes` field.
 *
 *   0  u32 record_bytes (header + payload)
 *   4  u32 crc32c of bytes [8, record_bytes)
 *   8  u64 lsn
 *  16  u64 prev_lsn_of_page
 *  24  u64 prev_lsn_of_group
 *  32  u32 relfile
 *  36  u32 block
 *  40  u8  kind
 *  41  u8  flags (bit 0: ends_mtr)
 *  42  u16 reserved (0)
 *  44  payload
 */
export const RECORD_HEADER_BYTES = 44;
export const RECORD_PAYLOAD_BYTES_MAX = PAGE_SIZE_BYTES;
const FLAG_ENDS_MTR = 1;

export enum RecordKind {
  /** Format a page: payload u8 page kind. Only valid on a page that has no LSN yet. */
  PageInit = 1,
  /** Heap: add a tuple at an unused or the next line pointer (heapInsertSlot). Payload: u16 slot, tuple bytes. */
  HeapInsert = 2,
  /** Heap: set a tuple's xmax and infomask. Payload: u16 slot, u64 xmax, u16 infomask. */
  HeapSetXmax = 3,
  /** CLOG: set one transaction's status. Payload: u16 index in the page, u8 status. */
  ClogSetStatus = 4,
  /** Control page: replace the body. Payload: the body bytes. */
  ControlSet = 5,
  /** B-tree leaf or internal page: insert an item at an index. Payload: u16 index, item bytes. */
  BtreeInsert = 6,
  /** B-tree leaf: remove the item at an index (VACUUM). Payload: u16 index. */
  BtreeDelete = 7,
  /**
   * B-tree leaf or internal page: replace the whole content (split halves, a
   * new root, CREATE INDEX's pages). Payload: u8 page kind, u16 level, u32
   * right link, u16 item count, then per item u16 length + bytes.
   */
  BtreeWrite = 8,
  /** B-tree metapage: set root and height. Payload: u32 root, u32 height. */
  BtreeMetaSet = 9,
  /**
   * Heap: a prune (on access or by VACUUM). Line pointers become unused or
   * redirect, and the remaining tuples are packed at the end of the page
   * (heapPrune). Payload: u16 unused count, u16 redirect count, the unused
   * slots (u16 each), the redirect pairs (u16 from, u16 to); at least one change.
   */
  HeapPrune = 10,
  /**
   * Heap: the new half of a HOT update (the old version's xmax is already
   * set): a heap-only tuple at `new slot`, and the old version's HOT link to
   * it (heapHotUpdate). Payload: u16 old slot, u16 new slot, tuple bytes.
   */
  HeapHotUpdate = 11,
  /**
   * Heap: several new tuples on one page (a bulk insert: COPY), as PostgreSQL's
   * heap_multi_insert. Payload: u16 count, then per tuple u16 slot, u16
   * length, the tuple bytes; each is placed as by HeapInsert, in order.
   */
  HeapMultiInsert = 12,
}

export const RECORD_KIND_MAX = RecordKind.HeapMultiInsert;

export interface LogRecord {
  readonly lsn: Lsn;
  readonly pageId: PageId;
  readonly prevLsnOfPage: Lsn;
  readonly prevLsnOfGroup: Lsn;
  readonly kind: RecordKind;
  readonly endsMtr: boolean;
  readonly payload: Uint8Array;
}

/** Thrown for bytes that are not a well-formed record: a boundary error (INVALID_ARGUMENT), not a bug. */
export class RecordFormatError extends Error {
  override name = "RecordFormatError";
}

export function recordBytes(record: LogRecord): number {
  return RECORD_HEADER_BYTES + record.payload.length;
}

/** Writes one record at `offset`; returns the offset after it. */
export function encodeRecordInto(target: Uint8Array, offset: number, record: LogRecord): number {
  assert(record.payload.length <= RECORD_PAYLOAD_BYTES_MAX, "record payload too large");
  assert(record.prevLsnOfPage < record.lsn && record.prevLsnOfGroup < record.lsn, "back-links must point back");
  const size = recordBytes(record);
  const dv = new DataView(target.buffer, target.byteOffset + offset, size);
  dv.setUint32(0, size, true);
  setU64(dv, 8, record.lsn);
  setU64(dv, 16, record.prevLsnOfPage);
  setU64(dv, 24, record.prevLsnOfGroup);
  dv.setUint32(32, record.pageId.relfile, true);
  dv.setUint32(36, record.pageId.block, true);
  dv.setUint8(40, record.kind);
  dv.setUint8(41, record.endsMtr ? FLAG_ENDS_MTR : 0);
  dv.setUint16(42, 0, true);
  target.set(record.payload, offset + RECORD_HEADER_BYTES);
  dv.setUint32(4, crc32c(target, offset + 8, offset + size), true);
  return offset + size;
}

export function encodeRecords(records: readonly LogRecord[]): Uint8Array {
  let total = 0;
  for (const r of records) total += recordBytes(r);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const r of records) offset = encodeRecordInto(out, offset, r);
  return out;
}

/**
 * Decodes the record at `offset`. The payload is a view into `bytes`, not a
 * copy. Throws RecordFormatError on anything malformed.
 */
export function decodeRecordAt(bytes: Uint8Array, offset: number): LogRecord {
  if (bytes.length - offset < RECORD_HEADER_BYTES) throw new RecordFormatError("truncated record header");
  const dv = new DataView(bytes.buffer, bytes.byteOffset + offset, bytes.length - offset);
  const size = dv.getUint32(0, true);
  if (size < RECORD_HEADER_BYTES || size > RECORD_HEADER_BYTES + RECORD_PAYLOAD_BYTES_MAX) {
    throw new RecordFormatError(`bad record length ${size}`);
  }
  if (size > bytes.length - offset) throw new RecordFormatError("truncated record");
  if (crc32c(bytes, offset + 8, offset + size) !== dv.getUint32(4, true)) {
    throw new RecordFormatError("record checksum mismatch");
  }
  let lsnValue: number;
  let prevPage: number;
  let prevGroup: number;
  try {
    lsnValue = getU64(dv, 8);
    prevPage = getU64(dv, 16);
    prevGroup = getU64(dv, 24);
  } catch {
    throw new RecordFormatError("LSN out of range");
  }
  const kind = dv.getUint8(40);
  if (kind < 1 || kind > RECORD_KIND_MAX) throw new RecordFormatError(`unknown record kind ${kind}`);
  const flags = dv.getUint8(41);
  if ((flags & ~FLAG_ENDS_MTR) !== 0) throw new RecordFormatError(`unknown record flags ${flags}`);
  // A record of a newer format must not be misread as this one.
  if (dv.getUint16(42, true) !== 0) throw new RecordFormatError("reserved record bits set");
  const relfile = dv.getUint32(32, true);
  if (relfile > RELFILE_MAX) throw new RecordFormatError(`relfile ${relfile} out of range`);
  if (lsnValue === 0 || prevPage >= lsnValue || prevGroup >= lsnValue) {
    throw new RecordFormatError(`bad LSN links at ${lsnValue}`);
  }
  return {
    lsn: lsnValue as Lsn,
    pageId: pageId(relfile as RelFile, dv.getUint32(36, true) as BlockNumber),
    prevLsnOfPage: prevPage as Lsn,
    prevLsnOfGroup: prevGroup as Lsn,
    kind: kind as RecordKind,
    endsMtr: (flags & FLAG_ENDS_MTR) !== 0,
    payload: bytes.subarray(offset + RECORD_HEADER_BYTES, offset + size),
  };
}

/** Decodes a batch; records must be in strictly ascending LSN order. */
export function decodeRecords(bytes: Uint8Array): LogRecord[] {
  const out: LogRecord[] = [];
  let offset = 0;
  let last = 0;
  while (offset < bytes.length) {
    const record = decodeRecordAt(bytes, offset);
    if (record.lsn <= last) throw new RecordFormatError(`records out of order at LSN ${record.lsn}`);
    last = record.lsn;
    out.push(record);
    offset += RECORD_HEADER_BYTES + record.payload.length;
  }
  return out;
}

/** The encoded bytes of the record at `offset` (a view), for storing without re-encoding. */
export function recordSliceAt(bytes: Uint8Array, offset: number): Uint8Array {
  const size = view(bytes.subarray(offset)).getUint32(0, true);
  return bytes.subarray(offset, offset + size);
}
