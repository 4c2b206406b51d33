import type { DeleteStmt, InsertStmt, Node, ResTarget, UpdateStmt } from "libpg-query";
import type { Column, Table } from "../access/database.js";
import type { ExprContext } from "./analyze-expr.js";
import { analyzeExpr, booleanCondition, clauseContext } from "./analyze-expr.js";
import { analyzeInsertSelect } from "./analyze-insert-select.js";
import type { AnalyzeEnv } from "./analyze-relation.js";
import { checkNotSystem, resolveRangeVar } from "./analyze-relation.js";
import { assignmentCast } from "./casts.js";
import { Code, notSupported, sqlError } from "./errors.js";
import type { Expr } from "./expr.js";
import { nodeLocation } from "./nodes.js";
import type { DeleteQuery, InsertQuery, UpdateQuery } from "./query.js";

/** INSERT … VALUES, UPDATE … SET … WHERE, DELETE … WHERE, on one table. */

function nullOf(column: Column): Expr {
  return { kind: "const", type: column.type, value: null, location: -1, typmod: column.typmod };
}

/** A value for a column: DEFAULT (NULL: there are no column defaults) or an expression cast by assignment. */
function assignedValue(node: Node, column: Column, ctx: ExprContext): Expr {
  if ("SetToDefault" in node) return nullOf(column);
  return assignmentCast(analyzeExpr(node, ctx), column.type, column.name, nodeLocation(node), column.typmod);
}

function columnOfTarget(table: Table, target: ResTarget): number {
  const location = target.location ?? -1;
  if ((target.indirection?.length ?? 0) > 0) throw notSupported("subscripts and field selection", location);
  const index = table.columns.findIndex((c) => c.name === target.name);
  if (index < 0) {
    throw sqlError(
      Code.undefinedColumn,
      `column "${target.name}" of relation "${table.name}" does not exist`,
      location,
    );
  }
  return index;
}

/** The columns an INSERT names, in its order (all of them when it names none). */
function insertColumns(table: Table, cols: readonly Node[] | undefined): number[] {
  if (cols === undefined) return table.columns.map((_, i) => i);
  const seen = new Set<number>();
  return cols.map((node) => {
    const target = (node as { ResTarget: ResTarget }).ResTarget;
    const index = columnOfTarget(table, target);
    if (seen.has(index)) {
      throw sqlError(Code.duplicateColumn, `column "${target.name}" specified more than once`, target.location);
    }
    seen.add(index);
    return index;
  });
}

function valuesRows(s: InsertStmt): readonly (readonly Node[])[] {
  if (s.selectStmt === undefined) return [[]]; // DEFAULT VALUES
  const select = "SelectStmt" in s.selectStmt ? s.selectStmt.SelectStmt : undefined;
  if (select?.valuesLists === undefined) throw notSupported("this INSERT", nodeLocation(s.selectStmt));
  if (select.sortClause !== undefined || select.limitCount !== undefined || select.limitOffset !== undefined) {
    throw notSupported("ORDER BY/LIMIT on VALUES");
  }
  if (select.withClause !== undefined) throw notSupported("WITH", select.withClause.location);
  return select.valuesLists.map((list) => ("List" in list ? (list.List.items ?? []) : []));
}

export async function analyzeInsert(s: InsertStmt, env: AnalyzeEnv): Promise<InsertQuery> {
  if (s.withClause !== undefined) throw notSupported("WITH", s.withClause.location);
  if (s.onConflictClause !== undefined) throw notSupported("ON CONFLICT", s.onConflictClause.location);
  if (s.returningClause !== undefined) throw notSupported("RETURNING");
  if (s.override !== undefined && s.override !== "OVERRIDING_NOT_SET") throw notSupported("OVERRIDING");
  const { table } = await resolveRangeVar(s.relation!, env);
  checkNotSystem(table, s.relation?.location);
  const columns = insertColumns(table, s.cols);
  const select = s.selectStmt !== undefined && "SelectStmt" in s.selectStmt ? s.selectStmt.SelectStmt : undefined;
  if (select !== undefined && select.valuesLists === undefined) {
    return { kind: "insert", table, rows: [], select: await analyzeInsertSelect(s, select, table, columns, env) };
  }
  const ctx: ExprContext = { relation: undefined, params: env.params, clock: env.clock, clause: "VALUES" };
  const rows = valuesRows(s);
  const width = rows[0]?.length ?? 0;
  const rowExprs = rows.map((items) => {
    if (items.length !== width) {
      throw sqlError(Code.syntaxError, "VALUES lists must all be the same length", nodeLocation(items[0]));
    }
    if (items.length > columns.length) {
      throw sqlError(
        Code.syntaxError,
        "INSERT has more expressions than target columns",
        nodeLocation(items[columns.length]),
      );
    }
    if (s.cols !== undefined && items.length < columns.length && s.selectStmt !== undefined) {
      const missing = (s.cols[items.length] as { ResTarget: ResTarget }).ResTarget;
      throw sqlError(Code.syntaxError, "INSERT has more target columns than expressions", missing.location);
    }
    const full: Expr[] = table.columns.map(nullOf);
    items.forEach((item, i) => {
      const index = columns[i]!;
      full[index] = assignedValue(item, table.columns[index]!, ctx);
    });
    return full;
  });
  return { kind: "insert", table, rows: rowExprs };
}

export async function analyzeUpdate(s: UpdateStmt, env: AnalyzeEnv): Promise<UpdateQuery> {
  if (s.withClause !== undefined) throw notSupported("WITH", s.withClause.location);
  if ((s.fromClause?.length ?? 0) > 0) throw notSupported("UPDATE … FROM", nodeLocation(s.fromClause?.[0]));
  if (s.returningClause !== undefined) throw notSupported("RETURNING");
  const relation = await resolveRangeVar(s.relation!, env);
  checkNotSystem(relation.table, s.relation?.location);
  // Spelled out, not spread (see clauseContext).
  const ctx: ExprContext = { relation, params: env.params, clock: env.clock, clause: "UPDATE" };
  const filter =
    s.whereClause === undefined ? undefined : booleanCondition(s.whereClause, clauseContext(ctx, "WHERE"), "WHERE");
  const seen = new Set<number>();
  const assignments = (s.targetList ?? []).map((node) => {
    const target = (node as { ResTarget: ResTarget }).ResTarget;
    if (target.val !== undefined && "MultiAssignRef" in target.val) {
      throw notSupported("multiple-column assignment", target.location);
    }
    const index = columnOfTarget(relation.table, target);
    if (seen.has(index)) throw sqlError(Code.syntaxError, `multiple assignments to same column "${target.name}"`);
    seen.add(index);
    return { index, expr: assignedValue(target.val!, relation.table.columns[index]!, ctx) };
  });
  return { kind: "update", relation, filter, assignments };
}

export async function analyzeDelete(s: DeleteStmt, env: AnalyzeEnv): Promise<DeleteQuery> {
  if (s.withClause !== undefined) throw notSupported("WITH", s.withClause.location);
  if ((s.usingClause?.length ?? 0) > 0) throw notSupported("DELETE … USING", nodeLocation(s.usingClause?.[0]));
  if (s.returningClause !== undefined) throw notSupported("RETURNING");
  const relation = await resolveRangeVar(s.relation!, env);
  checkNotSystem(relation.table, s.relation?.location);
  const filter =
    s.whereClause === undefined
      ? undefined
      : booleanCondition(s.whereClause, { relation, params: env.params, clock: env.clock, clause: "WHERE" }, "WHERE");
  return { kind: "delete", relation, filter };
}
