import type { Datum, Index, KeyBound, KeyRange, Table } from "../access/database.js";
import type { Evaluator, Expr } from "./expr.js";
import { compile } from "./expr.js";
import type { ComparisonOp } from "./operators.js";

/**
 * Access path choice: a WHERE clause whose AND-ed conditions compare an
 * indexed column with a value that does not depend on the row (`aid = $1`,
 * `k >= 10 AND k < 20`) is answered by an index scan instead of a heap scan.
 * The whole WHERE is still evaluated on every row the index returns, so the
 * index only has to narrow, never to decide.
 */

export interface PlannedBound {
  readonly values: readonly Evaluator[];
  readonly inclusive: boolean;
}

export interface IndexPath {
  readonly index: Index;
  /** Equality on a prefix of the index's columns, then at most one range on the next one. */
  readonly lower: PlannedBound | undefined;
  readonly upper: PlannedBound | undefined;
  /** For EXPLAIN, as PostgreSQL prints an Index Cond: "(aid = $1)", "((a = 1) AND (b > 2))". */
  readonly description: string;
}

interface Condition {
  readonly column: number;
  readonly op: ComparisonOp;
  readonly value: Expr;
}

const FLIPPED: Readonly<Record<ComparisonOp, ComparisonOp>> = {
  "=": "=",
  "<>": "<>",
  "<": ">",
  "<=": ">=",
  ">": "<",
  ">=": "<=",
};

function conjuncts(e: Expr | undefined): Expr[] {
  if (e === undefined) return [];
  return e.kind === "and" ? e.args.flatMap(conjuncts) : [e];
}

function readsRow(e: Expr): boolean {
  switch (e.kind) {
    case "column":
    case "aggref":
      return true;
    case "const":
    case "param":
      return false;
    case "unary":
    case "not":
    case "isnull":
      return readsRow(e.arg);
    case "binary":
      return readsRow(e.left) || readsRow(e.right);
    case "and":
    case "or":
      return e.args.some(readsRow);
    default:
      return true; // an expression kind this planner does not know: never an index bound
  }
}

function condition(e: Expr, table: Table): Condition | undefined {
  if (e.kind !== "binary" || e.comparison === undefined || e.comparison === "<>") return undefined;
  const matches = (column: Expr, value: Expr) =>
    column.kind === "column" && column.type === table.columns[column.index]?.type && !readsRow(value);
  if (matches(e.left, e.right)) {
    return { column: (e.left as { index: number }).index, op: e.comparison, value: e.right };
  }
  if (matches(e.right, e.left)) {
    return { column: (e.right as { index: number }).index, op: FLIPPED[e.comparison], value: e.left };
  }
  return undefined;
}

/** A bound's value as EXPLAIN shows it: a constant, `$n`, or `?` for a computed value. */
function valueText(e: Expr): string {
  if (e.kind === "param") return `$${e.slot.index + 1}`;
  if (e.kind !== "const" || e.value === null) return e.kind === "const" ? "NULL" : "?";
  if (typeof e.value === "string") return `'${e.value.replaceAll("'", "''")}'::${e.type}`;
  return String(e.value);
}

/** The best index for `filter`, or undefined for a heap scan. */
export function chooseIndexPath(table: Table, filter: Expr | undefined): IndexPath | undefined {
  if (table.indexes.length === 0) return undefined;
  const conditions = conjuncts(filter).flatMap((e) => condition(e, table) ?? []);
  if (conditions.length === 0) return undefined;
  let best: { path: IndexPath; score: number } | undefined;
  for (const index of table.indexes) {
    const candidate = pathFor(table, index, conditions);
    if (candidate !== undefined && (best === undefined || candidate.score > best.score)) best = candidate;
  }
  return best?.path;
}

function pathFor(
  table: Table,
  index: Index,
  conditions: readonly Condition[],
): { path: IndexPath; score: number } | undefined {
  const equal: Expr[] = [];
  const shown: string[] = [];
  const show = (c: Condition) => shown.push(`(${table.columns[c.column]!.name} ${c.op} ${valueText(c.value)})`);
  for (const column of index.columns) {
    const eq = conditions.find((c) => c.column === column && c.op === "=");
    if (eq === undefined) break;
    equal.push(eq.value);
    show(eq);
  }
  const next = index.columns[equal.length];
  const lowerC = next === undefined ? undefined : conditions.find((c) => c.column === next && c.op[0] === ">");
  const upperC = next === undefined ? undefined : conditions.find((c) => c.column === next && c.op[0] === "<");
  if (equal.length === 0 && lowerC === undefined && upperC === undefined) return undefined;
  const bound = (range: Condition | undefined): PlannedBound | undefined => {
    if (range === undefined) {
      return equal.length === 0 ? undefined : { values: equal.map(compile), inclusive: true };
    }
    if (!shown.includes(`(${table.columns[range.column]!.name} ${range.op} ${valueText(range.value)})`)) show(range);
    return { values: [...equal, range.value].map(compile), inclusive: range.op.length === 2 };
  };
  const lower = bound(lowerC);
  const upper = bound(upperC);
  const complete = equal.length === index.columns.length;
  // Prefer more equal columns, a unique index fully matched, then a range.
  const score = equal.length * 4 + (complete && index.unique ? 2 : 0) + (lowerC || upperC ? 1 : 0);
  const description = shown.length === 1 ? shown[0]! : `(${shown.join(" AND ")})`;
  return { path: { index, lower, upper, description }, score };
}

/**
 * The bounds' values for this execution; undefined when a bound is NULL (the
 * comparison is never true, so no row can match).
 */
export function evaluateRange(path: IndexPath, params: readonly Datum[]): KeyRange | undefined {
  const lower = boundValues(path.lower, params);
  const upper = boundValues(path.upper, params);
  if (lower === null || upper === null) return undefined;
  // One shape for every range (a spread of optional parts made a new hidden class each time).
  return { lower, upper };
}

/** A bound's values for this execution: undefined for no bound, null when one is NULL. */
function boundValues(b: PlannedBound | undefined, params: readonly Datum[]): KeyBound | undefined | null {
  if (b === undefined) return undefined;
  const values: Datum[] = new Array(b.values.length);
  let hasNull = false;
  for (let i = 0; i < values.length; i++) {
    const v = b.values[i]!([], params);
    if (v === null) hasNull = true;
    values[i] = v;
  }
  return hasNull ? null : { values, inclusive: b.inclusive };
}
