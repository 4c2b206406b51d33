import type { Datum } from "../access/database.js";
import type { SqlType } from "./types.js";

/**
 * Typed expressions, as analysis leaves them, and their compilation into
 * closures that run once per row. Operators and casts are strict functions
 * (NULL in, NULL out), resolved with their types at analysis time; AND, OR,
 * NOT and IS NULL carry SQL's three-valued logic here.
 */

export type ComparisonOp = "=" | "<>" | "<" | "<=" | ">" | ">=";

/** A non-NULL value. */
export type Value = Exclude<Datum, null>;

/**
 * `$n`. One slot per parameter, shared by every reference to it, so a type
 * learned from a later context (`$1 IS NULL OR a = $1`) reaches them all.
 */
export interface ParamSlot {
  readonly index: number;
  /** "unknown" until the client (Parse) or a context gives it a type; text if nothing does. */
  type: SqlType;
}

/**
 * Where the executor leaves a subquery's result before the expression that
 * reads it is evaluated (PostgreSQL's PARAM_EXEC): `value` for a scalar or
 * EXISTS subquery, `values` (the first column of every row) for IN/ANY/ALL.
 * Set and read in one synchronous step per row, so executions of one plan
 * never see each other's values.
 */
export interface SublinkCell {
  value: Datum;
  values: readonly Datum[];
}

/**
 * `typmod` (on constants, columns and casts) is the type modifier the value
 * is known to satisfy, as PostgreSQL's exprTypmod: n + 4 of char(n), p of
 * timestamp(p); absent means −1.
 */
export type Expr =
  | {
      readonly kind: "const";
      readonly type: SqlType;
      readonly value: Datum;
      readonly location: number;
      readonly typmod?: number;
    }
  | { readonly kind: "param"; readonly slot: ParamSlot; readonly location: number }
  | { readonly kind: "column"; readonly type: SqlType; readonly index: number; readonly typmod?: number }
  /** The result of aggregate `index`: evaluated over the row of aggregate results. */
  | { readonly kind: "aggref"; readonly type: SqlType; readonly index: number }
  | {
      readonly kind: "unary";
      readonly type: SqlType;
      readonly arg: Expr;
      readonly fn: (a: Value) => Datum;
      readonly typmod?: number;
    }
  /** A stable function of no arguments (now(), clock_timestamp() …): evaluated per call, never folded. */
  | { readonly kind: "call"; readonly type: SqlType; readonly fn: () => Datum; readonly typmod?: number }
  | {
      readonly kind: "binary";
      readonly type: SqlType;
      readonly left: Expr;
      readonly right: Expr;
      readonly fn: (a: Value, b: Value) => Datum;
      /** Set for a comparison: the planner matches `column op value` against indexes. */
      readonly comparison?: ComparisonOp;
    }
  | { readonly kind: "and" | "or"; readonly args: readonly Expr[] }
  | { readonly kind: "not"; readonly arg: Expr }
  | { readonly kind: "isnull"; readonly negated: boolean; readonly arg: Expr }
  /** A function call; a strict one returns NULL for any NULL argument without calling `fn`. */
  | {
      readonly kind: "func";
      readonly type: SqlType;
      readonly args: readonly Expr[];
      readonly strict: boolean;
      readonly fn: (args: readonly Datum[]) => Datum;
    }
  /** A scalar or EXISTS subquery's result, read from its cell. */
  | { readonly kind: "sublink"; readonly type: SqlType; readonly cell: SublinkCell }
  /**
   * `left op ANY/ALL (subquery)`: `compare` over the cell's values with SQL's
   * three-valued logic (IN is = ANY, NOT IN is <> ALL).
   */
  | {
      readonly kind: "quantified";
      readonly all: boolean;
      readonly left: Expr;
      readonly compare: (a: Value, b: Value) => Datum;
      readonly cell: SublinkCell;
    };

export function exprType(e: Expr): SqlType {
  switch (e.kind) {
    case "param":
      return e.slot.type;
    case "and":
    case "or":
    case "not":
    case "isnull":
    case "quantified":
      return "bool";
    default:
      return e.type;
  }
}

export function exprTypmod(e: Expr): number {
  switch (e.kind) {
    case "const":
    case "column":
    case "unary":
    case "call":
      return e.typmod ?? -1;
    default:
      return -1;
  }
}

/** Evaluates an expression over one row (or over the row of aggregate results). */
export type Evaluator = (row: readonly Datum[], params: readonly Datum[]) => Datum;

export function compile(e: Expr): Evaluator {
  switch (e.kind) {
    case "const": {
      const value = e.value;
      return () => value;
    }
    case "param": {
      const i = e.slot.index;
      return (_row, params) => params[i] ?? null;
    }
    case "column":
    case "aggref": {
      const i = e.index;
      return (row) => row[i] ?? null;
    }
    case "call": {
      const fn = e.fn;
      return () => fn();
    }
    case "unary": {
      const arg = compile(e.arg);
      const fn = e.fn;
      return (row, params) => {
        const a = arg(row, params);
        return a === null ? null : fn(a);
      };
    }
    case "binary":
      return compileBinary(e.left, e.right, e.fn);
    case "and":
      return compileAnd(e.args.map(compile));
    case "or":
      return compileOr(e.args.map(compile));
    case "not": {
      const arg = compile(e.arg);
      return (row, params) => {
        const a = arg(row, params);
        return a === null ? null : !a;
      };
    }
    case "isnull": {
      const arg = compile(e.arg);
      return e.negated ? (row, params) => arg(row, params) !== null : (row, params) => arg(row, params) === null;
    }
    case "func":
      return compileFunc(e.args.map(compile), e.strict, e.fn);
    case "sublink": {
      const cell = e.cell;
      return () => cell.value;
    }
    case "quantified":
      return compileQuantified(compile(e.left), e.all, e.compare, e.cell);
  }
}

function compileFunc(args: readonly Evaluator[], strict: boolean, fn: (args: readonly Datum[]) => Datum): Evaluator {
  return (row, params) => {
    const values = args.map((arg) => arg(row, params));
    if (strict && values.includes(null)) return null;
    return fn(values);
  };
}

/** ANY: true if a comparison is true, else NULL if one is NULL, else false; ALL the dual. */
function compileQuantified(
  left: Evaluator,
  all: boolean,
  compare: (a: Value, b: Value) => Datum,
  cell: SublinkCell,
): Evaluator {
  return (row, params) => {
    const values = cell.values;
    if (values.length === 0) return all;
    const a = left(row, params);
    let sawNull = false;
    for (const b of values) {
      const r = a === null || b === null ? null : compare(a, b);
      if (r === null) sawNull = true;
      else if (r !== all) return !all;
    }
    return sawNull ? null : all;
  };
}

function compileBinary(left: Expr, right: Expr, fn: (a: Value, b: Value) => Datum): Evaluator {
  const l = compile(left);
  const r = compile(right);
  return (row, params) => {
    // Both sides are evaluated, as PostgreSQL's executor does, before the NULL check.
    const a = l(row, params);
    const b = r(row, params);
    return a === null || b === null ? null : fn(a, b);
  };
}

/** false if any argument is false, else NULL if any is NULL, else true. */
function compileAnd(args: readonly Evaluator[]): Evaluator {
  return (row, params) => {
    let sawNull = false;
    for (const arg of args) {
      const v = arg(row, params);
      if (v === false) return false;
      if (v === null) sawNull = true;
    }
    return sawNull ? null : true;
  };
}

/** true if any argument is true, else NULL if any is NULL, else false. */
function compileOr(args: readonly Evaluator[]): Evaluator {
  return (row, params) => {
    let sawNull = false;
    for (const arg of args) {
      const v = arg(row, params);
      if (v === true) return true;
      if (v === null) sawNull = true;
    }
    return sawNull ? null : false;
  };
}

/** A WHERE clause keeps a row only when the condition is true (not NULL). */
export function compilePredicate(
  e: Expr | undefined,
): ((row: readonly Datum[], params: readonly Datum[]) => boolean) | undefined {
  if (e === undefined) return undefined;
  const ev = compile(e);
  return (row, params) => ev(row, params) === true;
}

/** Does the expression read a column of the input row (outside aggregates and subqueries)? */
export function usesColumns(e: Expr): boolean {
  switch (e.kind) {
    case "column":
      return true;
    case "const":
    case "param":
    case "aggref":
    case "call":
    case "sublink":
      return false;
    case "func":
      return e.args.some(usesColumns);
    case "quantified":
      return usesColumns(e.left);
    case "unary":
    case "not":
    case "isnull":
      return usesColumns(e.arg);
    case "binary":
      return usesColumns(e.left) || usesColumns(e.right);
    case "and":
    case "or":
      return e.args.some(usesColumns);
  }
}
