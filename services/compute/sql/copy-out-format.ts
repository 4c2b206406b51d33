/**
 * COPY TO's rows as text, as PostgreSQL 15's CopyAttributeOutText and
 * CopyAttributeOutCSV write them: one line per row ending in \n, NULL as the
 * NULL marker. Text format backslash-escapes the backslash, the delimiter and
 * control characters (\b \f \n \r \t \v by name); CSV quotes a value holding
 * the delimiter, the quote, \r or \n (or equal to the NULL marker, or a lone
 * `\.` in a one-column row), doubling the quote and escape inside.
 */

export interface CopyOutFormat {
  readonly csv: boolean;
  readonly delimiter: string;
  readonly null: string;
  readonly quote: string;
  readonly escape: string;
  /** CSV: per column, quote even when not needed (FORCE_QUOTE). */
  readonly forceQuote: readonly boolean[];
}

const NAMED_CONTROLS: Readonly<Record<number, string>> = {
  8: "\\b",
  12: "\\f",
  10: "\\n",
  13: "\\r",
  9: "\\t",
  11: "\\v",
};

export function textValue(s: string, delimiter: number): string {
  const n = s.length;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 92 || c === delimiter) break;
  }
  if (i === n) return s;
  let out = s.slice(0, i);
  let run = i;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20) {
      const named = NAMED_CONTROLS[c];
      if (named !== undefined) {
        out += s.slice(run, i) + named;
        run = i + 1;
      } else if (c === delimiter) {
        out += `${s.slice(run, i)}\\`;
        run = i;
      }
    } else if (c === 92 || c === delimiter) {
      out += `${s.slice(run, i)}\\`;
      run = i;
    }
  }
  return out + s.slice(run);
}

export function csvValue(s: string, f: CopyOutFormat, forceQuote: boolean, singleColumn: boolean): string {
  let quoted = forceQuote || s === f.null;
  if (!quoted) {
    if (singleColumn && s === "\\.") quoted = true;
    else {
      for (let i = 0; i < s.length; i++) {
        const c = s[i];
        if (c === f.delimiter || c === f.quote || c === "\n" || c === "\r") {
          quoted = true;
          break;
        }
      }
    }
  }
  if (!quoted) return s;
  let out = f.quote;
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === f.quote || c === f.escape) {
      out += s.slice(run, i) + f.escape;
      run = i;
    }
  }
  return `${out}${s.slice(run)}${f.quote}`;
}

/** One row (values already in their text output form; null is NULL) as a line. */
export function copyOutLine(values: readonly (string | null)[], f: CopyOutFormat): string {
  const delimiter = f.delimiter.charCodeAt(0);
  const single = values.length === 1;
  let line = "";
  for (let i = 0; i < values.length; i++) {
    if (i > 0) line += f.delimiter;
    const v = values[i]!;
    if (v === null) line += f.null;
    else line += f.csv ? csvValue(v, f, f.forceQuote[i] === true, single) : textValue(v, delimiter);
  }
  return `${line}\n`;
}

/** The HEADER line: the column names, written like values but never as NULL or force-quoted. */
export function copyOutHeader(names: readonly string[], f: CopyOutFormat): string {
  const delimiter = f.delimiter.charCodeAt(0);
  const single = names.length === 1;
  const cells = names.map((name) => (f.csv ? csvValue(name, f, false, single) : textValue(name, delimiter)));
  return `${cells.join(f.delimiter)}\n`;
}
