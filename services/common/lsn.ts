import { assert } from "./assert.js";

/**
 * Log sequence number: strictly increasing, assigned by the writer to each
 * record. A JS safe integer here, uint64 on the wire: at a million records a
 * second it lasts ~285 years.
 */
export type Lsn = number & { readonly __brand: "Lsn" };

/** No record has this LSN; "before the first record". */
export const INVALID_LSN = 0 as Lsn;
export const LSN_MAX = Number.MAX_SAFE_INTEGER as Lsn;

export function lsn(value: number): Lsn {
  assert(Number.isSafeInteger(value) && value >= 0, () => `invalid LSN ${value}`);
  return value as Lsn;
}

export function lsnNext(value: Lsn): Lsn {
  assert(value < LSN_MAX, "LSN space exhausted");
  return (value + 1) as Lsn;
}

export function lsnMax(a: Lsn, b: Lsn): Lsn {
  return a > b ? a : b;
}

export function lsnMin(a: Lsn, b: Lsn): Lsn {
  return a < b ? a : b;
}

/** PostgreSQL's X/Y notation: high and low 32 bits in hex. */
export function formatLsn(value: Lsn): string {
  const high = Math.floor(value / 0x1_0000_0000);
  const low = value % 0x1_0000_0000;
  return `${high.toString(16).toUpperCase()}/${low.toString(16).toUpperCase()}`;
}

export function parseLsn(text: string): Lsn {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  assert(match, () => `invalid LSN text ${JSON.stringify(text)}`);
  return lsn(Number.parseInt(match[1]!, 16) * 0x1_0000_0000 + Number.parseInt(match[2]!, 16));
}
