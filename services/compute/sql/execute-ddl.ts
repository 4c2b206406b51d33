import type { Database, Table, Transaction } from "../access/database.js";
import { Code, sqlError } from "./errors.js";
import type {
  AlterTableQuery,
  CreateIndexQuery,
  CreateTableQuery,
  DropIndexQuery,
  DropTableQuery,
  IndexSpec,
  TruncateQuery,
} from "./query.js";
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
  const table = await db.createTable(tx, q.name, q.columns);
  for (const spec of q.indexes) await buildIndex(table, spec, db, tx);
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

/** PostgreSQL's NAMEDATALEN − 1. */
const NAME_BYTES_MAX = 63;

/** The name PostgreSQL would choose: t_pkey, t_a_b_key, t_a_idx, with 1, 2 … appended while taken. */
async function chooseIndexName(table: Table, spec: IndexSpec, db: Database, tx: Transaction): Promise<string> {
  const label = spec.primary ? "pkey" : spec.unique ? "key" : "idx";
  const parts = spec.primary ? [table.name] : [table.name, ...spec.columns.map((c) => table.columns[c]!.name)];
  for (let n = 0; ; n++) {
    const suffix = n === 0 ? label : `${label}${n}`;
    let base = parts.join("_");
    while (Buffer.byteLength(`${base}_${suffix}`) > NAME_BYTES_MAX) base = base.slice(0, -1);
    const name = `${base}_${suffix}`;
    if ((await db.lookupTable(tx, name)) === undefined && (await db.lookupIndex(tx, name)) === undefined) return name;
  }
}

async function buildIndex(table: Table, spec: IndexSpec, db: Database, tx: Transaction): Promise<void> {
  const name = spec.name ?? (await chooseIndexName(table, spec, db, tx));
  await db.createIndex(tx, table, { name, columns: spec.columns, unique: spec.unique, primary: spec.primary });
}

export async function createIndex(
  q: CreateIndexQuery,
  db: Database,
  tx: Transaction,
  notice: NoticeSink,
): Promise<string> {
  const name = q.spec.name;
  if (name !== undefined && ((await db.lookupIndex(tx, name)) ?? (await db.lookupTable(tx, name))) !== undefined) {
    const message = `relation "${name}" already exists`;
    if (!q.ifNotExists) throw sqlError(Code.duplicateTable, message);
    notice({ severity: "NOTICE", code: Code.duplicateTable, message: `${message}, skipping` });
    return "CREATE INDEX";
  }
  await buildIndex(q.table, q.spec, db, tx);
  return "CREATE INDEX";
}

export async function alterTable(q: AlterTableQuery, db: Database, tx: Transaction, notice: NoticeSink) {
  if (q.table === undefined) {
    notice({
      severity: "NOTICE",
      code: Code.successfulCompletion,
      message: `relation "${q.name}" does not exist, skipping`,
    });
    return "ALTER TABLE";
  }
  if (q.indexes.filter((i) => i.primary).length > 1) {
    throw sqlError(Code.invalidTableDefinition, `multiple primary keys for table "${q.name}" are not allowed`);
  }
  for (const spec of q.indexes) await buildIndex(q.table, spec, db, tx);
  return "ALTER TABLE";
}

export async function dropIndexes(q: DropIndexQuery, db: Database, tx: Transaction, notice: NoticeSink) {
  for (const name of q.names) {
    const found = await db.lookupIndex(tx, name);
    if (found === undefined) {
      const message = `index "${name}" does not exist`;
      if (!q.ifExists) throw sqlError(Code.undefinedObject, message);
      notice({ severity: "NOTICE", code: Code.successfulCompletion, message: `${message}, skipping` });
      continue;
    }
    if (found.index.primary) {
      // A primary key's index goes with the constraint (ALTER TABLE … DROP CONSTRAINT, not built yet).
      throw sqlError(
        Code.dependentObjectsStillExist,
        `cannot drop index ${name} because constraint ${name} on table ${found.table.name} requires it`,
        undefined,
        { hint: `You can drop constraint ${name} on table ${found.table.name} instead.` },
      );
    }
    await db.dropIndex(tx, found.table, found.index);
  }
  return "DROP INDEX";
}

export async function truncate(q: TruncateQuery, db: Database, tx: Transaction): Promise<string> {
  await db.truncate(tx, q.tables);
  return "TRUNCATE TABLE";
}
