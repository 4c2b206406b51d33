import { SqlError } from "../wire/sql-error.js";
import { decodeUtf8Checked } from "./copy-encoding.js";
import { Code } from "./errors.js";

/**
 * One COPY line → its fields, as PostgreSQL 15's CopyReadAttributesText and
 * CopyReadAttributesCSV split them: a field is NULL when its raw text (before
 * de-escaping; in CSV, unquoted) equals the NULL marker. A line without a
 * backslash (text) or quote (CSV) is cut with indexOf alone; the rest goes
 * character by character. Fields land in a caller's array reused from line
 * to line (only the first `count` entries belong to the line).
 */

const BACKSLASH = 92;

function isOctal(c: number): boolean {
  return c >= 48 && c <= 55;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

function hexValue(c: number): number {
  return c <= 57 ? c - 48 : (c | 0x20) - 87;
}

/** Plain split on the delimiter: no field holds anything special. */
function splitPlain(line: string, delimiter: string, nullMarker: string, out: (string | null)[]): number {
  let count = 0;
  let from = 0;
  for (;;) {
    const at = line.indexOf(delimiter, from);
    const raw = at < 0 ? (from === 0 ? line : line.slice(from)) : line.slice(from, at);
    out[count++] = raw === nullMarker ? null : raw;
    if (at < 0) return count;
    from = at + 1;
  }
}

/** Text format. `special`: the line holds a backslash. */
export function textFields(
  line: string,
  special: boolean,
  delimiter: string,
  nullMarker: string,
  out: (string | null)[],
): number {
  if (!special) return splitPlain(line, delimiter, nullMarker, out);
  const delim = delimiter.charCodeAt(0);
  const n = line.length;
  let count = 0;
  let i = 0;
  for (;;) {
    const start = i;
    let escaped = false;
    let foundDelimiter = false;
    while (i < n) {
      const c = line.charCodeAt(i++);
      if (c === delim) {
        foundDelimiter = true;
        break;
      }
      if (c !== BACKSLASH) continue;
      escaped = true;
      if (i >= n) break;
      const e = line.charCodeAt(i++);
      if (isOctal(e)) {
        if (i < n && isOctal(line.charCodeAt(i))) {
          i++;
          if (i < n && isOctal(line.charCodeAt(i))) i++;
        }
      } else if (e === 120 /* x */ && i < n && isHex(line.charCodeAt(i))) {
        i++;
        if (i < n && isHex(line.charCodeAt(i))) i++;
      }
    }
    const end = foundDelimiter ? i - 1 : i;
    const raw = line.slice(start, end);
    out[count++] = raw === nullMarker ? null : escaped ? unescapeText(raw) : raw;
    if (!foundDelimiter) return count;
  }
}

/** The backslash escapes of one field, byte by byte as PostgreSQL does (octal and hex make bytes). */
export function unescapeText(raw: string): string {
  const src = Buffer.from(raw, "utf8");
  const dst = Buffer.allocUnsafe(src.length);
  const n = src.length;
  let o = 0;
  let nonAscii = false;
  let i = 0;
  while (i < n) {
    let c = src[i++]!;
    if (c === BACKSLASH) {
      if (i >= n) break;
      c = src[i++]!;
      if (isOctal(c)) {
        let v = c - 48;
        if (i < n && isOctal(src[i]!)) {
          v = (v << 3) + src[i++]! - 48;
          if (i < n && isOctal(src[i]!)) v = (v << 3) + src[i++]! - 48;
        }
        c = v & 0xff;
        if (c === 0 || c >= 0x80) nonAscii = true;
      } else if (c === 120 && i < n && isHex(src[i]!)) {
        let v = hexValue(src[i++]!);
        if (i < n && isHex(src[i]!)) v = (v << 4) + hexValue(src[i++]!);
        c = v & 0xff;
        if (c === 0 || c >= 0x80) nonAscii = true;
      } else {
        switch (c) {
          case 98: // b
            c = 8;
            break;
          case 102: // f
            c = 12;
            break;
          case 110: // n
            c = 10;
            break;
          case 114: // r
            c = 13;
            break;
          case 116: // t
            c = 9;
            break;
          case 118: // v
            c = 11;
            break;
        }
      }
    }
    dst[o++] = c;
  }
  return nonAscii ? decodeUtf8Checked(dst, 0, o) : dst.toString("utf8", 0, o);
}

export function unterminatedQuote(): SqlError {
  return new SqlError(Code.badCopyFileFormat, "unterminated CSV quoted field");
}

/** CSV format. `special`: the line holds a quote character. */
export function csvFields(
  line: string,
  special: boolean,
  delimiter: string,
  quote: string,
  escapeChar: string,
  nullMarker: string,
  out: (string | null)[],
): number {
  if (!special) return splitPlain(line, delimiter, nullMarker, out);
  const delim = delimiter.charCodeAt(0);
  const q = quote.charCodeAt(0);
  const e = escapeChar.charCodeAt(0);
  const n = line.length;
  let count = 0;
  let i = 0;
  for (;;) {
    const start = i;
    let value = "";
    let runStart = i;
    let sawQuote = false;
    let foundDelimiter = false;
    let end = i;
    field: for (;;) {
      // Not in quotes.
      for (;;) {
        end = i;
        if (i >= n) break field;
        const c = line.charCodeAt(i++);
        if (c === delim) {
          foundDelimiter = true;
          break field;
        }
        if (c === q) {
          sawQuote = true;
          value += line.slice(runStart, i - 1);
          runStart = i;
          break;
        }
      }
      // In quotes.
      for (;;) {
        if (i >= n) throw unterminatedQuote();
        const c = line.charCodeAt(i++);
        if (c === e && i < n) {
          const next = line.charCodeAt(i);
          if (next === e || next === q) {
            value += line.slice(runStart, i - 1) + line[i];
            i++;
            runStart = i;
            continue;
          }
        }
        if (c === q) {
          value += line.slice(runStart, i - 1);
          runStart = i;
          break;
        }
      }
    }
    value += line.slice(runStart, end);
    out[count++] = !sawQuote && end - start === nullMarker.length && line.startsWith(nullMarker, start) ? null : value;
    if (!foundDelimiter) return count;
  }
}
