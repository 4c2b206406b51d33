import { type RelFile, relFile } from "../../common/ids.js";
import type { Column, Table } from "./database.js";

/**
 * The system catalogs: heap relations at fixed relfiles, with the names and
 * oids PostgreSQL gives them, readable with SQL like any table (pgbench, psql
 * and drivers query them). Each holds a subset of PostgreSQL's columns, under
 * PostgreSQL's names; oid columns are bigint and "char" columns are text.
 */

export const PG_CLASS_RELFILE = 2;
export const PG_ATTRIBUTE_RELFILE = 3;
export const PG_NAMESPACE_RELFILE = 4;
export const PG_INDEX_RELFILE = 5;
export const PG_INHERITS_RELFILE = 6;
export const PG_PARTITIONED_TABLE_RELFILE = 7;

/** pg_namespace oids, as in PostgreSQL. */
export const PG_CATALOG_NAMESPACE = 11;
export const PUBLIC_NAMESPACE = 2200;

/** The xid of rows made when the volume is formatted: committed for everyone (PostgreSQL's FrozenTransactionId). */
export const FROZEN_XID = 2;

const int8 = (name: string): Column => ({ name, type: "int8", typmod: -1, notNull: true });
const int4 = (name: string): Column => ({ name, type: "int4", typmod: -1, notNull: true });
const text = (name: string): Column => ({ name, type: "text", typmod: -1, notNull: true });
const bool = (name: string): Column => ({ name, type: "bool", typmod: -1, notNull: true });

function system(oid: number, name: string, relfile: number, columns: readonly Column[]): Table {
  return { oid, name, relfile: relFile(relfile) as RelFile, columns, indexes: [], system: true };
}

export const PG_CLASS = system(1259, "pg_class", PG_CLASS_RELFILE, [
  int8("oid"),
  text("relname"),
  int8("relnamespace"),
  text("relkind"),
  int8("relfilenode"),
]);

export const PG_ATTRIBUTE = system(1249, "pg_attribute", PG_ATTRIBUTE_RELFILE, [
  int8("attrelid"),
  int4("attnum"),
  text("attname"),
  text("atttype"),
  bool("attnotnull"),
  int4("atttypmod"),
]);

export const PG_NAMESPACE = system(2615, "pg_namespace", PG_NAMESPACE_RELFILE, [int8("oid"), text("nspname")]);

export const PG_INDEX = system(2610, "pg_index", PG_INDEX_RELFILE, [
  int8("indexrelid"),
  int8("indrelid"),
  int4("indnatts"),
  bool("indisunique"),
  bool("indisprimary"),
  /** The table's attnums, space-separated (int2vector's text form). */
  text("indkey"),
]);

export const PG_INHERITS = system(2611, "pg_inherits", PG_INHERITS_RELFILE, [
  int8("inhrelid"),
  int8("inhparent"),
  int4("inhseqno"),
]);

export const PG_PARTITIONED_TABLE = system(3350, "pg_partitioned_table", PG_PARTITIONED_TABLE_RELFILE, [
  int8("partrelid"),
  text("partstrat"),
]);

export const SYSTEM_TABLES: ReadonlyMap<string, Table> = new Map(
  [PG_CLASS, PG_ATTRIBUTE, PG_NAMESPACE, PG_INDEX, PG_INHERITS, PG_PARTITIONED_TABLE].map((t) => [t.name, t]),
);

/** The rows pg_namespace starts with. */
export const INITIAL_NAMESPACES: readonly (readonly [bigint, string])[] = [
  [BigInt(PG_CATALOG_NAMESPACE), "pg_catalog"],
  [BigInt(PUBLIC_NAMESPACE), "public"],
];
