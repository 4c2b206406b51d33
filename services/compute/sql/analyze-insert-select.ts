import type { InsertStmt, Node, ResTarget, SelectStmt } from "libpg-query";
import type { Column, Table } from "../access/database.js";
import type { AnalyzeEnv } from "./analyze-relation.js";
import { analyzeSelect } from "./analyze-select.js";
import { assignmentCast } from "./casts.js";
import { Code, sqlError } from "./errors.js";
import type { Expr } from "./expr.js";
import { exprType, exprTypmod } from "./expr.js";
import { nodeLocation } from "./nodes.js";
import type { InsertSelect, SelectQuery } from "./query.js";

/**
 * INSERT INTO t [(cols)] SELECT …: the SELECT is analyzed as a standalone
 * one, and its output row is assigned to the target columns by assignment
 * casts, as a VALUES row would be. As in PostgreSQL (p_resolve_unknowns off
 * for this SELECT), an untyped literal among its outputs takes the target
 * column's type rather than text: `''` goes into char(84).
 */

/**
 * Where each output column came from, for error positions: its expression,
 * or the `*` that produced it (PostgreSQL's Var location); -1 when unknown.
 */
function outputLocations(s: SelectStmt, count: number): number[] {
  const nodes = (s.targetList ?? []).map((n) => ("ResTarget" in n ? n.ResTarget.val : undefined));
  const isStar = (n: Node | undefined): boolean =>
    n !== undefined && "ColumnRef" in n && (n.ColumnRef.fields ?? []).some((f) => "A_Star" in f);
  const stars = nodes.filter(isStar).length;
  if (stars > 1) return new Array<number>(count).fill(-1);
  const starWidth = count - (nodes.length - stars);
  return nodes.flatMap((n) => (isStar(n) ? new Array<number>(starWidth).fill(nodeLocation(n)) : [nodeLocation(n)]));
}

function nullOf(column: Column): Expr {
  return { kind: "const", type: column.type, value: null, location: -1, typmod: column.typmod };
}

export async function analyzeInsertSelect(
  s: InsertStmt,
  select: SelectStmt,
  table: Table,
  columns: readonly number[],
  env: AnalyzeEnv,
): Promise<InsertSelect> {
  const analyzed = await analyzeSelect(select, env);
  const width = analyzed.targets.length;
  const locations = outputLocations(select, width);
  if (width > columns.length) {
    throw sqlError(Code.syntaxError, "INSERT has more expressions than target columns", locations[columns.length]);
  }
  if (s.cols !== undefined && width < columns.length) {
    const missing = (s.cols[width] as { ResTarget: ResTarget }).ResTarget;
    throw sqlError(Code.syntaxError, "INSERT has more target columns than expressions", missing.location);
  }
  const targets = [...analyzed.targets];
  const row: Expr[] = table.columns.map(nullOf);
  targets.forEach((target, i) => {
    const column = table.columns[columns[i]!]!;
    const location = locations[i] ?? -1;
    const type = exprType(target.expr);
    if (type === "unknown") {
      // Cast where the literal is, so a bad one fails at analysis (and its position) as in PostgreSQL.
      const expr = assignmentCast(target.expr, column.type, column.name, location, column.typmod);
      targets[i] = { ...target, expr };
      row[columns[i]!] = { kind: "column", type: column.type, index: i, typmod: exprTypmod(expr) };
    } else {
      const output: Expr = { kind: "column", type, index: i, typmod: exprTypmod(target.expr) };
      row[columns[i]!] = assignmentCast(output, column.type, column.name, location, column.typmod);
    }
  });
  const query: SelectQuery = {
    ...analyzed,
    targets,
    sort: analyzed.sort.map((key) => (key.target === undefined ? key : { ...key, expr: targets[key.target]!.expr })),
  };
  return { query, row };
}
