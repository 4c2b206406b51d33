import { type Xid, relFile, xid as toXid } from "../../../common/ids.js";
import type {
  AccessError,
  Column,
  Database,
  Datum,
  IsolationLevel,
  Row,
  Table,
  Transaction,
  TupleId,
  WriteOutcome,
} from "../../access/database.js";

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
    const t = this.tx(tx);
    const taken = this.catalog.some(
      (e) =>
        e.table.name === name &&
        (this.visible(t, e) || (e.xmax === undefined && this.status.get(e.xmin) === "in progress")),
    );
    if (taken) throw new MemoryAccessError("42P07", `relation "${name}" already exists`);
    const oid = this.nextOid++;
    const table: Table = { oid, name, relfile: relFile(oid), columns: [...columns] };
    t.wrote = true;
    this.catalog.push({ xmin: t.id, cmin: t.cid, xmax: undefined, cmax: 0, table });
    this.heaps.set(oid, []);
    return table;
  }

  async dropTable(tx: Transaction, table: Table): Promise<void> {
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
    const heap = this.heaps.get(table.oid);
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
