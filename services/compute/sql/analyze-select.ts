import type { ColumnRef, Node, ResTarget, SelectStmt, SortBy } from "libpg-query";
import type { AggregateSpec } from "./aggregate.js";
import type { ExprContext, Relation } from "./analyze-expr.js";
import { analyzeExpr, booleanCondition } from "./analyze-expr.js";
import type { AnalyzeEnv } from "./analyze-relation.js";
import { resolveFrom } from "./analyze-relation.js";
import { coerce } from "./casts.js";
import { Code, notSupported, sqlError } from "./errors.js";
import type { Expr } from "./expr.js";
import { exprType, usesColumns } from "./expr.js";
import { constructName, nodeLocation, stringList } from "./nodes.js";
import type { SelectQuery, SortKey, TargetColumn } from "./query.js";
import { typeDisplay } from "./types.js";

/** SELECT: FROM one table, WHERE, targets (with count/sum), ORDER BY, LIMIT/OFFSET. */
export async function analyzeSelect(s: SelectStmt, env: AnalyzeEnv): Promise<SelectQuery> {
  rejectUnsupportedSelect(s);
  const relation = await resolveFrom(s.fromClause, env);
  const base = { relation, params: env.params, clock: env.clock };
  const filter =
    s.whereClause === undefined ? undefined : booleanCondition(s.whereClause, { ...base, clause: "WHERE" }, "WHERE");
  const aggregates: AggregateSpec[] = [];
  const columnRefs: { name: string; location: number }[] = [];
  const ctx: ExprContext = { ...base, clause: "SELECT", aggregates, columnRefs };
  const targets = (s.targetList ?? []).flatMap((t) => analyzeTarget(t, ctx));
  const sort = (s.sortClause ?? []).map((n) => analyzeSortBy(n, targets, { ...ctx, clause: "ORDER BY" }));
  if (aggregates.length > 0 && columnRefs.length > 0) {
    const first = columnRefs[0]!;
    throw sqlError(
      Code.groupingError,
      `column "${first.name}" must appear in the GROUP BY clause or be used in an aggregate function`,
      first.location,
    );
  }
  return {
    kind: "select",
    relation,
    filter,
    targets,
    aggregates: aggregates.length > 0 ? aggregates : undefined,
    sort,
    limit: limitExpr(s.limitCount, "LIMIT", base),
    offset: limitExpr(s.limitOffset, "OFFSET", base),
  };
}

function rejectUnsupportedSelect(s: SelectStmt): void {
  const where = (n: Node | readonly Node[] | undefined): number =>
    Array.isArray(n) ? nodeLocation(n[0]) : nodeLocation(n as Node | undefined);
  if (s.op !== undefined && s.op !== "SETOP_NONE") throw notSupported("UNION/INTERSECT/EXCEPT");
  if (s.withClause !== undefined) throw notSupported("WITH", s.withClause.location);
  if (s.valuesLists !== undefined) throw notSupported("VALUES", where(s.valuesLists));
  if (s.distinctClause !== undefined) throw notSupported("DISTINCT", where(s.distinctClause));
  if (s.intoClause !== undefined) throw notSupported("SELECT INTO");
  if (s.groupClause !== undefined) throw notSupported("GROUP BY", where(s.groupClause));
  if (s.havingClause !== undefined) throw notSupported("HAVING", where(s.havingClause));
  if (s.windowClause !== undefined) throw notSupported("WINDOW", where(s.windowClause));
  if (s.lockingClause !== undefined) throw notSupported("FOR UPDATE/SHARE", where(s.lockingClause));
  if (s.limitOption === "LIMIT_OPTION_WITH_TIES") throw notSupported("FETCH FIRST … WITH TIES");
}

/**
 * A result column's name, as FigureColname gives it: a column's or function's
 * name, a cast of an unnamed expression is named by its type (the outermost
 * cast's, as a cast names more weakly than a column), else ?column?.
 */
export function columnName(node: Node): string | undefined {
  return figureColname(node)?.[0];
}

function figureColname(node: Node): [name: string, strength: 1 | 2] | undefined {
  if ("ColumnRef" in node) {
    const names = stringList(node.ColumnRef.fields);
    const last = names?.[names.length - 1];
    return last === undefined ? undefined : [last, 2];
  }
  if ("FuncCall" in node) {
    const names = stringList(node.FuncCall.funcname);
    const last = names?.[names.length - 1];
    return last === undefined ? undefined : [last, 2];
  }
  if ("SQLValueFunction" in node) {
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

function analyzeTarget(node: Node, ctx: ExprContext): TargetColumn[] {
  if (!("ResTarget" in node)) throw notSupported("target", nodeLocation(node));
  const target: ResTarget = node.ResTarget;
  const val = target.val!;
  if ((target.indirection?.length ?? 0) > 0) throw notSupported("subscripts", target.location);
  if ("ColumnRef" in val && val.ColumnRef.fields?.some((f) => "A_Star" in f)) return expandStar(val.ColumnRef, ctx);
  const expr = analyzeExpr(val, ctx);
  const name = target.name ?? columnName(val) ?? "?column?";
  const column = expr.kind === "column" && "ColumnRef" in val ? expr.index : undefined;
  const source = column === undefined ? undefined : { tableOid: ctx.relation!.table.oid, attnum: column + 1 };
  return [{ name, expr, source }];
}

/** `*` or `rel.*`: every column of the relation. */
function expandStar(ref: ColumnRef, ctx: ExprContext): TargetColumn[] {
  const location = ref.location ?? -1;
  const fields = ref.fields ?? [];
  const relation: Relation | undefined = ctx.relation;
  if (relation === undefined && fields.length === 1) {
    throw sqlError(Code.syntaxError, "SELECT * with no tables specified is not valid", location);
  }
  const qualifier = stringList(fields.slice(0, -1));
  if (qualifier === undefined || fields.length > 3) throw notSupported("this * reference", location);
  if (qualifier.length > 0) {
    const name = qualifier[qualifier.length - 1]!;
    const schemaOk = qualifier.length === 1 || (qualifier[0] === "public" && relation?.aliased === false);
    if (relation === undefined || name !== relation.refname || !schemaOk) {
      throw sqlError(Code.undefinedTable, `missing FROM-clause entry for table "${name}"`, location);
    }
  }
  const rel = relation!;
  return rel.table.columns.map((c, index) => {
    ctx.columnRefs?.push({ name: `${rel.refname}.${c.name}`, location });
    return {
      name: c.name,
      expr: { kind: "column", type: c.type, index, typmod: c.typmod } as Expr,
      source: { tableOid: rel.table.oid, attnum: index + 1 },
    };
  });
}

/** ORDER BY: an output column by name or position, else an expression (findTargetlistEntrySQL92). */
function analyzeSortBy(node: Node, targets: readonly TargetColumn[], ctx: ExprContext): SortKey {
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
  return { target: undefined, expr: analyzeExpr(key, ctx), descending, nullsFirst };
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
function limitExpr(node: Node | undefined, clause: string, base: Omit<ExprContext, "clause">): Expr | undefined {
  if (node === undefined) return undefined;
  const location = nodeLocation(node);
  const e = analyzeExpr(node, { ...base, clause });
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
