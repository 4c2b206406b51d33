import { SqlError } from "../wire/sql-error.js";
import { Code } from "./errors.js";

/**
 * UTF-8 checks of COPY input as PostgreSQL makes them (pg_utf8_verifychar,
 * pg_utf8_islegal, report_invalid_encoding): NUL is refused too, since a
 * text value cannot hold it, and the error names the offending bytes.
 */

/** pg_utf_mblen: the length a lead byte announces (1 for a byte that cannot lead). */
function mblen(lead: number): number {
  if ((lead & 0x80) === 0) return 1;
  if ((lead & 0xe0) === 0xc0) return 2;
  if ((lead & 0xf0) === 0xe0) return 3;
  if ((lead & 0xf8) === 0xf0) return 4;
  return 1;
}

function between(b: number, low: number, high: number): boolean {
  return b >= low && b <= high;
}

/** pg_utf8_islegal for a sequence of `length` bytes at `at`. */
function legal(bytes: Uint8Array, at: number, length: number): boolean {
  const lead = bytes[at]!;
  if (length >= 4 && !between(bytes[at + 3]!, 0x80, 0xbf)) return false;
  if (length >= 3 && !between(bytes[at + 2]!, 0x80, 0xbf)) return false;
  if (length >= 2) {
    const b = bytes[at + 1]!;
    const ok =
      lead === 0xe0
        ? between(b, 0xa0, 0xbf)
        : lead === 0xed
          ? between(b, 0x80, 0x9f)
          : lead === 0xf0
            ? between(b, 0x90, 0xbf)
            : lead === 0xf4
              ? between(b, 0x80, 0x8f)
              : between(b, 0x80, 0xbf);
    if (!ok) return false;
  }
  return !(between(lead, 0x80, 0xc1) || lead > 0xf4);
}

/** Offset of the first byte in [from, to) that does not start a valid character (NUL included), or -1. */
export function invalidUtf8Offset(bytes: Uint8Array, from = 0, to = bytes.length): number {
  let i = from;
  while (i < to) {
    const lead = bytes[i]!;
    if (lead < 0x80) {
      if (lead === 0) return i;
      i++;
      continue;
    }
    const length = mblen(lead);
    if (length === 1 || i + length > to || !legal(bytes, i, length)) return i;
    i += length;
  }
  return -1;
}

/**
 * Length of `bytes` without a trailing sequence that is only incomplete (its
 * rest may come in the next chunk). Anything invalid is left for the check.
 */
export function completeUtf8Length(bytes: Uint8Array): number {
  const n = bytes.length;
  for (let back = 1; back <= 3 && back <= n; back++) {
    const b = bytes[n - back]!;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back for the lead
    const length = mblen(b);
    return length > back ? n - back : n;
  }
  return n;
}

/** report_invalid_encoding: 22021 naming up to the announced length of bytes at `at` (those there are). */
export function invalidEncoding(bytes: Uint8Array, at: number, end = bytes.length): SqlError {
  const count = Math.min(mblen(bytes[at]!), end - at, 8);
  const shown: string[] = [];
  for (let j = 0; j < count; j++) shown.push(`0x${bytes[at + j]!.toString(16).padStart(2, "0")}`);
  return new SqlError(Code.characterNotInRepertoire, `invalid byte sequence for encoding "UTF8": ${shown.join(" ")}`);
}

// ignoreBOM: keep a leading U+FEFF as data, as PostgreSQL does.
const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Decodes bytes already found valid, or throws the 22021 of the first invalid sequence. */
export function decodeUtf8Checked(bytes: Uint8Array, from = 0, to = bytes.length): string {
  const bad = invalidUtf8Offset(bytes, from, to);
  if (bad >= 0) throw invalidEncoding(bytes, bad, to);
  return strict.decode(bytes.subarray(from, to));
}

/**
 * The fast check of a whole chunk: TextDecoder (native) and a NUL search;
 * only when that fails is the byte-wise check run to find where.
 * Returns the text of the valid prefix and, if the chunk is not all valid,
 * the error to raise once that prefix has been used.
 */
export function decodeChunk(bytes: Uint8Array): { text: string; error: SqlError | undefined } {
  let text: string | undefined;
  try {
    text = strict.decode(bytes);
  } catch {
    text = undefined;
  }
  if (text !== undefined && !text.includes("\0")) return { text, error: undefined };
  const bad = invalidUtf8Offset(bytes);
  if (bad < 0) return { text: text ?? strict.decode(bytes), error: undefined };
  return { text: strict.decode(bytes.subarray(0, bad)), error: invalidEncoding(bytes, bad) };
}
