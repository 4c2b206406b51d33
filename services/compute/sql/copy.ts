import type { AccessError, Datum } from "../access/database.js";
import type { RowSink } from "../wire/query-engine.js";
import { CopyFromParser, type RowOrigin } from "./copy-from-parser.js";
import { type CopyOutFormat, copyOutHeader, copyOutLine } from "./copy-out-format.js";
import { formatText } from "./datum-io.js";
import { notSupported } from "./errors.js";
import type { ExecContext } from "./execute.js";
import { checkNotNull } from "./execute.js";
import { selectRows } from "./execute-select.js";
import type { CopyToPlan } from "./plan.js";
import type { CopyFromQuery } from "./query.js";

/**
 * Runs COPY FROM STDIN and COPY TO STDOUT over the wire layer's copy
 * streams. COPY FROM stores rows COPY_BATCH_ROWS at a time
 * (Database.insertMany: a page per record), then asks for more input, so
 * the client is read only as fast as rows are stored and memory holds one
 * batch, one CopyData message and one line at most. A failure ends the
 * statement (the caller rolls its transaction back): no row of a failed
 * COPY stays; its CONTEXT names the line of the row that failed.
 */

/** Rows stored together (Database.insertMany): a page's worth many times over, yet little memory. */
const COPY_BATCH_ROWS = 1000;

export async function runCopyFrom(p: CopyFromQuery, ctx: ExecContext, out: RowSink): Promise<number> {
  if (out.copyIn === undefined) throw notSupported("COPY FROM STDIN through this connection");
  const tx = ctx.tx();
  const { db } = ctx;
  const table = p.table;
  const parser = new CopyFromParser(p);
  const input = out.copyIn({ format: 0, columnFormats: p.columns.map(() => 0) });
  const rows: Datum[][] = [];
  const origins: RowOrigin[] = [];
  let count = 0;
  const store = async (): Promise<void> => {
    try {
      await db.insertMany(tx, table, rows);
    } catch (err) {
      throw new BatchFailure(err, origins[(err as AccessError).rowIndex ?? rows.length - 1]);
    }
    count += rows.length;
    rows.length = 0;
    origins.length = 0;
  };
  const take = async (atEof: boolean): Promise<void> => {
    for (let row = parser.nextRow(atEof); row !== undefined; row = parser.nextRow(atEof)) {
      checkNotNull(table, row);
      rows.push(row);
      origins.push(parser.rowOrigin());
      if (rows.length >= COPY_BATCH_ROWS) await store();
    }
  };
  try {
    for await (const chunk of input) {
      ctx.cancel.check();
      parser.push(chunk);
      await take(false);
    }
    parser.finish();
    await take(true);
    await store();
  } catch (err) {
    throw err instanceof BatchFailure ? parser.withContext(err.cause, err.origin) : parser.withContext(err);
  }
  return count;
}

/** A batch of rows failed to store: the error, and where the failing row came from. */
class BatchFailure extends Error {
  constructor(
    override readonly cause: unknown,
    readonly origin: RowOrigin | undefined,
  ) {
    super("COPY batch failed");
  }
}

export async function runCopyTo(p: CopyToPlan, ctx: ExecContext, out: RowSink): Promise<number> {
  if (out.copyOut === undefined) throw notSupported("COPY TO STDOUT through this connection");
  const o = p.options;
  const format: CopyOutFormat = {
    csv: o.format === "csv",
    delimiter: o.delimiter,
    null: o.null,
    quote: o.quote,
    escape: o.escape,
    forceQuote: p.forceQuote,
  };
  const types = p.columns.map((c) => c.type);
  const copy = out.copyOut({ format: 0, columnFormats: p.columns.map(() => 0) });
  if (o.header !== "false")
    copy.data(
      copyOutHeader(
        p.columns.map((c) => c.name),
        format,
      ),
    );
  let count = 0;
  const text: (string | null)[] = new Array(types.length);
  for await (const batch of selectRows(p.select, ctx)) {
    for (const row of batch) {
      for (let i = 0; i < types.length; i++) text[i] = formatText(types[i]!, row[i] ?? null);
      copy.data(copyOutLine(text, format));
      count++;
    }
    const wait = out.backpressure();
    if (wait !== undefined) await wait;
  }
  copy.done();
  return count;
}
