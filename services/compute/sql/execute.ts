import type { Database, Datum, Row, Table, Transaction, WriteOutcome } from "../access/database.js";
import { Aggregation } from "./aggregate.js";
import type { Cancellation } from "./cancel.js";
import { formatText } from "./datum-io.js";
import { Code, sqlError } from "./errors.js";
import type { Evaluator, Value } from "./expr.js";
import { compareValues } from "./operators.js";
import type { DeletePlan, InsertPlan, PlannedSortKey, Predicate, SelectPlan, UpdatePlan } from "./plan.js";

/**
 * Runs plans, pull-based: a SELECT is an async generator of row batches
 * (scan → filter → aggregate | project → sort → offset/limit) that awaits only
 * the scan's pages, so rows flow per batch and a LIMIT stops the scan early.
 * INSERT/UPDATE/DELETE await the access layer per row, as its seam requires.
 */

export interface ExecContext {
  readonly db: Database;
  /** The statement's transaction, with its command started; only plans that read a table call it. */
  readonly tx: () => Transaction;
  readonly params: readonly Datum[];
  readonly cancel: Cancellation;
}

/** Rows of a sorted or aggregated result go out in batches of this many. */
const OUTPUT_BATCH_ROWS = 256;

/** ORDER BY sorts in memory (there is no external sort yet): past this many rows the statement fails. */
export const SORT_ROWS_MAX = 4_000_000;

const NO_TID = { block: 0, slot: 0 } as const;

/** The rows that pass the filter, a page at a time; without a table, the one empty row of `SELECT 1`. */
async function* filteredRows(
  table: Table | undefined,
  filter: Predicate | undefined,
  ctx: ExecContext,
): AsyncGenerator<readonly Row[]> {
  if (table === undefined) {
    const row: Row = { tid: NO_TID, values: [] };
    if (filter === undefined || filter(row.values, ctx.params)) yield [row];
    return;
  }
  for await (const page of ctx.db.scan(ctx.tx(), table)) {
    ctx.cancel.check();
    if (filter === undefined) {
      yield page;
      continue;
    }
    const kept = page.filter((row) => filter(row.values, ctx.params));
    if (kept.length > 0) yield kept;
  }
}

/** LIMIT/OFFSET's value: null (no limit) or a non-negative count. */
function rowCount(ev: Evaluator | undefined, clause: "LIMIT" | "OFFSET", ctx: ExecContext): number | null {
  if (ev === undefined) return null;
  const v = ev([], ctx.params);
  if (v === null) return null;
  const n = BigInt(v as bigint | number);
  if (n < 0n) {
    const code = clause === "LIMIT" ? Code.invalidRowCountInLimit : Code.invalidRowCountInOffset;
    throw sqlError(code, `${clause} must not be negative`);
  }
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
}

function projector(p: SelectPlan, ctx: ExecContext): (values: readonly Datum[]) => Datum[] {
  const project = p.project;
  return (values) => project.map((ev) => ev(values, ctx.params));
}

export async function* selectRows(p: SelectPlan, ctx: ExecContext): AsyncGenerator<readonly (readonly Datum[])[]> {
  const limit = rowCount(p.limit, "LIMIT", ctx);
  const offset = rowCount(p.offset, "OFFSET", ctx) ?? 0;
  if (limit === 0) return;
  if (p.aggregates !== undefined || p.sort.length > 0) {
    const rows = p.aggregates !== undefined ? [await aggregateRow(p, ctx)] : await sortedRows(p, ctx);
    const end = limit === null ? rows.length : Math.min(rows.length, offset + limit);
    for (let i = offset; i < end; i += OUTPUT_BATCH_ROWS) {
      yield rows.slice(i, Math.min(end, i + OUTPUT_BATCH_ROWS)).map((r) => trim(r, p.outputWidth));
    }
    return;
  }
  yield* streamRows(p, ctx, limit, offset);
}

/** No sort: rows leave as their page arrives; reaching LIMIT returns, which closes the scan. */
async function* streamRows(
  p: SelectPlan,
  ctx: ExecContext,
  limit: number | null,
  offset: number,
): AsyncGenerator<readonly (readonly Datum[])[]> {
  const project = projector(p, ctx);
  let skip = offset;
  let left = limit ?? Number.POSITIVE_INFINITY;
  for await (const page of filteredRows(p.table, p.filter, ctx)) {
    let from = 0;
    if (skip > 0) {
      from = Math.min(skip, page.length);
      skip -= from;
    }
    const to = Math.min(page.length, from + left);
    if (to <= from) continue;
    const out: Datum[][] = [];
    for (let i = from; i < to; i++) out.push(project(page[i]!.values));
    left -= out.length;
    yield out;
    if (left <= 0) return;
  }
}

async function aggregateRow(p: SelectPlan, ctx: ExecContext): Promise<Datum[]> {
  const aggregation = new Aggregation(p.aggregates!);
  for await (const page of filteredRows(p.table, p.filter, ctx)) {
    for (const row of page) aggregation.add(row.values, ctx.params);
  }
  return projector(p, ctx)(aggregation.results());
}

async function sortedRows(p: SelectPlan, ctx: ExecContext): Promise<Datum[][]> {
  const project = projector(p, ctx);
  const rows: Datum[][] = [];
  for await (const page of filteredRows(p.table, p.filter, ctx)) {
    if (rows.length + page.length > SORT_ROWS_MAX) {
      throw sqlError(Code.programLimitExceeded, `ORDER BY would sort more than ${SORT_ROWS_MAX} rows in memory`);
    }
    for (const row of page) rows.push(project(row.values));
  }
  ctx.cancel.check();
  return rows.sort(rowComparator(p.sort));
}

/** NULLs sort as if larger than every value: last ascending, first descending, unless NULLS FIRST/LAST says. */
function rowComparator(keys: readonly PlannedSortKey[]): (a: readonly Datum[], b: readonly Datum[]) => number {
  return (a, b) => {
    for (const key of keys) {
      const x = a[key.column] ?? null;
      const y = b[key.column] ?? null;
      if (x === null || y === null) {
        if (x === y) continue;
        return (x === null) === key.nullsFirst ? -1 : 1;
      }
      const c = compareValues(key.type, x as Value, y as Value);
      if (c !== 0) return key.descending ? -c : c;
    }
    return 0;
  };
}

function trim(row: readonly Datum[], width: number): readonly Datum[] {
  return row.length === width ? row : row.slice(0, width);
}

// ---- writes ----

/** 23502, with the failing row in the detail as PostgreSQL shows it. */
export function checkNotNull(table: Table, values: readonly Datum[]): void {
  table.columns.forEach((c, i) => {
    if (!c.notNull || values[i] !== null) return;
    const shown = values.map((v, j) => formatText(table.columns[j]!.type, v) ?? "null").join(", ");
    throw sqlError(
      Code.notNullViolation,
      `null value in column "${c.name}" of relation "${table.name}" violates not-null constraint`,
      undefined,
      { detail: `Failing row contains (${shown}).`, schema: "public", table: table.name, column: c.name },
    );
  });
}

export async function runInsert(p: InsertPlan, ctx: ExecContext): Promise<number> {
  const tx = ctx.tx();
  let count = 0;
  for (const row of p.rows) {
    ctx.cancel.check();
    const values = row.map((ev) => ev([], ctx.params));
    checkNotNull(p.table, values);
    await ctx.db.insert(tx, p.table, values);
    count++;
  }
  return count;
}

/**
 * A row changed by a transaction that committed after our snapshot:
 * READ COMMITTED skips it (the access layer's contract), REPEATABLE READ
 * must fail (40001).
 */
function concurrentlyChanged(tx: Transaction): void {
  if (tx.isolation === "repeatable read") {
    throw sqlError(Code.serializationFailure, "could not serialize access due to concurrent update");
  }
}

/**
 * Applies `write` to a row; when a transaction that committed meanwhile
 * changed it, READ COMMITTED re-checks the filter on the newest version and
 * writes that one instead (PostgreSQL's EvalPlanQual), REPEATABLE READ fails.
 */
async function writeRow(
  p: UpdatePlan | DeletePlan,
  ctx: ExecContext,
  first: Row,
  write: (row: Row) => Promise<WriteOutcome>,
): Promise<boolean> {
  const tx = ctx.tx();
  let row: Row | undefined = first;
  while (row !== undefined) {
    if ((await write(row)) === "ok") return true;
    concurrentlyChanged(tx);
    row = await ctx.db.newerVersion(tx, p.table, row.tid);
    if (row !== undefined && p.filter !== undefined && p.filter(row.values, ctx.params) !== true) return false;
  }
  return false;
}

export async function runUpdate(p: UpdatePlan, ctx: ExecContext): Promise<number> {
  const tx = ctx.tx();
  let count = 0;
  for await (const page of filteredRows(p.table, p.filter, ctx)) {
    for (const first of page) {
      const changed = await writeRow(p, ctx, first, (row) => {
        // Every SET expression reads the old row (SET a = b, b = a swaps).
        const values = row.values.slice();
        for (const a of p.assignments) values[a.index] = a.value(row.values, ctx.params);
        checkNotNull(p.table, values);
        return ctx.db.update(tx, p.table, row.tid, values);
      });
      if (changed) count++;
    }
  }
  return count;
}

export async function runDelete(p: DeletePlan, ctx: ExecContext): Promise<number> {
  const tx = ctx.tx();
  let count = 0;
  for await (const page of filteredRows(p.table, p.filter, ctx)) {
    for (const first of page) {
      if (await writeRow(p, ctx, first, (row) => ctx.db.delete(tx, p.table, row.tid))) count++;
    }
  }
  return count;
}
