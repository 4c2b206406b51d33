import { type Xid, relFile, xid as toXid } from "../../../common/ids.js";
import type {
  AccessError,
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
} from "../../access/database.js";
import { compareValues } from "../operators.js";

/**
 * TEST DOUBLE of the access seam (access/database.ts), for the SQL layer's
 * unit tests only: never imported by shipped code. The real Database (heap
 * pages, CLOG, the log) lives in services/compute/access.
 *
 * It keeps the contract's MVCC in memory, PostgreSQL-style but simple: each
 * tuple version and each catalog entry has xmin/cmin and xmax/cmax; a
 * snapshot is the set of transactions in progress when it was taken (at every
 * startCommand under READ COMMITTED, at the first under REPEATABLE READ); a
 * command sees its own transaction's changes of earlier commands only. A
 * write to a row another transaction holds waits for it to end; if that one
 * committed the write reports "gone". Commit is instantly durable.
 * Indexes are catalog entries only: an index scan filters and sorts a heap
 * scan, and unique indexes are not enforced.
 */

const PAGE_ROWS = 64;

type Status = "in progress" | "committed" | "aborted";

interface Snapshot {
  /** Transactions with this id or higher had not begun. */
  readonly xmax: number;
  readonly inProgress: ReadonlySet<number>;
}

interface Version {
  readonly xmin: number;
  readonly cmin: number;
  xmax: number | undefined;
  cmax: number;
}

interface TupleVersion extends Version {
  readonly values: readonly Datum[];
}

interface CatalogEntry extends Version {
  readonly table: Table;
}

export class MemoryAccessError extends Error implements AccessError {
  constructor(
    readonly sqlState: string,
    message: string,
  ) {
    super(message);
  }
}

class MemoryTransaction implements Transaction {
  cid = -1;
  snapshot: Snapshot | undefined;
  wrote = false;

  constructor(
    readonly id: number,
    readonly isolation: IsolationLevel,
    private readonly db: MemoryDatabase,
  ) {}

  get xid(): Xid | undefined {
    return this.wrote ? toXid(this.id) : undefined;
  }

  /** Lock waits here cannot time out or be interrupted: the SQL layer's unit tests do not need it. */
  setLockTimeout(_ms: number): void {}

  interrupt(_error: Error): void {}

  startCommand(): void {
    this.cid++;
    if (this.isolation === "read committed" || this.snapshot === undefined) this.snapshot = this.db.takeSnapshot();
  }
}

export class MemoryDatabase implements Database {
  private nextId = 1;
  private nextOid = 16384;
  private readonly status = new Map<number, Status>();
  private readonly inProgress = new Set<number>();
  private readonly waiters = new Map<number, (() => void)[]>();
  private readonly catalog: CatalogEntry[] = [];
  private readonly heaps = new Map<number, TupleVersion[]>();
  /** Counters for tests. */
  commits = 0;
  rollbacks = 0;

  /** Moves on every catalog change and every transaction end: plans are always re-checked here. */
  private generation = 0;

  catalogGeneration(): number {
    return this.generation;
  }

  begin(isolation: IsolationLevel = "read committed"): Transaction {
    const id = this.nextId++;
    this.status.set(id, "in progress");
    this.inProgress.add(id);
    return new MemoryTransaction(id, isolation, this);
  }

  takeSnapshot(): Snapshot {
    return { xmax: this.nextId, inProgress: new Set(this.inProgress) };
  }

  async commit(tx: Transaction): Promise<void> {
    await Promise.resolve(); // a commit waits for durability; here it is only asynchronous
    this.end(tx, "committed");
    this.commits++;
  }

  async rollback(tx: Transaction): Promise<void> {
    this.end(tx, "aborted");
    this.rollbacks++;
  }

  async lookupTable(tx: Transaction, name: string): Promise<Table | undefined> {
    const t = this.tx(tx);
    return this.catalog.find((e) => e.table.name === name && this.visible(t, e))?.table;
  }

  async createTable(tx: Transaction, name: string, columns: readonly Column[]): Promise<Table> {
    this.generation++;
    const t = this.tx(tx);
    const taken = this.catalog.some(
      (e) =>
        e.table.name === name &&
        (this.visible(t, e) || (e.xmax === undefined && this.status.get(e.xmin) === "in progress")),
    );
    if (taken) throw new MemoryAccessError("42P07", `relation "${name}" already exists`);
    const oid = this.nextOid++;
    const table: Table = { oid, name, relfile: relFile(oid), columns: [...columns], indexes: [] };
    t.wrote = true;
    this.catalog.push({ xmin: t.id, cmin: t.cid, xmax: undefined, cmax: 0, table });
    this.heaps.set(relFile(oid), []);
    return table;
  }

  /** A new catalog version of `table` made by `t`. */
  private replaceTable(t: MemoryTransaction, table: Table, next: Table): void {
    this.generation++;
    const entry = this.catalog.find((e) => e.table.oid === table.oid && (e.xmax === undefined || e.xmax === t.id));
    if (entry === undefined) throw new MemoryAccessError("42P01", `relation "${table.name}" does not exist`);
    t.wrote = true;
    entry.xmax = t.id;
    entry.cmax = t.cid;
    this.catalog.push({ xmin: t.id, cmin: t.cid, xmax: undefined, cmax: 0, table: next });
  }

  async truncate(tx: Transaction, tables: readonly Table[]): Promise<void> {
    const t = this.tx(tx);
    for (const table of tables) {
      const relfile = relFile(this.nextOid++);
      this.heaps.set(relfile, []);
      this.replaceTable(t, table, { ...table, relfile });
    }
  }

  async createIndex(tx: Transaction, table: Table, definition: IndexDefinition): Promise<Index> {
    const t = this.tx(tx);
    if ((await this.lookupTable(tx, definition.name)) || (await this.lookupIndex(tx, definition.name))) {
      throw new MemoryAccessError("42P07", `relation "${definition.name}" already exists`);
    }
    const oid = this.nextOid++;
    const index: Index = { oid, relfile: relFile(oid), ...definition };
    this.replaceTable(t, table, { ...table, indexes: [...table.indexes, index] });
    return index;
  }

  async lookupIndex(tx: Transaction, name: string): Promise<{ table: Table; index: Index } | undefined> {
    const t = this.tx(tx);
    for (const e of this.catalog) {
      const index = e.table.indexes.find((i) => i.name === name);
      if (index !== undefined && this.visible(t, e)) return { table: e.table, index };
    }
    return undefined;
  }

  async dropIndex(tx: Transaction, table: Table, index: Index): Promise<void> {
    this.replaceTable(this.tx(tx), table, { ...table, indexes: table.indexes.filter((i) => i.oid !== index.oid) });
  }

  async *indexScan(tx: Transaction, table: Table, index: Index, range: KeyRange): AsyncIterable<readonly Row[]> {
    const compare = (row: Row, bound: readonly Datum[]) => {
      for (let i = 0; i < bound.length; i++) {
        const column = index.columns[i]!;
        const a = row.values[column] ?? null;
        const b = bound[i] ?? null;
        if (a === null || b === null) {
          if (a !== b) return a === null ? 1 : -1; // NULLs last
          continue;
        }
        const c = compareValues(table.columns[column]!.type, a, b);
        if (c !== 0) return c;
      }
      return 0;
    };
    const rows: Row[] = [];
    for await (const page of this.scan(tx, table)) {
      for (const row of page) {
        const { lower, upper } = range;
        if (lower !== undefined) {
          const c = compare(row, lower.values);
          if (c < 0 || (c === 0 && !lower.inclusive)) continue;
        }
        if (upper !== undefined) {
          const c = compare(row, upper.values);
          if (c > 0 || (c === 0 && !upper.inclusive)) continue;
        }
        rows.push(row);
      }
    }
    rows.sort((a, b) =>
      compare(
        a,
        index.columns.map((c) => b.values[c]!),
      ),
    );
    if (rows.length > 0) yield rows;
  }

  async dropTable(tx: Transaction, table: Table): Promise<void> {
    this.generation++;
    const t = this.tx(tx);
    const entry = this.catalog.find((e) => e.table.oid === table.oid && this.visible(t, e));
    if (entry === undefined) throw new MemoryAccessError("42P01", `table "${table.name}" does not exist`);
    t.wrote = true;
    entry.xmax = t.id;
    entry.cmax = t.cid;
  }

  async *scan(tx: Transaction, table: Table): AsyncIterable<readonly Row[]> {
    const t = this.tx(tx);
    const heap = this.heap(table);
    for (let start = 0; start < heap.length; start += PAGE_ROWS) {
      const page: Row[] = [];
      for (let i = start; i < Math.min(heap.length, start + PAGE_ROWS); i++) {
        const v = heap[i]!;
        if (this.visible(t, v)) page.push({ tid: tidOf(i), values: v.values });
      }
      await Promise.resolve();
      if (page.length > 0) yield page;
    }
  }

  async insert(tx: Transaction, table: Table, values: readonly Datum[]): Promise<TupleId> {
    const t = this.tx(tx);
    const heap = this.heap(table);
    t.wrote = true;
    heap.push({ xmin: t.id, cmin: t.cid, xmax: undefined, cmax: 0, values: [...values] });
    return tidOf(heap.length - 1);
  }

  async insertMany(tx: Transaction, table: Table, rows: readonly (readonly Datum[])[]): Promise<void> {
    for (const values of rows) await this.insert(tx, table, values);
  }

  async delete(tx: Transaction, table: Table, tid: TupleId): Promise<WriteOutcome> {
    return this.lockVersion(this.tx(tx), table, tid);
  }

  async update(tx: Transaction, table: Table, tid: TupleId, values: readonly Datum[]): Promise<WriteOutcome> {
    const t = this.tx(tx);
    const outcome = await this.lockVersion(t, table, tid);
    if (outcome === "ok")
      this.heap(table).push({ xmin: t.id, cmin: t.cid, xmax: undefined, cmax: 0, values: [...values] });
    return outcome;
  }

  /** Nothing is pruned here: dead versions stay in the arrays. */
  async vacuum(tx: Transaction, _table: Table): Promise<VacuumResult> {
    this.tx(tx);
    return { pages: 0, removed: 0, remaining: 0 };
  }

  async userTables(tx: Transaction): Promise<readonly Table[]> {
    const t = this.tx(tx);
    return this.catalog.filter((e) => this.visible(t, e)).map((e) => e.table);
  }

  /** 8 KiB per PAGE_ROWS versions, as the tids count them. */
  async relationSize(tx: Transaction, table: Table): Promise<number> {
    this.tx(tx);
    return Math.ceil(this.heap(table).length / PAGE_ROWS) * 8192;
  }

  /** Update links are not kept here: a row changed meanwhile counts as deleted. */
  async newerVersion(): Promise<undefined> {
    return undefined;
  }

  /** Sets xmax on the version, after waiting for a transaction that holds it. */
  private async lockVersion(t: MemoryTransaction, table: Table, tid: TupleId): Promise<WriteOutcome> {
    const v = this.heap(table)[tid.block * PAGE_ROWS + tid.slot];
    if (v === undefined) throw new Error(`no tuple at ${tid.block}/${tid.slot}`);
    for (;;) {
      const holder = v.xmax;
      if (holder === t.id) return "gone"; // already changed by this transaction
      const s = holder === undefined ? "aborted" : this.status.get(holder);
      if (s === "committed") return "gone";
      if (s === "in progress") {
        await new Promise<void>((resolve) =>
          this.waiters.set(holder!, [...(this.waiters.get(holder!) ?? []), resolve]),
        );
        continue;
      }
      t.wrote = true;
      v.xmax = t.id;
      v.cmax = t.cid;
      return "ok";
    }
  }

  private end(tx: Transaction, status: Status): void {
    const t = this.tx(tx);
    this.generation++;
    if (this.status.get(t.id) !== "in progress") throw new Error(`transaction ${t.id} already ended`);
    this.status.set(t.id, status);
    this.inProgress.delete(t.id);
    for (const wake of this.waiters.get(t.id) ?? []) wake();
    this.waiters.delete(t.id);
  }

  private visible(t: MemoryTransaction, v: Version): boolean {
    if (t.snapshot === undefined) t.startCommand();
    const created = v.xmin === t.id ? v.cmin < t.cid : this.committedBefore(t.snapshot!, v.xmin);
    if (!created) return false;
    if (v.xmax === undefined) return true;
    const deleted = v.xmax === t.id ? v.cmax < t.cid : this.committedBefore(t.snapshot!, v.xmax);
    return !deleted;
  }

  private committedBefore(snapshot: Snapshot, id: number): boolean {
    return id < snapshot.xmax && !snapshot.inProgress.has(id) && this.status.get(id) === "committed";
  }

  private heap(table: Table): TupleVersion[] {
    const heap = this.heaps.get(table.relfile);
    if (heap === undefined) throw new Error(`no heap for table ${table.name} (oid ${table.oid})`);
    return heap;
  }

  private tx(tx: Transaction): MemoryTransaction {
    if (!(tx instanceof MemoryTransaction)) throw new Error("not a MemoryDatabase transaction");
    if (this.status.get(tx.id) !== "in progress") throw new Error(`transaction ${tx.id} is not in progress`);
    return tx;
  }
}

function tidOf(index: number): TupleId {
  return { block: Math.floor(index / PAGE_ROWS), slot: index % PAGE_ROWS };
}
