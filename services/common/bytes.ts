/** Little-endian field access shared by the page and record layouts. */
const TWO_32 = 0x1_0000_0000;

export function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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
