import type { Datum } from "../access/database.js";
import type { DataValue, RowSink } from "../wire/query-engine.js";
import { formatValue } from "./datum-io.js";
import { Code, sqlError } from "./errors.js";
import type { ResultColumn } from "./plan.js";

/**
 * One run of a planned statement, the engine's side of a portal: rows go to
 * the sink in batches, at most `rowsMax` per run (0: all), with
 * CommandComplete when the statement is done.
 */
export interface Execution {
  run(out: RowSink, rowsMax: number): Promise<"complete" | "suspended">;
  /** Stop early: closes the scan below. */
  close(): void;
}

type Batches = AsyncGenerator<readonly (readonly Datum[])[]>;

/** A statement that returns rows (SELECT, pg_sleep). Its tag counts the rows of the last run, as PostgreSQL's does. */
export class RowsExecution implements Execution {
  private batches: Batches | undefined;
  private batch: readonly (readonly Datum[])[] = [];
  private next = 0;
  private done = false;
  private readonly format: (row: readonly Datum[]) => DataValue[];

  constructor(
    private readonly start: () => Batches,
    columns: readonly ResultColumn[],
    formats: readonly (0 | 1)[],
    /** The CommandComplete tag: "SELECT n", or "SHOW"/"EXPLAIN" for those. */
    private readonly tag: (rows: number) => string = (rows) => `SELECT ${rows}`,
  ) {
    const types = columns.map((c) => c.type);
    const fmts = columns.map((_, i) => formats[i] ?? 0);
    this.format = (row) => types.map((type, i) => formatValue(type, row[i] ?? null, fmts[i]!));
  }

  async run(out: RowSink, rowsMax: number): Promise<"complete" | "suspended"> {
    let sent = 0;
    this.batches ??= this.start();
    while (!this.done) {
      while (this.next < this.batch.length) {
        if (rowsMax > 0 && sent >= rowsMax) return "suspended";
        out.dataRow(this.format(this.batch[this.next++]!));
        sent++;
      }
      if (rowsMax > 0 && sent >= rowsMax) return "suspended";
      const wait = out.backpressure();
      if (wait !== undefined) await wait;
      const step = await this.batches.next();
      if (step.done === true) this.done = true;
      else {
        this.batch = step.value;
        this.next = 0;
      }
    }
    out.commandComplete(this.tag(sent));
    return "complete";
  }

  close(): void {
    this.done = true;
    this.batches?.return(undefined).catch(() => {});
  }
}

/** A statement that runs once and reports a tag (INSERT 0 n, CREATE TABLE, COMMIT …). */
export class CommandExecution implements Execution {
  private ran = false;

  constructor(private readonly command: (out: RowSink) => Promise<string>) {}

  async run(out: RowSink): Promise<"complete"> {
    if (this.ran) throw sqlError(Code.objectNotInPrerequisiteState, "portal cannot be run: it has already completed");
    this.ran = true;
    out.commandComplete(await this.command(out));
    return "complete";
  }

  close(): void {
    this.ran = true;
  }
}
