import type { RelFile, Xid } from "../../common/ids.js";

/**
 * The seam between the SQL layer (services/compute/sql) and the access
 * layer below it (transactions, catalog, heap, buffer pool, log). The SQL
 * layer sees only this file; a layer never reaches past the one below it.
 */

export type ColumnType =
  | "int4"
  | "int8"
  | "float8"
  | "text"
  | "bpchar"
  | "varchar"
  | "bool"
  | "timestamp"
  | "timestamptz"
  | "date";

/**
 * A column value, NULL → null: int4 and float8 → number, int8 → bigint,
 * text, varchar and bpchar → string (bpchar padded to its length, as
 * PostgreSQL stores it), bool → boolean, timestamp and timestamptz → bigint
 * microseconds since 2000-01-01 00:00:00 (UTC for timestamptz), date →
 * number of days since 2000-01-01. Index key encodings rely on exactly this.
 */
export type Datum = number | bigint | string | boolean | null;

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
  /** PostgreSQL's atttypmod: n + 4 for char(n)/varchar(n), p for timestamp(p), −1 when none. */
  readonly typmod: number;
  readonly notNull: boolean;
}

export interface Table {
  readonly oid: number;
  readonly name: string;
  readonly relfile: RelFile;
  readonly columns: readonly Column[];
}

/** Where a tuple version lives: (block, slot) like PostgreSQL's ctid. */
export interface TupleId {
  readonly block: number;
  readonly slot: number;
}

export interface Row {
  readonly tid: TupleId;
  readonly values: readonly Datum[];
}

export type IsolationLevel = "read committed" | "repeatable read";

/** A transaction handle. Statements inside it call `startCommand` first. */
export interface Transaction {
  readonly isolation: IsolationLevel;
  /** Assigned on the first write; reads need no xid. */
  readonly xid: Xid | undefined;
  /** Begins a new statement: a fresh snapshot under READ COMMITTED, a new command id always. */
  startCommand(): void;
}

/** Thrown by the access layer with a SQLSTATE the wire layer reports as is. */
export interface AccessError extends Error {
  readonly sqlState: string;
}

export type WriteOutcome = "ok" | "gone";

export interface Database {
  begin(isolation?: IsolationLevel): Transaction;
  /** Returns once the commit record is durable (VDL ≥ its LSN): only then may COMMIT be reported. */
  commit(tx: Transaction): Promise<void>;
  rollback(tx: Transaction): Promise<void>;

  lookupTable(tx: Transaction, name: string): Promise<Table | undefined>;
  /** 42P07 if the name is taken. */
  createTable(tx: Transaction, name: string, columns: readonly Column[]): Promise<Table>;
  dropTable(tx: Transaction, table: Table): Promise<void>;

  /** The rows visible to the current command of `tx`, a page at a time. */
  scan(tx: Transaction, table: Table): AsyncIterable<readonly Row[]>;
  /** Values already coerced to the column types; NOT NULL checked by the caller (23502). */
  insert(tx: Transaction, table: Table, values: readonly Datum[]): Promise<TupleId>;
  /**
   * Deletes the version at `tid` as of the current command. Waits while
   * another in-progress transaction holds the row; "gone" when the row was
   * deleted or updated by a transaction that committed meanwhile (READ
   * COMMITTED then asks `newerVersion`, REPEATABLE READ fails with 40001).
   */
  delete(tx: Transaction, table: Table, tid: TupleId): Promise<WriteOutcome>;
  /** Deletes `tid` and inserts `values` as its new version; same outcomes as delete. */
  update(tx: Transaction, table: Table, tid: TupleId, values: readonly Datum[]): Promise<WriteOutcome>;
  /**
   * After "gone": the newest committed version of the row that `tid` was
   * updated into, or undefined when the row was deleted. READ COMMITTED
   * re-checks its WHERE on it and retries, as PostgreSQL's EvalPlanQual does.
   */
  newerVersion(tx: Transaction, table: Table, tid: TupleId): Promise<Row | undefined>;
}
