import type { Datum } from "../access/database.js";
import { Code, sqlError } from "./errors.js";
import type { ExecContext } from "./execute.js";
import type { Evaluator } from "./expr.js";
import { seriesBatches } from "./generate-series.js";
import type { Links, Predicate, SelectPlan, SourcePlan } from "./plan.js";

/**
 * FROM items as row sources: each yields batches of rows that start with its
 * prefix (the row to its left) and end with its own columns. Joins are nested
 * loops. A right side that does not read the left row (no LATERAL, no
 * correlation) is run once and kept in memory; one that does is run again
 * for every left row, with that row as its prefix.
 */

export type Rows = readonly (readonly Datum[])[];
export type Batches = AsyncGenerator<Rows>;

/** What the source needs of the SELECT executor (passed in: the two call each other). */
export interface SourceRuntime {
  readonly ctx: ExecContext;
  readonly select: (plan: SelectPlan, outer: readonly Datum[]) => Batches;
  /** Runs the subqueries `links` read for `row` and leaves their results where `test` reads them. */
  readonly test: (links: Links, predicate: Predicate, row: readonly Datum[]) => Promise<boolean>;
  /** Evaluates each of `evs` over `row` after running the subqueries `links` read. */
  evaluate(links: Links, evs: readonly Evaluator[], row: readonly Datum[]): Promise<Datum[]>;
}

/** Rows a join keeps in memory (its inner side, or a batch being built) before the statement fails. */
export const JOIN_ROWS_MAX = 4_000_000;

/** A join's output goes out in batches of about this many rows. */
const BATCH_ROWS = 256;

export function openSource(s: SourcePlan, outer: readonly Datum[], rt: SourceRuntime): Batches {
  switch (s.kind) {
    case "table":
      return tableRows(s, outer, rt);
    case "subquery":
      return subqueryRows(s.plan, outer, rt);
    case "function":
      return functionRows(s, outer, rt);
    case "join":
      return joinRows(s, outer, rt);
  }
}

/** generate_series: its arguments read the prefix; the values are made a batch at a time, as they are pulled. */
async function* functionRows(
  s: SourcePlan & { kind: "function" },
  outer: readonly Datum[],
  rt: SourceRuntime,
): Batches {
  const params = rt.ctx.params;
  const values =
    s.argLinks.length === 0 ? s.args.map((ev) => ev(outer, params)) : await rt.evaluate(s.argLinks, s.args, outer);
  for (const chunk of seriesBatches(s.type, values, BATCH_ROWS)) {
    rt.ctx.cancel.check();
    yield chunk.map((v) => outer.concat([v]));
  }
}

async function* tableRows(s: SourcePlan & { kind: "table" }, outer: readonly Datum[], rt: SourceRuntime): Batches {
  const { ctx } = rt;
  for await (const page of ctx.db.scan(ctx.tx(), s.table)) {
    ctx.cancel.check();
    yield outer.length === 0 ? page.map((r) => r.values) : page.map((r) => outer.concat(r.values));
  }
}

async function* subqueryRows(plan: SelectPlan, outer: readonly Datum[], rt: SourceRuntime): Batches {
  for await (const batch of rt.select(plan, outer)) {
    yield outer.length === 0 ? batch : batch.map((r) => outer.concat(r));
  }
}

/** The own columns of every row of `s` run with `prefix`. */
async function ownRows(s: SourcePlan, prefix: readonly Datum[], rt: SourceRuntime): Promise<(readonly Datum[])[]> {
  const rows: (readonly Datum[])[] = [];
  for await (const batch of openSource(s, prefix, rt)) {
    if (rows.length + batch.length > JOIN_ROWS_MAX) {
      throw sqlError(Code.programLimitExceeded, `a join would hold more than ${JOIN_ROWS_MAX} rows in memory`);
    }
    for (const row of batch) rows.push(prefix.length === 0 ? row : row.slice(prefix.length));
  }
  return rows;
}

function nulls(n: number): Datum[] {
  return new Array<Datum>(n).fill(null);
}

async function* joinRows(j: SourcePlan & { kind: "join" }, outer: readonly Datum[], rt: SourceRuntime): Batches {
  const leftEnd = j.right.offset;
  const rightWidth = j.right.width;
  const keepsLeft = j.join === "left" || j.join === "full";
  const keepsRight = j.join === "right" || j.join === "full";
  let inner: (readonly Datum[])[] | undefined;
  let matchedInner: boolean[] = [];
  const innerRows = async (): Promise<(readonly Datum[])[]> => {
    if (inner === undefined) {
      // Not dependent: it reads nothing of the prefix it is given (a table not even its length).
      inner = await ownRows(j.right, j.right.kind === "table" ? [] : nulls(leftEnd), rt);
      matchedInner = new Array<boolean>(inner.length).fill(false);
    }
    return inner;
  };
  const on = j.on;
  const plainOn = j.onLinks.length === 0 ? on : undefined;
  const params = rt.ctx.params;
  let out: (readonly Datum[])[] = [];
  for await (const batch of openSource(j.left, outer, rt)) {
    rt.ctx.cancel.check();
    for (const left of batch) {
      const rights = j.rightDependent ? await ownRows(j.right, left, rt) : await innerRows();
      let matched = false;
      for (let i = 0; i < rights.length; i++) {
        const row = left.concat(rights[i]!);
        const pass =
          on === undefined ? true : plainOn !== undefined ? plainOn(row, params) : await rt.test(j.onLinks, on, row);
        if (!pass) continue;
        matched = true;
        if (keepsRight) matchedInner[i] = true;
        out.push(row);
      }
      if (!matched && keepsLeft) out.push(left.concat(nulls(rightWidth)));
      if (out.length >= BATCH_ROWS) {
        yield out;
        out = [];
      }
    }
    // What one outer batch made goes on at once, so a LIMIT above stops the outer scan early.
    if (out.length > 0) {
      yield out;
      out = [];
    }
  }
  if (keepsRight) {
    const rights = await innerRows();
    const prefix = outer.concat(nulls(leftEnd - outer.length));
    rights.forEach((right, i) => {
      if (!matchedInner[i]) out.push(prefix.concat(right));
    });
  }
  if (out.length > 0) yield out;
}
