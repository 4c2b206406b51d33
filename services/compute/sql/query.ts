import type { Column, IsolationLevel, Table } from "../access/database.js";
import type { AggregateSpec } from "./aggregate.js";
import type { CopyOptions } from "./copy-options.js";
import type { Expr, SublinkCell } from "./expr.js";
import type { SeriesCall } from "./generate-series.js";

/**
 * What analysis makes of one statement: names resolved to tables and
 * columns, expressions typed. The planner turns a Query into something to
 * run; a prepared statement keeps its Query to re-plan when the catalog moves.
 */

/** The one table UPDATE or DELETE changes (and, before joins, the one table of a SELECT). */
export interface Relation {
  readonly table: Table;
  /** The alias if there is one, else the table name. */
  readonly refname: string;
  readonly aliased: boolean;
}

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

/**
 * A FROM item. Each covers `width` columns of the query's row from `offset`
 * on (see scope.ts); it is run with the row to its left as its prefix.
 */
export type FromNode =
  | { readonly kind: "table"; readonly table: Table; readonly offset: number; readonly width: number }
  | {
      readonly kind: "subquery";
      readonly query: SelectQuery;
      readonly offset: number;
      readonly width: number;
    }
  | {
      /** A set-returning function in FROM (generate_series); its arguments may read the items to its left. */
      readonly kind: "function";
      readonly name: string;
      /** As EXPLAIN shows it: `generate_series g`. */
      readonly label: string;
      readonly series: SeriesCall;
      readonly offset: number;
      readonly width: number;
    }
  | {
      readonly kind: "join";
      readonly join: JoinKind;
      readonly left: FromNode;
      readonly right: FromNode;
      /** undefined for CROSS JOIN (and the commas of a FROM list). */
      readonly on: Expr | undefined;
      readonly offset: number;
      readonly width: number;
    };

export type JoinKind = "inner" | "left" | "right" | "full";

/**
 * A subquery in an expression. It runs with the first `offset` values of the
 * row it is evaluated for as its prefix; an uncorrelated one reads none of
 * them and runs once per execution.
 */
export interface Sublink {
  readonly mode: "scalar" | "exists" | "values";
  readonly query: SelectQuery;
  readonly offset: number;
  readonly cell: SublinkCell;
}

export interface GroupBy {
  /** The keys, over the input row; in the group row they follow the prefix. */
  readonly keys: readonly Expr[];
  /** Over the group row (prefix, keys, aggregates). */
  readonly having: Expr | undefined;
}

export interface SelectQuery {
  readonly kind: "select";
  readonly from: FromNode | undefined;
  /** Length of the prefix (0 at the top level); the input row is the prefix then the FROM columns. */
  readonly prefixWidth: number;
  /** Does it read a value of its prefix (then it is run again for each row of the enclosing query)? */
  readonly correlated: boolean;
  readonly filter: Expr | undefined;
  /** Present in a grouped query: its targets and sort keys read the group row. */
  readonly groupBy: GroupBy | undefined;
  readonly targets: readonly TargetColumn[];
  readonly aggregates: readonly AggregateSpec[];
  readonly distinct: boolean;
  readonly sort: readonly SortKey[];
  readonly limit: Expr | undefined;
  readonly offset: Expr | undefined;
  /** Every subquery in its expressions (not those of its FROM subqueries). */
  readonly sublinks: readonly Sublink[];
  /** Every table the statement reads, nested queries included, to notice a DROP before a cached plan runs. */
  readonly tables: readonly Table[];
}

/** `SELECT pg_sleep(seconds)`: the only place pg_sleep may appear. */
export interface SleepQuery {
  readonly kind: "sleep";
  readonly name: string;
  readonly seconds: Expr | number;
}

/** `SELECT pg_relation_size('table')`: the heap's size in bytes (analyze-relation-size.ts). */
export interface RelationSizeQuery {
  readonly kind: "relation-size";
  readonly name: string;
  readonly table: Table;
}

export interface InsertQuery {
  readonly kind: "insert";
  readonly table: Table;
  /** One expression per table column (NULL where the statement names none), per VALUES row. */
  readonly rows: readonly (readonly Expr[])[];
  /** INSERT … SELECT (then `rows` is empty). */
  readonly select?: InsertSelect;
}

/** The SELECT of an INSERT, and one expression per table column over its output row. */
export interface InsertSelect {
  readonly query: SelectQuery;
  readonly row: readonly Expr[];
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

/** VACUUM and/or ANALYZE: VACUUM prunes dead versions (execute-vacuum.ts); ANALYZE keeps no statistics yet. */
export interface VacuumQuery {
  readonly kind: "vacuum";
  readonly vacuum: boolean;
  readonly analyze: boolean;
  /** VACUUM VERBOSE: an INFO per table. */
  readonly verbose: boolean;
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

/** EXPLAIN of a statement: its plan, not its result. */
export interface ExplainQuery {
  readonly kind: "explain";
  readonly query: Query;
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
  | RelationSizeQuery
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
  | ExplainQuery
  | BeginQuery
  | CommitQuery
  | RollbackQuery
  | CopyFromQuery
  | CopyToQuery;

export type TransactionControl = BeginQuery | CommitQuery | RollbackQuery;

export function isTransactionControl(q: Query): q is TransactionControl {
  return q.kind === "begin" || q.kind === "commit" || q.kind === "rollback";
}
