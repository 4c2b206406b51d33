import type { AlterTableStmt, Constraint, IndexStmt, Node, RangeVar, TruncateStmt, VacuumStmt } from "libpg-query";
import type { Table } from "../access/database.js";
import type { AnalyzeEnv } from "./analyze-relation.js";
import { checkNotSystem, checkSchema, lookupQualified } from "./analyze-relation.js";
import { Code, notSupported, sqlError } from "./errors.js";
import { nodeLocation, stringList } from "./nodes.js";
import type { AlterTableQuery, CreateIndexQuery, IndexSpec, TruncateQuery, VacuumQuery } from "./query.js";

/** TRUNCATE, VACUUM/ANALYZE, CREATE INDEX and ALTER TABLE … ADD PRIMARY KEY/UNIQUE. */

async function tableOf(rv: RangeVar, env: AnalyzeEnv): Promise<Table> {
  const location = rv.location ?? -1;
  checkSchema(rv.schemaname, rv.catalogname, location);
  const table = await lookupQualified(env, rv.schemaname, rv.relname ?? "");
  if (table === undefined) {
    const shown = rv.schemaname === undefined ? rv.relname : `${rv.schemaname}.${rv.relname}`;
    throw sqlError(Code.undefinedTable, `relation "${shown}" does not exist`, location);
  }
  return table;
}

export async function analyzeTruncate(s: TruncateStmt, env: AnalyzeEnv): Promise<TruncateQuery> {
  const tables: Table[] = [];
  for (const node of s.relations ?? []) {
    const rv = "RangeVar" in node ? node.RangeVar : undefined;
    if (rv === undefined) throw notSupported("this TRUNCATE target", nodeLocation(node));
    const table = await tableOf(rv, env);
    checkNotSystem(table);
    if (!tables.some((t) => t.oid === table.oid)) tables.push(table);
  }
  return { kind: "truncate", tables };
}

const VACUUM_OPTIONS = new Set([
  "analyze",
  "verbose",
  "full",
  "freeze",
  "skip_locked",
  "disable_page_skipping",
  "index_cleanup",
  "process_toast",
  "process_main",
  "truncate",
  "parallel",
  "skip_database_stats",
  "only_database_stats",
  "buffer_usage_limit",
]);

/** A boolean option's value as PostgreSQL's defGetBoolean reads it: no value is true. */
function optionIsTrue(arg: Node | undefined): boolean {
  if (arg === undefined) return true;
  if ("Integer" in arg) return (arg.Integer.ival ?? 0) !== 0;
  const text = "String" in arg ? (arg.String.sval ?? "") : "Boolean" in arg ? String(arg.Boolean.boolval === true) : "";
  return !["false", "off", "no", "0"].includes(text.toLowerCase());
}

export async function analyzeVacuum(s: VacuumStmt, env: AnalyzeEnv): Promise<VacuumQuery> {
  let analyze = s.is_vacuumcmd !== true;
  let verbose = false;
  for (const node of s.options ?? []) {
    const def = "DefElem" in node ? node.DefElem : undefined;
    const name = def?.defname ?? "";
    if (!VACUUM_OPTIONS.has(name)) {
      const what = s.is_vacuumcmd === true ? "VACUUM" : "ANALYZE";
      throw sqlError(Code.syntaxError, `unrecognized ${what} option "${name}"`, def?.location);
    }
    if (name === "analyze") analyze = true;
    if (name === "verbose") verbose = optionIsTrue(def?.arg);
  }
  const tables: Table[] = [];
  for (const node of s.rels ?? []) {
    const rel = "VacuumRelation" in node ? node.VacuumRelation : undefined;
    if (rel?.relation === undefined) throw notSupported("this VACUUM target", nodeLocation(node));
    tables.push(await tableOf(rel.relation, env));
  }
  return { kind: "vacuum", vacuum: s.is_vacuumcmd === true, analyze, verbose, tables };
}

/** Column names of an index or key → positions in the table (42703 for a missing one). */
function keyColumns(
  table: Pick<Table, "columns"> & { readonly name?: string },
  names: readonly string[],
  location: number | undefined,
  constraint?: "primary key" | "unique",
): number[] {
  const out: number[] = [];
  for (const name of names) {
    const index = table.columns.findIndex((c) => c.name === name);
    if (index < 0) {
      // An existing table (ALTER TABLE, CREATE INDEX) names itself; CREATE TABLE's keys do not.
      const message =
        table.name === undefined
          ? `column "${name}" named in key does not exist`
          : `column "${name}" of relation "${table.name}" does not exist`;
      throw sqlError(Code.undefinedColumn, message, location);
    }
    if (constraint !== undefined && out.includes(index)) {
      throw sqlError(Code.duplicateColumn, `column "${name}" appears twice in ${constraint} constraint`, location);
    }
    out.push(index);
  }
  return out;
}

export async function analyzeCreateIndex(s: IndexStmt, env: AnalyzeEnv): Promise<CreateIndexQuery> {
  const table = await tableOf(s.relation!, env);
  checkNotSystem(table);
  if (s.concurrent === true) throw notSupported("CREATE INDEX CONCURRENTLY");
  if (s.accessMethod !== undefined && s.accessMethod !== "btree") {
    throw notSupported(`index access method "${s.accessMethod}"`);
  }
  if (s.whereClause !== undefined) throw notSupported("partial indexes", nodeLocation(s.whereClause));
  if ((s.indexIncludingParams?.length ?? 0) > 0) throw notSupported("INCLUDE");
  if ((s.options?.length ?? 0) > 0) throw notSupported("WITH (index storage parameters)");
  if (s.nulls_not_distinct === true) throw notSupported("NULLS NOT DISTINCT");
  const names = (s.indexParams ?? []).map((node) => {
    const elem = "IndexElem" in node ? node.IndexElem : undefined;
    if (elem?.name === undefined) throw notSupported("indexes on expressions", nodeLocation(node));
    if ((elem.collation?.length ?? 0) > 0 || (elem.opclass?.length ?? 0) > 0) {
      throw notSupported("COLLATE or operator classes in an index");
    }
    if (elem.ordering === "SORTBY_DESC" || elem.nulls_ordering === "SORTBY_NULLS_FIRST") {
      throw notSupported("DESC or NULLS FIRST index columns");
    }
    return elem.name;
  });
  const spec: IndexSpec = {
    name: s.idxname,
    columns: keyColumns(table, names, s.relation?.location),
    unique: s.unique === true,
    primary: false,
  };
  return { kind: "create-index", table, spec, ifNotExists: s.if_not_exists === true };
}

/** A PRIMARY KEY or UNIQUE constraint (of CREATE TABLE or ALTER TABLE) as an index to build. */
export function constraintIndex(
  c: Constraint,
  table: Pick<Table, "columns"> & { readonly name?: string },
  column?: string,
): IndexSpec {
  const names = column !== undefined ? [column] : (stringList(c.keys) ?? []);
  if ((c.including?.length ?? 0) > 0) throw notSupported("INCLUDE", c.location);
  if (c.nulls_not_distinct === true) throw notSupported("NULLS NOT DISTINCT", c.location);
  if (c.deferrable === true) throw notSupported("DEFERRABLE constraints", c.location);
  if (c.indexname !== undefined) throw notSupported("USING INDEX", c.location);
  const primary = c.contype === "CONSTR_PRIMARY";
  return {
    name: c.conname,
    columns: keyColumns(table, names, c.location, primary ? "primary key" : "unique"),
    unique: true,
    primary,
  };
}

export async function analyzeAlterTable(s: AlterTableStmt, env: AnalyzeEnv): Promise<AlterTableQuery> {
  if (s.objtype !== undefined && s.objtype !== "OBJECT_TABLE") throw notSupported(`ALTER ${s.objtype}`);
  const rv = s.relation!;
  let table: Table;
  try {
    table = await tableOf(rv, env);
  } catch (error) {
    if (s.missing_ok === true) return { kind: "alter-table", table: undefined, name: rv.relname ?? "", indexes: [] };
    throw error;
  }
  checkNotSystem(table);
  const indexes: IndexSpec[] = [];
  for (const node of s.cmds ?? []) {
    const cmd = "AlterTableCmd" in node ? node.AlterTableCmd : undefined;
    const constraint = cmd?.def !== undefined && "Constraint" in cmd.def ? cmd.def.Constraint : undefined;
    const kind = constraint?.contype;
    if (cmd?.subtype !== "AT_AddConstraint" || (kind !== "CONSTR_PRIMARY" && kind !== "CONSTR_UNIQUE")) {
      throw notSupported(`ALTER TABLE ${alterName(cmd?.subtype, kind)}`, nodeLocation(node));
    }
    indexes.push(constraintIndex(constraint!, table));
  }
  return { kind: "alter-table", table, name: table.name, indexes };
}

function alterName(subtype: string | undefined, constraint: string | undefined): string {
  if (subtype === "AT_AddConstraint") return `ADD ${(constraint ?? "").replace(/^CONSTR_/, "")}`;
  return (subtype ?? "").replace(/^AT_/, "");
}

/** `DROP INDEX [IF EXISTS] name, …` */
export function dropIndexNames(objects: readonly Node[]): string[] {
  return objects.map((object) => {
    const parts = "List" in object ? stringList(object.List.items) : undefined;
    if (parts === undefined || parts.length === 0) throw notSupported("this DROP INDEX name");
    checkSchema(parts.length >= 2 ? parts[parts.length - 2] : undefined, parts.length === 3 ? parts[0] : undefined, -1);
    return parts[parts.length - 1]!;
  });
}
