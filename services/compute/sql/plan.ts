import type { Datum, Table } from "../access/database.js";
import type { FieldDescription } from "../wire/query-engine.js";
import type { AggregateSpec } from "./aggregate.js";
import type { Evaluator } from "./expr.js";
import { compile, compilePredicate, exprType, exprTypmod } from "./expr.js";
import type { IndexPath } from "./index-path.js";
import { chooseIndexPath } from "./index-path.js";
import type {
  AlterTableQuery,
  BeginQuery,
  CommitQuery,
  CreateIndexQuery,
  CreateTableQuery,
  DropIndexQuery,
  DropTableQuery,
  Query,
  RollbackQuery,
  SelectQuery,
  SetQuery,
  ShowQuery,
  TruncateQuery,
  VacuumQuery,
} from "./query.js";
import type { SqlType } from "./types.js";
import { typeOid, typeSize } from "./types.js";

/**
 * Query → Plan: expressions compiled into closures, result columns typed.
 * The plan of SELECT is the fixed pipeline scan → filter → (aggregate |
 * project → sort) → offset/limit; execute.ts runs it.
 */

export type Predicate = (row: readonly Datum[], params: readonly Datum[]) => boolean;

export interface ResultColumn {
  readonly name: string;
  readonly type: SqlType;
  /** The type modifier RowDescription reports (n + 4 of char(n)), −1 when none. */
  readonly typmod: number;
  readonly tableOid: number;
  readonly attnum: number;
}

export interface PlannedSortKey {
  /** Index of the output column it sorts by; sort keys that are not output columns follow them. */
  readonly column: number;
  readonly type: SqlType;
  readonly descending: boolean;
  readonly nullsFirst: boolean;
}

export interface SelectPlan {
  readonly kind: "select";
  readonly table: Table | undefined;
  readonly filter: Predicate | undefined;
  /** An index scan in place of the heap scan. */
  readonly access: IndexPath | undefined;
  readonly aggregates: readonly AggregateSpec[] | undefined;
  /** Output columns, then the extra sort keys (the "resjunk" columns). */
  readonly project: readonly Evaluator[];
  readonly outputWidth: number;
  readonly sort: readonly PlannedSortKey[];
  readonly limit: Evaluator | undefined;
  readonly offset: Evaluator | undefined;
}

export interface SleepPlan {
  readonly kind: "sleep";
  readonly seconds: Evaluator;
}

export interface InsertPlan {
  readonly kind: "insert";
  readonly table: Table;
  readonly rows: readonly (readonly Evaluator[])[];
}

export interface UpdatePlan {
  readonly kind: "update";
  readonly table: Table;
  readonly filter: Predicate | undefined;
  readonly access: IndexPath | undefined;
  readonly assignments: readonly { readonly index: number; readonly value: Evaluator }[];
}

export interface DeletePlan {
  readonly kind: "delete";
  readonly table: Table;
  readonly filter: Predicate | undefined;
  readonly access: IndexPath | undefined;
}

export type Plan =
  | SelectPlan
  | SleepPlan
  | InsertPlan
  | UpdatePlan
  | DeletePlan
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

/** The columns a statement returns, or null (no RowDescription: NoData). */
export function resultColumns(q: Query): readonly ResultColumn[] | null {
  if (q.kind === "sleep") return [{ name: q.name, type: "void", typmod: -1, tableOid: 0, attnum: 0 }];
  if (q.kind === "show") {
    const names = q.name === undefined ? ["name", "setting", "description"] : [q.name];
    return names.map((name) => ({ name, type: "text", typmod: -1, tableOid: 0, attnum: 0 }));
  }
  if (q.kind !== "select") return null;
  return q.targets.map((t) => {
    const type = exprType(t.expr);
    return {
      name: t.name,
      // An untyped literal or NULL comes out as text, as in PostgreSQL 10+.
      type: type === "unknown" ? "text" : type,
      typmod: exprTypmod(t.expr),
      tableOid: t.source?.tableOid ?? 0,
      attnum: t.source?.attnum ?? 0,
    };
  });
}

export function fieldDescriptions(
  columns: readonly ResultColumn[],
  formats: readonly (0 | 1)[] = [],
): FieldDescription[] {
  return columns.map((c, i) => ({
    name: c.name,
    tableOid: c.tableOid,
    columnAttnum: c.attnum,
    typeOid: typeOid(c.type),
    typeSize: typeSize(c.type),
    typeModifier: c.typmod,
    format: formats[i] ?? 0,
  }));
}

/** The tables a plan read at analysis, to notice a DROP or re-CREATE before a cached plan runs. */
export function queryTables(q: Query): readonly Table[] {
  switch (q.kind) {
    case "select":
      return q.relation === undefined ? [] : [q.relation.table];
    case "insert":
      return [q.table];
    case "update":
    case "delete":
      return [q.relation.table];
    case "create-index":
      return [q.table];
    case "truncate":
    case "vacuum":
      return q.tables;
    case "alter-table":
      return q.table === undefined ? [] : [q.table];
    default:
      return [];
  }
}

export function plan(q: Query): Plan {
  switch (q.kind) {
    case "select":
      return planSelect(q);
    case "sleep": {
      const seconds = q.seconds;
      return { kind: "sleep", seconds: typeof seconds === "number" ? () => seconds : compile(seconds) };
    }
    case "insert":
      return { kind: "insert", table: q.table, rows: q.rows.map((row) => row.map(compile)) };
    case "update":
      return {
        kind: "update",
        table: q.relation.table,
        filter: compilePredicate(q.filter),
        access: chooseIndexPath(q.relation.table, q.filter),
        assignments: q.assignments.map((a) => ({ index: a.index, value: compile(a.expr) })),
      };
    case "delete":
      return {
        kind: "delete",
        table: q.relation.table,
        filter: compilePredicate(q.filter),
        access: chooseIndexPath(q.relation.table, q.filter),
      };
    default:
      return q;
  }
}

function planSelect(q: SelectQuery): SelectPlan {
  const project = q.targets.map((t) => compile(t.expr));
  const sort = q.sort.map((key): PlannedSortKey => {
    let column = key.target;
    if (column === undefined) {
      column = project.length;
      project.push(compile(key.expr));
    }
    return { column, type: exprType(key.expr), descending: key.descending, nullsFirst: key.nullsFirst };
  });
  return {
    kind: "select",
    table: q.relation?.table,
    filter: compilePredicate(q.filter),
    access: q.relation === undefined ? undefined : chooseIndexPath(q.relation.table, q.filter),
    aggregates: q.aggregates,
    project,
    outputWidth: q.targets.length,
    sort,
    limit: q.limit === undefined ? undefined : compile(q.limit),
    offset: q.offset === undefined ? undefined : compile(q.offset),
  };
}
