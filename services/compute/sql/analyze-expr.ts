import type { A_Const, A_Expr, BoolExpr, ColumnRef, FuncCall, Node, SubLink, TypeCast } from "libpg-query";
import type { Datum } from "../access/database.js";
import type { AggregateKind, AggregateSpec } from "./aggregate.js";
import { sumType } from "./aggregate.js";
import { functionCall, sqlValueFunction as sqlTimeFunction } from "./analyze-functions.js";
import { typeOfTypeName } from "./analyze-type-name.js";
import { coerce, explicitCast } from "./casts.js";
import type { SessionClock } from "./clock.js";
import { Code, notSupported, sqlError } from "./errors.js";
import type { Expr, Value } from "./expr.js";
import { exprType } from "./expr.js";
import type { SessionInfo } from "./functions.js";
import { DEFAULT_SESSION, scalarFunction, sqlValueFunction } from "./functions.js";
import { constructName, nodeLocation, stringList } from "./nodes.js";
import { isFractionalNumeric, parseNumericLiteral } from "./numeric-literal.js";
import type { ArithmeticOp, ComparisonOp } from "./operators.js";
import { ARITHMETIC_OPS, COMPARISON_OPS, arithmetic, comparison, hasArithmetic, negation } from "./operators.js";
import type { ParamSlots } from "./params.js";
import type { Relation, SelectQuery, Sublink } from "./query.js";
import type { Namespace } from "./scope.js";
import { Level, namespace, resolveColumnRef } from "./scope.js";
import {
  type SqlType,
  isArrayType,
  isDatetimeType,
  isNumericType,
  isStringType,
  typeDisplay,
  widerNumeric,
} from "./types.js";

export { typeOfTypeName };

/**
 * Parse-tree expressions → typed `Expr`, as PostgreSQL's parse_expr.c does
 * for our subset: names to columns, operators resolved by operand types
 * (unknown literals and parameters take the other side's type), errors with
 * the position of the offending node.
 */

export type { Relation };

/** A GROUP BY key as the targets may repeat it: its parse tree (without locations) and where the group row holds it. */
export interface GroupKeyMatch {
  readonly tree: string;
  readonly index: number;
  readonly type: SqlType;
}

/** Analyzes a subquery of an expression, seeing `outer` as its enclosing query. */
export type SubqueryAnalyzer = (select: Node, outer: Namespace | undefined) => SelectQuery;

export interface ExprContext {
  /** The names in scope; UPDATE and DELETE give their one `relation` instead. */
  readonly scope?: Namespace | undefined;
  readonly relation?: Relation | undefined;
  readonly params: ParamSlots;
  /** The session's clock, read by now() and its kin when the plan runs. */
  readonly clock: SessionClock;
  /** The clause, for messages: "WHERE", "LIMIT", "VALUES", "UPDATE" … */
  readonly clause: string;
  /** Where aggregates found here are collected; undefined: not allowed in this clause. */
  readonly aggregates?: AggregateSpec[];
  /** Where aggref i is in the row the clause is evaluated over (after the prefix and the group keys). */
  readonly aggregateBase?: number;
  /** Inside an aggregate's argument (aggregates cannot nest). */
  readonly inAggregate?: boolean;
  /** In the targets, HAVING and ORDER BY of a query with GROUP BY: expressions that are group keys. */
  readonly groupKeys?: readonly GroupKeyMatch[];
  /** Subqueries are allowed here: how to analyze one, and where the query collects them. */
  readonly subquery?: SubqueryAnalyzer;
  readonly sublinks?: Sublink[];
  readonly session?: SessionInfo;
}

/**
 * `ctx` for another clause (and maybe scope, or inside an aggregate), every
 * field spelled out. Not `{ ...ctx, clause }`: V8 11 (Node 20) gives each
 * object made by a spread plus more properties its own hidden class, which
 * costs microseconds per object and makes every later read of it megamorphic.
 */
export function clauseContext(
  ctx: ExprContext,
  clause: string,
  scope: Namespace | undefined = ctx.scope,
  inAggregate: boolean | undefined = ctx.inAggregate,
): ExprContext {
  return {
    scope,
    relation: ctx.relation,
    params: ctx.params,
    clock: ctx.clock,
    clause,
    aggregates: ctx.aggregates,
    aggregateBase: ctx.aggregateBase,
    inAggregate,
    groupKeys: ctx.groupKeys,
    subquery: ctx.subquery,
    sublinks: ctx.sublinks,
    session: ctx.session,
  };
}

/** A parse tree without its locations: two spellings of one expression compare equal. */
export function treeKey(node: Node): string {
  return JSON.stringify(node, (key, value) => (key === "location" ? undefined : value));
}

function scopeOf(ctx: ExprContext): Namespace | undefined {
  if (ctx.scope !== undefined || ctx.relation === undefined) return ctx.scope;
  const { table, refname, aliased } = ctx.relation;
  const columns = table.columns.map((c, i) => ({
    name: c.name,
    type: c.type,
    source: { tableOid: table.oid, attnum: i + 1 },
  }));
  const item = { refname, tableName: table.name, aliased, columns, offset: 0 };
  return namespace(new Level(0), [item], columns.length, undefined);
}

export function analyzeExpr(node: Node, ctx: ExprContext): Expr {
  if (ctx.groupKeys !== undefined && !ctx.inAggregate && !("A_Const" in node)) {
    const tree = treeKey(node);
    const key = ctx.groupKeys.find((k) => k.tree === tree);
    if (key !== undefined) return { kind: "column", type: key.type, index: key.index };
  }
  if ("A_Const" in node) return analyzeConst(node.A_Const);
  if ("ParamRef" in node) {
    const location = node.ParamRef.location ?? -1;
    return { kind: "param", slot: ctx.params.slot(node.ParamRef.number ?? 0, location), location };
  }
  if ("ColumnRef" in node) return analyzeColumnRef(node.ColumnRef, ctx);
  if ("A_Expr" in node) return analyzeOperator(node.A_Expr, ctx);
  if ("BoolExpr" in node) return analyzeBoolExpr(node.BoolExpr, ctx);
  if ("NullTest" in node) {
    const arg = analyzeExpr(node.NullTest.arg!, ctx);
    return { kind: "isnull", negated: node.NullTest.nulltesttype === "IS_NOT_NULL", arg };
  }
  if ("TypeCast" in node) return analyzeTypeCast(node.TypeCast, ctx);
  if ("FuncCall" in node) return analyzeFuncCall(node.FuncCall, ctx);
  if ("SubLink" in node) return analyzeSubLink(node.SubLink, ctx);
  if ("SQLValueFunction" in node) {
    const call = sqlTimeFunction(node.SQLValueFunction, ctx.clock);
    if (call !== undefined) return call;
    const location = node.SQLValueFunction.location ?? -1;
    const e = sqlValueFunction(node.SQLValueFunction.op ?? "", location, ctx.session ?? DEFAULT_SESSION);
    if (e !== undefined) return e;
  }
  if ("CoalesceExpr" in node)
    return analyzeCoalesce(node.CoalesceExpr.args ?? [], node.CoalesceExpr.location ?? -1, ctx);
  throw notSupported(constructName(node), nodeLocation(node));
}

/**
 * Integer literals are int4, else int8, else numeric, as make_const decides;
 * a fraction or exponent makes a numeric (numeric-literal.ts).
 */
function analyzeConst(c: A_Const): Expr {
  const location = c.location ?? -1;
  if (c.isnull === true) return { kind: "const", type: "unknown", value: null, location };
  if (c.ival !== undefined) return { kind: "const", type: "int4", value: c.ival.ival ?? 0, location };
  if (c.boolval !== undefined) return { kind: "const", type: "bool", value: c.boolval.boolval ?? false, location };
  if (c.sval !== undefined) return { kind: "const", type: "unknown", value: c.sval.sval ?? "", location };
  if (c.fval !== undefined) {
    const text = c.fval.fval ?? "";
    if (!/^-?\d+$/.test(text)) {
      const value = parseNumericLiteral(text);
      if (value === undefined) throw notSupported("this numeric constant", location);
      return { kind: "const", type: "numeric", value, location };
    }
    const n = BigInt(text);
    if (n >= -(2n ** 31n) && n < 2n ** 31n) return { kind: "const", type: "int4", value: Number(n), location };
    if (n >= -(2n ** 63n) && n < 2n ** 63n) return { kind: "const", type: "int8", value: n, location };
    return { kind: "const", type: "numeric", value: n, location };
  }
  throw notSupported("bit string constants", location);
}

function analyzeColumnRef(ref: ColumnRef, ctx: ExprContext): Expr {
  const location = ref.location ?? -1;
  const names = stringList(ref.fields);
  if (names === undefined) throw notSupported("whole-row references", location);
  return resolveColumnRef(names, scopeOf(ctx), location, ctx.inAggregate === true);
}

function operatorName(e: A_Expr): string | undefined {
  const names = stringList(e.name);
  if (names === undefined || names.length === 0 || names.length > 2) return undefined;
  if (names.length === 2 && names[0] !== "pg_catalog") return undefined;
  return names[names.length - 1];
}

const EXPR_KIND_NAMES: Readonly<Record<string, string>> = {
  AEXPR_OP_ANY: "ANY",
  AEXPR_OP_ALL: "ALL",
  AEXPR_DISTINCT: "IS DISTINCT FROM",
  AEXPR_NOT_DISTINCT: "IS NOT DISTINCT FROM",
  AEXPR_NULLIF: "NULLIF",
  AEXPR_IN: "IN",
  AEXPR_LIKE: "LIKE",
  AEXPR_ILIKE: "ILIKE",
  AEXPR_SIMILAR: "SIMILAR TO",
  AEXPR_BETWEEN: "BETWEEN",
  AEXPR_NOT_BETWEEN: "NOT BETWEEN",
  AEXPR_BETWEEN_SYM: "BETWEEN SYMMETRIC",
  AEXPR_NOT_BETWEEN_SYM: "NOT BETWEEN SYMMETRIC",
};

function analyzeOperator(e: A_Expr, ctx: ExprContext): Expr {
  const location = e.location ?? -1;
  if (e.kind === "AEXPR_IN" && e.rexpr !== undefined && "List" in e.rexpr) return analyzeInList(e, ctx);
  if (e.kind !== "AEXPR_OP") throw notSupported(EXPR_KIND_NAMES[e.kind ?? ""] ?? String(e.kind), location);
  const op = operatorName(e);
  if (op === undefined) throw notSupported("qualified operator names", location);
  if (e.lexpr === undefined) {
    if (op !== "-" && op !== "+") throw notSupported(`operator ${op}`, location);
    return prefixOperator(op, analyzeExpr(e.rexpr!, ctx), location);
  }
  if (e.rexpr === undefined) throw notSupported(`postfix operator ${op}`, location);
  const left = analyzeExpr(e.lexpr, ctx);
  const right = analyzeExpr(e.rexpr, ctx);
  if (ARITHMETIC_OPS.has(op)) return arithmeticOperator(op as ArithmeticOp, left, right, location);
  if (COMPARISON_OPS.has(op)) return comparisonOperator(op as ComparisonOp, left, right, location);
  throw notSupported(`operator ${op}`, location);
}

function operatorError(op: string, types: readonly SqlType[], location: number, ambiguous: boolean): never {
  const signature =
    types.length === 1
      ? `${op} ${typeDisplay(types[0]!)}`
      : `${typeDisplay(types[0]!)} ${op} ${typeDisplay(types[1]!)}`;
  if (ambiguous) {
    throw sqlError(Code.ambiguousFunction, `operator is not unique: ${signature}`, location, {
      hint: "Could not choose a best candidate operator. You might need to add explicit type casts.",
    });
  }
  throw sqlError(Code.undefinedFunction, `operator does not exist: ${signature}`, location, {
    hint: "No operator matches the given name and argument types. You might need to add explicit type casts.",
  });
}

function prefixOperator(op: "-" | "+", arg: Expr, location: number): Expr {
  const type = exprType(arg);
  if (type === "unknown") operatorError(op, [type], location, true);
  if (!isNumericType(type)) operatorError(op, [type], location, false);
  rejectFractionalNumeric(type, [arg], location);
  if (op === "+") return arg;
  return unaryCall(type, arg, negation(type)!);
}

/** A fractional numeric constant has no arithmetic or comparison here, only printing and casts. */
function rejectFractionalNumeric(type: SqlType, args: readonly Expr[], location: number): void {
  if (type !== "numeric") return;
  if (args.some((e) => e.kind === "const" && isFractionalNumeric(e.value))) {
    throw notSupported("arithmetic and comparison of non-integer numeric values", location);
  }
}

/** The rank of date < timestamp < timestamptz: the later one is the common type (implicit casts go up). */
const DATETIME_RANK: Readonly<Partial<Record<SqlType, number>>> = { date: 1, timestamp: 2, timestamptz: 3 };

/**
 * The common operand type of a binary operator, or undefined if there is
 * none: an unknown side takes the other's type; numbers widen; strings meet
 * in text, or in bpchar when neither is text; dates and timestamps widen to
 * timestamptz, as PostgreSQL's operator resolution ends up choosing.
 */
function operandType(left: SqlType, right: SqlType): SqlType | undefined {
  if (left === "unknown" && right === "unknown") return "text";
  if (left === "unknown") return right;
  if (right === "unknown") return left;
  if (left === right) return left;
  if (isNumericType(left) && isNumericType(right)) return widerNumeric(left, right);
  if (isStringType(left) && isStringType(right)) {
    // char = varchar compares as char (varchar → bpchar is implicit); text (or name) wins over both.
    const textual = (t: SqlType) => t === "text" || t === "name";
    return textual(left) || textual(right) ? "text" : "bpchar";
  }
  if (isDatetimeType(left) && isDatetimeType(right)) {
    return DATETIME_RANK[left]! >= DATETIME_RANK[right]! ? left : right;
  }
  return undefined;
}

function arithmeticOperator(op: ArithmeticOp, left: Expr, right: Expr, location: number): Expr {
  const lt = exprType(left);
  const rt = exprType(right);
  if (lt === "unknown" && rt === "unknown") operatorError(op, [lt, rt], location, true);
  const type = operandType(lt, rt);
  if (type === undefined || !isNumericType(type) || !hasArithmetic(op, type)) {
    operatorError(op, [lt, rt], location, false);
  }
  rejectFractionalNumeric(type, [left, right], location);
  const fn = arithmetic(op, type);
  if (fn === undefined) throw notSupported(`numeric operator ${op}`, location);
  return binaryCall(type, coerceOperand(left, type), coerceOperand(right, type), fn);
}

export function comparisonOperator(op: ComparisonOp, left: Expr, right: Expr, location: number): Expr {
  const lt = exprType(left);
  const rt = exprType(right);
  const type = operandType(lt, rt);
  if (type === undefined || type === "void") operatorError(op, [lt, rt], location, false);
  rejectFractionalNumeric(type, [left, right], location);
  return binaryCall("bool", coerceOperand(left, type), coerceOperand(right, type), comparison(op, type), op);
}

function coerceOperand(e: Expr, type: SqlType): Expr {
  const result = coerce(e, type, "implicit");
  if (result === undefined) throw new Error(`no implicit cast from ${exprType(e)} to ${type}`);
  return result;
}

/** A strict call; on constants it is folded now, so `1/0` fails before any row is read, as in PostgreSQL. */
export function unaryCall(type: SqlType, arg: Expr, fn: (a: Value) => Datum): Expr {
  if (arg.kind === "const") {
    return { kind: "const", type, value: arg.value === null ? null : fn(arg.value), location: arg.location };
  }
  return { kind: "unary", type, arg, fn };
}

function binaryCall(
  type: SqlType,
  left: Expr,
  right: Expr,
  fn: (a: Value, b: Value) => Datum,
  comparison?: ComparisonOp,
): Expr {
  if (left.kind === "const" && right.kind === "const") {
    const value = left.value === null || right.value === null ? null : fn(left.value, right.value);
    return { kind: "const", type, value, location: left.location };
  }
  return comparison === undefined
    ? { kind: "binary", type, left, right, fn }
    : { kind: "binary", type, left, right, fn, comparison };
}

function analyzeBoolExpr(e: BoolExpr, ctx: ExprContext): Expr {
  const name = e.boolop === "AND_EXPR" ? "AND" : e.boolop === "OR_EXPR" ? "OR" : "NOT";
  const args = (e.args ?? []).map((arg) => booleanCondition(arg, ctx, name));
  if (name === "NOT") return { kind: "not", arg: args[0]! };
  return { kind: name === "AND" ? "and" : "or", args };
}

/** A condition (WHERE, AND, OR, NOT): boolean, or unknown read as boolean; else 42804. */
export function booleanCondition(node: Node, ctx: ExprContext, clause: string): Expr {
  const e = analyzeExpr(node, ctx);
  const type = exprType(e);
  const result = type === "bool" || type === "unknown" ? coerce(e, "bool", "implicit") : undefined;
  if (result !== undefined) return result;
  throw sqlError(
    Code.datatypeMismatch,
    `argument of ${clause} must be type boolean, not type ${typeDisplay(type)}`,
    nodeLocation(node),
  );
}

function analyzeTypeCast(c: TypeCast, ctx: ExprContext): Expr {
  const { type, typmod } = typeOfTypeName(c.typeName ?? {});
  return explicitCast(analyzeExpr(c.arg!, ctx), type, c.location ?? -1, typmod);
}

function analyzeFuncCall(f: FuncCall, ctx: ExprContext): Expr {
  const location = f.location ?? -1;
  const names = stringList(f.funcname) ?? [];
  const name = names[names.length - 1] ?? "";
  const qualifiedOk = names.length === 1 || (names.length === 2 && names[0] === "pg_catalog");
  if (!qualifiedOk) {
    if (names.length === 2 && names[0] !== "public") {
      throw sqlError(Code.undefinedSchema, `schema "${names[0]}" does not exist`, location);
    }
    throw notSupported(`function ${names.join(".")}()`, location);
  }
  if (AGGREGATES.has(name)) return analyzeAggregate(name as AggregateKind, f, ctx);
  if (name === "pg_sleep") throw notSupported("pg_sleep() other than as SELECT pg_sleep(seconds)", location);
  if (f.agg_star === true || f.agg_distinct === true || (f.agg_order?.length ?? 0) > 0 || f.over !== undefined) {
    throw notSupported(`this call of ${name}()`, location);
  }
  const args = (f.args ?? []).map((a) => analyzeExpr(a, ctx));
  const call = functionCall(name, f, args, ctx.clock);
  if (call !== undefined) return call;
  const e = scalarFunction(name, args, location, ctx.session ?? DEFAULT_SESSION);
  if (e !== undefined) return e;
  throw notSupported(`function ${names.join(".")}()`, location);
}

const AGGREGATES: ReadonlySet<string> = new Set(["count", "sum", "min", "max"]);

function analyzeAggregate(name: AggregateKind, f: FuncCall, ctx: ExprContext): Expr {
  const location = f.location ?? -1;
  if (ctx.inAggregate) throw sqlError(Code.groupingError, "aggregate function calls cannot be nested", location);
  if (ctx.aggregates === undefined) {
    throw sqlError(Code.groupingError, `aggregate functions are not allowed in ${ctx.clause}`, location);
  }
  if (f.agg_distinct === true) throw notSupported("DISTINCT in aggregates", location);
  if (f.agg_filter !== undefined) throw notSupported("FILTER", location);
  if ((f.agg_order?.length ?? 0) > 0) throw notSupported("ORDER BY in aggregates", location);
  if (f.over !== undefined) throw notSupported("window functions", location);
  if (f.agg_within_group === true) throw notSupported("WITHIN GROUP", location);
  if (f.func_variadic === true) throw notSupported("VARIADIC", location);
  const args = (f.args ?? []).map((a) => analyzeExpr(a, clauseContext(ctx, ctx.clause, ctx.scope, true)));
  const spec = aggregateSpec(name, f.agg_star === true, args, location);
  ctx.aggregates.push(spec);
  return { kind: "aggref", type: spec.type, index: (ctx.aggregateBase ?? 0) + ctx.aggregates.length - 1 };
}

function aggregateSpec(name: AggregateKind, star: boolean, args: readonly Expr[], location: number): AggregateSpec {
  const argTypes = args.map(exprType);
  const signature = `${name}(${argTypes.map(typeDisplay).join(", ")})`;
  const noSuchFunction: () => never = () => {
    throw sqlError(Code.undefinedFunction, `function ${signature} does not exist`, location, {
      hint: "No function matches the given name and argument types. You might need to add explicit type casts.",
    });
  };
  if (name === "count") {
    if (star) return { kind: "count", arg: undefined, argType: "int8", type: "int8" };
    if (args.length === 0) {
      throw sqlError("42809", "count(*) must be used to call a parameterless aggregate function", location);
    }
    if (args.length > 1) noSuchFunction();
    return { kind: "count", arg: args[0], argType: argTypes[0]!, type: "int8" };
  }
  if (star || args.length !== 1) noSuchFunction();
  const argType = argTypes[0]!;
  if (argType === "unknown") {
    throw sqlError(Code.ambiguousFunction, `function ${signature} is not unique`, location, {
      hint: "Could not choose a best candidate function. You might need to add explicit type casts.",
    });
  }
  if (name === "min" || name === "max") {
    if (argType === "void" || isArrayType(argType)) noSuchFunction();
    // min(bool) does not exist in PostgreSQL (bool_and does that job).
    if (argType === "bool") noSuchFunction();
    return { kind: name, arg: args[0], argType, type: argType };
  }
  const type = sumType(argType);
  if (type === undefined) noSuchFunction();
  rejectFractionalNumeric(argType, args, location);
  return { kind: "sum", arg: args[0], argType, type };
}

/** `x IN (a, b)` is `x = a OR x = b`; NOT IN is `x <> a AND x <> b` (PostgreSQL's ScalarArrayOpExpr has the same logic). */
function analyzeInList(e: A_Expr, ctx: ExprContext): Expr {
  const location = e.location ?? -1;
  const negated = stringList(e.name)?.[0] === "<>";
  const left = analyzeExpr(e.lexpr!, ctx);
  const items = "List" in e.rexpr! ? (e.rexpr.List.items ?? []) : [];
  const args = items.map((item) => comparisonOperator(negated ? "<>" : "=", left, analyzeExpr(item, ctx), location));
  if (args.length === 1) return args[0]!;
  return { kind: negated ? "and" : "or", args };
}

/** COALESCE: the first non-NULL argument, all of one type (unknown ones become the others' type, or text). */
function analyzeCoalesce(nodes: readonly Node[], location: number, ctx: ExprContext): Expr {
  const args = nodes.map((n) => analyzeExpr(n, ctx));
  let type: SqlType = "unknown";
  for (const a of args) {
    const t = exprType(a);
    if (t === "unknown") continue;
    const common: SqlType | undefined = type === "unknown" ? t : operandType(type, t);
    if (common === undefined) {
      throw sqlError(
        Code.datatypeMismatch,
        `COALESCE types ${typeDisplay(type)} and ${typeDisplay(t)} cannot be matched`,
        location,
      );
    }
    type = common;
  }
  if (type === "unknown") type = "text";
  const coerced = args.map((a) => coerceOperand(a, type));
  return { kind: "func", type, args: coerced, strict: false, fn: (values) => values.find((v) => v !== null) ?? null };
}

/** A subquery in an expression: scalar `(select …)`, EXISTS, IN/ANY/ALL. */
function analyzeSubLink(link: SubLink, ctx: ExprContext): Expr {
  const location = link.location ?? -1;
  if (ctx.subquery === undefined || ctx.sublinks === undefined) throw notSupported("subqueries", location);
  const query = ctx.subquery(link.subselect!, scopeOf(ctx));
  const offset = scopeOf(ctx)?.width ?? 0;
  const cell = { value: null, values: [] };
  const kind = link.subLinkType;
  if (kind === "EXISTS_SUBLINK") {
    ctx.sublinks.push({ mode: "exists", query, offset, cell });
    return { kind: "sublink", type: "bool", cell };
  }
  if (query.targets.length !== 1) {
    const scalar = kind === "EXPR_SUBLINK" || query.targets.length === 0;
    const message = scalar ? "subquery must return only one column" : "subquery has too many columns";
    throw sqlError(Code.syntaxError, message, location);
  }
  const inner = query.targets[0]!.expr;
  if (kind === "EXPR_SUBLINK") {
    ctx.sublinks.push({ mode: "scalar", query, offset, cell });
    const type = exprType(inner);
    return { kind: "sublink", type: type === "unknown" ? "text" : type, cell };
  }
  if (kind === "ANY_SUBLINK" || kind === "ALL_SUBLINK") {
    const names = stringList(link.operName) ?? [];
    const op = names[names.length - 1] ?? "=";
    if (!COMPARISON_OPS.has(op)) throw notSupported(`operator ${op} with a subquery`, location);
    const left = analyzeExpr(link.testexpr!, ctx);
    // Type the comparison on stand-ins, then compare values as the operator would.
    const probe = comparisonOperator(
      op as ComparisonOp,
      left,
      { kind: "column", type: exprType(inner), index: 0 },
      location,
    );
    if (probe.kind !== "binary") throw notSupported("this subquery comparison", location);
    ctx.sublinks.push({ mode: "values", query, offset, cell });
    // The subquery's values are cast to the comparison's type as the stand-in was.
    const cast = probe.right.kind === "unary" ? probe.right.fn : undefined;
    const compare = probe.fn;
    return {
      kind: "quantified",
      all: kind === "ALL_SUBLINK",
      left: probe.left,
      compare:
        cast === undefined
          ? compare
          : (a, b) => {
              const c = cast(b);
              return c === null ? null : compare(a, c);
            },
      cell,
    };
  }
  throw notSupported(kind === "ARRAY_SUBLINK" ? "ARRAY(subquery)" : "this kind of subquery", location);
}
