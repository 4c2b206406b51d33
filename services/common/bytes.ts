/** Little-endian field access shared by the page and record layouts. */
const TWO_32 = 0x1_0000_0000;

/** Page-sized arrays (8 KiB) keep their DataView: pages are read field by field on every hot path. */
const PAGE_BYTES = 8192;
const pageViews = new WeakMap<Uint8Array, DataView>();

export function view(bytes: Uint8Array): DataView {
  if (bytes.length !== PAGE_BYTES) return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let dv = pageViews.get(bytes);
  if (dv === undefined) {
    dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    pageViews.set(bytes, dv);
  }
  return dv;
}

/** A safe integer as u64 little-endian (two u32 halves: no BigInt on hot paths). */
export function setU64(dv: DataView, offset: number, value: number): void {
  dv.setUint32(offset, value % TWO_32, true);
  dv.setUint32(offset + 4, Math.floor(value / TWO_32), true);
}

export function getU64(dv: DataView, offset: number): number {
  const high = dv.getUint32(offset + 4, true);
  if (high > 0x1f_ffff) throw new RangeError(`u64 at ${offset} exceeds the safe integer range`);
  return high * TWO_32 + dv.getUint32(offset, true);
}

/** Lexicographic byte order (memcmp, shorter first on a tie): the order of index keys. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

// Byte-level field access for hot paths: a DataView per call costs more than the whole B-tree step.

export function getU16(bytes: Uint8Array, at: number): number {
  return bytes[at]! | (bytes[at + 1]! << 8);
}

export function setU16(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff;
  bytes[at + 1] = value >>> 8;
}

export function getU32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16)) + bytes[at + 3]! * 0x100_0000;
}

export function setU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff;
  bytes[at + 1] = (value >>> 8) & 0xff;
  bytes[at + 2] = (value >>> 16) & 0xff;
  bytes[at + 3] = value >>> 24;
}
