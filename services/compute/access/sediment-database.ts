import { type Xid, relFile } from "../../common/ids.js";
import type { Lsn } from "../../common/lsn.js";
import { PAGE_SIZE_BYTES } from "../../common/page.js";
import { AccessFailure } from "./access-error.js";
import { BtreeStore } from "./btree.js";
import { BufferPool, type DurableView, type PageSource } from "./buffer-pool.js";
import { Catalog } from "./catalog.js";
import { ControlCounters } from "./control.js";
import type {
  Column,
  Database,
  Datum,
  Index,
  IndexDefinition,
  IsolationLevel,
  KeyRange,
  Row,
  Table,
  Transaction,
  TupleId,
  VacuumResult,
  WriteOutcome,
} from "./database.js";
import { HEAP_ROW_BYTES_MAX, HeapStore } from "./heap.js";
import { IndexAccess } from "./indexes.js";
import type { LogAppender } from "./mtr.js";
import { pruneOracle } from "./prune-oracle.js";
import { deleteVersion } from "./row-lock.js";
import { decodeRow, encodeRow } from "./tuple-format.js";
import { TransactionManager, TransactionState, versionKey } from "./xact.js";

/**
 * Update links (old version → new version) kept in memory, in place of
 * PostgreSQL's t_ctid: only transactions of this writer can be concurrent
 * with an update, so the links never need to outlive it. Bounded; the oldest
 * go first.
 */
const UPDATE_CHAIN_MAX = 1_000_000;

export interface DatabaseLog extends LogAppender, DurableView {
  waitForVdl(lsn: Lsn): Promise<void>;
  /**
   * Back-pressure before a row's MTRs: waits while the records not yet on a
   * write quorum fill the writer's resend window, and lets the event loop
   * turn now and then during long write loops.
   */
  whenCanAppend(): Promise<void>;
}

/**
 * 512 MiB of 8 KiB pages. Compute has no OS page cache behind its pool (a
 * miss is a GetPage round trip), so it holds what PostgreSQL's
 * shared_buffers plus the kernel's cache would: pgbench's scale 10 fits.
 */
export const BUFFER_POOL_PAGES_DEFAULT = 65_536;

export interface DatabaseOptions {
  readonly bufferPoolPages?: number;
}

/**
 * The access layer behind the Database seam: transactions and visibility
 * (xact.ts), catalog (catalog.ts), heap (heap.ts), over the buffer pool and
 * the log. Keeps no durable state of its own: everything is in pages.
 */
export class SedimentDatabase implements Database {
  private readonly chain = new Map<string, TupleId>();
  /** The VACUUM running on each relfile: a second one waits for it rather than pruning the same slots. */
  private readonly vacuuming = new Map<number, Promise<unknown>>();
  private generation = 0;
  /** Transactions that changed the catalog: their end moves the generation too. */
  private readonly catalogWriters = new WeakSet<Transaction>();

  private constructor(
    private readonly log: DatabaseLog,
    private readonly heap: HeapStore,
    private readonly txm: TransactionManager,
    private readonly catalog: Catalog,
    private readonly counters: ControlCounters,
    private readonly indexes: IndexAccess,
  ) {}

  static async open(pages: PageSource, log: DatabaseLog, options: DatabaseOptions = {}): Promise<SedimentDatabase> {
    const pool = new BufferPool(pages, log, options.bufferPoolPages ?? BUFFER_POOL_PAGES_DEFAULT);
    const counters = await ControlCounters.open(pool, log);
    const heap = new HeapStore(pool, log);
    const txm = new TransactionManager(pool, log, counters);
    const catalog = new Catalog(heap, txm);
    await catalog.load();
    const indexes = new IndexAccess(heap, new BtreeStore(pool, log), txm);
    return new SedimentDatabase(log, heap, txm, catalog, counters, indexes);
  }

  begin(isolation?: IsolationLevel): Transaction {
    return this.txm.begin(isolation);
  }

  catalogGeneration(): number {
    return this.generation;
  }

  /** Every catalog change, before it is made. */
  private changingCatalog(tx: Transaction): void {
    this.generation++;
    this.catalogWriters.add(tx);
  }

  async commit(tx: Transaction): Promise<void> {
    try {
      await this.txm.commit(state(tx));
    } finally {
      if (this.catalogWriters.has(tx)) this.generation++;
    }
  }

  async rollback(tx: Transaction): Promise<void> {
    try {
      await this.txm.rollback(state(tx));
    } finally {
      if (this.catalogWriters.has(tx)) this.generation++;
    }
  }

  lookupTable(tx: Transaction, name: string): Promise<Table | undefined> {
    return this.catalog.lookup(state(tx), name);
  }

  async createTable(tx: Transaction, name: string, columns: readonly Column[]): Promise<Table> {
    this.changingCatalog(tx);
    const oid = await this.counters.allocate("oid");
    return this.catalog.create(state(tx), name, columns, oid);
  }

  dropTable(tx: Transaction, table: Table): Promise<void> {
    this.changingCatalog(tx);
    return this.catalog.drop(state(tx), table);
  }

  async truncate(tx: Transaction, tables: readonly Table[]): Promise<void> {
    const t = state(tx);
    this.changingCatalog(tx);
    for (const table of tables) {
      await this.catalog.setRelfile(t, table.name, table.oid, relFile(await this.counters.allocate("oid")));
      for (const index of table.indexes) {
        const relfile = relFile(await this.counters.allocate("oid"));
        await this.indexes.create({ ...index, relfile });
        await this.catalog.setRelfile(t, index.name, index.oid, relfile);
      }
    }
  }

  async createIndex(tx: Transaction, table: Table, definition: IndexDefinition): Promise<Index> {
    const t = state(tx);
    this.changingCatalog(tx);
    const oid = await this.counters.allocate("oid");
    const index = await this.catalog.createIndex(t, table, definition, oid, relFile(oid));
    if (definition.primary) {
      for await (const rows of this.scan(tx, table)) {
        for (const row of rows) {
          const column = definition.columns.find((c) => row.values[c] === null);
          if (column === undefined) continue;
          const name = table.columns[column]!.name;
          throw new AccessFailure("23502", `column "${name}" of relation "${table.name}" contains null values`);
        }
      }
      await this.catalog.setNotNull(t, table, definition.columns);
    }
    await this.indexes.build(t, table, index);
    return index;
  }

  lookupIndex(tx: Transaction, name: string): Promise<{ table: Table; index: Index } | undefined> {
    return this.catalog.lookupIndex(state(tx), name);
  }

  dropIndex(tx: Transaction, _table: Table, index: Index): Promise<void> {
    this.changingCatalog(tx);
    return this.catalog.dropIndex(state(tx), index);
  }

  indexScan(tx: Transaction, table: Table, index: Index, range: KeyRange): AsyncIterable<readonly Row[]> {
    return this.indexes.scan(state(tx), table, index, range);
  }

  async *scan(tx: Transaction, table: Table): AsyncIterable<readonly Row[]> {
    const t = state(tx);
    const blocks = await this.heap.blockCount(table.relfile);
    for (let block = 0; block < blocks; block++) {
      const versions = await this.heap.readBlock(table.relfile, block);
      const decoded = versions.map((v) => ({ v, values: decodeRow(table.columns, v.data) }));
      await this.txm.loadStatus(versions.flatMap((v) => [v.xmin, v.xmax]));
      const rows: Row[] = [];
      for (const { v, values } of decoded) {
        if (this.txm.isVisible(t, v, versionKey(table.relfile, v.tid))) rows.push({ tid: v.tid, values });
      }
      if (rows.length > 0) yield rows;
    }
  }

  async insert(tx: Transaction, table: Table, values: readonly Datum[]): Promise<TupleId> {
    const t = state(tx);
    await this.log.whenCanAppend();
    const xid = await this.txm.assignXid(t);
    const data = encodeChecked(table, values);
    const tid = await this.heap.insert(table.relfile, xid as Xid, t.cid, table.columns.length, data);
    await this.indexes.insertEntries(t, table, tid, values);
    return tid;
  }

  async insertMany(tx: Transaction, table: Table, rows: readonly (readonly Datum[])[]): Promise<void> {
    if (rows.length === 0) return;
    const t = state(tx);
    const tuples = rows.map((values, rowIndex) => {
      try {
        return encodeChecked(table, values);
      } catch (err) {
        if (err instanceof AccessFailure) err.rowIndex = rowIndex;
        throw err;
      }
    });
    await this.log.whenCanAppend();
    const xid = await this.txm.assignXid(t);
    const tids = await this.heap.insertMany(table.relfile, xid as Xid, t.cid, table.columns.length, tuples);
    for (const [rowIndex, tid] of tids.entries()) {
      try {
        await this.indexes.insertEntries(t, table, tid, rows[rowIndex]!);
      } catch (err) {
        if (err instanceof AccessFailure) err.rowIndex = rowIndex;
        throw err;
      }
    }
  }

  async delete(tx: Transaction, table: Table, tid: TupleId): Promise<WriteOutcome> {
    await this.log.whenCanAppend();
    return deleteVersion(this.heap, this.txm, state(tx), table.relfile, tid);
  }

  async update(tx: Transaction, table: Table, tid: TupleId, values: readonly Datum[]): Promise<WriteOutcome> {
    const outcome = await this.delete(tx, table, tid);
    if (outcome === "ok") {
      const newer = (await this.hotUpdate(state(tx), table, tid, values)) ?? (await this.insert(tx, table, values));
      this.chain.set(versionKey(table.relfile, tid), newer);
      if (this.chain.size > UPDATE_CHAIN_MAX) this.chain.delete(this.chain.keys().next().value!);
    }
    return outcome;
  }

  /**
   * A HOT update when no indexed column changes: the new version goes on the
   * old one's page with no index entries (heap.hotUpdate). Undefined when it
   * does not apply or does not fit; the caller then inserts as usual.
   */
  private async hotUpdate(
    t: TransactionState,
    table: Table,
    tid: TupleId,
    values: readonly Datum[],
  ): Promise<TupleId | undefined> {
    const old = await this.heap.readVersion(table.relfile, tid);
    if (old === undefined || !this.indexes.sameKeys(table, decodeRow(table.columns, old.data), values))
      return undefined;
    const data = encodeChecked(table, values);
    const oracle = pruneOracle(this.txm);
    return this.heap.hotUpdate(table.relfile, tid, t.xid as Xid, t.cid, table.columns.length, data, oracle);
  }

  /**
   * The newest version of a row whose version `tid` was updated by a
   * committed transaction (EvalPlanQual), following the in-memory update
   * links; each step checks that the next version was inserted by the
   * transaction that updated the previous one, as a link may name a slot
   * pruned and used again since.
   */
  async newerVersion(tx: Transaction, table: Table, tid: TupleId): Promise<Row | undefined> {
    const t = state(tx);
    let current = await this.heap.readVersion(table.relfile, tid);
    for (;;) {
      if (current === undefined || current.xmax === 0) return undefined;
      const next = this.chain.get(versionKey(table.relfile, current.tid));
      if (next === undefined) return undefined; // deleted (or the link aged out: treated as deleted)
      const v = await this.heap.readVersion(table.relfile, next);
      if (v === undefined || v.xmin !== current.xmax) return undefined;
      await this.txm.loadStatus([v.xmin, v.xmax]);
      if (!this.txm.isCommitted(v.xmin)) return undefined;
      if (v.xmax !== 0 && v.xmax !== t.xid && this.txm.isCommitted(v.xmax)) {
        current = v; // updated again (or deleted) since: follow on
        continue;
      }
      return { tid: next, values: decodeRow(table.columns, v.data) };
    }
  }

  async vacuum(tx: Transaction, table: Table): Promise<VacuumResult> {
    state(tx);
    if (table.system === true) return { pages: 0, removed: 0, remaining: 0 };
    const before = this.vacuuming.get(table.relfile) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(() => this.vacuumTable(table));
    this.vacuuming.set(table.relfile, run);
    try {
      return await run;
    } finally {
      if (this.vacuuming.get(table.relfile) === run) this.vacuuming.delete(table.relfile);
    }
  }

  /**
   * One pass over the heap with one global xmin (a version dead below it
   * stays dead). Per block: a first plan finds the chains whose every
   * version is dead; their index entries go first (keys from the newest
   * version's bytes); then one prune frees them along with the dead front
   * of every other chain (heap.prune, common/heap-chain.ts). So no index
   * entry names a slot that has been freed, and a freed slot can take a new row.
   */
  private async vacuumTable(table: Table): Promise<VacuumResult> {
    const oracle = pruneOracle(this.txm);
    const blocks = await this.heap.blockCount(table.relfile);
    let removed = 0;
    let remaining = 0;
    for (let block = 0; block < blocks; block++) {
      await this.log.whenCanAppend();
      const dead = await this.heap.deadChains(table.relfile, block, oracle);
      const cleaned = new Set<number>();
      for (const chain of dead) {
        await this.indexes.deleteEntries(table, { block, slot: chain.root }, decodeRow(table.columns, chain.data));
        cleaned.add(chain.root);
      }
      const result = await this.heap.prune(table.relfile, block, oracle, cleaned);
      removed += result.plan.freedTuples;
      remaining += result.remaining;
    }
    return { pages: blocks, removed, remaining };
  }

  userTables(tx: Transaction): Promise<readonly Table[]> {
    return this.catalog.userTables(state(tx));
  }

  async relationSize(tx: Transaction, table: Table): Promise<number> {
    state(tx);
    return (await this.heap.blockCount(table.relfile)) * PAGE_SIZE_BYTES;
  }
}

/** A row's heap bytes; 54000 when they cannot fit on a page (no TOAST yet). */
function encodeChecked(table: Table, values: readonly Datum[]): Uint8Array {
  const data = encodeRow(table.columns, values);
  if (data.length > HEAP_ROW_BYTES_MAX) {
    throw new AccessFailure("54000", `row is too big: size ${data.length}, maximum size ${HEAP_ROW_BYTES_MAX}`);
  }
  return data;
}

function state(tx: Transaction): TransactionState {
  if (!(tx instanceof TransactionState)) throw new Error("not a transaction of this database");
  return tx;
}
