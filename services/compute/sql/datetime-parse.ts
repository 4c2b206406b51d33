import {
  DATE_NOBEGIN,
  DATE_NOEND,
  TIMESTAMP_NOBEGIN,
  TIMESTAMP_NOEND,
  type TimeZone,
  USECS_PER_DAY,
  USECS_PER_SEC,
  date2j,
  dateToTimestamp,
} from "./datetime.js";
import { Code, sqlError } from "./errors.js";

/**
 * Text input of timestamp, timestamptz and date: the ISO forms clients send
 * (`2026-11-26`, `2026-11-26 12:34:56.789`, `…T…`, `…+02`, `…Z`, `… BC`),
 * the MDY form `11-26-2026` of DateStyle "ISO, MDY", and the special words
 * infinity, -infinity and epoch, with PostgreSQL's SQLSTATEs and messages.
 * Other forms of datetime.c (month names, `now`, named zones) are rejected as
 * invalid syntax.
 */

export type DatetimeType = "timestamp" | "timestamptz" | "date";

const DISPLAY: Readonly<Record<DatetimeType, string>> = {
  timestamp: "timestamp",
  timestamptz: "timestamp with time zone",
  date: "date",
};

const SPACE = "[ \\t\\n\\r\\v\\f]";
const ZONE = "(z|utc|gmt|[+-]\\d{1,2}(?::?\\d{2}(?::?\\d{2})?)?)";
const DATETIME = new RegExp(
  `^${SPACE}*(\\d+)-(\\d+)-(\\d+)` +
    `(?:(?:t|${SPACE}+)(\\d{1,2}):(\\d{1,2})(?::(\\d{1,2})(?:\\.(\\d*))?)?)?` +
    `(?:${SPACE}*${ZONE})?(?:${SPACE}+(bc|ad))?${SPACE}*$`,
  "i",
);

/** PostgreSQL's MAX_TZDISP_HOUR. */
const ZONE_HOURS_MAX = 15;

interface Fields {
  year: number;
  month: number;
  day: number;
  micros: bigint;
  /** Seconds east of Greenwich, when the text names a zone. */
  offset: number | undefined;
}

function invalidSyntax(type: DatetimeType, text: string, location?: number): never {
  throw sqlError(Code.invalidDatetimeFormat, `invalid input syntax for type ${DISPLAY[type]}: "${text}"`, location);
}

function fieldOverflow(text: string, location?: number, hint?: string): never {
  throw sqlError(
    Code.datetimeFieldOverflow,
    `date/time field value out of range: "${text}"`,
    location,
    hint === undefined ? {} : { hint },
  );
}

const DATESTYLE_HINT = 'Perhaps you need a different "datestyle" setting.';

/** rint(): the fraction of a second to microseconds, ties to even, as PostgreSQL rounds it. */
function fractionMicros(digits: string): number {
  if (digits === "") return 0;
  const x = Number(`0.${digits}`) * 1e6;
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function parseOffset(zone: string, type: DatetimeType, text: string, location?: number): number {
  const z = zone.toLowerCase();
  if (z === "z" || z === "utc" || z === "gmt") return 0;
  const sign = z[0] === "-" ? -1 : 1;
  const digits = z.slice(1).replace(/:/g, "");
  const colon = z.includes(":");
  // "+5", "+05", "+0530", "+05:30", "+053010": hours take one or two digits only when alone or with a colon.
  let h: number;
  let rest: string;
  if (colon) {
    const parts = z.slice(1).split(":");
    h = Number(parts[0]);
    rest = parts.slice(1).join("");
  } else if (digits.length <= 2) {
    h = Number(digits);
    rest = "";
  } else if (digits.length === 4 || digits.length === 6) {
    h = Number(digits.slice(0, 2));
    rest = digits.slice(2);
  } else {
    return invalidSyntax(type, text, location);
  }
  const m = rest.length >= 2 ? Number(rest.slice(0, 2)) : 0;
  const s = rest.length >= 4 ? Number(rest.slice(2, 4)) : 0;
  if (h > ZONE_HOURS_MAX || m > 59 || s > 59) {
    throw sqlError(Code.invalidTimeZoneDisplacement, `time zone displacement out of range: "${text}"`, location);
  }
  return sign * (h * 3600 + m * 60 + s);
}

function parseFields(type: DatetimeType, text: string, location?: number): Fields {
  const match = DATETIME.exec(text);
  if (match === null) return invalidSyntax(type, text, location);
  const [, f1, f2, f3, hh, mi, ss, frac, zone, era] = match;
  let year: number;
  let month: number;
  let day: number;
  if (f1!.length >= 3) {
    [year, month, day] = [Number(f1), Number(f2), Number(f3)];
  } else {
    // DateStyle MDY: 11-26-2026, and a two-digit year is 1970–2069.
    [month, day, year] = [Number(f1), Number(f2), Number(f3)];
    if (f3!.length <= 2) year += year < 70 ? 2000 : 1900;
  }
  if (era?.toLowerCase() === "bc") {
    if (year === 0) fieldOverflow(text, location);
    year = 1 - year;
  }
  if (month < 1 || month > 12) fieldOverflow(text, location, DATESTYLE_HINT);
  if (day < 1 || day > 31) fieldOverflow(text, location, DATESTYLE_HINT);
  if (day > daysIn(year, month)) fieldOverflow(text, location);
  const h = Number(hh ?? 0);
  const m = Number(mi ?? 0);
  const s = Number(ss ?? 0);
  const fraction = fractionMicros(frac ?? "");
  if (h > 24 || m > 59 || s > 60 || (h === 24 && (m > 0 || s > 0 || fraction > 0)) || (s === 60 && fraction > 0)) {
    fieldOverflow(text, location);
  }
  const micros = BigInt((h * 60 + m) * 60 + s) * USECS_PER_SEC + BigInt(fraction);
  const offset = zone === undefined ? undefined : parseOffset(zone, type, text, location);
  return { year, month, day, micros, offset };
}

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Julian days are valid from 4714-11-24 BC on, as PostgreSQL's IS_VALID_JULIAN. */
function validJulian(f: Fields): boolean {
  return f.year > -4713 || (f.year === -4713 && f.month >= 11);
}

function special(text: string): "infinity" | "-infinity" | "epoch" | undefined {
  const word = text.trim().toLowerCase();
  if (word === "infinity" || word === "+infinity") return "infinity";
  if (word === "-infinity" || word === "epoch") return word;
  return undefined;
}

const EPOCH_TIMESTAMP = dateToTimestamp(date2j(1970, 1, 1) - date2j(2000, 1, 1));

function timestampOutOfRange(text: string, location?: number): never {
  throw sqlError(Code.datetimeFieldOverflow, `timestamp out of range: "${text}"`, location);
}

/** timestamp_in / timestamptz_in: a zone in a timestamp's text is ignored, as PostgreSQL does. */
export function parseTimestamp(
  type: "timestamp" | "timestamptz",
  text: string,
  zone: TimeZone,
  location?: number,
): bigint {
  const word = special(text);
  if (word === "infinity") return TIMESTAMP_NOEND;
  if (word === "-infinity") return TIMESTAMP_NOBEGIN;
  if (word === "epoch") return EPOCH_TIMESTAMP;
  const f = parseFields(type, text, location);
  if (!validJulian(f) || f.year >= 294277) timestampOutOfRange(text, location);
  let value = BigInt(date2j(f.year, f.month, f.day) - date2j(2000, 1, 1)) * USECS_PER_DAY + f.micros;
  if (type === "timestamptz") {
    const offset = f.offset ?? zone.offsetSecondsAt(value);
    value -= BigInt(offset) * USECS_PER_SEC;
  }
  if (value < -211813488000000000n || value >= 9223371331200000000n) timestampOutOfRange(text, location);
  return value;
}

/** date_in: the date part; a time of day is allowed and ignored. */
export function parseDate(text: string, location?: number): number {
  const word = special(text);
  if (word === "infinity") return DATE_NOEND;
  if (word === "-infinity") return DATE_NOBEGIN;
  if (word === "epoch") return date2j(1970, 1, 1) - date2j(2000, 1, 1);
  const f = parseFields("date", text, location);
  const jd = validJulian(f) ? date2j(f.year, f.month, f.day) : -1;
  if (jd < 0 || jd >= 2147483494) {
    throw sqlError(Code.datetimeFieldOverflow, `date out of range: "${text}"`, location);
  }
  return jd - date2j(2000, 1, 1);
}
