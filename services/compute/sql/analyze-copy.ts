import type { CopyStmt, Node, SelectStmt } from "libpg-query";
import type { Table } from "../access/database.js";
import type { AnalyzeEnv } from "./analyze-relation.js";
import { resolveRangeVar } from "./analyze-relation.js";
import { analyzeSelect } from "./analyze-select.js";
import { copyOptions } from "./copy-options.js";
import { Code, notSupported, sqlError } from "./errors.js";
import { nodeLocation } from "./nodes.js";
import { resultColumns } from "./plan.js";
import type { CopyFromQuery, CopyToQuery } from "./query.js";

/**
 * COPY, checked in PostgreSQL's order (DoCopy, ProcessCopyOptions,
 * CopyGetAttnums): the source or destination, the table, the options, the
 * column lists. Only STDIN and STDOUT are served.
 */

const NO_FILES_HINT =
  "Sediment has no server file system for users: use COPY … FROM STDIN or TO STDOUT, or a client-side facility such as psql's \\copy.";

/**
 * Sediment's compute keeps no user files and runs no programs, so a server
 * file or PROGRAM is refused as a missing feature (0A000), not as the
 * privilege error (42501) PostgreSQL gives non-superusers: no role could do it.
 */
function rejectServerSide(s: CopyStmt): void {
  if (s.filename === undefined) return;
  const direction = s.is_from === true ? "FROM" : "TO";
  const what = s.is_program === true ? `COPY ${direction} PROGRAM` : `COPY ${direction} a file`;
  throw sqlError(Code.featureNotSupported, `${what} is not supported`, undefined, { hint: NO_FILES_HINT });
}

/** The attnums a column list names (all columns without one), as CopyGetAttnums checks it. */
function columnIndexes(table: Table, attlist: readonly Node[] | undefined): number[] {
  if (attlist === undefined) return table.columns.map((_, i) => i);
  const seen = new Set<number>();
  return attlist.map((node) => {
    const name = "String" in node ? (node.String.sval ?? "") : "";
    const index = table.columns.findIndex((c) => c.name === name);
    if (index < 0) throw sqlError(Code.undefinedColumn, `column "${name}" of relation "${table.name}" does not exist`);
    if (seen.has(index)) throw sqlError(Code.duplicateColumn, `column "${name}" specified more than once`);
    seen.add(index);
    return index;
  });
}

/**
 * FORCE_QUOTE / FORCE_NOT_NULL / FORCE_NULL: per COPY column, whether the
 * option names it. A name must be a column (42703) that the COPY moves (42P10).
 */
function flags(
  option: string,
  names: readonly string[] | "*",
  available: readonly string[],
  copied: readonly string[],
  table: string | undefined,
): boolean[] {
  if (names === "*") return copied.map(() => true);
  const chosen = new Set<string>();
  for (const name of names) {
    if (!available.includes(name)) {
      const message =
        table === undefined
          ? `column "${name}" does not exist`
          : `column "${name}" of relation "${table}" does not exist`;
      throw sqlError(Code.undefinedColumn, message);
    }
    if (!copied.includes(name)) {
      throw sqlError(Code.invalidColumnReference, `${option} column "${name}" not referenced by COPY`);
    }
    chosen.add(name);
  }
  return copied.map((name) => chosen.has(name));
}

export async function analyzeCopy(s: CopyStmt, env: AnalyzeEnv): Promise<CopyFromQuery | CopyToQuery> {
  rejectServerSide(s);
  if (s.whereClause !== undefined) {
    if (s.is_from !== true) throw sqlError(Code.featureNotSupported, "WHERE clause not allowed with COPY TO");
    throw notSupported("COPY FROM … WHERE", nodeLocation(s.whereClause));
  }
  if (s.is_from === true) return analyzeCopyFrom(s, env);
  return analyzeCopyTo(s, env);
}

/** COPY opens its table without a parse position in the error (table_openrv), unlike FROM. */
async function copyTable(s: CopyStmt, env: AnalyzeEnv): Promise<Table> {
  return (await resolveRangeVar({ ...s.relation!, location: undefined }, env)).table;
}

async function analyzeCopyFrom(s: CopyStmt, env: AnalyzeEnv): Promise<CopyFromQuery> {
  const table = await copyTable(s, env);
  const options = copyOptions(s.options ?? [], true);
  const columns = columnIndexes(table, s.attlist);
  const all = table.columns.map((c) => c.name);
  const copied = columns.map((i) => all[i]!);
  return {
    kind: "copy-from",
    table,
    columns,
    options,
    forceNotNull: flags("FORCE_NOT_NULL", options.forceNotNull, all, copied, table.name),
    forceNull: flags("FORCE_NULL", options.forceNull, all, copied, table.name),
  };
}

async function analyzeCopyTo(s: CopyStmt, env: AnalyzeEnv): Promise<CopyToQuery> {
  let select: SelectStmt;
  let table: Table | undefined;
  if (s.relation !== undefined) {
    table = await copyTable(s, env);
    select = tableSelect(s, table);
  } else {
    const query = s.query;
    if (query === undefined || !("SelectStmt" in query)) throw notSupported("COPY (statement other than SELECT) TO");
    select = query.SelectStmt;
  }
  const options = copyOptions(s.options ?? [], false);
  const analyzed = await analyzeSelect(select, env);
  const names = (resultColumns(analyzed) ?? []).map((c) => c.name);
  const available = table === undefined ? names : table.columns.map((c) => c.name);
  const forceQuote = flags("FORCE_QUOTE", options.forceQuote, available, names, table?.name);
  return { kind: "copy-to", select: analyzed, options, forceQuote };
}

/** COPY table [(columns)] TO reads like SELECT columns FROM table, without case folding of the names. */
function tableSelect(s: CopyStmt, table: Table): SelectStmt {
  const indexes = columnIndexes(table, s.attlist);
  const targetList: Node[] = indexes.map((i) => ({
    ResTarget: { val: { ColumnRef: { fields: [{ String: { sval: table.columns[i]!.name } }] } } },
  }));
  return { targetList, fromClause: [{ RangeVar: { ...s.relation!, alias: undefined, location: undefined } }] };
}
