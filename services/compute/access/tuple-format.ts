import { assert } from "../../common/assert.js";
import type { Column, Datum } from "./database.js";

/**
 * Row bytes after the heap tuple header: a null bitmap (one bit per column,
 * set = NULL), then each non-null value, little-endian: int4 and date 4
 * bytes, int8, timestamp and timestamptz 8 bytes (signed), float8 8 bytes
 * (IEEE 754), bool 1 byte, text, varchar and bpchar a u32 byte length and
 * UTF-8.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeRow(columns: readonly Column[], values: readonly Datum[]): Uint8Array {
  assert(values.length === columns.length, "row arity differs from the table's");
  const bitmapBytes = (columns.length + 7) >> 3;
  const texts: (Uint8Array | undefined)[] = [];
  let size = bitmapBytes;
  columns.forEach((column, i) => {
    const v = values[i];
    if (v === null || v === undefined) return;
    switch (column.type) {
      case "int4":
      case "date":
        size += 4;
        break;
      case "int8":
      case "float8":
      case "timestamp":
      case "timestamptz":
        size += 8;
        break;
      case "bool":
        size += 1;
        break;
      case "text":
      case "varchar":
      case "bpchar": {
        const bytes = encoder.encode(v as string);
        texts[i] = bytes;
        size += 4 + bytes.length;
        break;
      }
    }
  });
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  let at = bitmapBytes;
  columns.forEach((column, i) => {
    const v = values[i];
    if (v === null || v === undefined) {
      out[i >> 3] = out[i >> 3]! | (1 << (i & 7));
      return;
    }
    switch (column.type) {
      case "int4":
      case "date":
        dv.setInt32(at, v as number, true);
        at += 4;
        break;
      case "int8":
      case "timestamp":
      case "timestamptz":
        dv.setBigInt64(at, v as bigint, true);
        at += 8;
        break;
      case "float8":
        dv.setFloat64(at, v as number, true);
        at += 8;
        break;
      case "bool":
        out[at] = v ? 1 : 0;
        at += 1;
        break;
      case "text":
      case "varchar":
      case "bpchar": {
        const bytes = texts[i]!;
        dv.setUint32(at, bytes.length, true);
        out.set(bytes, at + 4);
        at += 4 + bytes.length;
        break;
      }
    }
  });
  return out;
}

export function decodeRow(columns: readonly Column[], data: Uint8Array): Datum[] {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = (columns.length + 7) >> 3;
  const out: Datum[] = new Array(columns.length);
  for (let i = 0; i < columns.length; i++) {
    if ((data[i >> 3]! >> (i & 7)) & 1) {
      out[i] = null;
      continue;
    }
    switch (columns[i]!.type) {
      case "int4":
      case "date":
        out[i] = dv.getInt32(at, true);
        at += 4;
        break;
      case "int8":
      case "timestamp":
      case "timestamptz":
        out[i] = dv.getBigInt64(at, true);
        at += 8;
        break;
      case "float8":
        out[i] = dv.getFloat64(at, true);
        at += 8;
        break;
      case "bool":
        out[i] = data[at] === 1;
        at += 1;
        break;
      case "text":
      case "varchar":
      case "bpchar": {
        const length = dv.getUint32(at, true);
        out[i] = decoder.decode(data.subarray(at + 4, at + 4 + length));
        at += 4 + length;
        break;
      }
    }
  }
  return out;
}
