import type { Column, IsolationLevel, Table } from "../access/database.js";
import type { AggregateSpec } from "./aggregate.js";
import type { Relation } from "./analyze-expr.js";
import type { CopyOptions } from "./copy-options.js";
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
}

export interface DropTableQuery {
  readonly kind: "drop-table";
  readonly names: readonly string[];
  readonly ifExists: boolean;
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

/** COPY table [(columns)] FROM STDIN. */
export interface CopyFromQuery {
  readonly kind: "copy-from";
  readonly table: Table;
  /** The table column each field goes to, in input order; the others get NULL. */
  readonly columns: readonly number[];
  readonly options: CopyOptions;
  /** CSV FORCE_NOT_NULL / FORCE_NULL, per input field. */
  readonly forceNotNull: readonly boolean[];
  readonly forceNull: readonly boolean[];
}

/** COPY table [(columns)] TO STDOUT, or COPY (SELECT …) TO STDOUT: a SELECT whose rows go out as lines. */
export interface CopyToQuery {
  readonly kind: "copy-to";
  readonly select: SelectQuery;
  readonly options: CopyOptions;
  /** CSV FORCE_QUOTE, per output column. */
  readonly forceQuote: readonly boolean[];
}

export type Query =
  | SelectQuery
  | SleepQuery
  | InsertQuery
  | UpdateQuery
  | DeleteQuery
  | CreateTableQuery
  | DropTableQuery
  | BeginQuery
  | CommitQuery
  | RollbackQuery
  | CopyFromQuery
  | CopyToQuery;

export type TransactionControl = BeginQuery | CommitQuery | RollbackQuery;

export function isTransactionControl(q: Query): q is TransactionControl {
  return q.kind === "begin" || q.kind === "commit" || q.kind === "rollback";
}
