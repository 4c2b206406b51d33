import type { ColumnRef, Node, RangeVar, ResTarget, SelectStmt, SortBy } from "libpg-query";
import type { Table } from "../access/database.js";
import type { SqlError } from "../wire/sql-error.js";
import type { AggregateSpec } from "./aggregate.js";
import type { ExprContext, SubqueryAnalyzer } from "./analyze-expr.js";
import { analyzeExpr, booleanCondition, clauseContext } from "./analyze-expr.js";
import type { StarColumn, TableLookup } from "./analyze-from.js";
import { analyzeFrom } from "./analyze-from.js";
import { analyzeGroupBy } from "./analyze-group.js";
import type { AnalyzeEnv } from "./analyze-relation.js";
import { checkSchema } from "./analyze-relation.js";
import { coerce } from "./casts.js";
import type { SessionClock } from "./clock.js";
import { Code, notSupported, sqlError } from "./errors.js";
import type { Expr } from "./expr.js";
import { exprType, usesColumns } from "./expr.js";
import type { SessionInfo } from "./functions.js";
import { constructName, nodeLocation, stringList } from "./nodes.js";
import type { ParamSlots } from "./params.js";
import type { SelectQuery, SortKey, Sublink, TargetColumn } from "./query.js";
import type { Grouping, Namespace, RangeItem } from "./scope.js";
import { Level, columnOf, itemByQualifier, namespace } from "./scope.js";
import { typeDisplay } from "./types.js";

/** Everything one statement's analysis shares across its nested queries. */
interface StatementContext {
  readonly params: ParamSlots;
  readonly session: SessionInfo | undefined;
  readonly clock: SessionClock;
  readonly table: TableLookup;
}

/** SELECT: FROM, WHERE, GROUP BY, HAVING, targets, DISTINCT, ORDER BY, LIMIT/OFFSET; subqueries anywhere. */
export async function analyzeSelect(s: SelectStmt, env: AnalyzeEnv): Promise<SelectQuery> {
  const found = await lookupTables({ SelectStmt: s }, env);
  const tables: Table[] = [];
  const table: TableLookup = (rv) => {
    const t = found.get(tableKey(rv));
    if (t === undefined) throw undefinedTable(rv);
    if (!tables.includes(t)) tables.push(t);
    return t;
  };
  return selectQuery(s, { params: env.params, session: env.session, clock: env.clock, table }, undefined, tables);
}

function selectQuery(
  s: SelectStmt,
  st: StatementContext,
  outer: Namespace | undefined,
  tables: readonly Table[],
): SelectQuery {
  rejectUnsupportedSelect(s);
  const prefixWidth = outer?.width ?? 0;
  const level = new Level(prefixWidth);
  const sublinks: Sublink[] = [];
  const subquery: SubqueryAnalyzer = (node, ns) => {
    if (!("SelectStmt" in node)) throw notSupported("this subquery", nodeLocation(node));
    return selectQuery(node.SelectStmt, st, ns, tables);
  };
  const items: RangeItem[] = [];
  const { params, session, clock } = st;
  // Contexts are spelled out, not spread (see clauseContext).
  const from = analyzeFrom(s.fromClause, {
    level,
    parent: outer,
    params,
    table: st.table,
    subquery,
    sublinks,
    session,
    clock,
    items,
  });
  const flat = namespace(level, items, from.width, outer);
  const base: ExprContext = { scope: flat, params, clock, clause: "WHERE", subquery, sublinks, session };
  const filter = s.whereClause === undefined ? undefined : booleanCondition(s.whereClause, base, "WHERE");
  const targetNodes = (s.targetList ?? []).map(targetNode);
  const keys =
    s.groupClause === undefined
      ? undefined
      : analyzeGroupBy(s.groupClause, targetNodes, clauseContext(base, "GROUP BY"), prefixWidth);
  const grouping: Grouping = keys?.grouping ?? { keyColumns: [], explicit: false, ungrouped: [] };
  const keyCount = keys?.exprs.length ?? 0;
  const outputScope = namespace(level, items, keys !== undefined ? prefixWidth + keyCount : from.width, outer, {
    grouping,
  });
  const aggregates: AggregateSpec[] = [];
  const ctx: ExprContext = {
    scope: outputScope,
    params,
    clock,
    clause: "SELECT",
    aggregates,
    aggregateBase: prefixWidth + keyCount,
    groupKeys: keys?.matches,
    subquery,
    sublinks,
    session,
  };
  const targets = targetNodes.flatMap((t) => analyzeTarget(t, ctx, from.star, keys?.grouping));
  const having =
    s.havingClause === undefined ? undefined : booleanCondition(s.havingClause, clauseContext(ctx, "HAVING"), "HAVING");
  const distinct = s.distinctClause !== undefined;
  const sortCtx = clauseContext(ctx, "ORDER BY");
  const sort = (s.sortClause ?? []).map((n) => analyzeSortBy(n, targets, sortCtx, distinct));
  const grouped = keys !== undefined || having !== undefined || aggregates.length > 0;
  const ungrouped = grouping.ungrouped[0];
  if (grouped && ungrouped !== undefined) {
    const message = ungrouped.fromSubquery
      ? `subquery uses ungrouped column "${ungrouped.name}" from outer query`
      : `column "${ungrouped.name}" must appear in the GROUP BY clause or be used in an aggregate function`;
    throw sqlError(Code.groupingError, message, ungrouped.location);
  }
  const limitCtx = { params, scope: flat, clock };
  return {
    kind: "select",
    from: from.node,
    prefixWidth,
    correlated: level.outerRefs,
    filter,
    groupBy: grouped ? { keys: keys?.exprs ?? [], having } : undefined,
    targets,
    aggregates,
    distinct,
    sort,
    limit: limitExpr(s.limitCount, "LIMIT", limitCtx),
    offset: limitExpr(s.limitOffset, "OFFSET", limitCtx),
    sublinks,
    tables,
  };
}

/** Every table the statement names, looked up once before analysis (which does not wait). */
async function lookupTables(root: Node, env: AnalyzeEnv): Promise<Map<string, Table | undefined>> {
  const found = new Map<string, Table | undefined>();
  for (const rv of rangeVars(root, [])) {
    const key = tableKey(rv);
    if (!found.has(key)) found.set(key, await env.lookupTable(rv.relname ?? ""));
  }
  return found;
}

/** The RangeVars of a parse tree in tree order, schemas checked: a synchronous walk (an async one costs a promise a node). */
function rangeVars(value: unknown, out: RangeVar[]): RangeVar[] {
  if (Array.isArray(value)) {
    for (const v of value) rangeVars(v, out);
    return out;
  }
  if (typeof value !== "object" || value === null) return out;
  const rv = (value as { RangeVar?: RangeVar }).RangeVar;
  if (rv !== undefined) {
    checkReadSchema(rv);
    out.push(rv);
  }
  for (const key in value) rangeVars((value as Record<string, unknown>)[key], out);
  return out;
}

function tableKey(rv: RangeVar): string {
  return rv.relname ?? "";
}

/** public and pg_catalog are searched by the bare name (the catalogs live in the same namespace of names). */
function checkReadSchema(rv: RangeVar): void {
  if (rv.schemaname === "pg_catalog" && rv.catalogname === undefined) return;
  checkSchema(rv.schemaname, rv.catalogname, rv.location ?? -1);
}

function undefinedTable(rv: RangeVar): SqlError {
  const name = rv.relname ?? "";
  const shown = rv.schemaname === undefined ? name : `${rv.schemaname}.${name}`;
  return sqlError(Code.undefinedTable, `relation "${shown}" does not exist`, rv.location ?? -1);
}

function targetNode(node: Node): { name: string | undefined; val: Node; location: number } {
  if (!("ResTarget" in node)) throw notSupported("target", nodeLocation(node));
  const target: ResTarget = node.ResTarget;
  if ((target.indirection?.length ?? 0) > 0) throw notSupported("subscripts", target.location);
  const val = target.val!;
  return { name: target.name ?? columnName(val), val, location: target.location ?? -1 };
}

function rejectUnsupportedSelect(s: SelectStmt): void {
  const where = (n: Node | readonly Node[] | undefined): number =>
    Array.isArray(n) ? nodeLocation(n[0]) : nodeLocation(n as Node | undefined);
  if (s.op !== undefined && s.op !== "SETOP_NONE") throw notSupported("UNION/INTERSECT/EXCEPT");
  if (s.withClause !== undefined) throw notSupported("WITH", s.withClause.location);
  if (s.valuesLists !== undefined) throw notSupported("VALUES", where(s.valuesLists));
  const distinct = s.distinctClause;
  if (distinct !== undefined && (distinct.length !== 1 || Object.keys(distinct[0]!).length > 0)) {
    throw notSupported("DISTINCT ON", where(distinct));
  }
  if (s.intoClause !== undefined) throw notSupported("SELECT INTO");
  if (s.windowClause !== undefined) throw notSupported("WINDOW", where(s.windowClause));
  if (s.lockingClause !== undefined) throw notSupported("FOR UPDATE/SHARE", where(s.lockingClause));
  if (s.limitOption === "LIMIT_OPTION_WITH_TIES") throw notSupported("FETCH FIRST … WITH TIES");
}

/** FigureColname of current_user and the like. */
const SQL_VALUE_FUNCTION_NAMES: Readonly<Record<string, string>> = {
  SVFOP_CURRENT_USER: "current_user",
  SVFOP_CURRENT_ROLE: "current_role",
  SVFOP_USER: "user",
  SVFOP_SESSION_USER: "session_user",
  SVFOP_CURRENT_CATALOG: "current_catalog",
  SVFOP_CURRENT_SCHEMA: "current_schema",
};

/**
 * A result column's name, as FigureColname gives it: a column's or function's
 * name, a cast of an unnamed expression is named by its type (the outermost
 * cast's, as a cast names more weakly than a column), else ?column?.
 */
export function columnName(node: Node): string | undefined {
  return figureColname(node)?.[0];
}

function figureColname(node: Node): [name: string, strength: 1 | 2] | undefined {
  const strong = (name: string | undefined): [string, 2] | undefined => (name === undefined ? undefined : [name, 2]);
  if ("ColumnRef" in node) {
    const names = stringList(node.ColumnRef.fields);
    return strong(names?.[names.length - 1]);
  }
  if ("FuncCall" in node) {
    const names = stringList(node.FuncCall.funcname);
    return strong(names?.[names.length - 1]);
  }
  if ("SubLink" in node) {
    const link = node.SubLink;
    if (link.subLinkType === "EXISTS_SUBLINK") return ["exists", 2];
    if (link.subLinkType === "ARRAY_SUBLINK") return ["array", 2];
    if (link.subLinkType !== "EXPR_SUBLINK") return undefined;
    const first =
      link.subselect !== undefined && "SelectStmt" in link.subselect
        ? link.subselect.SelectStmt.targetList?.[0]
        : undefined;
    if (first === undefined || !("ResTarget" in first)) return undefined;
    const target = first.ResTarget;
    return target.name !== undefined
      ? [target.name, 2]
      : target.val === undefined
        ? undefined
        : figureColname(target.val);
  }
  if ("CoalesceExpr" in node) return ["coalesce", 2];
  if ("SQLValueFunction" in node) {
    const named = SQL_VALUE_FUNCTION_NAMES[node.SQLValueFunction.op ?? ""];
    if (named !== undefined) return [named, 2];
    // CURRENT_TIMESTAMP is named current_timestamp, as a function would be.
    const name = constructName(node);
    return name.includes(" ") ? undefined : [name.toLowerCase(), 2];
  }
  if ("TypeCast" in node) {
    const inner = node.TypeCast.arg === undefined ? undefined : figureColname(node.TypeCast.arg);
    if (inner !== undefined && inner[1] === 2) return inner;
    const names = stringList(node.TypeCast.typeName?.names);
    const last = names?.[names.length - 1];
    return last === undefined ? inner : [last, 1];
  }
  return undefined;
}

function analyzeTarget(
  t: { name: string | undefined; val: Node },
  ctx: ExprContext,
  star: readonly StarColumn[],
  grouping: Grouping | undefined,
): TargetColumn[] {
  const val = t.val;
  if ("ColumnRef" in val && val.ColumnRef.fields?.some((f) => "A_Star" in f))
    return expandStar(val.ColumnRef, ctx, star);
  const expr = analyzeExpr(val, ctx);
  const name = t.name ?? "?column?";
  const source = "ColumnRef" in val && expr.kind === "column" ? sourceOf(ctx.scope!, expr.index, grouping) : undefined;
  return [{ name, expr, source }];
}

/** The table column an output column reads directly (through its group key), for RowDescription. */
function sourceOf(scope: Namespace, index: number, grouping: Grouping | undefined): TargetColumn["source"] {
  const prefix = scope.level.prefixWidth;
  const column = grouping === undefined ? index : index >= prefix ? grouping.keyColumns[index - prefix] : index;
  if (column === undefined) return undefined;
  const item = scope.items.find((i) => column >= i.offset && column < i.offset + i.columns.length);
  return item === undefined ? undefined : item.columns[column - item.offset]?.source;
}

/** `*` or `rel.*`: every column of the FROM clause (a USING column once) or of one item. */
function expandStar(ref: ColumnRef, ctx: ExprContext, star: readonly StarColumn[]): TargetColumn[] {
  const location = ref.location ?? -1;
  const fields = ref.fields ?? [];
  const scope = ctx.scope!;
  if (scope.items.length === 0 && fields.length === 1) {
    throw sqlError(Code.syntaxError, "SELECT * with no tables specified is not valid", location);
  }
  const qualifier = stringList(fields.slice(0, -1));
  if (qualifier === undefined || fields.length > 3) throw notSupported("this * reference", location);
  const columns =
    qualifier.length === 0
      ? star
      : (() => {
          const item = itemByQualifier(qualifier, scope, location);
          return item.columns.map((column, i) => ({ index: item.offset + i, column }));
        })();
  return columns.map(({ index, column }) => {
    const item = scope.items.find((i) => index >= i.offset && index < i.offset + i.columns.length)!;
    return {
      name: column.name,
      expr: columnOf(scope, item, index - item.offset, location, false),
      source: column.source,
    };
  });
}

/** ORDER BY: an output column by name or position, else an expression (findTargetlistEntrySQL92). */
function analyzeSortBy(node: Node, targets: readonly TargetColumn[], ctx: ExprContext, distinct: boolean): SortKey {
  if (!("SortBy" in node)) throw notSupported("ORDER BY item", nodeLocation(node));
  const s: SortBy = node.SortBy;
  if (s.sortby_dir === "SORTBY_USING") throw notSupported("ORDER BY … USING", nodeLocation(s.node));
  const descending = s.sortby_dir === "SORTBY_DESC";
  const nullsFirst =
    s.sortby_nulls === "SORTBY_NULLS_DEFAULT" || s.sortby_nulls === undefined
      ? descending
      : s.sortby_nulls === "SORTBY_NULLS_FIRST";
  const key = s.node!;
  const target = sortTarget(key, targets);
  if (target !== undefined) return { target, expr: targets[target]!.expr, descending, nullsFirst };
  const expr = analyzeExpr(key, ctx);
  if (distinct) {
    throw sqlError(
      Code.invalidColumnReference,
      "for SELECT DISTINCT, ORDER BY expressions must appear in select list",
      nodeLocation(key),
    );
  }
  return { target: undefined, expr, descending, nullsFirst };
}

function sortTarget(key: Node, targets: readonly TargetColumn[]): number | undefined {
  const location = nodeLocation(key);
  if ("ColumnRef" in key) {
    const names = stringList(key.ColumnRef.fields);
    if (names === undefined || names.length !== 1) return undefined;
    let found: number | undefined;
    targets.forEach((t, i) => {
      if (t.name !== names[0]) return;
      if (found !== undefined && !sameColumn(targets[found]!.expr, t.expr)) {
        throw sqlError(Code.ambiguousColumn, `ORDER BY "${names[0]}" is ambiguous`, location);
      }
      found ??= i;
    });
    return found;
  }
  if ("A_Const" in key) {
    const ival = key.A_Const.ival;
    if (ival === undefined) throw sqlError(Code.syntaxError, "non-integer constant in ORDER BY", location);
    const position = ival.ival ?? 0;
    if (position < 1 || position > targets.length) {
      throw sqlError(Code.invalidColumnReference, `ORDER BY position ${position} is not in select list`, location);
    }
    return position - 1;
  }
  return undefined;
}

function sameColumn(a: Expr, b: Expr): boolean {
  return a.kind === "column" && b.kind === "column" && a.index === b.index;
}

/** LIMIT/OFFSET: a bigint without column references; NULL (LIMIT ALL) means none. */
function limitExpr(
  node: Node | undefined,
  clause: string,
  base: { params: ParamSlots; scope: Namespace; clock: SessionClock },
): Expr | undefined {
  if (node === undefined) return undefined;
  const location = nodeLocation(node);
  const e = analyzeExpr(node, { params: base.params, scope: base.scope, clock: base.clock, clause });
  const type = exprType(e);
  const result = coerce(e, "int8", "implicit");
  if (result === undefined) {
    throw sqlError(
      Code.datatypeMismatch,
      `argument of ${clause} must be type ${typeDisplay("int8")}, not type ${typeDisplay(type)}`,
      location,
    );
  }
  if (usesColumns(result)) {
    throw sqlError(Code.invalidColumnReference, `argument of ${clause} must not contain variables`, location);
  }
  return result;
}
