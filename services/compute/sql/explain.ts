import type { ExplainStmt } from "libpg-query";
import { Code, notSupported, sqlError } from "./errors.js";
import type { IndexPath } from "./index-path.js";
import type { Plan, SelectPlan, SourcePlan } from "./plan.js";

/**
 * EXPLAIN: the plan tree as PostgreSQL prints it with COSTS OFF (Sediment
 * has no cost model yet, so there are no costs to show), one line per row of
 * the "QUERY PLAN" column. Only what the executor really does is shown: the
 * scan (Seq Scan or Index Scan with its Index Cond), joins, aggregation,
 * sorting and limits.
 */

const OPTIONS = new Set(["costs", "verbose", "format", "summary", "timing", "buffers", "settings", "wal"]);

/** Checks EXPLAIN's options; ANALYZE would run the statement and is not there yet. */
export function checkExplainOptions(s: ExplainStmt): void {
  for (const node of s.options ?? []) {
    const def = "DefElem" in node ? node.DefElem : undefined;
    const name = def?.defname ?? "";
    if (name === "analyze") throw notSupported("EXPLAIN ANALYZE", def?.location);
    if (!OPTIONS.has(name)) {
      throw sqlError(Code.syntaxError, `unrecognized EXPLAIN option "${name}"`, def?.location);
    }
    const arg = def?.arg;
    const value = arg !== undefined && "String" in arg ? arg.String.sval : undefined;
    if (name === "format" && value !== undefined && value.toLowerCase() !== "text") {
      throw notSupported(`EXPLAIN (FORMAT ${value.toUpperCase()})`, def?.location);
    }
  }
}

export function explainLines(plan: Plan): string[] {
  const lines: string[] = [];
  const node = (depth: number, title: string, details: readonly string[] = []) => {
    const indent = depth === 0 ? "" : `${" ".repeat(depth * 6 - 6)}  ->  `;
    lines.push(`${indent}${title}`);
    const pad = " ".repeat(depth === 0 ? 2 : depth * 6 + 2);
    for (const d of details) lines.push(`${pad}${d}`);
  };
  switch (plan.kind) {
    case "select":
      select(plan, 0, node);
      break;
    case "update":
    case "delete":
      node(0, `${plan.kind === "update" ? "Update" : "Delete"} on ${plan.table.name}`);
      scan(plan.table.name, plan.access, plan.filter !== undefined, 1, node);
      break;
    case "insert":
      node(0, `Insert on ${plan.table.name}`);
      if (plan.select !== undefined) select(plan.select.plan, 1, node);
      else node(1, plan.rows.length === 1 ? "Result" : 'Values Scan on "*VALUES*"');
      break;
    default:
      node(0, "Utility Statement");
  }
  return lines;
}

type Emit = (depth: number, title: string, details?: readonly string[]) => void;

function select(p: SelectPlan, depth: number, node: Emit): void {
  let d = depth;
  if (p.limit !== undefined || p.offset !== undefined) node(d++, "Limit");
  if (p.sort.length > 0) node(d++, "Sort");
  if (p.distinct) node(d++, "Unique");
  if (p.group !== undefined) node(d++, p.group.keys.length > 0 ? "HashAggregate" : "Aggregate");
  if (p.table !== undefined) {
    scan(p.table.name, p.access, p.filter !== undefined, d, node);
  } else if (p.source !== undefined) {
    source(p.source, d, node, p.filter !== undefined);
  } else {
    node(d, "Result");
  }
}

function scan(table: string, access: IndexPath | undefined, filtered: boolean, depth: number, node: Emit): void {
  if (access !== undefined) {
    node(depth, `Index Scan using ${access.index.name} on ${table}`, [`Index Cond: ${access.description}`]);
  } else {
    node(depth, `Seq Scan on ${table}`, filtered ? ["Filter: (…)"] : []);
  }
}

function source(s: SourcePlan, depth: number, node: Emit, filtered = false): void {
  switch (s.kind) {
    case "table":
      node(depth, `Seq Scan on ${s.table.name}`, filtered ? ["Filter: (…)"] : []);
      return;
    case "function":
      node(depth, `Function Scan on ${s.label}`, filtered ? ["Filter: (…)"] : []);
      return;
    case "subquery":
      node(depth, "Subquery Scan");
      select(s.plan, depth + 1, node);
      return;
    case "join": {
      const kind = s.join === "inner" ? "" : ` ${s.join[0]!.toUpperCase()}${s.join.slice(1)} Join`;
      node(depth, `Nested Loop${kind}`);
      source(s.left, depth + 1, node);
      source(s.right, depth + 1, node);
    }
  }
}
