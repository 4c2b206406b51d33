import type { Datum } from "../access/database.js";
import { SqlError } from "../wire/sql-error.js";
import { completeUtf8Length, decodeChunk, invalidEncoding } from "./copy-encoding.js";
import { csvFields, textFields } from "./copy-fields.js";
import { CopyLineReader } from "./copy-lines.js";
import { formatText, parseText } from "./datum-io.js";
import { Code, fromAccessError } from "./errors.js";
import type { CopyFromQuery } from "./query.js";

/**
 * COPY FROM's input → rows of the table, as PostgreSQL's NextCopyFrom makes
 * them: CopyData bytes (UTF-8 checked, a character cut between two messages
 * carried over) → lines (CopyLineReader) → the header line skipped or
 * matched → fields → values through the types' text input functions; NULL
 * for the table's columns the COPY does not name. No I/O: the caller feeds
 * chunks and pulls rows one at a time, inserting each before the next, so an
 * error names the line that caused it, in PostgreSQL's CONTEXT format.
 */

/** PostgreSQL's MAX_COPY_DATA_DISPLAY: longer lines and values are cut in error context. */
const DISPLAY_BYTES_MAX = 100;

/** limit_printout_length: at most 100 bytes, not cutting a character, then "...". */
function shown(text: string): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= DISPLAY_BYTES_MAX) return text;
  let end = DISPLAY_BYTES_MAX;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return `${bytes.toString("utf8", 0, end)}...`;
}

export interface RowOrigin {
  readonly lineNo: number;
}

export class CopyFromParser {
  private readonly reader: CopyLineReader;
  private readonly fields: (string | null)[] = [];
  private readonly types;
  private readonly names;
  private headerPending: boolean;
  /** The first bytes of a character cut off at the end of the last chunk. */
  private carry: Uint8Array | undefined;
  /** An encoding error found in the last chunk, raised once the lines before it are used. */
  private encodingError: SqlError | undefined;
  /** Error context: the line is known (else only its number), and the column being converted. */
  private line: string | undefined;
  private column: number | undefined;

  constructor(private readonly q: CopyFromQuery) {
    const o = q.options;
    this.reader = new CopyLineReader(o.format === "csv", o.quote, o.escape);
    this.types = q.columns.map((i) => q.table.columns[i]!.type);
    this.names = q.columns.map((i) => q.table.columns[i]!.name);
    this.headerPending = o.header !== "false";
    this.reader.next(false); // start line 1 now: a CopyFail before any data is "line 1", as in PostgreSQL
  }

  /** The next chunk of the client's data (a view: used before this returns). */
  push(chunk: Uint8Array): void {
    if (this.reader.ended || this.encodingError !== undefined) return; // after `\.` the rest is ignored
    let bytes = chunk;
    if (this.carry !== undefined) {
      bytes = Buffer.concat([this.carry, chunk]);
      this.carry = undefined;
    }
    const complete = completeUtf8Length(bytes);
    if (complete < bytes.length) {
      this.carry = Uint8Array.prototype.slice.call(bytes, complete);
      bytes = bytes.subarray(0, complete);
    }
    const { text, error } = decodeChunk(bytes);
    this.reader.push(text);
    this.encodingError = error;
  }

  /** The input ended (CopyDone): a character left incomplete is an encoding error. */
  finish(): void {
    if (this.carry === undefined || this.reader.ended || this.encodingError !== undefined) return;
    this.encodingError = invalidEncoding(this.carry, 0);
    this.carry = undefined;
  }

  /**
   * The next row (every table column, in table order), or undefined when no
   * complete line is left: more input is needed, or the data has ended.
   * `atEof`: finish() was called, the last line needs no line end.
   */
  nextRow(atEof: boolean): Datum[] | undefined {
    for (;;) {
      this.line = undefined;
      const line = this.reader.next(atEof && this.encodingError === undefined);
      if (line === undefined) {
        if (this.encodingError !== undefined) throw this.encodingError;
        return undefined;
      }
      if (this.headerPending) {
        this.headerPending = false;
        this.line = line ?? "";
        if (this.q.options.header === "match") this.matchHeader(this.line);
        continue;
      }
      if (line === null) return undefined;
      this.line = line;
      return this.row(line);
    }
  }

  /** Where the row nextRow just returned came from: the CONTEXT of an error found once later rows were read. */
  rowOrigin(): RowOrigin {
    return { lineNo: this.reader.lineNo };
  }

  /**
   * The error with PostgreSQL's CONTEXT for the line (and column) it happened
   * at: the current one, or `origin`'s, a row stored with later ones, named by
   * its line number alone (as PostgreSQL does when a buffered batch fails).
   */
  withContext(err: unknown, origin?: RowOrigin): unknown {
    const e = fromAccessError(err, formatText);
    if (!(e instanceof SqlError)) return e;
    const at = `COPY ${this.q.table.name}, line ${origin?.lineNo ?? this.reader.lineNo}`;
    let where: string;
    if (origin !== undefined) {
      where = at;
    } else if (this.column !== undefined) {
      const value = this.fields[this.column];
      const name = this.names[this.column]!;
      where =
        value === null || value === undefined
          ? `${at}, column ${name}: null input`
          : `${at}, column ${name}: "${shown(value)}"`;
    } else {
      where = this.line === undefined ? at : `${at}: "${shown(this.line)}"`;
    }
    const { detail, hint, schema, table, column, dataType, constraint, severity } = e;
    return new SqlError(e.code, e.message, {
      detail,
      hint,
      schema,
      table,
      column,
      dataType,
      constraint,
      severity,
      where: e.where === undefined ? where : `${e.where}\n${where}`,
    });
  }

  private split(line: string): number {
    const o = this.q.options;
    const special = this.reader.special;
    return o.format === "csv"
      ? csvFields(line, special, o.delimiter, o.quote, o.escape, o.null, this.fields)
      : textFields(line, special, o.delimiter, o.null, this.fields);
  }

  private row(line: string): Datum[] {
    const q = this.q;
    const count = q.columns.length;
    const values: Datum[] = new Array<Datum>(q.table.columns.length).fill(null);
    if (count === 0) {
      if (line.length > 0) throw extraData();
      return values;
    }
    const found = this.split(line);
    if (found > count) throw extraData();
    const fields = this.fields;
    const nullMarker = q.options.null;
    for (let k = 0; k < count; k++) {
      if (k >= found) {
        throw new SqlError(Code.badCopyFileFormat, `missing data for column "${this.names[k]}"`);
      }
      let raw: string | null = fields[k] ?? null;
      if (q.forceNotNull[k] === true && raw === null) raw = nullMarker;
      else if (q.forceNull[k] === true && raw === nullMarker) raw = null;
      if (raw !== null) {
        fields[k] = raw;
        this.column = k;
        values[q.columns[k]!] = parseText(this.types[k]!, raw);
        this.column = undefined;
      }
    }
    return values;
  }

  private matchHeader(line: string): void {
    const found = this.split(line);
    const expected = this.names.length;
    if (found !== expected) {
      throw new SqlError(
        Code.badCopyFileFormat,
        `wrong number of fields in header line: got ${found}, expected ${expected}`,
      );
    }
    for (let k = 0; k < expected; k++) {
      const got = this.fields[k];
      const name = this.names[k]!;
      if (got === null) {
        throw new SqlError(
          Code.badCopyFileFormat,
          `column name mismatch in header line field ${k + 1}: got null value ("${this.q.options.null}"), expected "${name}"`,
        );
      }
      if (got !== name) {
        throw new SqlError(
          Code.badCopyFileFormat,
          `column name mismatch in header line field ${k + 1}: got "${got}", expected "${name}"`,
        );
      }
    }
  }
}

function extraData(): SqlError {
  return new SqlError(Code.badCopyFileFormat, "extra data after last expected column");
}
