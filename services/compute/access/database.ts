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
  /** The table's indexes visible to the transaction that looked it up. */
  readonly indexes: readonly Index[];
  /** A system catalog (pg_class …): readable with SQL, changed only by DDL. */
  readonly system?: boolean;
}

/** A B-tree index on a table. */
export interface Index {
  readonly oid: number;
  readonly name: string;
  readonly relfile: RelFile;
  /** The indexed columns, as positions (0-based) in the table's columns, in key order. */
  readonly columns: readonly number[];
  readonly unique: boolean;
  readonly primary: boolean;
}

export interface IndexDefinition {
  readonly name: string;
  readonly columns: readonly number[];
  readonly unique: boolean;
  /** A primary key also sets NOT NULL on its columns (23502 when a row has a NULL there). */
  readonly primary: boolean;
}

/** One end of an index range: values for a prefix of the index's columns. */
export interface KeyBound {
  readonly values: readonly Datum[];
  readonly inclusive: boolean;
}

export interface KeyRange {
  readonly lower?: KeyBound;
  readonly upper?: KeyBound;
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
  /** lock_timeout for the lock waits of the statements that follow (0: none): 55P03 when it passes. */
  setLockTimeout(ms: number): void;
  /** Ends a lock wait of this transaction now, failing it with `error` (a cancel, a statement timeout). */
  interrupt(error: Error): void;
}

/** Thrown by the access layer with a SQLSTATE the wire layer reports as is. */
export interface AccessError extends Error {
  readonly sqlState: string;
  readonly detail?: string;
  /** Which row of an insertMany call failed. */
  readonly rowIndex?: number;
  /** For 23505: the key that is already there, for the DETAIL line (the SQL layer formats the values). */
  readonly duplicateKey?: {
    readonly columns: readonly Column[];
    readonly values: readonly Datum[];
    /** "already exists" (an insert) or "is duplicated" (building a unique index). */
    readonly existing: boolean;
  };
}

export type WriteOutcome = "ok" | "gone";

/** What VACUUM of one table did, for VACUUM VERBOSE. */
export interface VacuumResult {
  /** Heap blocks scanned. */
  readonly pages: number;
  /** Dead versions pruned (and their index entries removed). */
  readonly removed: number;
  /** Versions left in place (live, or still visible to some snapshot). */
  readonly remaining: number;
}

export interface Database {
  begin(isolation?: IsolationLevel): Transaction;
  /**
   * Changes when a catalog change is made and when a transaction that made
   * one ends: a plan checked against the catalog at generation G needs no
   * new check while the generation is still G.
   */
  catalogGeneration(): number;
  /** Returns once the commit record is durable (VDL ≥ its LSN): only then may COMMIT be reported. */
  commit(tx: Transaction): Promise<void>;
  rollback(tx: Transaction): Promise<void>;

  lookupTable(tx: Transaction, name: string): Promise<Table | undefined>;
  /** 42P07 if the name is taken. */
  createTable(tx: Transaction, name: string, columns: readonly Column[]): Promise<Table>;
  /** Drops the table and its indexes. */
  dropTable(tx: Transaction, table: Table): Promise<void>;
  /** Empties the tables and their indexes (new relfiles, as PostgreSQL does: rolled back with the transaction). */
  truncate(tx: Transaction, tables: readonly Table[]): Promise<void>;
  /**
   * Builds an index over the table's rows. 42P07 if the name is taken, 23505
   * when a unique index finds a duplicate, 42P16 for a second primary key.
   */
  createIndex(tx: Transaction, table: Table, definition: IndexDefinition): Promise<Index>;
  /** The index of that name with its table, or undefined. */
  lookupIndex(tx: Transaction, name: string): Promise<{ readonly table: Table; readonly index: Index } | undefined>;
  dropIndex(tx: Transaction, table: Table, index: Index): Promise<void>;

  /** The rows visible to the current command of `tx`, a page at a time. */
  scan(tx: Transaction, table: Table): AsyncIterable<readonly Row[]>;
  /** The visible rows whose index key lies in `range`, in index order, a leaf page at a time. */
  indexScan(tx: Transaction, table: Table, index: Index, range: KeyRange): AsyncIterable<readonly Row[]>;
  /**
   * Values already coerced to the column types; NOT NULL checked by the
   * caller (23502). Adds index entries; 23505 on a duplicate key of a
   * unique index (waiting first for a transaction that holds that key).
   */
  insert(tx: Transaction, table: Table, values: readonly Datum[]): Promise<TupleId>;
  /**
   * Inserts several rows as `insert` would, in order, the heap filled a page
   * at a time (COPY). A row that cannot be stored fails the call before
   * anything is written, with `rowIndex` set on the error.
   */
  insertMany(tx: Transaction, table: Table, rows: readonly (readonly Datum[])[]): Promise<void>;
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

  /**
   * VACUUM of one table: removes the versions no snapshot can see any more
   * (index entries first, then one prune record per page) so their space is
   * used again. System catalogs are left alone.
   */
  vacuum(tx: Transaction, table: Table): Promise<VacuumResult>;
  /** The user tables visible to `tx` (VACUUM without a table list). */
  userTables(tx: Transaction): Promise<readonly Table[]>;
  /** The size of the table's heap in bytes (blocks × 8192), as pg_relation_size reports it. */
  relationSize(tx: Transaction, table: Table): Promise<number>;
}
