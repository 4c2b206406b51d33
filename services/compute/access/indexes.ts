import { type IndexKeyType, encodeIndexKey } from "../../common/index-key.js";
import { duplicateKeyError } from "./access-error.js";
import type { BtreeStore, IndexEntry } from "./btree.js";
import type { Datum, Index, KeyRange, Row, Table, TupleId } from "./database.js";
import type { HeapStore } from "./heap.js";
import { KeyLocks } from "./key-locks.js";
import { pruneOracle } from "./prune-oracle.js";
import { decodeRow } from "./tuple-format.js";
import type { TransactionManager, TransactionState } from "./xact.js";
import { versionKey } from "./xact.js";

/**
 * Index maintenance and index scans over B-trees (btree.ts): the key of a
 * row is the order-preserving encoding of its indexed columns
 * (common/index-key.ts). An entry names a HOT chain's root (heap-chain.ts):
 * a version inserted by a HOT update has no entry of its own. Visibility is
 * always decided on the heap versions, as in PostgreSQL.
 */
export class IndexAccess {
  /** Held from a unique check until its entry is in the tree, so two inserts of one key cannot both pass. */
  private readonly keyLocks = new KeyLocks();

  constructor(
    private readonly heap: HeapStore,
    private readonly btree: BtreeStore,
    private readonly txm: TransactionManager,
  ) {}

  /** Adds the entries of a new heap version to every index; 23505 for a live duplicate in a unique one. */
  async insertEntries(tx: TransactionState, table: Table, tid: TupleId, values: readonly Datum[]): Promise<void> {
    for (const index of table.indexes) {
      const keyValues = index.columns.map((c): Datum => values[c] ?? null);
      const key = encodeIndexKey(keyTypes(table, index), keyValues);

      const entry: IndexEntry = { key, tid };
      if (!index.unique || keyValues.includes(null)) {
        await this.btree.insert(index.relfile, entry);
        continue;
      }
      const name = `${index.relfile}:${Buffer.from(key).toString("hex")}`;
      for (;;) {
        // The wait happens outside the key lock, so the transaction waited for may insert the key again.
        const holder = await this.keyLocks.with(name, async () => {
          const waitFor = await this.checkUnique(tx, table, index, key, tid, keyValues);
          if (waitFor === undefined) await this.btree.insert(index.relfile, entry);
          return waitFor;
        });
        if (holder === undefined) break;
        await this.txm.waitForHolder(tx, holder);
      }
    }
  }

  /** Whether two versions of a row have the same key in every index (a HOT update may then skip them all). */
  sameKeys(table: Table, before: readonly Datum[], after: readonly Datum[]): boolean {
    return table.indexes.every(
      (index) => Buffer.compare(indexKeyOf(table, index, before), indexKeyOf(table, index, after)) === 0,
    );
  }

  /**
   * VACUUM: removes the entries of a heap version from every index of its
   * table, before the version is pruned. The keys are recomputed from the
   * version's values exactly as insertEntries made them; an entry that is
   * not there (an insert that failed halfway, an entry an index scan already
   * removed) is skipped.
   */
  async deleteEntries(table: Table, tid: TupleId, values: readonly Datum[]): Promise<void> {
    for (const index of table.indexes) {
      await this.btree.delete(index.relfile, { key: indexKeyOf(table, index, values), tid });
    }
  }

  /**
   * PostgreSQL's _bt_check_unique: a version with the same key conflicts
   * unless it is dead (inserted by an aborted transaction, or deleted by a
   * committed one or by this one). Returns the xid of a transaction that
   * is inserting or deleting a version with the key (the caller waits for it
   * and checks again), or undefined when the key is free.
   */
  private async checkUnique(
    tx: TransactionState,
    table: Table,
    index: Index,
    key: Uint8Array,
    own: TupleId,
    keyValues: readonly Datum[],
  ): Promise<number | undefined> {
    for await (const entries of this.btree.scan(index.relfile, { key, inclusive: true }, { key, inclusive: true })) {
      for (const e of entries) {
        if (e.tid.block === own.block && e.tid.slot === own.slot) continue;
        const chain = await this.heap.readChain(table.relfile, e.tid);
        await this.txm.loadStatus(chain.flatMap((v) => [v.xmin, v.xmax]));
        const mine = (xid: number) => xid === tx.xid;
        let live = false;
        for (const v of chain) {
          if (Buffer.compare(indexKeyOf(table, index, decodeRow(table.columns, v.data)), key) !== 0) continue;
          if (!mine(v.xmin) && this.txm.isRunning(v.xmin)) return v.xmin;
          if (!mine(v.xmin) && !this.txm.isCommitted(v.xmin)) continue; // aborted insert
          if (v.xmax !== 0) {
            if (mine(v.xmax)) continue;
            if (this.txm.isRunning(v.xmax)) return v.xmax;
            if (this.txm.isCommitted(v.xmax)) continue;
          }
          live = true;
        }
        if (!live) continue;
        throw duplicateKeyError(
          `duplicate key value violates unique constraint "${index.name}"`,
          index.columns.map((c) => table.columns[c]!),
          keyValues,
          true,
        );
      }
    }
    return undefined;
  }

  /** The visible rows in `range`, in index order. */
  async *scan(tx: TransactionState, table: Table, index: Index, range: KeyRange): AsyncGenerator<readonly Row[]> {
    const types = keyTypes(table, index);
    const bound = (b: KeyRange["lower"]) =>
      b === undefined
        ? undefined
        : { key: encodeIndexKey(types.slice(0, b.values.length), b.values), inclusive: b.inclusive };
    for await (const entries of this.btree.scan(index.relfile, bound(range.lower), bound(range.upper))) {
      const chains = await Promise.all(entries.map((e) => this.heap.readChain(table.relfile, e.tid)));
      await this.txm.loadStatus(chains.flatMap((c) => c.flatMap((v) => [v.xmin, v.xmax])));
      const rows: Row[] = [];
      const dead: IndexEntry[] = [];
      const globalXmin = this.txm.globalXmin();
      chains.forEach((chain, i) => {
        if (chain.every((v) => this.txm.isDeadToAll(v, globalXmin))) {
          dead.push(entries[i]!);
          return;
        }
        const v = chain.find((m) => this.txm.isVisible(tx, m, versionKey(table.relfile, m.tid)));
        if (v === undefined) return;
        const values = decodeRow(table.columns, v.data);
        // The row comes from the entry of its own key: an index built after HOT updates of its
        // columns has one entry per key a chain held, and an entry may name a slot used again.
        if (Buffer.compare(indexKeyOf(table, index, values), entries[i]!.key) !== 0) return;
        rows.push({ tid: v.tid, values });
      });
      if (rows.length > 0) yield rows;
      await this.removeDead(table, index, dead);
    }
  }

  /**
   * Deletes index entries whose HOT chain no snapshot can see (as
   * PostgreSQL's index scans mark them LP_DEAD), so lookups of a row updated
   * many times do not visit every old version again. The chain is looked at
   * again right before each removal: VACUUM may have freed the slot
   * meanwhile and a new row, with its own entry, taken it.
   */
  private async removeDead(table: Table, index: Index, dead: readonly IndexEntry[]): Promise<void> {
    if (dead.length === 0) return;
    const oracle = pruneOracle(this.txm);
    for (const entry of dead) {
      await this.btree.delete(index.relfile, entry, () => !this.heap.peekChainDead(table.relfile, entry.tid, oracle));
    }
  }

  /**
   * Fills a new index from every heap version not known dead, sorted, built
   * bottom-up: one entry per HOT chain root and key (a chain's versions may
   * differ in the new index's columns; scans then take each version from the
   * entry of its own key). A unique index fails (23505) when two live
   * versions share a key.
   */
  async build(tx: TransactionState, table: Table, index: Index): Promise<void> {
    const types = keyTypes(table, index);
    const entries: (IndexEntry & { live: boolean; values: readonly Datum[] })[] = [];
    const blocks = await this.heap.blockCount(table.relfile);
    for (let block = 0; block < blocks; block++) {
      for (const chain of await this.heap.readChains(table.relfile, block)) {
        await this.txm.loadStatus(chain.versions.flatMap((v) => [v.xmin, v.xmax]));
        const byKey = new Map<string, (typeof entries)[number]>();
        for (const v of chain.versions) {
          const ownOrRunning = v.xmin === tx.xid || this.txm.isRunning(v.xmin);
          if (!ownOrRunning && !this.txm.isCommitted(v.xmin)) continue;
          const row = decodeRow(table.columns, v.data);
          const values = index.columns.map((c) => row[c]!);
          const deleted =
            v.xmax !== 0 && (v.xmax === tx.xid || this.txm.isRunning(v.xmax) || this.txm.isCommitted(v.xmax));
          const key = encodeIndexKey(types, values);
          const name = Buffer.from(key).toString("latin1");
          const seen = byKey.get(name);
          if (seen !== undefined) seen.live ||= !deleted;
          else byKey.set(name, { key, tid: { block, slot: chain.root }, live: !deleted, values });
        }
        entries.push(...byKey.values());
      }
    }
    entries.sort(compareEntries);
    if (index.unique) {
      let previous: (typeof entries)[number] | undefined;
      for (const e of entries) {
        if (!e.live || e.values.includes(null)) continue;
        if (previous !== undefined && Buffer.compare(previous.key, e.key) === 0) {
          throw duplicateKeyError(
            `could not create unique index "${index.name}"`,
            index.columns.map((c) => table.columns[c]!),
            e.values,
            false,
          );
        }
        previous = e;
      }
    }
    await this.btree.build(index.relfile, entries);
  }

  /** An empty index (a new relfile after TRUNCATE). */
  create(index: Index): Promise<void> {
    return this.btree.create(index.relfile);
  }
}

/** The key of a row's entry in `index`, as insertEntries encodes it. */
export function indexKeyOf(table: Table, index: Index, values: readonly Datum[]): Uint8Array {
  return encodeIndexKey(
    keyTypes(table, index),
    index.columns.map((c): Datum => values[c] ?? null),
  );
}

function keyTypes(table: Table, index: Index): IndexKeyType[] {
  return index.columns.map((c) => table.columns[c]!.type as IndexKeyType);
}

function compareEntries(a: IndexEntry, b: IndexEntry): number {
  return Buffer.compare(a.key, b.key) || a.tid.block - b.tid.block || a.tid.slot - b.tid.slot;
}
