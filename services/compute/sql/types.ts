import type { ColumnType } from "../access/database.js";

/**
 * The SQL types the engine knows. The four column types of the access seam,
 * plus those that only exist in expressions, as in PostgreSQL:
 * - `numeric`: what sum(int8) returns and what an integer literal too large
 *   for bigint is. Only whole numbers occur, so a bigint holds it exactly.
 * - `unknown`: a string literal, NULL or `$n` before context gives it a type.
 * - `void`: what pg_sleep returns (printed as an empty string).
 * - `name`: the type of identifiers (current_user, current_schema), a string
 *   that behaves as text does here.
 * - `text[]`, `name[]`: one-dimensional arrays of strings, what catalog
 *   functions such as current_schemas return (see array.ts for their value).
 */
export type SqlType = ColumnType | "numeric" | "unknown" | "void" | "name" | "text[]" | "name[]";

interface TypeInfo {
  /** pg_type.oid */
  readonly oid: number;
  /** pg_type.typlen: bytes, or -1 varlena, -2 cstring. */
  readonly size: number;
  /** format_type(): how error messages name the type. */
  readonly display: string;
  /** Number types share arithmetic; the rank picks the common type (int4 < int8 < numeric < float8). */
  readonly numericRank: number;
  /** PostgreSQL's type category: S string, D date/time, N numeric, B boolean, X unknown/void. */
  readonly category: "S" | "D" | "N" | "B" | "X";
}

const INFO: Readonly<Record<SqlType, TypeInfo>> = {
  int4: { oid: 23, size: 4, display: "integer", numericRank: 1, category: "N" },
  int8: { oid: 20, size: 8, display: "bigint", numericRank: 2, category: "N" },
  numeric: { oid: 1700, size: -1, display: "numeric", numericRank: 3, category: "N" },
  float8: { oid: 701, size: 8, display: "double precision", numericRank: 4, category: "N" },
  text: { oid: 25, size: -1, display: "text", numericRank: 0, category: "S" },
  bpchar: { oid: 1042, size: -1, display: "character", numericRank: 0, category: "S" },
  varchar: { oid: 1043, size: -1, display: "character varying", numericRank: 0, category: "S" },
  bool: { oid: 16, size: 1, display: "boolean", numericRank: 0, category: "B" },
  timestamp: { oid: 1114, size: 8, display: "timestamp without time zone", numericRank: 0, category: "D" },
  timestamptz: { oid: 1184, size: 8, display: "timestamp with time zone", numericRank: 0, category: "D" },
  date: { oid: 1082, size: 4, display: "date", numericRank: 0, category: "D" },
  unknown: { oid: 705, size: -2, display: "unknown", numericRank: 0, category: "X" },
  void: { oid: 2278, size: 4, display: "void", numericRank: 0, category: "X" },
  name: { oid: 19, size: 64, display: "name", numericRank: 0, category: "S" },
  "text[]": { oid: 1009, size: -1, display: "text[]", numericRank: 0, category: "X" },
  "name[]": { oid: 1003, size: -1, display: "name[]", numericRank: 0, category: "X" },
};

export function isArrayType(type: SqlType): boolean {
  return type === "text[]" || type === "name[]";
}

export function typeOid(type: SqlType): number {
  return INFO[type].oid;
}

export function typeSize(type: SqlType): number {
  return INFO[type].size;
}

export function typeDisplay(type: SqlType): string {
  return INFO[type].display;
}

/** text, varchar, bpchar and name (PostgreSQL's string category, text preferred). */
export function isStringType(type: SqlType): boolean {
  return INFO[type].category === "S";
}

/** date, timestamp and timestamptz. */
export function isDatetimeType(type: SqlType): boolean {
  return INFO[type].category === "D";
}

export function isNumericType(type: SqlType): boolean {
  return INFO[type].numericRank > 0;
}

/** The common type of two number types (int4 + int8 → int8, int8 + float8 → float8). */
export function widerNumeric(a: SqlType, b: SqlType): SqlType {
  return INFO[a].numericRank >= INFO[b].numericRank ? a : b;
}

/** The column types as parameter type oids a client may name in Parse. */
const PARAM_TYPES_BY_OID: ReadonlyMap<number, SqlType> = new Map<number, SqlType>([
  [23, "int4"],
  [20, "int8"],
  [701, "float8"],
  [25, "text"],
  [1042, "bpchar"],
  [1043, "varchar"],
  [16, "bool"],
  [1114, "timestamp"],
  [1184, "timestamptz"],
  [1082, "date"],
]);

export function paramTypeOfOid(oid: number): SqlType | undefined {
  return PARAM_TYPES_BY_OID.get(oid);
}

/**
 * A type named in SQL (CREATE TABLE, CAST): the parser spells `integer` as
 * pg_catalog.int4, `double precision` as pg_catalog.float8, `character(n)`
 * as pg_catalog.bpchar; both spellings are accepted.
 */
const COLUMN_TYPES_BY_NAME: ReadonlyMap<string, ColumnType> = new Map<string, ColumnType>([
  ["int4", "int4"],
  ["int8", "int8"],
  ["float8", "float8"],
  ["text", "text"],
  ["bpchar", "bpchar"],
  ["varchar", "varchar"],
  ["bool", "bool"],
  ["timestamp", "timestamp"],
  ["timestamptz", "timestamptz"],
  ["date", "date"],
]);

export function columnTypeOfName(names: readonly string[]): ColumnType | undefined {
  const last = names[names.length - 1];
  if (last === undefined || names.length > 2) return undefined;
  if (names.length === 2 && names[0] !== "pg_catalog") return undefined;
  return COLUMN_TYPES_BY_NAME.get(last);
}
