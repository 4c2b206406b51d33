import type { Datum } from "../access/database.js";
import { Code, sqlError } from "./errors.js";
import type { ExecContext } from "./execute.js";
import { filteredRows } from "./execute.js";
import type { Batches, Rows, SourceRuntime } from "./execute-join.js";
import { openSource } from "./execute-join.js";
import type { Evaluator, Value } from "./expr.js";
import { evaluateRange } from "./index-path.js";
import { compareValues } from "./operators.js";
import type { Links, PlannedSortKey, Predicate, SelectPlan, SublinkPlan } from "./plan.js";

/**
 * Runs SELECT plans, pull-based: an async generator of row batches
 * (FROM → filter → group → project → distinct → sort → offset/limit) that
 * awaits only the scans' pages, so rows flow per batch and a LIMIT stops the
 * scan early. A subquery (`outer` is the row it runs for) is the same
 * generator; a subquery in an expression is run before the expression is
 * evaluated, once per execution or, when correlated, once per row.
 */

/** Rows of a sorted or grouped result go out in batches of this many. */
const OUTPUT_BATCH_ROWS = 256;

/** ORDER BY, DISTINCT and GROUP BY work in memory (no spilling yet): past this many rows the statement fails. */
export const SORT_ROWS_MAX = 4_000_000;

const NO_PREFIX: readonly Datum[] = [];

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

interface SublinkResult {
  readonly value: Datum;
  readonly values: readonly Datum[];
}

/** One execution of a query level: its subqueries' results, the uncorrelated ones kept. */
class Run implements SourceRuntime {
  private readonly uncorrelated = new Map<SublinkPlan, Promise<SublinkResult>>();

  constructor(readonly ctx: ExecContext) {}

  readonly select = (plan: SelectPlan, outer: readonly Datum[]): Batches => selectRows(plan, this.ctx, outer);

  /** Evaluates each of `evs` over `row` after running the subqueries they read (once for all of them). */
  async evaluate(links: Links, evs: readonly Evaluator[], row: readonly Datum[]): Promise<Datum[]> {
    const results: SublinkResult[] = [];
    for (const link of links) results.push(await this.result(link, row));
    // Cells are set and read in one synchronous step: nothing else runs in between.
    links.forEach((link, i) => {
      link.cell.value = results[i]!.value;
      link.cell.values = results[i]!.values;
    });
    return evs.map((ev) => ev(row, this.ctx.params));
  }

  readonly test = async (links: Links, predicate: Predicate, row: readonly Datum[]): Promise<boolean> => {
    const [pass] = await this.evaluate(links, [predicate], row);
    return pass === true;
  };

  private result(link: SublinkPlan, row: readonly Datum[]): Promise<SublinkResult> {
    if (link.correlated) return this.runLink(link, prefixOf(row, link.offset));
    let result = this.uncorrelated.get(link);
    if (result === undefined) {
      result = this.runLink(link, prefixOf(NO_PREFIX, link.offset));
      this.uncorrelated.set(link, result);
    }
    return result;
  }

  private async runLink(link: SublinkPlan, prefix: readonly Datum[]): Promise<SublinkResult> {
    const values: Datum[] = [];
    for await (const batch of selectRows(link.plan, this.ctx, prefix)) {
      for (const row of batch) {
        if (link.mode === "exists") return { value: true, values };
        if (link.mode === "scalar" && values.length > 0) {
          throw sqlError(Code.cardinalityViolation, "more than one row returned by a subquery used as an expression");
        }
        values.push(row[0] ?? null);
      }
    }
    if (link.mode === "exists") return { value: false, values };
    return { value: values[0] ?? null, values };
  }
}

/** The first `width` values of a row (NULLs past its end): a subquery's prefix. */
function prefixOf(row: readonly Datum[], width: number): readonly Datum[] {
  if (row.length === width) return row;
  if (row.length > width) return row.slice(0, width);
  return row.concat(new Array<Datum>(width - row.length).fill(null));
}

/** The rows of a SELECT, in batches. */
export function selectRows(p: SelectPlan, ctx: ExecContext, outer: readonly Datum[] = NO_PREFIX): Batches {
  return isPlainScan(p, outer) ? plainScanRows(p, ctx) : generalRows(p, ctx, outer);
}

/**
 * One table, no subqueries, no grouping, sorting or DISTINCT: the shape of
 * every point lookup. It runs as one generator straight over the scan, not
 * the five stacked ones of the general path (each costs promises per batch).
 */
function isPlainScan(p: SelectPlan, outer: readonly Datum[]): boolean {
  return (
    p.table !== undefined &&
    outer.length === 0 &&
    p.filterLinks.length === 0 &&
    p.projectLinks.length === 0 &&
    p.group === undefined &&
    p.sort.length === 0 &&
    !p.distinct
  );
}

/** The plain-scan path: rows are filtered, counted against OFFSET/LIMIT and projected one at a time. */
async function* plainScanRows(p: SelectPlan, ctx: ExecContext): Batches {
  const limit = rowCount(p.limit, "LIMIT", ctx);
  let skip = rowCount(p.offset, "OFFSET", ctx) ?? 0;
  if (limit === 0) return;
  const table = p.table!;
  const { filter, project } = p;
  const params = ctx.params;
  let source: AsyncIterable<readonly { readonly values: readonly Datum[] }[]>;
  if (p.access === undefined) {
    source = ctx.db.scan(ctx.tx(), table);
  } else {
    const range = evaluateRange(p.access, params);
    if (range === undefined) return;
    source = ctx.db.indexScan(ctx.tx(), table, p.access.index, range);
  }
  let left = limit ?? Number.POSITIVE_INFINITY;
  for await (const page of source) {
    ctx.cancel.check();
    const out: Datum[][] = [];
    for (const { values } of page) {
      if (filter !== undefined && !filter(values, params)) continue;
      if (skip > 0) {
        skip--;
        continue;
      }
      const row: Datum[] = new Array(project.length);
      for (let i = 0; i < project.length; i++) row[i] = project[i]!(values, params);
      out.push(row);
      if (--left <= 0) break;
    }
    if (out.length > 0) yield out;
    if (left <= 0) return;
  }
}

async function* generalRows(p: SelectPlan, ctx: ExecContext, outer: readonly Datum[]): Batches {
  const limit = rowCount(p.limit, "LIMIT", ctx);
  const offset = rowCount(p.offset, "OFFSET", ctx) ?? 0;
  if (limit === 0) return;
  const run = new Run(ctx);
  const input = inputRows(p, run, outer);
  if (p.group === undefined && p.sort.length === 0 && !p.distinct) {
    yield* streamRows(p, run, input, limit, offset);
    return;
  }
  let rows = p.group !== undefined ? await groupedRows(p, run, input, outer) : await projectAll(p, run, input);
  if (p.distinct) rows = distinctRows(rows, p.outputWidth);
  if (p.sort.length > 0) {
    ctx.cancel.check();
    rows.sort(rowComparator(p.sort));
  }
  const end = limit === null ? rows.length : Math.min(rows.length, offset + limit);
  for (let i = offset; i < end; i += OUTPUT_BATCH_ROWS) {
    yield rows.slice(i, Math.min(end, i + OUTPUT_BATCH_ROWS)).map((r) => trim(r, p.outputWidth));
  }
}

/** The FROM rows that pass WHERE; a top-level single table goes through the plain scan. */
async function* inputRows(p: SelectPlan, run: Run, outer: readonly Datum[]): Batches {
  const { ctx } = run;
  const filter = p.filter;
  const plainFilter = p.filterLinks.length === 0 ? filter : undefined;
  let source: Batches;
  if (p.table !== undefined && outer.length === 0) {
    source = (async function* () {
      for await (const page of filteredRows(p.table, plainFilter, ctx, p.access)) yield page.map((r) => r.values);
    })();
    if (filter === undefined || plainFilter !== undefined) {
      yield* source;
      return;
    }
  } else {
    source = p.source === undefined ? single(outer) : openSource(p.source, outer, run);
  }
  for await (const batch of source) {
    ctx.cancel.check();
    if (filter === undefined) {
      yield batch;
      continue;
    }
    const kept: (readonly Datum[])[] = [];
    for (const row of batch) {
      if (plainFilter !== undefined ? plainFilter(row, ctx.params) : await run.test(p.filterLinks, filter, row)) {
        kept.push(row);
      }
    }
    if (kept.length > 0) yield kept;
  }
}

/** No FROM: the one row that is the prefix (`SELECT 1`). */
async function* single(outer: readonly Datum[]): Batches {
  yield [outer];
}

/** Output columns of a row; synchronous unless the targets read subqueries. */
interface Projector {
  readonly sync: ((row: readonly Datum[]) => Datum[]) | undefined;
  readonly async: (row: readonly Datum[]) => Promise<Datum[]>;
}

function projector(p: SelectPlan, run: Run): Projector {
  const project = p.project;
  const params = run.ctx.params;
  const sync =
    p.projectLinks.length === 0 ? (row: readonly Datum[]) => project.map((ev) => ev(row, params)) : undefined;
  return {
    sync,
    async: (row) => run.evaluate(p.projectLinks, project, row),
  };
}

/** No sort, grouping or DISTINCT: rows leave as their batch arrives; reaching LIMIT returns, which closes the scan. */
async function* streamRows(p: SelectPlan, run: Run, input: Batches, limit: number | null, offset: number): Batches {
  const project = projector(p, run);
  let skip = offset;
  let left = limit ?? Number.POSITIVE_INFINITY;
  for await (const batch of input) {
    let from = 0;
    if (skip > 0) {
      from = Math.min(skip, batch.length);
      skip -= from;
    }
    const to = Math.min(batch.length, from + left);
    if (to <= from) continue;
    const out: Datum[][] = [];
    const sync = project.sync;
    if (sync !== undefined) for (let i = from; i < to; i++) out.push(sync(batch[i]!));
    else for (let i = from; i < to; i++) out.push(await project.async(batch[i]!));
    left -= out.length;
    yield out;
    if (left <= 0) return;
  }
}

function checkRowsMax(count: number): void {
  if (count > SORT_ROWS_MAX) {
    throw sqlError(Code.programLimitExceeded, `ORDER BY would sort more than ${SORT_ROWS_MAX} rows in memory`);
  }
}

async function projectAll(p: SelectPlan, run: Run, input: Batches): Promise<Datum[][]> {
  const project = projector(p, run);
  const rows: Datum[][] = [];
  for await (const batch of input) {
    checkRowsMax(rows.length + batch.length);
    const sync = project.sync;
    if (sync !== undefined) for (const row of batch) rows.push(sync(row));
    else for (const row of batch) rows.push(await project.async(row));
  }
  return rows;
}

/**
 * A value of a row as a Map key: keys of one position share a type, and
 * JSON keeps strings apart from each other and from NULL.
 */
function rowKey(values: readonly Datum[]): string {
  return JSON.stringify(values, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
}

/**
 * GROUP BY: rows fold into one aggregation per distinct key (NULLs group
 * together); without GROUP BY there is exactly one group, even over no rows.
 * Each group's row is the prefix, the keys, then the aggregates' results.
 */
async function groupedRows(p: SelectPlan, run: Run, input: Batches, outer: readonly Datum[]): Promise<Datum[][]> {
  const group = p.group!;
  const params = run.ctx.params;
  const groups = new Map<string, { keys: Datum[]; aggregation: ReturnType<typeof group.aggregates.start> }>();
  for await (const batch of input) {
    for (const row of batch) {
      const keys = group.keys.map((ev) => ev(row, params));
      const key = keys.length === 0 ? "" : rowKey(keys);
      let g = groups.get(key);
      if (g === undefined) {
        checkRowsMax(groups.size + 1);
        g = { keys, aggregation: group.aggregates.start() };
        groups.set(key, g);
      }
      g.aggregation.add(row, params);
    }
  }
  if (group.keys.length === 0 && groups.size === 0) groups.set("", { keys: [], aggregation: group.aggregates.start() });
  const project = projector(p, run);
  const rows: Datum[][] = [];
  for (const g of groups.values()) {
    const row = outer.concat(g.keys, g.aggregation.results());
    if (group.having !== undefined) {
      const pass =
        group.havingLinks.length === 0
          ? group.having(row, params)
          : await run.test(group.havingLinks, group.having, row);
      if (!pass) continue;
    }
    rows.push(project.sync !== undefined ? project.sync(row) : await project.async(row));
  }
  return rows;
}

/** DISTINCT: the first row of each distinct output (NULLs equal), in input order. */
function distinctRows(rows: Datum[][], width: number): Datum[][] {
  const seen = new Set<string>();
  return rows.filter((r) => {
    const key = rowKey(trim(r, width));
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
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

export type { Rows };
