import type { Database, Datum, Row, Table, Transaction, WriteOutcome } from "../access/database.js";
import type { Cancellation } from "./cancel.js";
import { formatText } from "./datum-io.js";
import { Code, sqlError } from "./errors.js";
import type { IndexPath } from "./index-path.js";
import { evaluateRange } from "./index-path.js";
import type { DeletePlan, InsertPlan, Predicate, UpdatePlan } from "./plan.js";

/**
 * Runs the writes: INSERT/UPDATE/DELETE await the access layer per row, as
 * its seam requires. SELECT runs in execute-select.ts over `filteredRows`.
 */

export interface ExecContext {
  readonly db: Database;
  /** The statement's transaction, with its command started; only plans that read a table call it. */
  readonly tx: () => Transaction;
  readonly params: readonly Datum[];
  readonly cancel: Cancellation;
}

const NO_TID = { block: 0, slot: 0 } as const;

/** The rows that pass the filter, a page at a time; without a table, the one empty row of `SELECT 1`. */
export async function* filteredRows(
  table: Table | undefined,
  filter: Predicate | undefined,
  ctx: ExecContext,
  access: IndexPath | undefined,
): AsyncGenerator<readonly Row[]> {
  if (table === undefined) {
    const row: Row = { tid: NO_TID, values: [] };
    if (filter === undefined || filter(row.values, ctx.params)) yield [row];
    return;
  }
  let source: AsyncIterable<readonly Row[]>;
  if (access === undefined) {
    source = ctx.db.scan(ctx.tx(), table);
  } else {
    const range = evaluateRange(access, ctx.params);
    if (range === undefined) return;
    source = ctx.db.indexScan(ctx.tx(), table, access.index, range);
  }
  for await (const page of source) {
    ctx.cancel.check();
    if (filter === undefined) {
      yield page;
      continue;
    }
    const kept = page.filter((row) => filter(row.values, ctx.params));
    if (kept.length > 0) yield kept;
  }
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
  for await (const page of filteredRows(p.table, p.filter, ctx, p.access)) {
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
  for await (const page of filteredRows(p.table, p.filter, ctx, p.access)) {
    for (const first of page) {
      if (await writeRow(p, ctx, first, (row) => ctx.db.delete(tx, p.table, row.tid))) count++;
    }
  }
  return count;
}
