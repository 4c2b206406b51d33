import type { Database } from "../access/database.js";
import type { SessionFactory } from "../wire/query-engine.js";
import { SqlEngine } from "./engine.js";
import type { ParseCacheLimits } from "./parse.js";
import { DEFAULT_PARSE_CACHE_LIMITS, ParseCache, loadParser } from "./parse.js";

/**
 * The wire layer's SessionFactory for the SQL engine: one SqlEngine per
 * connection over the shared Database; the parse cache is shared by all of
 * them (trees are immutable).
 */
export function createSqlSessionFactory(
  db: Database,
  limits: ParseCacheLimits = DEFAULT_PARSE_CACHE_LIMITS,
): SessionFactory {
  const parser = new ParseCache(limits);
  return async (start) => {
    await loadParser();
    return new SqlEngine(db, parser, start, { user: start.user, database: start.database });
  };
}
