import { Code, notSupported, sqlError } from "./errors.js";
import type { Expr } from "./expr.js";
import type { SqlType } from "./types.js";

/**
 * Name resolution over the FROM items of a query and the queries around it,
 * as PostgreSQL's parse_relation.c does it.
 *
 * Every query level evaluates its expressions over one flat row: the row of
 * the enclosing query it runs for (its *prefix*: empty at the top level),
 * then the columns of its FROM items in the order they are written (a join
 * is its left side then its right side). A column is therefore an index into
 * that row, the same for a column of this level and of any outer level, and
 * a subquery, a LATERAL item or a join's right side is run with the row to
 * its left as its prefix. The single-table query keeps the table's own row.
 */

export interface ScopeColumn {
  readonly name: string;
  readonly type: SqlType;
  /** char(n) and the like: n + 4 (PostgreSQL's atttypmod); −1 when none. */
  readonly typmod?: number;
  /** The table column it reads, for RowDescription; undefined for a computed one. */
  readonly source: { readonly tableOid: number; readonly attnum: number } | undefined;
}

/** One FROM item (a table, a subquery) as names see it. */
export interface RangeItem {
  /** The alias if there is one, else the table name. */
  readonly refname: string;
  /** The table's own name (undefined for a subquery), for `schema.table.column` and the alias hint. */
  readonly tableName: string | undefined;
  readonly aliased: boolean;
  readonly columns: readonly ScopeColumn[];
  /** Index of its first column in the level's row. */
  readonly offset: number;
}

/** What one query level learns while its names are resolved. */
export class Level {
  /** Set when this level, or a subquery in it, reads a column of an enclosing level: it is correlated. */
  outerRefs = false;
  /** Absolute columns an unqualified name skips: the right-hand copy of a JOIN … USING column. */
  readonly shadowed = new Set<number>();

  constructor(
    /** Length of the prefix: the enclosing query's row. */
    readonly prefixWidth: number,
  ) {}
}

/** A column reference of a grouped query that is neither grouped nor inside an aggregate. */
export interface UngroupedRef {
  readonly name: string;
  readonly location: number;
  /** Seen from a subquery: PostgreSQL's message then says so. */
  readonly fromSubquery: boolean;
}

/**
 * Where a query's targets, HAVING and ORDER BY run over its groups: their row
 * is the prefix, then the group keys, then the aggregate results.
 */
export interface Grouping {
  /** The absolute column each plain-column GROUP BY key reads (undefined for an expression key). */
  readonly keyColumns: readonly (number | undefined)[];
  /** Whether the query has GROUP BY (without it, it is grouped only if it has aggregates or HAVING). */
  readonly explicit: boolean;
  readonly ungrouped: UngroupedRef[];
}

/** The names one part of a query may use, and the length of the row it is evaluated over. */
export interface Namespace {
  readonly level: Level;
  readonly items: readonly RangeItem[];
  /** Items of this FROM clause this part may not reference (a JOIN's ON sees only its own sides). */
  readonly hidden: readonly RangeItem[];
  readonly width: number;
  /** The enclosing query, as the subquery sees it. */
  readonly parent: Namespace | undefined;
  readonly grouping: Grouping | undefined;
}

export function namespace(
  level: Level,
  items: readonly RangeItem[],
  width: number,
  parent: Namespace | undefined,
  options: { hidden?: readonly RangeItem[]; grouping?: Grouping } = {},
): Namespace {
  return { level, items, hidden: options.hidden ?? [], width, parent, grouping: options.grouping };
}

interface Found {
  readonly ns: Namespace;
  readonly depth: number;
  readonly item: RangeItem;
  readonly column: number;
}

/**
 * A column reference (`col`, `rel.col`, `schema.rel.col`) as the column it
 * reads in the current row. Outside an aggregate's argument, a column of a
 * grouped query becomes its group key, or is noted as ungrouped.
 */
export function resolveColumnRef(
  names: readonly string[],
  scope: Namespace | undefined,
  location: number,
  inAggregate = false,
): Expr {
  if (names.length > 3) {
    if (names.length > 4) {
      throw sqlError(Code.syntaxError, `improper qualified name (too many dotted names): ${names.join(".")}`, location);
    }
    throw notSupported("cross-database references", location);
  }
  const found =
    names.length === 1 ? findUnqualified(names[0]!, scope, location) : findQualified(names, scope, location);
  const { item, column, depth } = found;
  // Each level between the reference and the column's own is correlated to it.
  let ns = scope;
  for (let d = 0; ns !== undefined && d < depth; ns = ns.parent, d++) ns.level.outerRefs = true;
  if (depth === 0 && inAggregate) {
    const c = item.columns[column]!;
    return { kind: "column", type: c.type, index: item.offset + column, typmod: c.typmod ?? -1 };
  }
  return columnOf(found.ns, item, column, location, depth > 0);
}

/**
 * Column `column` of `item` as `ns` evaluates it: in a grouped part, its
 * group key if it is one, else it is noted as ungrouped (an error once the
 * query turns out to be grouped).
 */
export function columnOf(
  ns: Namespace,
  item: RangeItem,
  column: number,
  location: number,
  fromSubquery: boolean,
): Expr {
  const c = item.columns[column]!;
  const index = item.offset + column;
  const grouping = ns.grouping;
  if (grouping !== undefined) {
    const key = grouping.explicit ? grouping.keyColumns.indexOf(index) : -1;
    if (key >= 0) return { kind: "column", type: c.type, index: ns.level.prefixWidth + key, typmod: c.typmod ?? -1 };
    grouping.ungrouped.push({ name: `${item.refname}.${c.name}`, location, fromSubquery });
  }
  return { kind: "column", type: c.type, index, typmod: c.typmod ?? -1 };
}

/** The item a qualifier (`rel` or `schema.rel`) names among this level's, for `rel.*`; 42P01 if none. */
export function itemByQualifier(qualifier: readonly string[], scope: Namespace, location: number): RangeItem {
  const name = qualifier[qualifier.length - 1]!;
  const schema = qualifier.length === 2 ? qualifier[0] : undefined;
  const item = scope.items.find((i) => matchesQualifier(i, name, schema));
  if (item === undefined) missingEntry(name, schema, scope, location);
  return item;
}

function findUnqualified(name: string, scope: Namespace | undefined, location: number): Found {
  let depth = 0;
  for (let ns = scope; ns !== undefined; ns = ns.parent, depth++) {
    let found: Found | undefined;
    for (const item of ns.items) {
      item.columns.forEach((c, column) => {
        if (c.name !== name || ns.level.shadowed.has(item.offset + column)) return;
        if (found !== undefined) {
          throw sqlError(Code.ambiguousColumn, `column reference "${name}" is ambiguous`, location);
        }
        found = { ns, depth, item, column };
      });
    }
    if (found !== undefined) return found;
  }
  for (let ns = scope; ns !== undefined; ns = ns.parent) {
    if (ns.items.some((item) => item.refname === name)) throw notSupported("whole-row references", location);
  }
  throw sqlError(Code.undefinedColumn, `column "${name}" does not exist`, location);
}

/** A schema-qualified reference names the table itself, so it cannot match an alias. */
function matchesQualifier(item: RangeItem, qualifier: string, schema: string | undefined): boolean {
  if (schema === undefined) return item.refname === qualifier;
  return !item.aliased && item.tableName === qualifier && (schema === "public" || schema === "pg_catalog");
}

function findQualified(names: readonly string[], scope: Namespace | undefined, location: number): Found {
  const column = names[names.length - 1]!;
  const qualifier = names[names.length - 2]!;
  const schema = names.length === 3 ? names[0] : undefined;
  let depth = 0;
  for (let ns = scope; ns !== undefined; ns = ns.parent, depth++) {
    const item = ns.items.find((i) => matchesQualifier(i, qualifier, schema));
    if (item === undefined) continue;
    const index = item.columns.findIndex((c) => c.name === column);
    if (index < 0) throw sqlError(Code.undefinedColumn, `column ${qualifier}.${column} does not exist`, location);
    return { ns, depth, item, column: index };
  }
  missingEntry(qualifier, schema, scope, location);
}

/** 42P01, with PostgreSQL's hint when the name is an aliased table or an entry this part cannot see. */
function missingEntry(
  qualifier: string,
  schema: string | undefined,
  scope: Namespace | undefined,
  location: number,
): never {
  for (let ns = scope; ns !== undefined; ns = ns.parent) {
    if (schema === undefined && ns.hidden.some((i) => i.refname === qualifier)) {
      throw sqlError(Code.undefinedTable, `invalid reference to FROM-clause entry for table "${qualifier}"`, location, {
        hint: `There is an entry for table "${qualifier}", but it cannot be referenced from this part of the query.`,
      });
    }
    const aliased = ns.items.find((i) => i.aliased && i.tableName === qualifier);
    if (aliased !== undefined) {
      throw sqlError(Code.undefinedTable, `invalid reference to FROM-clause entry for table "${qualifier}"`, location, {
        hint: `Perhaps you meant to reference the table alias "${aliased.refname}".`,
      });
    }
  }
  throw sqlError(Code.undefinedTable, `missing FROM-clause entry for table "${qualifier}"`, location);
}
