import type { Node } from "libpg-query";
import { hasSqlDetails, loadModule, parseSync } from "libpg-query";
import { SqlError } from "../wire/sql-error.js";
import { Code } from "./errors.js";

/**
 * SQL text → PostgreSQL parse trees, by libpg-query (the real parser, as
 * WASM). Parsing costs 5–90 µs a statement and clients repeat the same texts,
 * so trees are cached by text in a bounded LRU (BASELINES.md). Cached trees are
 * shared by every session: nothing downstream may modify a tree.
 */

export type { Node };

/** One statement of a query string. */
export interface ParsedStatement {
  readonly node: Node;
  /** Byte offset of the statement in the query string. */
  readonly location: number;
}

export interface ParseCacheLimits {
  readonly entriesMax: number;
  /** Longer texts are parsed every time rather than pin a large tree. */
  readonly textLengthMax: number;
}

export const DEFAULT_PARSE_CACHE_LIMITS: ParseCacheLimits = { entriesMax: 1024, textLengthMax: 16 * 1024 };

let loaded: Promise<void> | undefined;

/** Load the parser's WASM module once per process; parseSql works only after it resolved. */
export function loadParser(): Promise<void> {
  loaded ??= loadModule();
  return loaded;
}

/** Parse without caching. Throws SqlError 42601 with the parser's cursor position. */
export function parseSql(sql: string): readonly ParsedStatement[] {
  if (sql === "") return []; // libpg-query refuses the empty string; PostgreSQL answers EmptyQueryResponse
  let tree: ReturnType<typeof parseSync>;
  try {
    tree = parseSync(sql);
  } catch (err) {
    throw syntaxError(err);
  }
  return (tree.stmts ?? []).flatMap((raw) =>
    raw.stmt === undefined ? [] : [{ node: raw.stmt, location: raw.stmt_location ?? 0 }],
  );
}

function syntaxError(err: unknown): SqlError {
  if (hasSqlDetails(err) && err.sqlDetails !== undefined) {
    // cursorPosition is already a 0-based character index (the parser counts characters).
    return new SqlError(Code.syntaxError, err.sqlDetails.message, { position: err.sqlDetails.cursorPosition + 1 });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new SqlError(Code.syntaxError, message);
}

/** A least-recently-used cache of parse trees by statement text. */
export class ParseCache {
  private readonly entries = new Map<string, readonly ParsedStatement[]>();
  hits = 0;
  misses = 0;

  constructor(private readonly limits: ParseCacheLimits = DEFAULT_PARSE_CACHE_LIMITS) {}

  parse(sql: string): readonly ParsedStatement[] {
    const cached = this.entries.get(sql);
    if (cached !== undefined) {
      this.hits++;
      // Re-insert: a Map iterates in insertion order, so the first key is the least recently used.
      this.entries.delete(sql);
      this.entries.set(sql, cached);
      return cached;
    }
    this.misses++;
    const statements = parseSql(sql);
    if (sql.length <= this.limits.textLengthMax) {
      if (this.entries.size >= this.limits.entriesMax) {
        const oldest = this.entries.keys().next();
        if (oldest.done !== true) this.entries.delete(oldest.value);
      }
      this.entries.set(sql, statements);
    }
    return statements;
  }

  get size(): number {
    return this.entries.size;
  }
}
