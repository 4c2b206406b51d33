import { assert } from "./assert.js";

/**
 * Order-preserving ("memcomparable") encoding of index keys: the B-tree
 * compares plain bytes (`compareBytes`), never typed values, so redo and the
 * tree code need no knowledge of types or collations.
 *
 * A key is the concatenation of its columns. Each column is
 *
 *   u8 marker   0x00 = a value follows, 0x01 = NULL (nothing follows)
 *   value       by type:
 *     int4                 4 bytes big-endian, sign bit flipped
 *     int8, timestamp(tz)  8 bytes big-endian, sign bit flipped
 *     bool                 1 byte, 0 or 1
 *     float8               8 bytes: IEEE 754 big-endian; positive → sign bit
 *                          flipped, negative → every bit flipped; -0 is stored
 *                          as 0 and every NaN as the one canonical NaN, so
 *                          -Infinity < … < Infinity < NaN as in PostgreSQL
 *     text, varchar,       UTF-8 bytes with 0x00 escaped as 0x00 0xFF, then
 *     bpchar               the terminator 0x00 0x00 (so "a" < "a\0" < "ab");
 *                          bpchar drops trailing spaces first, because
 *                          PostgreSQL compares bpchar without them
 *
 * Every column encoding is prefix-free, so tuples compare column by column,
 * and NULL (0x01) sorts after every value (PostgreSQL's NULLS LAST for ASC).
 * Byte order of UTF-8 is the C collation, the one Sediment uses.
 */
export type IndexKeyType =
  | "int4"
  | "int8"
  | "bool"
  | "text"
  | "bpchar"
  | "varchar"
  | "timestamp"
  | "timestamptz"
  | "float8";

/** A column value as the access layer holds it (the shape of compute's Datum; common imports no service). */
export type IndexDatum = number | bigint | string | boolean | null;

const MARKER_VALUE = 0x00;
const MARKER_NULL = 0x01;
const ESCAPE = 0xff;
const SIGN_64 = 1n << 63n;
const CANONICAL_NAN = 0x7ff8_0000_0000_0000n;
const INT8_MIN = -(1n << 63n);
const INT8_MAX = (1n << 63n) - 1n;

const utf8 = new TextEncoder();
/** Fixed-width values are formed here, then copied: one DataView for the module, not one per key. */
const scratchBytes = new Uint8Array(8);
const scratch = new DataView(scratchBytes.buffer);
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/** Grows as columns are appended; one allocation per key in the common case. */
class KeyWriter {
  private bytes = new Uint8Array(32);
  private length = 0;

  private reserve(more: number): void {
    if (this.length + more <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + more));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  byte(b: number): void {
    this.reserve(1);
    this.bytes[this.length++] = b;
  }

  /** Takes the first `n` bytes of the scratch buffer. */
  fixed(n: number): void {
    this.reserve(n);
    this.bytes.set(scratchBytes.subarray(0, n), this.length);
    this.length += n;
  }

  escaped(raw: Uint8Array): void {
    this.reserve(raw.length * 2 + 2);
    for (const b of raw) {
      this.bytes[this.length++] = b;
      if (b === 0) this.bytes[this.length++] = ESCAPE;
    }
    this.bytes[this.length++] = 0;
    this.bytes[this.length++] = 0;
  }

  done(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

/** Encodes one key; `values[i]` must be of `types[i]` (or null). */
export function encodeIndexKey(types: readonly IndexKeyType[], values: readonly IndexDatum[]): Uint8Array {
  assert(types.length === values.length, () => `index key of ${values.length} values for ${types.length} columns`);
  const w = new KeyWriter();
  for (let i = 0; i < types.length; i++) encodeColumn(w, types[i]!, values[i]!);
  return w.done();
}

function encodeColumn(w: KeyWriter, type: IndexKeyType, value: IndexDatum): void {
  if (value === null) {
    w.byte(MARKER_NULL);
    return;
  }
  w.byte(MARKER_VALUE);
  switch (type) {
    case "int4":
      assert(
        typeof value === "number" && Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31,
        () => `bad int4 key ${String(value)}`,
      );
      scratch.setUint32(0, (value ^ 0x8000_0000) >>> 0, false);
      w.fixed(4);
      return;
    case "int8":
    case "timestamp":
    case "timestamptz":
      assert(
        typeof value === "bigint" && value >= INT8_MIN && value <= INT8_MAX,
        () => `bad ${type} key ${String(value)}`,
      );
      scratch.setBigUint64(0, BigInt.asUintN(64, value) ^ SIGN_64, false);
      w.fixed(8);
      return;
    case "bool":
      assert(typeof value === "boolean", () => `bad bool key ${String(value)}`);
      w.byte(value ? 1 : 0);
      return;
    case "float8": {
      assert(typeof value === "number", () => `bad float8 key ${String(value)}`);
      if (Number.isNaN(value)) scratch.setBigUint64(0, CANONICAL_NAN, false);
      else scratch.setFloat64(0, value === 0 ? 0 : value, false); // -0 is 0
      const bits = scratch.getBigUint64(0, false);
      scratch.setBigUint64(0, (bits & SIGN_64) !== 0n ? ~bits & 0xffff_ffff_ffff_ffffn : bits ^ SIGN_64, false);
      w.fixed(8);
      return;
    }
    case "text":
    case "varchar":
    case "bpchar":
      assert(typeof value === "string", () => `bad ${type} key ${String(value)}`);
      w.escaped(utf8.encode(type === "bpchar" ? value.replace(/ +$/, "") : value));
      return;
    default:
      assert(false, () => `unknown index key type ${type as string}`);
  }
}

/**
 * Decodes a whole key (EXPLAIN, debugging, tests). A bpchar comes back without
 * trailing spaces: equal, as bpchar, to the value that was encoded.
 */
export function decodeIndexKey(types: readonly IndexKeyType[], key: Uint8Array): IndexDatum[] {
  const dv = new DataView(key.buffer, key.byteOffset, key.byteLength);
  const out: IndexDatum[] = [];
  let at = 0;
  const need = (n: number): void => assert(at + n <= key.length, "index key truncated");
  for (const type of types) {
    need(1);
    const marker = key[at++]!;
    if (marker === MARKER_NULL) {
      out.push(null);
      continue;
    }
    assert(marker === MARKER_VALUE, () => `bad index key marker ${marker}`);
    switch (type) {
      case "int4":
        need(4);
        out.push((dv.getUint32(at, false) ^ 0x8000_0000) | 0);
        at += 4;
        break;
      case "int8":
      case "timestamp":
      case "timestamptz":
        need(8);
        out.push(BigInt.asIntN(64, dv.getBigUint64(at, false) ^ SIGN_64));
        at += 8;
        break;
      case "bool":
        need(1);
        assert(key[at]! <= 1, "bad bool in index key");
        out.push(key[at++] === 1);
        break;
      case "float8": {
        need(8);
        const stored = dv.getBigUint64(at, false);
        const bits = (stored & SIGN_64) !== 0n ? stored ^ SIGN_64 : ~stored & 0xffff_ffff_ffff_ffffn;
        scratch.setBigUint64(0, bits, false);
        out.push(scratch.getFloat64(0, false));
        at += 8;
        break;
      }
      case "text":
      case "varchar":
      case "bpchar": {
        const raw: number[] = [];
        for (;;) {
          need(2);
          const b = key[at++]!;
          if (b !== 0) {
            raw.push(b);
            continue;
          }
          const next = key[at++]!;
          if (next === 0) break;
          assert(next === ESCAPE, "bad escape in index key");
          raw.push(0);
        }
        out.push(utf8Decoder.decode(Uint8Array.from(raw)));
        break;
      }
      default:
        assert(false, () => `unknown index key type ${type as string}`);
    }
  }
  assert(at === key.length, () => `index key has ${key.length - at} bytes after its last column`);
  return out;
}
