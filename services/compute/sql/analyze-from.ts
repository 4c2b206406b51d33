import type { Alias, JoinExpr, Node, RangeFunction, RangeSubselect, RangeVar } from "libpg-query";
import type { Table } from "../access/database.js";
import type { ExprContext, SubqueryAnalyzer } from "./analyze-expr.js";
import { analyzeExpr, booleanCondition, comparisonOperator } from "./analyze-expr.js";
import { Code, notSupported, sqlError } from "./errors.js";
import type { Expr } from "./expr.js";
import { exprType } from "./expr.js";
import { resolveSeries } from "./generate-series.js";
import { nodeLocation, nodeTag, stringList } from "./nodes.js";
import type { ParamSlots } from "./params.js";
import type { FromNode, JoinKind, SelectQuery, Sublink } from "./query.js";
import type { Level, Namespace, RangeItem, ScopeColumn } from "./scope.js";
import { namespace } from "./scope.js";

/**
 * FROM: tables, subqueries (LATERAL or not) and joins (INNER, LEFT, RIGHT,
 * FULL, CROSS; ON, USING, NATURAL) → a FromNode tree and the names of its
 * items, laid out left to right in the query's row (scope.ts).
 */

/** The tables of the statement, looked up before analysis (analysis itself does not wait). */
export type TableLookup = (rv: RangeVar) => Table;

export interface FromContext {
  readonly level: Level;
  /** The enclosing query, for correlated references. */
  readonly parent: Namespace | undefined;
  readonly params: ParamSlots;
  readonly table: TableLookup;
  readonly subquery: SubqueryAnalyzer;
  readonly sublinks: Sublink[];
  readonly session: ExprContext["session"];
  readonly clock: ExprContext["clock"];
  /** Every item of this FROM clause so far, in row order. */
  readonly items: RangeItem[];
}

/** What `SELECT *` expands to: the columns in order, a USING column once. */
export interface StarColumn {
  readonly index: number;
  readonly column: ScopeColumn;
}

interface Analyzed {
  readonly node: FromNode;
  readonly items: readonly RangeItem[];
  readonly star: readonly StarColumn[];
}

export interface FromClause {
  readonly node: FromNode | undefined;
  readonly star: readonly StarColumn[];
  readonly width: number;
}

/** The FROM list; its commas are cross joins. */
export function analyzeFrom(from: readonly Node[] | undefined, fc: FromContext): FromClause {
  let result: Analyzed | undefined;
  let offset = fc.level.prefixWidth;
  for (const item of from ?? []) {
    const next = analyzeItem(item, fc, offset);
    offset += next.node.width;
    result =
      result === undefined
        ? next
        : {
            node: joinNode("inner", result.node, next.node, undefined),
            items: [...result.items, ...next.items],
            star: [...result.star, ...next.star],
          };
  }
  return { node: result?.node, star: result?.star ?? [], width: offset };
}

function joinNode(join: JoinKind, left: FromNode, right: FromNode, on: Expr | undefined): FromNode {
  return { kind: "join", join, left, right, on, offset: left.offset, width: left.width + right.width };
}

const FROM_ITEM_NAMES: Readonly<Record<string, string>> = {
  RangeTableSample: "TABLESAMPLE",
  RangeTableFunc: "XMLTABLE",
  JsonTable: "JSON_TABLE",
};

function analyzeItem(node: Node, fc: FromContext, offset: number): Analyzed {
  if ("RangeVar" in node) return analyzeTable(node.RangeVar, fc, offset);
  if ("RangeSubselect" in node) return analyzeSubselect(node.RangeSubselect, fc, offset);
  if ("JoinExpr" in node) return analyzeJoin(node.JoinExpr, fc, offset);
  if ("RangeFunction" in node) return analyzeRangeFunction(node.RangeFunction, fc, offset);
  const tag = nodeTag(node);
  throw notSupported(FROM_ITEM_NAMES[tag] ?? tag, nodeLocation(node));
}

/** Column aliases (`AS x(a, b)`) rename the first columns; more aliases than columns is 42P10. */
function aliasColumns(alias: Alias | undefined, columns: readonly ScopeColumn[], refname: string): ScopeColumn[] {
  const names = stringList(alias?.colnames) ?? [];
  if (names.length > columns.length) {
    throw sqlError(
      Code.invalidColumnReference,
      `table "${refname}" has ${columns.length} columns available but ${names.length} columns specified`,
    );
  }
  return columns.map((c, i) => (i < names.length ? { ...c, name: names[i]! } : c));
}

function addItem(fc: FromContext, item: RangeItem): void {
  if (fc.items.some((i) => i.refname === item.refname)) {
    throw sqlError(Code.duplicateAlias, `table name "${item.refname}" specified more than once`);
  }
  fc.items.push(item);
}

function single(item: RangeItem, node: FromNode): Analyzed {
  return { node, items: [item], star: item.columns.map((column, i) => ({ index: item.offset + i, column })) };
}

function analyzeTable(rv: RangeVar, fc: FromContext, offset: number): Analyzed {
  const table = fc.table(rv);
  const name = rv.relname ?? "";
  const refname = rv.alias?.aliasname ?? name;
  const base = table.columns.map(
    (c, i): ScopeColumn => ({
      name: c.name,
      type: c.type,
      typmod: c.typmod,
      source: { tableOid: table.oid, attnum: i + 1 },
    }),
  );
  const columns = aliasColumns(rv.alias, base, refname);
  const item: RangeItem = { refname, tableName: name, aliased: rv.alias !== undefined, columns, offset };
  addItem(fc, item);
  return single(item, { kind: "table", table, offset, width: columns.length });
}

function analyzeSubselect(rs: RangeSubselect, fc: FromContext, offset: number): Analyzed {
  const location = nodeLocation(rs.subquery);
  if (rs.alias === undefined) {
    throw sqlError(Code.syntaxError, "subquery in FROM must have an alias", location, {
      hint: "For example, FROM (SELECT ...) [AS] foo.",
    });
  }
  // LATERAL sees the items to its left; otherwise they are there but out of reach.
  const before = [...fc.items];
  const outer =
    rs.lateral === true
      ? namespace(fc.level, before, offset, fc.parent)
      : namespace(fc.level, [], offset, fc.parent, { hidden: before });
  const query: SelectQuery = fc.subquery(rs.subquery!, outer);
  const refname = rs.alias.aliasname ?? "";
  const base = query.targets.map((t): ScopeColumn => {
    const type = exprType(t.expr);
    return { name: t.name, type: type === "unknown" ? "text" : type, source: t.source };
  });
  const columns = aliasColumns(rs.alias, base, refname);
  const item: RangeItem = { refname, tableName: undefined, aliased: true, columns, offset };
  addItem(fc, item);
  return single(item, { kind: "subquery", query, offset, width: columns.length });
}

/**
 * A function in FROM: generate_series only. Its arguments see the items to
 * its left (a function in FROM is implicitly LATERAL). Its one column is
 * named by the column alias, else the table alias, else the function.
 */
function analyzeRangeFunction(rf: RangeFunction, fc: FromContext, offset: number): Analyzed {
  const call = rf.functions?.[0];
  const items = call !== undefined && "List" in call ? (call.List.items ?? []) : [];
  const fn = items[0] !== undefined && "FuncCall" in items[0] ? items[0].FuncCall : undefined;
  if (rf.ordinality === true) throw notSupported("WITH ORDINALITY");
  if (rf.is_rowsfrom === true || (rf.functions?.length ?? 0) !== 1 || fn === undefined) {
    throw notSupported("this function in FROM", nodeLocation(items[0]));
  }
  if (rf.coldeflist !== undefined) throw notSupported("column definition lists");
  const location = fn.location ?? -1;
  const names = stringList(fn.funcname) ?? [];
  const name = names[names.length - 1] ?? "";
  const schema = names.length > 1 ? names[0] : undefined;
  if (name !== "generate_series" || (schema !== undefined && schema !== "pg_catalog") || names.length > 2) {
    throw notSupported(`function ${names.join(".")} in FROM`, location);
  }
  if (fn.agg_star === true || fn.agg_distinct === true || fn.agg_order !== undefined || fn.over !== undefined) {
    throw notSupported("this call of generate_series", location);
  }
  const ctx: ExprContext = {
    scope: namespace(fc.level, [...fc.items], offset, fc.parent),
    params: fc.params,
    clock: fc.clock,
    clause: "functions in FROM",
    subquery: fc.subquery,
    sublinks: fc.sublinks,
    session: fc.session,
  };
  const series = resolveSeries(
    (fn.args ?? []).map((a) => analyzeExpr(a, ctx)),
    location,
  );
  const refname = rf.alias?.aliasname ?? name;
  const base: ScopeColumn[] = [{ name: rf.alias?.aliasname ?? name, type: series.type, source: undefined }];
  const columns = aliasColumns(rf.alias, base, refname);
  const item: RangeItem = { refname, tableName: undefined, aliased: true, columns, offset };
  addItem(fc, item);
  const label = rf.alias === undefined ? name : `${name} ${refname}`;
  return single(item, { kind: "function", name, label, series, offset, width: 1 });
}

const JOIN_KINDS: Readonly<Record<string, JoinKind>> = {
  JOIN_INNER: "inner",
  JOIN_LEFT: "left",
  JOIN_RIGHT: "right",
  JOIN_FULL: "full",
};

function analyzeJoin(j: JoinExpr, fc: FromContext, offset: number): Analyzed {
  const join = JOIN_KINDS[j.jointype ?? "JOIN_INNER"];
  if (join === undefined) throw notSupported(`join type ${j.jointype}`);
  if (j.alias !== undefined) throw notSupported("aliases of JOIN");
  if (j.join_using_alias !== undefined) throw notSupported("USING … AS");
  const left = analyzeItem(j.larg!, fc, offset);
  const right = analyzeItem(j.rarg!, fc, offset + left.node.width);
  const items = [...left.items, ...right.items];
  const width = offset + left.node.width + right.node.width;
  const ns = namespace(fc.level, items, width, fc.parent, {
    hidden: fc.items.filter((i) => !items.includes(i)),
  });
  const ctx: ExprContext = {
    scope: ns,
    params: fc.params,
    clock: fc.clock,
    clause: "JOIN conditions",
    subquery: fc.subquery,
    sublinks: fc.sublinks,
    session: fc.session,
  };
  const usingNames = j.isNatural === true ? naturalColumns(left, right) : stringList(j.usingClause);
  if (usingNames === undefined) throw notSupported("this USING clause");
  if (j.usingClause !== undefined || j.isNatural === true) {
    if (join === "full") throw notSupported("FULL JOIN … USING");
    return usingJoin(join, left, right, usingNames, fc);
  }
  const on = j.quals === undefined ? undefined : booleanCondition(j.quals, ctx, "JOIN/ON");
  return { node: joinNode(join, left.node, right.node, on), items, star: [...left.star, ...right.star] };
}

function naturalColumns(left: Analyzed, right: Analyzed): string[] {
  const rightNames = new Set(right.star.map((s) => s.column.name));
  return left.star.map((s) => s.column.name).filter((name) => rightNames.has(name));
}

/** The one column of a side that a USING name means (42702 if two, 42703 if none). */
function usingColumn(side: Analyzed, name: string, which: "left" | "right"): StarColumn {
  const matches = side.star.filter((s) => s.column.name === name);
  if (matches.length > 1) {
    throw sqlError(Code.ambiguousColumn, `common column name "${name}" appears more than once in ${which} table`);
  }
  if (matches.length === 0) {
    throw sqlError(Code.undefinedColumn, `column "${name}" specified in USING clause does not exist in ${which} table`);
  }
  return matches[0]!;
}

/**
 * USING (a, b): ON left.a = right.a AND left.b = right.b; an unqualified `a`
 * then means the side that is never NULL-extended, and `*` shows it once, first.
 */
function usingJoin(
  join: JoinKind,
  left: Analyzed,
  right: Analyzed,
  names: readonly string[],
  fc: FromContext,
): Analyzed {
  const conditions: Expr[] = [];
  const merged: StarColumn[] = [];
  const used = new Set<number>();
  for (const name of names) {
    const l = usingColumn(left, name, "left");
    const r = usingColumn(right, name, "right");
    const lexpr: Expr = { kind: "column", type: l.column.type, index: l.index };
    const rexpr: Expr = { kind: "column", type: r.column.type, index: r.index };
    conditions.push(comparisonOperator("=", lexpr, rexpr, -1));
    const [kept, dropped] = join === "right" ? [r, l] : [l, r];
    fc.level.shadowed.add(dropped.index);
    merged.push(kept);
    used.add(l.index).add(r.index);
  }
  const on: Expr | undefined =
    conditions.length === 0 ? undefined : conditions.length === 1 ? conditions[0] : { kind: "and", args: conditions };
  const star = [
    ...merged,
    ...left.star.filter((s) => !used.has(s.index)),
    ...right.star.filter((s) => !used.has(s.index)),
  ];
  return { node: joinNode(join, left.node, right.node, on), items: [...left.items, ...right.items], star };
}
