import type { Database, Transaction } from "../access/database.js";
import type { SqlNotice } from "../wire/sql-error.js";
import { Code } from "./errors.js";
import type { VacuumQuery } from "./query.js";

/**
 * VACUUM [VERBOSE] [tables]: prunes each table's dead versions (the access
 * layer's vacuum), every user table when none is named. ANALYZE keeps no
 * statistics yet, so it does nothing. VERBOSE reports each table's counts
 * in one INFO, shorter than PostgreSQL's.
 */
export async function runVacuum(
  p: VacuumQuery,
  db: Database,
  tx: Transaction,
  notice: (n: SqlNotice) => void,
): Promise<void> {
  if (!p.vacuum) return;
  const tables = p.tables.length > 0 ? p.tables : await db.userTables(tx);
  for (const table of tables) {
    const result = await db.vacuum(tx, table);
    if (!p.verbose) continue;
    notice({
      severity: "INFO",
      code: Code.successfulCompletion,
      message:
        `finished vacuuming "public.${table.name}": ` +
        `${result.pages} pages scanned, tuples: ${result.removed} removed, ${result.remaining} remain`,
    });
  }
}
