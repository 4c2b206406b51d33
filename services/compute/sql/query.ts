import type { Column, IsolationLevel, Table } from "../access/database.js";
import type { AggregateSpec } from "./aggregate.js";
import type { Relation } from "./analyze-expr.js";
import type { Expr } from "./expr.js";

/**
 * What analysis makes of one statement: names resolved to tables and
 * columns, expressions typed. The planner turns a Query into something to
 * run; a prepared statement keeps its Query to re-plan when the catalog moves.
 */

export interface TargetColumn {
  readonly name: string;
  readonly expr: Expr;
  /** The table column it reads directly, for RowDescription (else 0, 0). */
  readonly source: { readonly tableOid: number; readonly attnum: number } | undefined;
}

export interface SortKey {
  /** The output column it sorts by (ORDER BY name or position), or undefined for an expression. */
  readonly target: number | undefined;
  readonly expr: Expr;
  readonly descending: boolean;
  readonly nullsFirst: boolean;
}

export interface SelectQuery {
  readonly kind: "select";
  readonly relation: Relation | undefined;
  readonly filter: Expr | undefined;
  readonly targets: readonly TargetColumn[];
  /** Present in an aggregate query: its targets and sort keys read the aggregates' results. */
  readonly aggregates: readonly AggregateSpec[] | undefined;
  readonly sort: readonly SortKey[];
  readonly limit: Expr | undefined;
  readonly offset: Expr | undefined;
}

/** `SELECT pg_sleep(seconds)`: the only place pg_sleep may appear. */
export interface SleepQuery {
  readonly kind: "sleep";
  readonly name: string;
  readonly seconds: Expr | number;
}

export interface InsertQuery {
  readonly kind: "insert";
  readonly table: Table;
  /** One expression per table column (NULL where the statement names none), per VALUES row. */
  readonly rows: readonly (readonly Expr[])[];
}

export interface UpdateQuery {
  readonly kind: "update";
  readonly relation: Relation;
  readonly filter: Expr | undefined;
  readonly assignments: readonly { readonly index: number; readonly expr: Expr }[];
}

export interface DeleteQuery {
  readonly kind: "delete";
  readonly relation: Relation;
  readonly filter: Expr | undefined;
}

export interface CreateTableQuery {
  readonly kind: "create-table";
  readonly name: string;
  readonly columns: readonly Column[];
  readonly ifNotExists: boolean;
  /** PRIMARY KEY and UNIQUE constraints, built right after the table. */
  readonly indexes: readonly IndexSpec[];
}

/** An index to build; without a name, one is chosen as PostgreSQL does (t_a_idx, t_pkey, t_a_key). */
export interface IndexSpec {
  readonly name: string | undefined;
  readonly columns: readonly number[];
  readonly unique: boolean;
  readonly primary: boolean;
}

export interface CreateIndexQuery {
  readonly kind: "create-index";
  readonly table: Table;
  readonly spec: IndexSpec;
  readonly ifNotExists: boolean;
}

/** ALTER TABLE … ADD PRIMARY KEY / UNIQUE; `table` undefined for IF EXISTS on a missing table. */
export interface AlterTableQuery {
  readonly kind: "alter-table";
  readonly table: Table | undefined;
  readonly name: string;
  readonly indexes: readonly IndexSpec[];
}

export interface DropIndexQuery {
  readonly kind: "drop-index";
  readonly names: readonly string[];
  readonly ifExists: boolean;
}

export interface TruncateQuery {
  readonly kind: "truncate";
  readonly tables: readonly Table[];
}

/** VACUUM and/or ANALYZE: checked, then nothing to do yet (no dead-tuple pruning, no statistics). */
export interface VacuumQuery {
  readonly kind: "vacuum";
  readonly vacuum: boolean;
  readonly analyze: boolean;
  readonly tables: readonly Table[];
}

export interface DropTableQuery {
  readonly kind: "drop-table";
  readonly names: readonly string[];
  readonly ifExists: boolean;
}

/** SET / SET LOCAL / RESET (value undefined: the default); RESET ALL when name is undefined. */
export interface SetQuery {
  readonly kind: "set";
  readonly tag: "SET" | "RESET";
  readonly name: string | undefined;
  readonly value: string | undefined;
  readonly isLocal: boolean;
}

/** SHOW name; SHOW ALL when name is undefined. */
export interface ShowQuery {
  readonly kind: "show";
  readonly name: string | undefined;
}

export interface BeginQuery {
  readonly kind: "begin";
  /** START TRANSACTION reports its own tag. */
  readonly tag: "BEGIN" | "START TRANSACTION";
  readonly isolation: IsolationLevel | undefined;
  readonly readOnly: boolean | undefined;
}

export interface CommitQuery {
  readonly kind: "commit";
}

export interface RollbackQuery {
  readonly kind: "rollback";
}

export type Query =
  | SelectQuery
  | SleepQuery
  | InsertQuery
  | UpdateQuery
  | DeleteQuery
  | CreateTableQuery
  | DropTableQuery
  | CreateIndexQuery
  | AlterTableQuery
  | DropIndexQuery
  | TruncateQuery
  | VacuumQuery
  | SetQuery
  | ShowQuery
  | BeginQuery
  | CommitQuery
  | RollbackQuery;

export type TransactionControl = BeginQuery | CommitQuery | RollbackQuery;

export function isTransactionControl(q: Query): q is TransactionControl {
  return q.kind === "begin" || q.kind === "commit" || q.kind === "rollback";
}
