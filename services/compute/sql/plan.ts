import type { Datum, Table } from "../access/database.js";
import type { FieldDescription } from "../wire/query-engine.js";
import type { AggregateSpec } from "./aggregate.js";
import type { CopyOptions } from "./copy-options.js";
import type { Evaluator } from "./expr.js";
import { compile, compilePredicate, exprType } from "./expr.js";
import type {
  BeginQuery,
  CommitQuery,
  CopyFromQuery,
  CreateTableQuery,
  DropTableQuery,
  Query,
  RollbackQuery,
  SelectQuery,
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
  readonly assignments: readonly { readonly index: number; readonly value: Evaluator }[];
}

export interface DeletePlan {
  readonly kind: "delete";
  readonly table: Table;
  readonly filter: Predicate | undefined;
}

export interface CopyToPlan {
  readonly kind: "copy-to";
  readonly select: SelectPlan;
  readonly columns: readonly ResultColumn[];
  readonly options: CopyOptions;
  readonly forceQuote: readonly boolean[];
}

export type Plan =
  | SelectPlan
  | SleepPlan
  | InsertPlan
  | UpdatePlan
  | DeletePlan
  | CreateTableQuery
  | DropTableQuery
  | BeginQuery
  | CommitQuery
  | RollbackQuery
  | CopyFromQuery
  | CopyToPlan;

/** The columns a statement returns, or null (no RowDescription: NoData). */
export function resultColumns(q: Query): readonly ResultColumn[] | null {
  if (q.kind === "sleep") return [{ name: q.name, type: "void", tableOid: 0, attnum: 0 }];
  if (q.kind !== "select") return null;
  return q.targets.map((t) => {
    const type = exprType(t.expr);
    return {
      name: t.name,
      // An untyped literal or NULL comes out as text, as in PostgreSQL 10+.
      type: type === "unknown" ? "text" : type,
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
    typeModifier: -1,
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
    case "copy-from":
      return [q.table];
    case "copy-to":
      return queryTables(q.select);
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
        assignments: q.assignments.map((a) => ({ index: a.index, value: compile(a.expr) })),
      };
    case "delete":
      return { kind: "delete", table: q.relation.table, filter: compilePredicate(q.filter) };
    case "copy-to":
      return {
        kind: "copy-to",
        select: planSelect(q.select),
        columns: resultColumns(q.select) ?? [],
        options: q.options,
        forceQuote: q.forceQuote,
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
    aggregates: q.aggregates,
    project,
    outputWidth: q.targets.length,
    sort,
    limit: q.limit === undefined ? undefined : compile(q.limit),
    offset: q.offset === undefined ? undefined : compile(q.offset),
  };
}
