import type { Database, Transaction } from "../access/database.js";
import { Code, sqlError } from "./errors.js";
import type { CreateTableQuery, DropTableQuery } from "./query.js";
import type { NoticeSink } from "./transaction.js";

/** CREATE TABLE and DROP TABLE, with PostgreSQL's messages and IF [NOT] EXISTS notices. */

export async function createTable(
  q: CreateTableQuery,
  db: Database,
  tx: Transaction,
  notice: NoticeSink,
): Promise<string> {
  if ((await db.lookupTable(tx, q.name)) !== undefined) {
    const message = `relation "${q.name}" already exists`;
    if (!q.ifNotExists) throw sqlError(Code.duplicateTable, message);
    notice({ severity: "NOTICE", code: Code.duplicateTable, message: `${message}, skipping` });
    return "CREATE TABLE";
  }
  await db.createTable(tx, q.name, q.columns);
  return "CREATE TABLE";
}

export async function dropTables(
  q: DropTableQuery,
  db: Database,
  tx: Transaction,
  notice: NoticeSink,
): Promise<string> {
  for (const name of q.names) {
    const table = await db.lookupTable(tx, name);
    if (table === undefined) {
      const message = `table "${name}" does not exist`;
      if (!q.ifExists) throw sqlError(Code.undefinedTable, message);
      notice({ severity: "NOTICE", code: Code.successfulCompletion, message: `${message}, skipping` });
      continue;
    }
    await db.dropTable(tx, table);
  }
  return "DROP TABLE";
}
