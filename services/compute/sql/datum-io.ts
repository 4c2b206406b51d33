import type { Datum } from "../access/database.js";
import type { DataValue } from "../wire/query-engine.js";
import { formatArray, parseArray } from "./array.js";
import { UTC, formatDate, formatTimestamp, formatTimestamptz } from "./datetime.js";
import { parseDate, parseTimestamp } from "./datetime-parse.js";
import { Code, notSupported, sqlError } from "./errors.js";
import { formatFloat8, parseFloat8 } from "./float8.js";
import type { SqlType } from "./types.js";
import { typeDisplay } from "./types.js";

/**
 * Values in and out, as PostgreSQL's type I/O functions do it: text input
 * (int4in, int8in, float8in, boolin, timestamp_in …), text output (bool as
 * t/f, float8 shortest, timestamps in ISO DateStyle), and the binary
 * send/receive forms of the column types.
 */

/**
 * The session's TimeZone. Sediment reports TimeZone=UTC at startup and has
 * no SET yet; the datetime code takes the zone as a parameter, so SET
 * TimeZone only has to thread another one through here.
 */
export const SESSION_ZONE = UTC;

export const INT4_MIN = -2147483648;
export const INT4_MAX = 2147483647;
export const INT8_MIN = -(2n ** 63n);
export const INT8_MAX = 2n ** 63n - 1n;

/** C isspace(), which PostgreSQL's number and boolean input skip around the value. */
const SPACE = /^[ \t\n\r\v\f]*$/;
const INTEGER = /^[ \t\n\r\v\f]*([+-]?)(\d+)[ \t\n\r\v\f]*$/;

function invalidInput(type: SqlType, text: string, location?: number): never {
  throw sqlError(
    Code.invalidTextRepresentation,
    `invalid input syntax for type ${typeDisplay(type)}: "${text}"`,
    location,
  );
}

function outOfRange(type: SqlType, text: string, location?: number): never {
  throw sqlError(
    Code.numericValueOutOfRange,
    `value "${text}" is out of range for type ${typeDisplay(type)}`,
    location,
  );
}

/** An integer in text (pg_strtoint32/64 of PostgreSQL 15: spaces, sign, decimal digits). */
function parseInteger(type: "int4" | "int8", text: string, location?: number): bigint {
  const m = INTEGER.exec(text);
  if (m === null) invalidInput(type, text, location);
  const value = BigInt(`${m[1]}${m[2]}`);
  const [min, max] = type === "int4" ? [BigInt(INT4_MIN), BigInt(INT4_MAX)] : [INT8_MIN, INT8_MAX];
  if (value < min || value > max) outOfRange(type, text, location);
  return value;
}

/** boolin: a unique prefix of true/false/yes/no, on/off, or 1/0, any case, spaces around. */
export function parseBool(text: string, location?: number): boolean {
  const value = text.replace(/^[ \t\n\r\v\f]+|[ \t\n\r\v\f]+$/g, "").toLowerCase();
  const n = value.length;
  if (n > 0) {
    if ("true".startsWith(value) || "yes".startsWith(value)) return true;
    if ("false".startsWith(value) || "no".startsWith(value)) return false;
    if (n >= 2 && "on".startsWith(value)) return true;
    if (n >= 2 && "off".startsWith(value)) return false;
    if (value === "1") return true;
    if (value === "0") return false;
  }
  return invalidInput("bool", text, location);
}

/** Text input of a value of `type` (a literal cast, a text parameter, text::int). */
export function parseText(type: SqlType, text: string, location?: number): Datum {
  switch (type) {
    case "int4":
      if (text.length <= 11 && /^-?\d+$/.test(text)) {
        const n = Number(text);
        if (n >= INT4_MIN && n <= INT4_MAX) return n | 0; // | 0: "-0" is 0
      }
      return Number(parseInteger("int4", text, location));
    case "int8":
      return parseInteger("int8", text, location);
    case "bool":
      return parseBool(text, location);
    case "float8":
      return parseFloat8(text, location);
    case "timestamp":
    case "timestamptz":
      return parseTimestamp(type, text, SESSION_ZONE, location);
    case "date":
      return parseDate(text, location);
    case "text":
    case "varchar":
    case "bpchar":
    case "name":
    case "unknown":
      return text;
    case "numeric": {
      const m = INTEGER.exec(text);
      if (m !== null) return BigInt(`${m[1]}${m[2]}`);
      if (SPACE.test(text)) invalidInput(type, text, location);
      throw notSupported("non-integer numeric values", location);
    }
    case "void":
      return "";
    case "text[]":
    case "name[]":
      return formatArray(parseArray(text, location));
  }
}

/** Text output: what PostgreSQL sends in a DataRow of format 0. */
export function formatText(type: SqlType, value: Datum): string | null {
  if (value === null) return null;
  switch (type) {
    case "bool":
      return value ? "t" : "f";
    case "float8":
      return formatFloat8(value as number);
    case "timestamp":
      return formatTimestamp(value as bigint);
    case "timestamptz":
      return formatTimestamptz(value as bigint, SESSION_ZONE);
    case "date":
      return formatDate(value as number);
    default:
      return String(value);
  }
}

/** A bool cast to text says true/false, not t/f (booltext); other types print as their output function. */
export function castToText(type: SqlType, value: Datum): string | null {
  if (value === null) return null;
  if (type === "bool") return value ? "true" : "false";
  return formatText(type, value);
}

/** Binary output (typsend) of the column types. */
export function formatBinary(type: SqlType, value: Datum): Uint8Array | null {
  if (value === null) return null;
  switch (type) {
    case "int4": {
      const b = Buffer.allocUnsafe(4);
      b.writeInt32BE(value as number);
      return b;
    }
    case "int8": {
      const b = Buffer.allocUnsafe(8);
      b.writeBigInt64BE(value as bigint);
      return b;
    }
    case "date": {
      const b = Buffer.allocUnsafe(4);
      b.writeInt32BE(value as number);
      return b;
    }
    case "timestamp":
    case "timestamptz": {
      const b = Buffer.allocUnsafe(8);
      b.writeBigInt64BE(value as bigint);
      return b;
    }
    case "float8": {
      const b = Buffer.allocUnsafe(8);
      b.writeDoubleBE(value as number);
      return b;
    }
    case "bool":
      return Uint8Array.of(value ? 1 : 0);
    case "text":
    case "varchar":
    case "bpchar":
    case "name":
    case "unknown":
      return Buffer.from(value as string, "utf8");
    case "void":
      return new Uint8Array(0);
    case "numeric":
      throw notSupported("binary format for numeric");
    case "text[]":
    case "name[]":
      throw notSupported(`binary format for ${typeDisplay(type)}`);
  }
}

/** Binary input (typreceive) of a parameter of `type`. */
export function parseBinary(type: SqlType, bytes: Uint8Array): Datum {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const expect = (size: number): void => {
    if (b.length !== size) {
      throw sqlError(Code.invalidBinaryRepresentation, `incorrect binary data format in bind parameter`);
    }
  };
  switch (type) {
    case "int4":
      expect(4);
      return b.readInt32BE(0);
    case "int8":
      expect(8);
      return b.readBigInt64BE(0);
    case "date":
      expect(4);
      return b.readInt32BE(0);
    case "timestamp":
    case "timestamptz":
      expect(8);
      return checkTimestampRecv(b.readBigInt64BE(0));
    case "float8":
      expect(8);
      return b.readDoubleBE(0);
    case "bool":
      expect(1);
      return b[0] !== 0;
    case "text":
    case "varchar":
    case "bpchar":
    case "unknown":
      return decodeText(bytes);
    default:
      throw notSupported(`binary format for ${typeDisplay(type)} parameters`);
  }
}

/** timestamp_recv: ±infinity or a value inside PostgreSQL's range. */
function checkTimestampRecv(value: bigint): bigint {
  const infinite = value === -(2n ** 63n) || value === 2n ** 63n - 1n;
  if (!infinite && (value < -211813488000000000n || value >= 9223371331200000000n)) {
    throw sqlError(Code.datetimeFieldOverflow, "timestamp out of range");
  }
  return value;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Client text: valid UTF-8 without NUL (PostgreSQL text cannot hold 0x00). */
export function decodeText(bytes: Uint8Array): string {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw sqlError(Code.characterNotInRepertoire, `invalid byte sequence for encoding "UTF8"`);
  }
  if (text.includes("\0"))
    throw sqlError(Code.characterNotInRepertoire, `invalid byte sequence for encoding "UTF8": 0x00`);
  return text;
}

/** A DataRow value in the format the client asked for. */
export function formatValue(type: SqlType, value: Datum, format: 0 | 1): DataValue {
  return format === 0 ? formatText(type, value) : formatBinary(type, value);
}
