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
