import { SqlError } from "../wire/sql-error.js";
import { Code } from "./errors.js";

/**
 * COPY FROM input → lines, as PostgreSQL 15's CopyReadLineText cuts them,
 * fed text in arbitrary pieces (CopyData does not follow rows). The first
 * line's end (\n, \r\n or \r) sets the style every other line must use. In
 * text format a backslash takes the next character with it (so `\` newline
 * is data) and `\.` ends the data (what precedes it on its line is a last
 * line); in CSV format line ends inside quotes are data and `\.` ends the
 * data only alone on its line. Everything after the end is ignored.
 *
 * `lineNo` is PostgreSQL's cur_lineno: the line being read or last read,
 * counting the lines inside CSV quotes, for error context.
 */

const LF = 10;
const CR = 13;
const BACKSLASH = 92;
const DOT = 46;

enum Eol {
  Unknown = 0,
  Nl = 1,
  Cr = 2,
  CrNl = 3,
}

function badFormat(message: string, hint?: string): SqlError {
  return new SqlError(Code.badCopyFileFormat, message, hint === undefined ? {} : { hint });
}

export class CopyLineReader {
  private buf = "";
  /** Start of the line being read. */
  private start = 0;
  /** Where scanning resumes when more text arrives (everything before it is part of the line). */
  private pos = 0;
  private eol = Eol.Unknown;
  private reading = false;
  private done = false;
  private inQuote = false;
  private lastWasEsc = false;
  private firstChar = true;
  private readonly quote: number;
  /** -1 when the escape is the quote (then quotes simply toggle). */
  private readonly escape: number;
  lineNo = 0;
  /** The last line held a backslash (text) or a quote (CSV): the slow field split is needed. */
  special = false;

  constructor(
    private readonly csv: boolean,
    quote = '"',
    escapeChar = quote,
  ) {
    this.quote = csv ? quote.charCodeAt(0) : -1;
    this.escape = csv && escapeChar !== quote ? escapeChar.charCodeAt(0) : -1;
  }

  /** The end of data was seen (`\.` or the input's end): later input is ignored. */
  get ended(): boolean {
    return this.done;
  }

  push(text: string): void {
    if (this.done || text.length === 0) return;
    if (this.start > 0) {
      this.buf = this.buf.slice(this.start);
      this.pos -= this.start;
      this.start = 0;
    }
    this.buf = this.buf.length === 0 ? text : this.buf + text;
  }

  /**
   * The next line without its end, undefined when more input is needed, or
   * null at the end of data. `atEof`: no more input will come (CopyDone).
   */
  next(atEof: boolean): string | null | undefined {
    if (this.done) return null;
    if (!this.reading) {
      this.reading = true;
      this.lineNo++;
      this.special = false;
      this.inQuote = false;
      this.lastWasEsc = false;
      this.firstChar = true;
    }
    return this.csv ? this.scanCsv(atEof) : this.scanText(atEof);
  }

  private scanText(atEof: boolean): string | null | undefined {
    const buf = this.buf;
    const n = buf.length;
    let i = this.pos;
    while (i < n) {
      const c = buf.charCodeAt(i);
      if (c === LF || c === CR) {
        const end = this.lineEnd(c, i, atEof);
        if (end === undefined) return this.wait(i);
        return this.finish(i, end);
      }
      if (c === BACKSLASH) {
        if (i + 1 >= n) {
          if (!atEof) return this.wait(i);
          break; // a backslash just before the end is data
        }
        this.special = true;
        if (buf.charCodeAt(i + 1) === DOT) {
          const marker = this.endMarker(i, atEof);
          if (marker === undefined) return this.wait(i);
          if (marker === "not-a-marker") throw badFormat("end-of-copy marker corrupt");
          return this.end(i);
        }
        i += 2;
        continue;
      }
      i++;
    }
    if (!atEof) return this.wait(n);
    return this.end(n);
  }

  private scanCsv(atEof: boolean): string | null | undefined {
    const buf = this.buf;
    const n = buf.length;
    const quote = this.quote;
    const esc = this.escape;
    let i = this.pos;
    while (i < n) {
      const c = buf.charCodeAt(i);
      const marker = c === BACKSLASH && this.firstChar;
      // Look ahead before any state changes, so that waiting for input can resume here.
      if ((c === CR || marker) && i + 1 >= n && !atEof) return this.wait(i);
      if (marker && buf.charCodeAt(i + 1) === DOT && i + 3 >= n && !atEof) return this.wait(i);
      if (this.inQuote && c === esc) this.lastWasEsc = !this.lastWasEsc;
      if (c === quote && !this.lastWasEsc) {
        this.inQuote = !this.inQuote;
        this.special = true;
      }
      if (c !== esc) this.lastWasEsc = false;
      if (this.inQuote && c === (this.eol === Eol.Nl ? LF : CR)) this.lineNo++;
      if ((c === LF || c === CR) && !this.inQuote) {
        const end = this.lineEnd(c, i, atEof);
        if (end === undefined) return this.wait(i);
        return this.finish(i, end);
      }
      if (marker && buf.charCodeAt(i + 1) === DOT && this.endMarker(i, atEof) === "end") return this.end(i);
      this.firstChar = false;
      i++;
    }
    if (!atEof) return this.wait(n);
    return this.end(n);
  }

  /** A line ends at `i` (c is \n or \r): where the next line starts, or undefined to wait for one more character. */
  private lineEnd(c: number, i: number, atEof: boolean): number | undefined {
    const buf = this.buf;
    if (c === LF) {
      if (this.eol === Eol.Cr || this.eol === Eol.CrNl) {
        throw this.csv
          ? badFormat("unquoted newline found in data", "Use quoted CSV field to represent newline.")
          : badFormat("literal newline found in data", 'Use "\\n" to represent newline.');
      }
      this.eol = Eol.Nl;
      return i + 1;
    }
    if (this.eol === Eol.Unknown || this.eol === Eol.CrNl) {
      if (i + 1 >= buf.length && !atEof) return undefined;
      if (i + 1 < buf.length && buf.charCodeAt(i + 1) === LF) {
        this.eol = Eol.CrNl;
        return i + 2;
      }
      if (this.eol === Eol.CrNl) throw this.carriageReturn();
      this.eol = Eol.Cr;
      return i + 1;
    }
    if (this.eol === Eol.Nl) throw this.carriageReturn();
    return i + 1;
  }

  private carriageReturn(): SqlError {
    return this.csv
      ? badFormat("unquoted carriage return found in data", "Use quoted CSV field to represent carriage return.")
      : badFormat("literal carriage return found in data", 'Use "\\r" to represent carriage return.');
  }

  /**
   * `\.` at `i`: "end" when the line ends right after it in the current
   * style, "not-a-marker" when something else follows, undefined to wait.
   * A line end of another style is an error in both formats.
   */
  private endMarker(i: number, atEof: boolean): "end" | "not-a-marker" | undefined {
    const buf = this.buf;
    const at = (k: number): number => (k < buf.length ? buf.charCodeAt(k) : 0); // 0: past the end
    let j = i + 2;
    if (this.eol === Eol.CrNl) {
      if (j >= buf.length && !atEof) return undefined;
      const c = at(j++);
      if (c === LF) {
        if (this.csv) return "not-a-marker";
        throw badFormat("end-of-copy marker does not match previous newline style");
      }
      if (c !== CR) return "not-a-marker";
    }
    if (j >= buf.length && !atEof) return undefined;
    const c = at(j);
    if (c !== CR && c !== LF) return "not-a-marker";
    if (((this.eol === Eol.Nl || this.eol === Eol.CrNl) && c !== LF) || (this.eol === Eol.Cr && c !== CR)) {
      throw badFormat("end-of-copy marker does not match previous newline style");
    }
    return "end";
  }

  private wait(pos: number): undefined {
    this.pos = pos;
    return undefined;
  }

  private finish(end: number, next: number): string {
    const line = this.buf.slice(this.start, end);
    this.start = next;
    this.pos = next;
    this.reading = false;
    return line;
  }

  /** The end of data: what precedes `end` on this line is the last line (none if empty). */
  private end(end: number): string | null {
    const line = this.buf.slice(this.start, end);
    this.done = true;
    this.reading = false;
    this.buf = "";
    this.start = 0;
    this.pos = 0;
    return line.length > 0 ? line : null;
  }
}
