import { assert } from "../common/assert.js";
import { crc32c } from "../common/crc32c.js";
import type { GroupId, PageKey } from "../common/ids.js";
import type { Lsn } from "../common/lsn.js";
import { PAGE_SIZE_BYTES } from "../common/page.js";

/**
 * LevelDB layout of a storage node (pure encoders, no I/O). Keys are binary
 * with big-endian numbers, so byte order is numeric order:
 *
 *   v | pageKey u64 | lsn u64   → the encoded record (its own crc32c)
 *   g | group u32   | lsn u64   → group header: pageKey, prevLsnOfGroup, flags, crc32c
 *   i | pageKey u64 | lsn u64   → page image at that page LSN (8192 B), crc32c
 *   m                           → node meta (epoch, truncation, membership), JSON + crc32c
 *   s                           → progress (SCLs, vdl hint, max LSN seen, counters) + crc32c
 *
 * Every value but the record carries a crc32c of its body; a mismatch on read
 * is corruption and fails an assertion (never served, never "repaired").
 */
export const PREFIX_RECORD = 0x76; // 'v'
export const PREFIX_GROUP = 0x67; // 'g'
export const PREFIX_IMAGE = 0x69; // 'i'
export const KEY_META = Uint8Array.of(0x6d); // 'm'
export const KEY_PROGRESS = Uint8Array.of(0x73); // 's'

const TWO_32 = 0x1_0000_0000;
const CRC_BYTES = 4;

function getU64BE(dv: DataView, offset: number): number {
  return dv.getUint32(offset) * TWO_32 + dv.getUint32(offset + 4);
}

function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Big-endian u64 written byte by byte: keys are built per record, a DataView each would cost more. */
function putU64BE(out: Uint8Array, offset: number, value: number): void {
  const high = Math.floor(value / TWO_32);
  const low = value >>> 0;
  out[offset] = high >>> 24;
  out[offset + 1] = (high >>> 16) & 0xff;
  out[offset + 2] = (high >>> 8) & 0xff;
  out[offset + 3] = high & 0xff;
  out[offset + 4] = low >>> 24;
  out[offset + 5] = (low >>> 16) & 0xff;
  out[offset + 6] = (low >>> 8) & 0xff;
  out[offset + 7] = low & 0xff;
}

function readU64BE(bytes: Uint8Array, offset: number): number {
  const high =
    ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
  const low =
    ((bytes[offset + 4]! << 24) | (bytes[offset + 5]! << 16) | (bytes[offset + 6]! << 8) | bytes[offset + 7]!) >>> 0;
  return high * TWO_32 + low;
}

/** prefix | page (u64) | lsn (u64): record and image keys. */
function pageLsnKey(prefix: number, page: PageKey, lsn: number): Uint8Array {
  const key = new Uint8Array(17);
  key[0] = prefix;
  putU64BE(key, 1, page);
  putU64BE(key, 9, lsn);
  return key;
}

export function recordKey(page: PageKey, lsn: number): Uint8Array {
  return pageLsnKey(PREFIX_RECORD, page, lsn);
}

export function imageKey(page: PageKey, lsn: number): Uint8Array {
  return pageLsnKey(PREFIX_IMAGE, page, lsn);
}

export function groupKey(group: GroupId, lsn: number): Uint8Array {
  const key = new Uint8Array(13);
  key[0] = PREFIX_GROUP;
  key[1] = group >>> 24;
  key[2] = (group >>> 16) & 0xff;
  key[3] = (group >>> 8) & 0xff;
  key[4] = group & 0xff;
  putU64BE(key, 5, lsn);
  return key;
}

/** The LSN at the end of a v/i/g key. */
export function lsnOfKey(key: Uint8Array): Lsn {
  return readU64BE(key, key.length - 8) as Lsn;
}

/** The page of a v/i key. */
export function pageOfKey(key: Uint8Array): PageKey {
  return readU64BE(key, 1) as PageKey;
}

/** body ‖ crc32c(body). */
export function seal(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + CRC_BYTES);
  out.set(body);
  const crc = crc32c(body);
  out[body.length] = crc >>> 24;
  out[body.length + 1] = (crc >>> 16) & 0xff;
  out[body.length + 2] = (crc >>> 8) & 0xff;
  out[body.length + 3] = crc & 0xff;
  return out;
}

/** The body of a sealed value; a checksum mismatch is corruption. */
export function unseal(value: Uint8Array, what: string): Uint8Array {
  assert(value.length >= CRC_BYTES, () => `stored ${what} is truncated (${value.length} bytes)`);
  const body = value.subarray(0, value.length - CRC_BYTES);
  assert(crc32c(body) === dataView(value).getUint32(body.length), () => `stored ${what} fails its checksum`);
  return body;
}

/** What the `g` index says about one record. */
export interface GroupEntry {
  readonly lsn: Lsn;
  readonly page: PageKey;
  readonly prevLsnOfGroup: Lsn;
  readonly endsMtr: boolean;
}

export function encodeGroupEntry(entry: GroupEntry): Uint8Array {
  const body = new Uint8Array(17);
  putU64BE(body, 0, entry.page);
  putU64BE(body, 8, entry.prevLsnOfGroup);
  body[16] = entry.endsMtr ? 1 : 0;
  return seal(body);
}

export function decodeGroupEntry(key: Uint8Array, value: Uint8Array): GroupEntry {
  const body = unseal(value, "group entry");
  assert(body.length === 17 && key.length === 13, "stored group entry has the wrong size");
  const dv = dataView(body);
  return {
    lsn: lsnOfKey(key),
    page: getU64BE(dv, 0) as PageKey,
    prevLsnOfGroup: getU64BE(dv, 8) as Lsn,
    endsMtr: body[16] === 1,
  };
}

export function encodeImage(page: Uint8Array): Uint8Array {
  assert(page.length === PAGE_SIZE_BYTES, "image has the wrong size");
  return seal(page);
}

export function decodeImage(value: Uint8Array): Uint8Array {
  const page = unseal(value, "page image");
  assert(page.length === PAGE_SIZE_BYTES, "stored page image has the wrong size");
  return page;
}

/** Counters and positions rewritten by every acknowledged write. */
export interface Progress {
  readonly vdlHint: Lsn;
  readonly maxLsnSeen: Lsn;
  readonly recordsStored: number;
  readonly imagesStored: number;
  readonly scls: ReadonlyMap<GroupId, Lsn>;
}

export function encodeProgress(p: Progress): Uint8Array {
  const body = new Uint8Array(36 + p.scls.size * 12);
  const dv = dataView(body);
  putU64BE(body, 0, p.vdlHint);
  putU64BE(body, 8, p.maxLsnSeen);
  putU64BE(body, 16, p.recordsStored);
  putU64BE(body, 24, p.imagesStored);
  dv.setUint32(32, p.scls.size);
  let at = 36;
  for (const [g, scl] of p.scls) {
    dv.setUint32(at, g);
    putU64BE(body, at + 4, scl);
    at += 12;
  }
  return seal(body);
}

export function decodeProgress(value: Uint8Array): Progress {
  const body = unseal(value, "progress");
  const dv = dataView(body);
  assert(body.length >= 36, "stored progress is too short");
  const n = dv.getUint32(32);
  assert(body.length === 36 + n * 12, "stored progress has the wrong size");
  const scls = new Map<GroupId, Lsn>();
  for (let i = 0, at = 36; i < n; i++, at += 12) scls.set(dv.getUint32(at) as GroupId, getU64BE(dv, at + 4) as Lsn);
  return {
    vdlHint: getU64BE(dv, 0) as Lsn,
    maxLsnSeen: getU64BE(dv, 8) as Lsn,
    recordsStored: getU64BE(dv, 16),
    imagesStored: getU64BE(dv, 24),
    scls,
  };
}

/** A JSON value, sealed. */
export function encodeJson(value: unknown): Uint8Array {
  return seal(new TextEncoder().encode(JSON.stringify(value)));
}

export function decodeJson(value: Uint8Array, what: string): unknown {
  return JSON.parse(new TextDecoder().decode(unseal(value, what)));
}
