import { Code, sqlError } from "./errors.js";

/**
 * timestamp, timestamptz and date as PostgreSQL 15 stores and prints them
 * (datetime.c, timestamp.c, date.c), for ISO DateStyle:
 * - timestamp: microseconds since 2000-01-01 00:00:00 (a bigint), local time;
 * - timestamptz: the same count in UTC, printed in the session time zone;
 * - date: days since 2000-01-01 (a number).
 * ±infinity are the extreme values of each, as in PostgreSQL. The session
 * zone is a parameter, so that SET TimeZone only has to pass another one.
 */

export const USECS_PER_SEC = 1_000_000n;
export const USECS_PER_DAY = 86_400_000_000n;
const POSTGRES_EPOCH_JDATE = 2451545;
const UNIX_EPOCH_JDATE = 2440588;

/** DT_NOBEGIN / DT_NOEND: -infinity and infinity. */
export const TIMESTAMP_NOBEGIN = -(2n ** 63n);
export const TIMESTAMP_NOEND = 2n ** 63n - 1n;
/** 4714-11-24 00:00:00 BC and 294277-01-01 00:00:00 (exclusive): PostgreSQL's MIN_TIMESTAMP and END_TIMESTAMP. */
const MIN_TIMESTAMP = -211813488000000000n;
const END_TIMESTAMP = 9223371331200000000n;
export const DATE_NOBEGIN = -(2 ** 31);
export const DATE_NOEND = 2 ** 31 - 1;

/** A session time zone: the UTC offset in effect at an instant (seconds east of Greenwich). */
export interface TimeZone {
  readonly name: string;
  offsetSecondsAt(utcMicros: bigint): number;
}

/** A zone at a fixed offset from UTC (UTC itself, or +05:30 …). */
export function fixedZone(name: string, offsetSeconds: number): TimeZone {
  return { name, offsetSecondsAt: () => offsetSeconds };
}

export const UTC: TimeZone = fixedZone("UTC", 0);

/** Julian day number of a proleptic Gregorian date (year 0 = 1 BC), PostgreSQL's date2j. */
export function date2j(year: number, month: number, day: number): number {
  let y = year;
  let m = month;
  if (m > 2) {
    m += 1;
    y += 4800;
  } else {
    m += 13;
    y += 4799;
  }
  const century = Math.floor(y / 100);
  let julian = y * 365 - 32167;
  julian += Math.floor(y / 4) - century + Math.floor(century / 4);
  julian += Math.floor((7834 * m) / 256) + day;
  return julian;
}

/** PostgreSQL's j2date. */
export function j2date(jd: number): [year: number, month: number, day: number] {
  let julian = jd + 32044;
  let quad = Math.floor(julian / 146097);
  const extra = (julian - quad * 146097) * 4 + 3;
  julian += 60 + quad * 3 + Math.floor(extra / 146097);
  quad = Math.floor(julian / 1461);
  julian -= quad * 1461;
  let y = Math.floor((julian * 4) / 1461);
  julian = (y !== 0 ? (julian + 305) % 365 : (julian + 306) % 366) + 123;
  y += quad * 4;
  const q = Math.floor((julian * 2141) / 65536);
  return [y - 4800, ((q + 10) % 12) + 1, julian - Math.floor((7834 * q) / 256)];
}

// ---- output ----

const pad = (n: number, width: number): string => String(n).padStart(width, "0");

/** ISO date, with " BC" for years ≤ 0 (appended by the caller, after any zone). */
function formatYmd(jd: number): { text: string; bc: boolean } {
  const [y, m, d] = j2date(jd);
  const bc = y <= 0;
  return { text: `${pad(bc ? 1 - y : y, 4)}-${pad(m, 2)}-${pad(d, 2)}`, bc };
}

/** HH:MM:SS[.ffffff] with the fraction's trailing zeros dropped, as AppendSeconds does. */
function formatTime(micros: bigint): string {
  const totalSeconds = Number(micros / USECS_PER_SEC);
  const fraction = Number(micros % USECS_PER_SEC);
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor(totalSeconds / 60) % 60;
  const s = totalSeconds % 60;
  const base = `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}`;
  return fraction === 0 ? base : `${base}.${pad(fraction, 6).replace(/0+$/, "")}`;
}

/** +HH, +HH:MM or +HH:MM:SS (EncodeTimezone). */
function formatOffset(offsetSeconds: number): string {
  const sign = offsetSeconds < 0 ? "-" : "+";
  const abs = Math.abs(offsetSeconds);
  const h = Math.floor(abs / 3600);
  const m = Math.floor(abs / 60) % 60;
  const s = abs % 60;
  let out = `${sign}${pad(h, 2)}`;
  if (m !== 0 || s !== 0) out += `:${pad(m, 2)}`;
  if (s !== 0) out += `:${pad(s, 2)}`;
  return out;
}

function splitDays(micros: bigint): [days: number, time: bigint] {
  let days = micros / USECS_PER_DAY;
  let time = micros % USECS_PER_DAY;
  if (time < 0n) {
    time += USECS_PER_DAY;
    days -= 1n;
  }
  return [Number(days), time];
}

export function formatTimestamp(value: bigint): string {
  if (value === TIMESTAMP_NOBEGIN) return "-infinity";
  if (value === TIMESTAMP_NOEND) return "infinity";
  const [days, time] = splitDays(value);
  const date = formatYmd(days + POSTGRES_EPOCH_JDATE);
  return `${date.text} ${formatTime(time)}${date.bc ? " BC" : ""}`;
}

export function formatTimestamptz(value: bigint, zone: TimeZone): string {
  if (value === TIMESTAMP_NOBEGIN) return "-infinity";
  if (value === TIMESTAMP_NOEND) return "infinity";
  const offset = zone.offsetSecondsAt(value);
  const [days, time] = splitDays(value + BigInt(offset) * USECS_PER_SEC);
  const date = formatYmd(days + POSTGRES_EPOCH_JDATE);
  return `${date.text} ${formatTime(time)}${formatOffset(offset)}${date.bc ? " BC" : ""}`;
}

export function formatDate(value: number): string {
  if (value === DATE_NOBEGIN) return "-infinity";
  if (value === DATE_NOEND) return "infinity";
  const date = formatYmd(value + POSTGRES_EPOCH_JDATE);
  return date.bc ? `${date.text} BC` : date.text;
}

// ---- conversions ----

/** timestamptz → timestamp in `zone` (timestamptz_timestamp). */
export function timestamptzToLocal(value: bigint, zone: TimeZone): bigint {
  if (value === TIMESTAMP_NOBEGIN || value === TIMESTAMP_NOEND) return value;
  return checkTimestamp(value + BigInt(zone.offsetSecondsAt(value)) * USECS_PER_SEC);
}

/** timestamp in `zone` → timestamptz (timestamp_timestamptz); fixed-offset zones need no DST search. */
export function localToTimestamptz(value: bigint, zone: TimeZone): bigint {
  if (value === TIMESTAMP_NOBEGIN || value === TIMESTAMP_NOEND) return value;
  return checkTimestamp(value - BigInt(zone.offsetSecondsAt(value)) * USECS_PER_SEC);
}

export function dateToTimestamp(value: number): bigint {
  if (value === DATE_NOBEGIN) return TIMESTAMP_NOBEGIN;
  if (value === DATE_NOEND) return TIMESTAMP_NOEND;
  return checkTimestamp(BigInt(value) * USECS_PER_DAY, "date out of range for timestamp");
}

export function timestampToDate(value: bigint): number {
  if (value === TIMESTAMP_NOBEGIN) return DATE_NOBEGIN;
  if (value === TIMESTAMP_NOEND) return DATE_NOEND;
  return splitDays(value)[0];
}

function checkTimestamp(value: bigint, message = "timestamp out of range"): bigint {
  if (value < MIN_TIMESTAMP || value >= END_TIMESTAMP) throw sqlError(Code.datetimeFieldOverflow, message);
  return value;
}

/** Microseconds since 2000-01-01 of microseconds since 1970-01-01 (the clock's reading). */
export function timestampFromUnixMicros(unixMicros: bigint): bigint {
  return unixMicros - BigInt(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
}

const TIMESTAMP_SCALES = [1000000n, 100000n, 10000n, 1000n, 100n, 10n, 1n];

/** timestamp(p): rounds to p fractional digits, half away from zero (AdjustTimestampForTypmod). */
export function roundTimestamp(value: bigint, precision: number): bigint {
  if (value === TIMESTAMP_NOBEGIN || value === TIMESTAMP_NOEND || precision >= 6 || precision < 0) return value;
  const scale = TIMESTAMP_SCALES[precision]!;
  const offset = scale / 2n;
  const rounded = value >= 0n ? ((value + offset) / scale) * scale : -(((-value + offset) / scale) * scale);
  return checkTimestamp(rounded);
}
