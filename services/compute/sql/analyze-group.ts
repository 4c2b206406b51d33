import type { Node } from "libpg-query";
import type { ExprContext, GroupKeyMatch } from "./analyze-expr.js";
import { analyzeExpr, treeKey } from "./analyze-expr.js";
import { coerce } from "./casts.js";
import { Code, notSupported, sqlError } from "./errors.js";
import type { Expr } from "./expr.js";
import { exprType } from "./expr.js";
import { nodeLocation, stringList } from "./nodes.js";
import { type Grouping, resolveColumnRef } from "./scope.js";

/**
 * GROUP BY keys, found as PostgreSQL's findTargetlistEntrySQL92 finds them:
 * an integer is an output column's position; a bare name is an input column
 * if there is one, else an output column's name; anything else is an
 * expression. A target equal to a key (the same parse tree, or the same
 * column) reads the key from the group row.
 */

export interface GroupKeys {
  /** Over the input row. */
  readonly exprs: readonly Expr[];
  /** What targets, HAVING and ORDER BY match against; each at prefix + its position. */
  readonly matches: readonly GroupKeyMatch[];
  readonly grouping: Grouping;
}

interface TargetNode {
  readonly name: string | undefined;
  readonly val: Node;
}

export function analyzeGroupBy(
  clause: readonly Node[],
  targets: readonly TargetNode[],
  ctx: ExprContext,
  prefixWidth: number,
): GroupKeys {
  const exprs: Expr[] = [];
  const matches: GroupKeyMatch[] = [];
  const keyColumns: (number | undefined)[] = [];
  for (const item of clause) {
    const node = keyNode(item, targets, ctx);
    let expr = analyzeExpr(node, ctx);
    if (exprType(expr) === "unknown") expr = coerce(expr, "text", "implicit")!;
    keyColumns.push(expr.kind === "column" && "ColumnRef" in node ? expr.index : undefined);
    matches.push({ tree: treeKey(node), index: prefixWidth + exprs.length, type: exprType(expr) });
    exprs.push(expr);
  }
  return { exprs, matches, grouping: { keyColumns, explicit: true, ungrouped: [] } };
}

function keyNode(item: Node, targets: readonly TargetNode[], ctx: ExprContext): Node {
  const location = nodeLocation(item);
  if ("GroupingSet" in item) throw notSupported("GROUPING SETS, ROLLUP and CUBE", location);
  if ("A_Const" in item) {
    const ival = item.A_Const.ival;
    if (ival === undefined) throw sqlError(Code.syntaxError, "non-integer constant in GROUP BY", location);
    const position = ival.ival ?? 0;
    const target = targets[position - 1];
    if (target === undefined) {
      throw sqlError(Code.invalidColumnReference, `GROUP BY position ${position} is not in select list`, location);
    }
    return target.val;
  }
  if ("ColumnRef" in item) {
    const names = stringList(item.ColumnRef.fields);
    if (names?.length === 1 && !isInputColumn(names, ctx, location)) {
      const named = targets.filter((t) => t.name === names[0]);
      const first = named[0];
      if (first !== undefined) {
        if (named.some((t) => treeKey(t.val) !== treeKey(first.val))) {
          throw sqlError(Code.ambiguousColumn, `GROUP BY "${names[0]}" is ambiguous`, location);
        }
        return first.val;
      }
    }
  }
  return item;
}

function isInputColumn(names: readonly string[], ctx: ExprContext, location: number): boolean {
  try {
    resolveColumnRef(names, ctx.scope, location, true);
    return true;
  } catch {
    return false;
  }
}
