import { Code, sqlError } from "./errors.js";

/**
 * character(n) and character varying(n) as PostgreSQL's varchar.c: a type
 * modifier of n + 4 (VARHDRSZ) bounds the length in characters. A value
 * too long fails on assignment unless only spaces are cut, and is silently
 * cut by an explicit cast; character(n) is stored padded with spaces to n,
 * and its comparisons, length and casts to text ignore trailing spaces.
 */

/** PostgreSQL's VARHDRSZ, which a character type's typmod adds to its length. */
export const VARHDRSZ = 4;
/** MaxAttrSize / 1: the largest n of char(n) and varchar(n). */
export const CHARACTER_LENGTH_MAX = 10485760;

/** The value's length in characters (code points), as pg_mbstrlen counts UTF-8. */
export function charLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}

/** The first `n` characters (code points) of `s`. */
function clip(s: string, n: number): string {
  let seen = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff) continue; // the second half of a pair belongs to the previous character
    if (seen === n) return s.slice(0, i);
    seen++;
  }
  return s;
}

export function rtrimSpaces(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0x20) end--;
  return end === s.length ? s : s.slice(0, end);
}

function tooLong(display: string, n: number): never {
  throw sqlError(Code.stringDataRightTruncation, `value too long for type ${display}(${n})`);
}

function cut(s: string, n: number, display: string, explicit: boolean): string {
  const head = clip(s, n);
  if (!explicit && /[^ ]/.test(s.slice(head.length))) tooLong(display, n);
  return head;
}

/** bpchar(value, typmod, isExplicit): cut to n (spaces only, unless explicit), then pad to n. */
export function bpcharLength(s: string, typmod: number, explicit: boolean): string {
  if (typmod < VARHDRSZ) return s;
  const n = typmod - VARHDRSZ;
  const len = charLength(s);
  if (len > n) return cut(s, n, "character", explicit);
  return len < n ? s + " ".repeat(n - len) : s;
}

/** varchar(value, typmod, isExplicit): cut to n (spaces only, unless explicit). */
export function varcharLength(s: string, typmod: number, explicit: boolean): string {
  if (typmod < VARHDRSZ) return s;
  const n = typmod - VARHDRSZ;
  return charLength(s) > n ? cut(s, n, "character varying", explicit) : s;
}

/** bpcharlen: characters, not counting trailing spaces. */
export function bpcharCharLength(s: string): number {
  return charLength(rtrimSpaces(s));
}
