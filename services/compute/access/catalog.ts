import { type RelFile, type Xid, relFile } from "../../common/ids.js";
import { AccessFailure } from "./access-error.js";
import {
  FROZEN_XID,
  INITIAL_NAMESPACES,
  PG_ATTRIBUTE,
  PG_CLASS,
  PG_INDEX,
  PG_NAMESPACE,
  PUBLIC_NAMESPACE,
  SYSTEM_TABLES,
} from "./catalog-relations.js";
import type { Column, ColumnType, Datum, Index, IndexDefinition, Table, TupleId } from "./database.js";
import type { HeapStore } from "./heap.js";
import { deleteVersion } from "./row-lock.js";
import { decodeRow, encodeRow } from "./tuple-format.js";
import type { TransactionManager, TransactionState } from "./xact.js";
import { versionKey } from "./xact.js";

const COLUMN_TYPES: readonly ColumnType[] = [
  "int4",
  "int8",
  "float8",
  "text",
  "bpchar",
  "varchar",
  "bool",
  "timestamp",
  "timestamptz",
  "date",
];

interface IndexInfo {
  readonly tableOid: number;
  readonly columns: readonly number[];
  readonly unique: boolean;
  readonly primary: boolean;
}

/** One version of a pg_class row (a table or an index), with what visibility needs. */
interface Entry {
  readonly oid: number;
  readonly name: string;
  readonly relfile: RelFile;
  /** A table's columns (as of this version); empty for an index. */
  readonly columns: readonly Column[];
  /** Present for an index. */
  readonly index: IndexInfo | undefined;
  readonly tid: TupleId;
  readonly xmin: number;
  readonly cid: number;
  xmax: number;
}

/**
 * The catalog lives in pages like any relation (catalog-relations.ts); this
 * cache holds every version of every pg_class row made since the start
 * (loading keeps only those visible then: no older snapshot survives a
 * restart) and answers lookups with the caller's snapshot. This writer is the
 * only one, so the cache is always current.
 */
export class Catalog {
  private readonly byName = new Map<string, Entry[]>();
  /** Index entries by the oid of their table. */
  private readonly indexesOf = new Map<number, Entry[]>();

  constructor(
    private readonly heap: HeapStore,
    private readonly txm: TransactionManager,
  ) {}

  async load(): Promise<void> {
    const tx = this.txm.begin();
    try {
      await this.loadAs(tx);
    } finally {
      // Read-only: ending it only takes its snapshot out of the global xmin.
      await this.txm.commit(tx);
    }
  }

  private async loadAs(tx: TransactionState): Promise<void> {
    if ((await this.heap.blockCount(PG_NAMESPACE.relfile)) === 0) {
      for (const row of INITIAL_NAMESPACES) await this.insertRow(PG_NAMESPACE, FROZEN_XID as Xid, 0, [...row]);
    }
    const columns = new Map<number, Column[]>();
    for (const v of await this.readVisible(tx, PG_ATTRIBUTE)) {
      const [relid, attnum, name, type, notNull, typmod] = v.values;
      const list = columns.get(Number(relid)) ?? [];
      list[(attnum as number) - 1] = {
        name: name as string,
        type: type as ColumnType,
        typmod: typmod as number,
        notNull: notNull as boolean,
      };
      columns.set(Number(relid), list);
    }
    const indexes = new Map<number, IndexInfo>();
    for (const v of await this.readVisible(tx, PG_INDEX)) {
      const [indexOid, tableOid, , unique, primary, indkey] = v.values;
      indexes.set(Number(indexOid), {
        tableOid: Number(tableOid),
        columns: (indkey as string).split(" ").map((n) => Number(n) - 1),
        unique: unique as boolean,
        primary: primary as boolean,
      });
    }
    for (const v of await this.readVisible(tx, PG_CLASS)) {
      const [oid, name, , kind, relfile] = v.values;
      this.remember({
        oid: Number(oid),
        name: name as string,
        relfile: relFile(Number(relfile)),
        columns: columns.get(Number(oid)) ?? [],
        index: kind === "i" ? indexes.get(Number(oid)) : undefined,
        tid: v.tid,
        xmin: v.xmin,
        cid: v.cid,
        xmax: 0,
      });
    }
  }

  /** Rows of a catalog relation visible to `tx`, decoded. */
  private async readVisible(tx: TransactionState, table: Table) {
    const count = await this.heap.blockCount(table.relfile);
    const out: { tid: TupleId; xmin: number; cid: number; values: readonly Datum[] }[] = [];
    for (let b = 0; b < count; b++) {
      const versions = await this.heap.readBlock(table.relfile, b);
      await this.txm.loadStatus(versions.flatMap((v) => [v.xmin, v.xmax]));
      for (const v of versions) {
        if (!this.txm.isVisible(tx, v, versionKey(table.relfile, v.tid))) continue;
        out.push({ tid: v.tid, xmin: v.xmin, cid: v.cid, values: decodeRow(table.columns, v.data) });
      }
    }
    return out;
  }

  private remember(entry: Entry): void {
    const list = this.byName.get(entry.name) ?? [];
    list.push(entry);
    this.byName.set(entry.name, list);
    if (entry.index !== undefined) {
      const of = this.indexesOf.get(entry.index.tableOid) ?? [];
      of.push(entry);
      this.indexesOf.set(entry.index.tableOid, of);
    }
  }

  async lookup(tx: TransactionState, name: string): Promise<Table | undefined> {
    const system = SYSTEM_TABLES.get(name);
    if (system !== undefined) return system;
    const entry = await this.visibleEntry(tx, name);
    if (entry === undefined || entry.index !== undefined) return undefined;
    return this.tableOf(tx, entry);
  }

  /** The user tables visible to `tx`, by name. */
  async userTables(tx: TransactionState): Promise<Table[]> {
    const out: Table[] = [];
    for (const name of [...this.byName.keys()].sort()) {
      const entry = await this.visibleEntry(tx, name);
      if (entry !== undefined && entry.index === undefined) out.push(await this.tableOf(tx, entry));
    }
    return out;
  }

  async lookupIndex(tx: TransactionState, name: string): Promise<{ table: Table; index: Index } | undefined> {
    const entry = await this.visibleEntry(tx, name);
    if (entry?.index === undefined) return undefined;
    const tableEntry = await this.visibleByOid(tx, entry.index.tableOid);
    if (tableEntry === undefined) return undefined;
    return { table: await this.tableOf(tx, tableEntry), index: indexOf(entry) };
  }

  private async tableOf(tx: TransactionState, entry: Entry): Promise<Table> {
    const candidates = this.indexesOf.get(entry.oid) ?? [];
    await this.loadStatus(candidates);
    const indexes = candidates.filter((e) => this.visible(tx, e)).map(indexOf);
    return { oid: entry.oid, name: entry.name, relfile: entry.relfile, columns: entry.columns, indexes };
  }

  private async loadStatus(entries: readonly Entry[]): Promise<void> {
    await this.txm.loadStatus(entries.flatMap((e) => [e.xmin, e.xmax]));
  }

  private visible(tx: TransactionState, e: Entry): boolean {
    return this.txm.isVisible(tx, e, versionKey(PG_CLASS.relfile, e.tid));
  }

  private async visibleEntry(tx: TransactionState, name: string): Promise<Entry | undefined> {
    const list = this.byName.get(name);
    if (list === undefined) return undefined;
    await this.loadStatus(list);
    return list.find((e) => this.visible(tx, e));
  }

  private async visibleByOid(tx: TransactionState, oid: number): Promise<Entry | undefined> {
    for (const list of this.byName.values()) {
      if (!list.some((e) => e.oid === oid)) continue;
      await this.loadStatus(list);
      const found = list.find((e) => e.oid === oid && this.visible(tx, e));
      if (found !== undefined) return found;
    }
    return undefined;
  }

  /** 42P07 if a table or index of that name is visible; waits for a transaction creating the same name. */
  private async claimName(tx: TransactionState, name: string): Promise<void> {
    for (;;) {
      if (SYSTEM_TABLES.has(name) || (await this.visibleEntry(tx, name)) !== undefined) {
        throw new AccessFailure("42P07", `relation "${name}" already exists`);
      }
      // Another transaction creating the same name: wait for it, as a unique index would.
      const rival = this.byName.get(name)?.find((e) => e.xmin !== tx.xid && this.txm.isRunning(e.xmin));
      if (rival === undefined) return;
      await this.txm.waitForHolder(tx, rival.xmin);
    }
  }

  async create(tx: TransactionState, name: string, columns: readonly Column[], oid: number): Promise<Table> {
    await this.claimName(tx, name);
    for (const c of columns) {
      if (!COLUMN_TYPES.includes(c.type)) throw new AccessFailure("0A000", `type ${c.type} is not supported`);
    }
    const xid = await this.txm.assignXid(tx);
    await this.writeColumns(tx, xid, oid, columns);
    const entry = await this.insertClass(tx, xid, {
      oid,
      name,
      relfile: relFile(oid) as RelFile,
      columns: [...columns],
      index: undefined,
    });
    return this.tableOf(tx, entry);
  }

  async createIndex(
    tx: TransactionState,
    table: Table,
    definition: IndexDefinition,
    oid: number,
    relfile: RelFile,
  ): Promise<Index> {
    await this.claimName(tx, definition.name);
    if (definition.primary && table.indexes.some((i) => i.primary)) {
      throw new AccessFailure("42P16", `multiple primary keys for table "${table.name}" are not allowed`);
    }
    const xid = await this.txm.assignXid(tx);
    const info: IndexInfo = {
      tableOid: table.oid,
      columns: definition.columns,
      unique: definition.unique,
      primary: definition.primary,
    };
    await this.insertRow(PG_INDEX, xid, tx.cid, [
      BigInt(oid),
      BigInt(table.oid),
      info.columns.length,
      info.unique,
      info.primary,
      info.columns.map((c) => c + 1).join(" "),
    ]);
    const entry = await this.insertClass(tx, xid, { oid, name: definition.name, relfile, columns: [], index: info });
    return indexOf(entry);
  }

  /** Sets NOT NULL on columns (a primary key's): new pg_attribute rows and a new pg_class version. */
  async setNotNull(tx: TransactionState, table: Table, columns: readonly number[]): Promise<void> {
    if (columns.every((c) => table.columns[c]!.notNull)) return;
    const entry = await this.ownVersion(tx, table.name, table.oid);
    const xid = await this.txm.assignXid(tx);
    const updated = entry.columns.map((c, i) => (columns.includes(i) ? { ...c, notNull: true } : c));
    await this.deleteColumns(tx, table.oid);
    await this.writeColumns(tx, xid, table.oid, updated);
    await this.replace(tx, entry, { ...entry, columns: updated });
  }

  /** Gives a table or index a new, empty relfile (TRUNCATE). */
  async setRelfile(tx: TransactionState, name: string, oid: number, relfile: RelFile): Promise<void> {
    const entry = await this.ownVersion(tx, name, oid);
    await this.replace(tx, entry, { ...entry, relfile });
  }

  async drop(tx: TransactionState, table: Table): Promise<void> {
    const entry = await this.visibleEntry(tx, table.name);
    if (entry === undefined || entry.oid !== table.oid) {
      throw new AccessFailure("42P01", `relation "${table.name}" does not exist`);
    }
    for (const index of table.indexes) await this.dropIndex(tx, index);
    await this.deleteClass(tx, entry);
  }

  async dropIndex(tx: TransactionState, index: Index): Promise<void> {
    await this.deleteClass(tx, await this.ownVersion(tx, index.name, index.oid));
  }

  /** The version of `name` that `tx` sees; 42P01 when it is gone. */
  private async ownVersion(tx: TransactionState, name: string, oid: number): Promise<Entry> {
    const entry = await this.visibleEntry(tx, name);
    if (entry === undefined || entry.oid !== oid) throw new AccessFailure("42P01", `relation "${name}" does not exist`);
    return entry;
  }

  private async deleteClass(tx: TransactionState, entry: Entry): Promise<void> {
    const outcome = await deleteVersion(this.heap, this.txm, tx, PG_CLASS.relfile, entry.tid);
    if (outcome === "gone") throw new AccessFailure("42P01", `relation "${entry.name}" does not exist`);
    entry.xmax = tx.xid!;
  }

  /** A new version of a pg_class row (the row lock of the old one makes concurrent DDL wait). */
  private async replace(tx: TransactionState, old: Entry, next: Omit<Entry, "tid" | "xmin" | "cid" | "xmax">) {
    const outcome = await deleteVersion(this.heap, this.txm, tx, PG_CLASS.relfile, old.tid);
    if (outcome === "gone") throw new AccessFailure("40001", "could not serialize access due to concurrent update");
    old.xmax = tx.xid!;
    return this.insertClass(tx, tx.xid!, next);
  }

  private async insertClass(
    tx: TransactionState,
    xid: Xid,
    e: Omit<Entry, "tid" | "xmin" | "cid" | "xmax">,
  ): Promise<Entry> {
    const kind = e.index === undefined ? "r" : "i";
    const tid = await this.insertRow(PG_CLASS, xid, tx.cid, [
      BigInt(e.oid),
      e.name,
      BigInt(PUBLIC_NAMESPACE),
      kind,
      BigInt(e.relfile),
    ]);
    const entry: Entry = { ...e, tid, xmin: xid, cid: tx.cid, xmax: 0 };
    this.remember(entry);
    return entry;
  }

  private async writeColumns(tx: TransactionState, xid: Xid, oid: number, columns: readonly Column[]): Promise<void> {
    for (let i = 0; i < columns.length; i++) {
      const c = columns[i]!;
      await this.insertRow(PG_ATTRIBUTE, xid, tx.cid, [BigInt(oid), i + 1, c.name, c.type, c.notNull, c.typmod]);
    }
  }

  private async deleteColumns(tx: TransactionState, oid: number): Promise<void> {
    for (const v of await this.readVisible(tx, PG_ATTRIBUTE)) {
      if (Number(v.values[0]) === oid) await deleteVersion(this.heap, this.txm, tx, PG_ATTRIBUTE.relfile, v.tid);
    }
  }

  private insertRow(table: Table, xid: Xid, cid: number, values: readonly Datum[]): Promise<TupleId> {
    return this.heap.insert(table.relfile, xid, cid, table.columns.length, encodeRow(table.columns, values));
  }
}

function indexOf(entry: Entry): Index {
  const info = entry.index!;
  return {
    oid: entry.oid,
    name: entry.name,
    relfile: entry.relfile,
    columns: info.columns,
    unique: info.unique,
    primary: info.primary,
  };
}
