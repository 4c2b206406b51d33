import type { Datum, Table } from "../access/database.js";
import type { FieldDescription } from "../wire/query-engine.js";
import { Aggregates } from "./aggregate.js";
import type { CopyOptions } from "./copy-options.js";
import { Code, sqlError } from "./errors.js";
import type { Evaluator, Expr, SublinkCell } from "./expr.js";
import { compile, compilePredicate, exprType, exprTypmod } from "./expr.js";
import type { SeriesType } from "./generate-series.js";
import type { IndexPath } from "./index-path.js";
import { chooseIndexPath } from "./index-path.js";
import type {
  AlterTableQuery,
  BeginQuery,
  CommitQuery,
  CopyFromQuery,
  CreateIndexQuery,
  CreateTableQuery,
  DropIndexQuery,
  DropTableQuery,
  FromNode,
  JoinKind,
  Query,
  RelationSizeQuery,
  RollbackQuery,
  SelectQuery,
  SetQuery,
  ShowQuery,
  Sublink,
  TruncateQuery,
  VacuumQuery,
} from "./query.js";
import type { SqlType } from "./types.js";
import { typeOid, typeSize } from "./types.js";

/**
 * Query → Plan: expressions compiled into closures, result columns typed.
 * The plan of SELECT is the fixed pipeline FROM (one table, or nested-loop
 * joins) → filter → (group and aggregate) → project → distinct → sort →
 * offset/limit; execute-select.ts runs it. Each group of expressions carries
 * the subqueries it reads, to be run before it is evaluated.
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

/** A subquery of an expression, planned. */
export interface SublinkPlan {
  readonly mode: Sublink["mode"];
  readonly plan: SelectPlan;
  readonly offset: number;
  /** Reads its prefix: run for every row, else once per execution. */
  readonly correlated: boolean;
  readonly cell: SublinkCell;
}

/** The subqueries an expression group reads (usually none). */
export type Links = readonly SublinkPlan[];

/** A FROM item: it yields rows of its prefix (`offset` values) then its `width` columns. */
export type SourcePlan =
  | { readonly kind: "table"; readonly table: Table; readonly offset: number; readonly width: number }
  | { readonly kind: "subquery"; readonly plan: SelectPlan; readonly offset: number; readonly width: number }
  | {
      readonly kind: "function";
      readonly name: string;
      readonly label: string;
      readonly type: SeriesType;
      /** Over the prefix. */
      readonly args: readonly Evaluator[];
      readonly argLinks: Links;
      readonly offset: number;
      readonly width: number;
    }
  | {
      readonly kind: "join";
      readonly join: JoinKind;
      readonly left: SourcePlan;
      readonly right: SourcePlan;
      readonly on: Predicate | undefined;
      readonly onLinks: Links;
      readonly offset: number;
      readonly width: number;
      /** The right side reads the left row (LATERAL, correlation): it is run again for each left row. */
      readonly rightDependent: boolean;
    };

export interface GroupPlan {
  /** Over the input row. */
  readonly keys: readonly Evaluator[];
  readonly aggregates: Aggregates;
  /** Over the group row: prefix, keys, aggregate results. */
  readonly having: Predicate | undefined;
  readonly havingLinks: Links;
}

export interface SelectPlan {
  readonly kind: "select";
  /** FROM is one table and the query is not a subquery: the single-table scan path. */
  readonly table: Table | undefined;
  readonly source: SourcePlan | undefined;
  readonly filter: Predicate | undefined;
  /** An index scan in place of the heap scan (single-table path only). */
  readonly access: IndexPath | undefined;
  readonly filterLinks: Links;
  readonly group: GroupPlan | undefined;
  /** Output columns, then the extra sort keys (the "resjunk" columns). */
  readonly project: readonly Evaluator[];
  readonly projectLinks: Links;
  readonly outputWidth: number;
  readonly distinct: boolean;
  readonly sort: readonly PlannedSortKey[];
  readonly limit: Evaluator | undefined;
  readonly offset: Evaluator | undefined;
}

export interface ExplainPlan {
  readonly kind: "explain";
  readonly plan: Plan;
}

export interface SleepPlan {
  readonly kind: "sleep";
  readonly seconds: Evaluator;
}

export interface InsertPlan {
  readonly kind: "insert";
  readonly table: Table;
  readonly rows: readonly (readonly Evaluator[])[];
  /** INSERT … SELECT: the SELECT, and each table column's value over its output row. */
  readonly select?: { readonly plan: SelectPlan; readonly row: readonly Evaluator[] };
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
  | RelationSizeQuery
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
  | ExplainPlan
  | BeginQuery
  | CommitQuery
  | RollbackQuery
  | CopyFromQuery
  | CopyToPlan;

/** The columns a statement returns, or null (no RowDescription: NoData). */
export function resultColumns(q: Query): readonly ResultColumn[] | null {
  if (q.kind === "sleep") return [{ name: q.name, type: "void", typmod: -1, tableOid: 0, attnum: 0 }];
  if (q.kind === "relation-size") return [{ name: q.name, type: "int8", typmod: -1, tableOid: 0, attnum: 0 }];
  if (q.kind === "explain") return [{ name: "QUERY PLAN", type: "text", typmod: -1, tableOid: 0, attnum: 0 }];
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
    case "explain":
      return queryTables(q.query);
    case "select":
      return q.tables;
    case "insert":
      return q.select === undefined ? [q.table] : [q.table, ...q.select.query.tables];
    case "update":
    case "delete":
      return [q.relation.table];
    case "create-index":
    case "relation-size":
      return [q.table];
    case "truncate":
    case "vacuum":
      return q.tables;
    case "alter-table":
      return q.table === undefined ? [] : [q.table];
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
      return {
        kind: "insert",
        table: q.table,
        rows: q.rows.map((row) => row.map(compile)),
        select:
          q.select === undefined ? undefined : { plan: planSelect(q.select.query), row: q.select.row.map(compile) },
      };
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
    case "explain":
      return { kind: "explain", plan: plan(q.query) };
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
  const links = new LinkPlanner(q.sublinks);
  const project = q.targets.map((t) => compile(t.expr));
  const projected: Expr[] = q.targets.map((t) => t.expr);
  const sort = q.sort.map((key): PlannedSortKey => {
    let column = key.target;
    if (column === undefined) {
      column = project.length;
      project.push(compile(key.expr));
      projected.push(key.expr);
    }
    return { column, type: exprType(key.expr), descending: key.descending, nullsFirst: key.nullsFirst };
  });
  const group = q.groupBy;
  const singleTable = q.from?.kind === "table" && q.prefixWidth === 0 ? q.from.table : undefined;
  return {
    kind: "select",
    table: singleTable,
    source: q.from === undefined ? undefined : planSource(q.from, links),
    filter: compilePredicate(q.filter),
    access: singleTable === undefined ? undefined : chooseIndexPath(singleTable, q.filter),
    filterLinks: links.of([q.filter]),
    group:
      group === undefined
        ? undefined
        : {
            keys: group.keys.map(compile),
            aggregates: new Aggregates(q.aggregates),
            having: compilePredicate(group.having),
            havingLinks: links.of([group.having]),
          },
    project,
    projectLinks: links.of(projected),
    outputWidth: q.targets.length,
    distinct: q.distinct,
    sort,
    limit: q.limit === undefined ? undefined : compile(q.limit),
    offset: q.offset === undefined ? undefined : compile(q.offset),
  };
}

/** Plans each subquery once, and finds those an expression reads. */
class LinkPlanner {
  private readonly byCell = new Map<SublinkCell, Sublink>();
  private readonly planned = new Map<Sublink, SublinkPlan>();

  constructor(sublinks: readonly Sublink[]) {
    for (const link of sublinks) this.byCell.set(link.cell, link);
  }

  of(exprs: readonly (Expr | undefined)[]): Links {
    const cells: SublinkCell[] = [];
    for (const e of exprs) if (e !== undefined) collectCells(e, cells);
    return cells.map((cell) => this.plan(this.byCell.get(cell)!));
  }

  private plan(link: Sublink): SublinkPlan {
    let p = this.planned.get(link);
    if (p === undefined) {
      const { mode, offset, cell } = link;
      p = { mode, plan: planSelect(link.query), offset, correlated: link.query.correlated, cell };
      this.planned.set(link, p);
    }
    return p;
  }

  /** Does the expression read a column left of `bound`, or a correlated subquery? */
  readsBelow(e: Expr | undefined, bound: number): boolean {
    if (e === undefined) return false;
    const cells: SublinkCell[] = [];
    collectCells(e, cells);
    return minColumn(e) < bound || cells.some((c) => this.byCell.get(c)!.query.correlated);
  }
}

function children(e: Expr): readonly Expr[] {
  switch (e.kind) {
    case "unary":
    case "not":
    case "isnull":
      return [e.arg];
    case "binary":
      return [e.left, e.right];
    case "and":
    case "or":
      return e.args;
    case "func":
      return e.args;
    case "quantified":
      return [e.left];
    default:
      return [];
  }
}

function collectCells(e: Expr, out: SublinkCell[]): void {
  if ((e.kind === "sublink" || e.kind === "quantified") && !out.includes(e.cell)) out.push(e.cell);
  for (const c of children(e)) collectCells(c, out);
}

function minColumn(e: Expr): number {
  let min = e.kind === "column" ? e.index : Number.POSITIVE_INFINITY;
  for (const c of children(e)) min = Math.min(min, minColumn(c));
  return min;
}

function planSource(node: FromNode, links: LinkPlanner): SourcePlan {
  switch (node.kind) {
    case "table":
      return node;
    case "subquery":
      return { kind: "subquery", plan: planSelect(node.query), offset: node.offset, width: node.width };
    case "function":
      return {
        kind: "function",
        name: node.name,
        label: node.label,
        type: node.series.type,
        args: node.series.args.map(compile),
        argLinks: links.of(node.series.args),
        offset: node.offset,
        width: node.width,
      };
    case "join": {
      const rightDependent = dependsOnPrefix(node.right, links);
      if (rightDependent && (node.join === "right" || node.join === "full")) {
        throw sqlError(Code.featureNotSupported, "feature not supported: LATERAL references under RIGHT or FULL JOIN");
      }
      return {
        kind: "join",
        join: node.join,
        left: planSource(node.left, links),
        right: planSource(node.right, links),
        on: compilePredicate(node.on),
        onLinks: links.of([node.on]),
        offset: node.offset,
        width: node.width,
        rightDependent,
      };
    }
  }
}

/** Does a FROM item read anything left of it (its prefix)? Then it cannot be run once and reused. */
function dependsOnPrefix(node: FromNode, links: LinkPlanner): boolean {
  switch (node.kind) {
    case "table":
      return false;
    case "subquery":
      return node.query.correlated;
    case "function":
      return node.series.args.some((a) => links.readsBelow(a, node.offset));
    case "join":
      return (
        dependsOnPrefix(node.left, links) ||
        dependsOnPrefix(node.right, links) ||
        links.readsBelow(node.on, node.offset)
      );
  }
}
