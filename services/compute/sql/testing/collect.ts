import type { DataValue, FieldDescription, QueryEngine, ResultSink } from "../../wire/query-engine.js";
import type { SqlNotice } from "../../wire/sql-error.js";
import { SqlError } from "../../wire/sql-error.js";

/**
 * TEST HELPER: a ResultSink that records what the engine sends, and `query`,
 * which runs one simple Query and returns its results as the client would
 * see them. Used by the SQL layer's unit tests only.
 */

export interface StatementResult {
  fields: FieldDescription[] | undefined;
  rows: DataValue[][];
  tag: string | undefined;
}

export class CollectingSink implements ResultSink {
  readonly results: StatementResult[] = [];
  readonly notices: SqlNotice[] = [];
  empty = 0;
  private current: StatementResult | undefined;

  rowDescription(fields: readonly FieldDescription[]): void {
    this.current = { fields: [...fields], rows: [], tag: undefined };
  }

  dataRow(values: readonly DataValue[]): void {
    this.open().rows.push([...values]);
  }

  commandComplete(tag: string): void {
    this.open().tag = tag;
    this.results.push(this.current!);
    this.current = undefined;
  }

  emptyQuery(): void {
    this.empty++;
  }

  notice(notice: SqlNotice): void {
    this.notices.push(notice);
  }

  parameterStatus(): void {}

  backpressure(): undefined {
    return undefined;
  }

  private open(): StatementResult {
    this.current ??= { fields: undefined, rows: [], tag: undefined };
    return this.current;
  }
}

export interface QueryOutcome {
  results: StatementResult[];
  notices: SqlNotice[];
  error: SqlError | undefined;
  status: string;
}

export async function query(engine: QueryEngine, sql: string): Promise<QueryOutcome> {
  const sink = new CollectingSink();
  let error: SqlError | undefined;
  try {
    await engine.simpleQuery(sql, sink);
  } catch (err) {
    if (!(err instanceof SqlError)) throw err;
    error = err;
  }
  return { results: sink.results, notices: sink.notices, error, status: engine.transactionStatus() };
}

/** The rows of a single-statement query that must succeed. */
export async function rows(engine: QueryEngine, sql: string): Promise<DataValue[][]> {
  const outcome = await query(engine, sql);
  if (outcome.error !== undefined) throw outcome.error;
  return outcome.results[outcome.results.length - 1]?.rows ?? [];
}

/** One successful single-statement Query: [name, type oid] per column, rows, tag. */
export async function single(engine: QueryEngine, sql: string) {
  const outcome = await query(engine, sql);
  if (outcome.error !== undefined) throw outcome.error;
  if (outcome.results.length !== 1) throw new Error(`expected one result from: ${sql}`);
  const r = outcome.results[0]!;
  return { fields: r.fields?.map((f) => [f.name, f.typeOid]), rows: r.rows, tag: r.tag };
}

/** The error of a Query that must fail, with the fields tests compare. */
export async function failure(engine: QueryEngine, sql: string) {
  const outcome = await query(engine, sql);
  if (outcome.error === undefined) throw new Error(`expected an error from: ${sql}`);
  const { code, message, position, detail, hint } = outcome.error;
  return { code, message, position, detail, hint };
}

/** Queries that must succeed. */
export async function run(engine: QueryEngine, ...statements: string[]): Promise<void> {
  for (const sql of statements) {
    const outcome = await query(engine, sql);
    if (outcome.error !== undefined) throw outcome.error;
  }
}
