import type { Node } from "libpg-query";

/**
 * Small readers of libpg-query's parse trees. A Node is a one-key object
 * (`{ SelectStmt: {...} }`); fields equal to zero, false or "" are omitted.
 */

export function nodeTag(node: Node): string {
  for (const key in node) return key;
  return "";
}

/** The parse location of a node (a 0-based byte offset), or -1. */
export function nodeLocation(node: Node | undefined): number {
  if (node === undefined) return -1;
  const inner = (node as Record<string, unknown>)[nodeTag(node)];
  if (typeof inner === "object" && inner !== null && "location" in inner) {
    const location = (inner as { location?: unknown }).location;
    if (typeof location === "number") return location;
  }
  return -1;
}

/** The strings of a list of String nodes (qualified names, operator names); undefined if one is not a String. */
export function stringList(nodes: readonly Node[] | undefined): string[] | undefined {
  const out: string[] = [];
  for (const n of nodes ?? []) {
    if (!("String" in n)) return undefined;
    out.push(n.String.sval ?? "");
  }
  return out;
}

const SQL_VALUE_FUNCTIONS: Readonly<Record<string, string>> = {
  SVFOP_CURRENT_DATE: "CURRENT_DATE",
  SVFOP_CURRENT_TIME: "CURRENT_TIME",
  SVFOP_CURRENT_TIME_N: "CURRENT_TIME",
  SVFOP_CURRENT_TIMESTAMP: "CURRENT_TIMESTAMP",
  SVFOP_CURRENT_TIMESTAMP_N: "CURRENT_TIMESTAMP",
  SVFOP_LOCALTIME: "LOCALTIME",
  SVFOP_LOCALTIME_N: "LOCALTIME",
  SVFOP_LOCALTIMESTAMP: "LOCALTIMESTAMP",
  SVFOP_LOCALTIMESTAMP_N: "LOCALTIMESTAMP",
  SVFOP_CURRENT_ROLE: "CURRENT_ROLE",
  SVFOP_CURRENT_USER: "CURRENT_USER",
  SVFOP_USER: "USER",
  SVFOP_SESSION_USER: "SESSION_USER",
  SVFOP_CURRENT_CATALOG: "CURRENT_CATALOG",
  SVFOP_CURRENT_SCHEMA: "CURRENT_SCHEMA",
};

const CONSTRUCTS: Readonly<Record<string, string>> = {
  SubLink: "subqueries",
  CaseExpr: "CASE",
  CoalesceExpr: "COALESCE",
  MinMaxExpr: "GREATEST/LEAST",
  A_ArrayExpr: "ARRAY",
  RowExpr: "ROW expressions",
  CollateClause: "COLLATE",
  BooleanTest: "IS TRUE/FALSE/UNKNOWN",
  A_Indirection: "subscripts and field selection",
  GroupingFunc: "GROUPING",
  XmlExpr: "XML",
  XmlSerialize: "XML",
  JsonObjectConstructor: "JSON",
  JsonArrayConstructor: "JSON",
  JsonIsPredicate: "IS JSON",
  SetToDefault: "DEFAULT",
  MultiAssignRef: "multiple-column assignment",
};

/** How a 0A000 error names an expression node we do not evaluate. */
export function constructName(node: Node): string {
  if ("SQLValueFunction" in node) return SQL_VALUE_FUNCTIONS[node.SQLValueFunction.op ?? ""] ?? "SQL value functions";
  const tag = nodeTag(node);
  return CONSTRUCTS[tag] ?? tag;
}
