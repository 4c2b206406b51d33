import { type RelFile, type Xid, relFile } from "../../common/ids.js";
import { AccessFailure } from "./access-error.js";
import { PG_ATTRIBUTE_RELFILE, PG_CLASS_RELFILE } from "./control.js";
import type { Column, ColumnType, Table, TupleId } from "./database.js";
import type { HeapStore } from "./heap.js";
import { deleteVersion } from "./row-lock.js";
import { decodeRow, encodeRow } from "./tuple-format.js";
import type { TransactionManager, TransactionState } from "./xact.js";
import { versionKey } from "./xact.js";

/** pg_class and pg_attribute as heap relations (a small subset of PostgreSQL's columns). */
const PG_CLASS: readonly Column[] = [
  { name: "oid", type: "int8", typmod: -1, notNull: true },
  { name: "relname", type: "text", typmod: -1, notNull: true },
  { name: "relfilenode", type: "int8", typmod: -1, notNull: true },
];
const PG_ATTRIBUTE: readonly Column[] = [
  { name: "attrelid", type: "int8", typmod: -1, notNull: true },
  { name: "attnum", type: "int4", typmod: -1, notNull: true },
  { name: "attname", type: "text", typmod: -1, notNull: true },
  { name: "atttype", type: "text", typmod: -1, notNull: true },
  { name: "attnotnull", type: "bool", typmod: -1, notNull: true },
  { name: "atttypmod", type: "int4", typmod: -1, notNull: true },
];
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

/** One version of a table's catalog row, with what visibility needs. */
interface Entry {
  readonly table: Table;
  readonly tid: TupleId;
  readonly xmin: number;
  readonly cid: number;
  xmax: number;
}

/**
 * The catalog lives in pages like any relation; this cache holds every
 * version of every pg_class row (loaded once at start, kept current by this
 * writer, the only one) and answers lookups with the caller's snapshot.
 */
export class Catalog {
  private readonly byName = new Map<string, Entry[]>();

  constructor(
    private readonly heap: HeapStore,
    private readonly txm: TransactionManager,
  ) {}

  async load(): Promise<void> {
    const columns = new Map<number, Column[]>();
    for (const v of await this.readAll(PG_ATTRIBUTE_RELFILE)) {
      const [relid, attnum, name, type, notNull, typmod] = decodeRow(PG_ATTRIBUTE, v.data);
      const list = columns.get(Number(relid)) ?? [];
      list[(attnum as number) - 1] = {
        name: name as string,
        type: type as ColumnType,
        typmod: typmod as number,
        notNull: notNull as boolean,
      };
      columns.set(Number(relid), list);
    }
    for (const v of await this.readAll(PG_CLASS_RELFILE)) {
      const [oid, name, relfile] = decodeRow(PG_CLASS, v.data);
      const table: Table = {
        oid: Number(oid),
        name: name as string,
        relfile: relFile(Number(relfile)),
        columns: columns.get(Number(oid)) ?? [],
      };
      this.remember({ table, tid: v.tid, xmin: v.xmin, cid: v.cid, xmax: v.xmax });
    }
  }

  private async readAll(relfile: number) {
    const count = await this.heap.blockCount(relfile);
    const out = [];
    for (let b = 0; b < count; b++) out.push(...(await this.heap.readBlock(relfile, b)));
    return out.map((v) => ({ ...v, data: v.data.slice() }));
  }

  private remember(entry: Entry): void {
    const list = this.byName.get(entry.table.name) ?? [];
    list.push(entry);
    this.byName.set(entry.table.name, list);
  }

  async lookup(tx: TransactionState, name: string): Promise<Table | undefined> {
    return (await this.visibleEntry(tx, name))?.table;
  }

  private async visibleEntry(tx: TransactionState, name: string): Promise<Entry | undefined> {
    const list = this.byName.get(name);
    if (list === undefined) return undefined;
    await this.txm.loadStatus(list.flatMap((e) => [e.xmin, e.xmax]));
    return list.find((e) => this.txm.isVisible(tx, e, versionKey(PG_CLASS_RELFILE, e.tid)));
  }

  async create(tx: TransactionState, name: string, columns: readonly Column[], oid: number): Promise<Table> {
    for (;;) {
      if ((await this.visibleEntry(tx, name)) !== undefined) {
        throw new AccessFailure("42P07", `relation "${name}" already exists`);
      }
      // Another transaction creating the same name: wait for it, as a unique index would.
      const rival = this.byName.get(name)?.find((e) => e.xmin !== tx.xid && this.txm.isRunning(e.xmin));
      if (rival === undefined) break;
      await this.txm.waitForEnd(rival.xmin);
    }
    for (const c of columns) {
      if (!COLUMN_TYPES.includes(c.type)) throw new AccessFailure("0A000", `type ${c.type} is not supported`);
    }
    const xid = await this.txm.assignXid(tx);
    const table: Table = { oid, name, relfile: relFile(oid) as RelFile, columns: [...columns] };
    const tid = await this.insertRow(PG_CLASS_RELFILE, tx, xid, PG_CLASS, [BigInt(oid), name, BigInt(oid)]);
    for (let i = 0; i < columns.length; i++) {
      const c = columns[i]!;
      await this.insertRow(PG_ATTRIBUTE_RELFILE, tx, xid, PG_ATTRIBUTE, [
        BigInt(oid),
        i + 1,
        c.name,
        c.type,
        c.notNull,
        c.typmod,
      ]);
    }
    this.remember({ table, tid, xmin: xid, cid: tx.cid, xmax: 0 });
    return table;
  }

  private insertRow(relfile: number, tx: TransactionState, xid: Xid, cols: readonly Column[], values: unknown[]) {
    return this.heap.insert(relfile, xid, tx.cid, cols.length, encodeRow(cols, values as never));
  }

  async drop(tx: TransactionState, table: Table): Promise<void> {
    const entry = await this.visibleEntry(tx, table.name);
    if (entry === undefined || entry.table.oid !== table.oid) {
      throw new AccessFailure("42P01", `relation "${table.name}" does not exist`);
    }
    const outcome = await deleteVersion(this.heap, this.txm, tx, PG_CLASS_RELFILE, entry.tid);
    if (outcome === "gone") throw new AccessFailure("42P01", `relation "${table.name}" does not exist`);
    entry.xmax = tx.xid!;
  }
}
