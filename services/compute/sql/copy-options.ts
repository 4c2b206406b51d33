import type { DefElem, Node } from "libpg-query";
import { Code, notSupported, sqlError } from "./errors.js";

/**
 * COPY's options, checked as PostgreSQL 15's ProcessCopyOptions checks them
 * (same order, messages and SQLSTATEs), from either spelling: the option
 * list `WITH (FORMAT csv, HEADER)` and the old keywords `CSV HEADER`, which
 * the parser turns into the same list.
 */

export type CopyHeader = "false" | "true" | "match";

export interface CopyOptions {
  readonly format: "text" | "csv";
  /** One character (ASCII: PostgreSQL allows a single byte only). */
  readonly delimiter: string;
  /** The NULL marker, compared with the raw (not yet de-escaped) field. */
  readonly null: string;
  readonly header: CopyHeader;
  /** CSV only (else ""). */
  readonly quote: string;
  /** CSV only (else ""); defaults to the quote. */
  readonly escape: string;
  /**
   * Accepted and ignored: Sediment's access layer cannot yet tell cheaply
   * whether the table was created or truncated in this transaction, so the
   * 55000 check of PostgreSQL is not made, and rows are not frozen (there is
   * no freezing: xids are 64-bit).
   */
  readonly freeze: boolean;
  /** CSV COPY TO: columns always quoted; "*" all. */
  readonly forceQuote: readonly string[] | "*";
  /** CSV COPY FROM: columns whose NULL marker is read as the string. */
  readonly forceNotNull: readonly string[];
  /** CSV COPY FROM: columns whose quoted NULL marker is read as NULL. */
  readonly forceNull: readonly string[];
}

/** Characters a text-format delimiter must not be (COPY IN reads them after a backslash). */
const UNSAFE_TEXT_DELIMITERS = "\\.abcdefghijklmnopqrstuvwxyz0123456789";

function conflicting(def: DefElem): never {
  throw sqlError(Code.syntaxError, "conflicting or redundant options", def.location);
}

/** defGetString: what the option's argument says as a string. */
function stringOf(def: DefElem): string {
  const arg = def.arg;
  if (arg === undefined) throw sqlError(Code.syntaxError, `${def.defname} requires a parameter`);
  if ("String" in arg) return arg.String.sval ?? "";
  if ("Integer" in arg) return String(arg.Integer.ival ?? 0);
  if ("Float" in arg) return arg.Float.fval ?? "";
  if ("Boolean" in arg) return arg.Boolean.boolval === true ? "true" : "false";
  if ("A_Star" in arg) return "*";
  throw notSupported(`this argument of COPY option ${def.defname}`, def.location);
}

/** The one-word settings both defGetBoolean and the HEADER choice accept; undefined for anything else. */
function booleanWord(def: DefElem): boolean | undefined {
  const arg = def.arg;
  if (arg === undefined) return true;
  if ("Boolean" in arg) return arg.Boolean.boolval === true;
  if ("Integer" in arg) {
    const n = arg.Integer.ival ?? 0;
    return n === 0 ? false : n === 1 ? true : undefined;
  }
  const word = stringOf(def).toLowerCase();
  if (word === "true" || word === "on") return true;
  if (word === "false" || word === "off") return false;
  return undefined;
}

function booleanOf(def: DefElem): boolean {
  const value = booleanWord(def);
  if (value === undefined) throw sqlError(Code.syntaxError, `${def.defname} requires a Boolean value`);
  return value;
}

function headerOf(def: DefElem, isFrom: boolean): CopyHeader {
  const value = booleanWord(def);
  if (value !== undefined) return value ? "true" : "false";
  const word = def.arg !== undefined && !("Integer" in def.arg) ? stringOf(def) : "";
  if (word.toLowerCase() === "match") {
    if (!isFrom) throw sqlError(Code.featureNotSupported, `cannot use "${word}" with HEADER in COPY TO`);
    return "match";
  }
  throw sqlError(Code.syntaxError, `${def.defname} requires a Boolean value or "match"`);
}

function columnList(def: DefElem, starAllowed: boolean): readonly string[] | "*" {
  const arg = def.arg;
  if (starAllowed && arg !== undefined && "A_Star" in arg) return "*";
  if (arg !== undefined && "List" in arg) {
    return (arg.List.items ?? []).map((item) => ("String" in item ? (item.String.sval ?? "") : ""));
  }
  throw sqlError(
    Code.invalidParameterValue,
    `argument to option "${def.defname}" must be a list of column names`,
    def.location,
  );
}

interface Given {
  format?: string;
  freeze?: boolean;
  delimiter?: string;
  null?: string;
  header?: CopyHeader;
  quote?: string;
  escape?: string;
  forceQuote?: readonly string[] | "*";
  forceNotNull?: readonly string[];
  forceNull?: readonly string[];
  encoding?: string;
}

function collect(options: readonly Node[], isFrom: boolean): Given {
  const given: Given = {};
  for (const node of options) {
    if (!("DefElem" in node)) throw notSupported("this COPY option");
    const def = node.DefElem;
    const name = def.defname ?? "";
    switch (name) {
      case "format": {
        const format = stringOf(def);
        if (given.format !== undefined) conflicting(def);
        if (format !== "text" && format !== "csv" && format !== "binary") {
          throw sqlError(Code.invalidParameterValue, `COPY format "${format}" not recognized`, def.location);
        }
        given.format = format;
        break;
      }
      case "freeze":
        if (given.freeze !== undefined) conflicting(def);
        given.freeze = booleanOf(def);
        break;
      case "delimiter":
        if (given.delimiter !== undefined) conflicting(def);
        given.delimiter = stringOf(def);
        break;
      case "null":
        if (given.null !== undefined) conflicting(def);
        given.null = stringOf(def);
        break;
      case "header":
        if (given.header !== undefined) conflicting(def);
        given.header = headerOf(def, isFrom);
        break;
      case "quote":
        if (given.quote !== undefined) conflicting(def);
        given.quote = stringOf(def);
        break;
      case "escape":
        if (given.escape !== undefined) conflicting(def);
        given.escape = stringOf(def);
        break;
      case "force_quote":
        if (given.forceQuote !== undefined) conflicting(def);
        given.forceQuote = columnList(def, true);
        break;
      case "force_not_null":
        if (given.forceNotNull !== undefined) conflicting(def);
        given.forceNotNull = columnList(def, false) as readonly string[];
        break;
      case "force_null":
        if (given.forceNull !== undefined) conflicting(def);
        given.forceNull = columnList(def, false) as readonly string[];
        break;
      case "encoding":
        if (given.encoding !== undefined) conflicting(def);
        given.encoding = stringOf(def);
        // The client's bytes are read as UTF-8, the one encoding Sediment speaks.
        if (!/^utf-?8$|^unicode$/i.test(given.encoding)) throw notSupported(`COPY ENCODING '${given.encoding}'`);
        break;
      default:
        throw sqlError(Code.syntaxError, `option "${name}" not recognized`, def.location);
    }
  }
  return given;
}

function invalid(message: string): never {
  throw sqlError(Code.invalidParameterValue, message);
}

function unsupported(message: string): never {
  throw sqlError(Code.featureNotSupported, message);
}

export function copyOptions(options: readonly Node[], isFrom: boolean): CopyOptions {
  const g = collect(options, isFrom);
  const binary = g.format === "binary";
  const csv = g.format === "csv";
  if (binary && g.delimiter !== undefined) throw sqlError(Code.syntaxError, "cannot specify DELIMITER in BINARY mode");
  if (binary && g.null !== undefined) throw sqlError(Code.syntaxError, "cannot specify NULL in BINARY mode");
  const delimiter = g.delimiter ?? (csv ? "," : "\t");
  const nullMarker = g.null ?? (csv ? "" : "\\N");
  const quote = csv ? (g.quote ?? '"') : g.quote;
  const escapeChar = csv ? (g.escape ?? quote) : g.escape;
  if (Buffer.byteLength(delimiter) !== 1) unsupported("COPY delimiter must be a single one-byte character");
  if (delimiter === "\r" || delimiter === "\n") invalid("COPY delimiter cannot be newline or carriage return");
  if (nullMarker.includes("\r") || nullMarker.includes("\n")) {
    invalid("COPY null representation cannot use newline or carriage return");
  }
  if (!csv && UNSAFE_TEXT_DELIMITERS.includes(delimiter)) invalid(`COPY delimiter cannot be "${delimiter}"`);
  const header = g.header ?? "false";
  if (binary && header !== "false") unsupported("cannot specify HEADER in BINARY mode");
  if (!csv && quote !== undefined) unsupported("COPY quote available only in CSV mode");
  if (csv && Buffer.byteLength(quote!) !== 1) unsupported("COPY quote must be a single one-byte character");
  if (csv && delimiter === quote) invalid("COPY delimiter and quote must be different");
  if (!csv && escapeChar !== undefined) unsupported("COPY escape available only in CSV mode");
  if (csv && Buffer.byteLength(escapeChar!) !== 1) unsupported("COPY escape must be a single one-byte character");
  if (!csv && g.forceQuote !== undefined) unsupported("COPY force quote available only in CSV mode");
  if (g.forceQuote !== undefined && isFrom) unsupported("COPY force quote only available using COPY TO");
  if (!csv && g.forceNotNull !== undefined) unsupported("COPY force not null available only in CSV mode");
  if (g.forceNotNull !== undefined && !isFrom) unsupported("COPY force not null only available using COPY FROM");
  if (!csv && g.forceNull !== undefined) unsupported("COPY force null available only in CSV mode");
  if (g.forceNull !== undefined && !isFrom) unsupported("COPY force null only available using COPY FROM");
  if (nullMarker.includes(delimiter)) invalid("COPY delimiter must not appear in the NULL specification");
  if (csv && nullMarker.includes(quote!)) invalid("CSV quote character must not appear in the NULL specification");
  if (binary) throw notSupported("COPY in binary format");
  return {
    format: csv ? "csv" : "text",
    delimiter,
    null: nullMarker,
    header,
    quote: quote ?? "",
    escape: escapeChar ?? "",
    freeze: g.freeze ?? false,
    forceQuote: g.forceQuote ?? [],
    forceNotNull: g.forceNotNull ?? [],
    forceNull: g.forceNull ?? [],
  };
}
