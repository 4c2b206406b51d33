import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MemoryVolume, samePage } from "../../../test/support/memory-volume.js";
import { InvariantError } from "../../common/assert.js";
import {
  BTREE_KEY_BYTES_MAX,
  BTREE_NO_SIBLING,
  btreeItem,
  btreeItemCount,
  btreeLevel,
  btreeMeta,
  btreeRightLink,
  compareEntries,
  encodeEntry,
  internalChild,
  internalSeparator,
} from "../../common/btree-page.js";
import { pageId, pageIdOfKey } from "../../common/ids.js";
import { encodeIndexKey } from "../../common/index-key.js";
import { BtreeStore, type IndexEntry, type KeyBound } from "./btree.js";
import type { BufferPool } from "./buffer-pool.js";
import type { TupleId } from "./database.js";

const RELFILE = 16500;
/** Long texts split pages after a few items, so a few hundred entries make a tree of 3-4 levels. */
const TEXTS = ["", "m", "m".repeat(400), "m".repeat(2000), "z".repeat(1200)];
const TYPES = ["int4", "text"] as const;

interface Row {
  readonly a: number;
  readonly t: number; // index into TEXTS
  readonly tid: TupleId;
}

const keyOf = (r: { a: number; t: number }): Uint8Array => encodeIndexKey(TYPES, [r.a, TEXTS[r.t]!]);
const entryOf = (r: Row): IndexEntry => ({ key: keyOf(r), tid: r.tid });
const hex = (e: IndexEntry): string => Buffer.from(encodeEntry(e.key, e.tid)).toString("hex");

/** The model's order: by values, independent of the byte encoding. */
function compareRows(x: Row, y: Row): number {
  const tx = TEXTS[x.t]!;
  const ty = TEXTS[y.t]!;
  return x.a - y.a || (tx < ty ? -1 : tx > ty ? 1 : 0) || x.tid.block - y.tid.block || x.tid.slot - y.tid.slot;
}

interface Bound {
  readonly cols: 1 | 2;
  readonly a: number;
  readonly t: number;
  readonly inclusive: boolean;
}

function keyBound(b: Bound | null): KeyBound | undefined {
  if (b === null) return undefined;
  const key = b.cols === 1 ? encodeIndexKey(["int4"], [b.a]) : keyOf(b);
  return { key, inclusive: b.inclusive };
}

/** Compares a row to a bound by the bound's columns (a prefix bound ignores the text). */
function compareToBound(r: Row, b: Bound): number {
  if (r.a !== b.a || b.cols === 1) return r.a - b.a;
  const tr = TEXTS[r.t]!;
  const tb = TEXTS[b.t]!;
  return tr < tb ? -1 : tr > tb ? 1 : 0;
}

function inBounds(r: Row, lower: Bound | null, upper: Bound | null): boolean {
  if (lower !== null && compareToBound(r, lower) < (lower.inclusive ? 0 : 1)) return false;
  if (upper !== null && compareToBound(r, upper) > (upper.inclusive ? 0 : -1)) return false;
  return true;
}

const rowArb = fc.record({
  a: fc.nat({ max: 3 }),
  t: fc.nat({ max: TEXTS.length - 1 }),
  tid: fc.record({ block: fc.nat({ max: 300 }), slot: fc.nat({ max: 40 }) }),
});
const boundArb = fc.option(
  fc.record({
    cols: fc.constantFrom(1 as const, 2 as const),
    a: fc.nat({ max: 4 }),
    t: fc.nat({ max: TEXTS.length - 1 }),
    inclusive: fc.boolean(),
  }),
  { freq: 3 },
);
type Op =
  | { op: "insert"; row: Row }
  | { op: "delete"; pick: number }
  | { op: "deleteAbsent"; row: Row }
  | { op: "scan"; lower: Bound | null; upper: Bound | null };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: rowArb.map((row) => ({ op: "insert" as const, row })) },
  { weight: 2, arbitrary: fc.nat().map((pick) => ({ op: "delete" as const, pick })) },
  { weight: 1, arbitrary: rowArb.map((row) => ({ op: "deleteAbsent" as const, row })) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("scan" as const), lower: boundArb, upper: boundArb }) },
);
/** A step is one operation, or several started together and awaited together. */
const stepArb = fc.oneof(
  { weight: 4, arbitrary: opArb.map((op) => [op]) },
  { weight: 1, arbitrary: fc.array(opArb, { minLength: 2, maxLength: 8 }) },
);

async function collect(store: BtreeStore, lower?: KeyBound, upper?: KeyBound, slow = false): Promise<IndexEntry[]> {
  const out: IndexEntry[] = [];
  for await (const batch of store.scan(RELFILE, lower, upper)) {
    expect(batch.length).toBeGreaterThan(0);
    out.push(...batch);
    // A slow reader: other operations split pages between its batches.
    if (slow) await new Promise((resolve) => setImmediate(resolve));
  }
  return out;
}

/** Runs steps against the store and a sorted model, checking every answer. */
async function runSteps(store: BtreeStore, model: Row[], steps: readonly (readonly Op[])[]): Promise<Row[]> {
  const present = (r: Row): boolean => model.some((m) => compareRows(m, r) === 0);
  for (const step of steps) {
    const before = model;
    const inserted: Row[] = [];
    const deleted: Row[] = [];
    const work: Promise<void>[] = [];
    for (const op of step) {
      if (op.op === "insert") {
        if (present(op.row) || inserted.some((r) => compareRows(r, op.row) === 0)) continue;
        inserted.push(op.row);
        work.push(store.insert(RELFILE, entryOf(op.row)));
      } else if (op.op === "delete") {
        const candidates = before.filter((r) => !deleted.includes(r));
        if (candidates.length === 0) continue;
        const row = candidates[op.pick % candidates.length]!;
        deleted.push(row);
        work.push(store.delete(RELFILE, entryOf(row)).then((found) => expect(found).toBe(true)));
      } else if (op.op === "deleteAbsent") {
        const row = { ...op.row, tid: { block: 100_000, slot: 7 } }; // a tid never inserted
        work.push(store.delete(RELFILE, entryOf(row)).then((found) => expect(found).toBe(false)));
      } else {
        const { lower, upper } = op;
        const concurrent = step.length > 1;
        work.push(
          collect(store, keyBound(lower), keyBound(upper), concurrent).then((got) => {
            const keys = got.map(hex);
            for (let i = 1; i < got.length; i++) {
              expect(
                compareEntries(encodeEntry(got[i - 1]!.key, got[i - 1]!.tid), encodeEntry(got[i]!.key, got[i]!.tid)),
              ).toBeLessThan(0);
            }
            const must = before
              .filter((r) => !deleted.includes(r) && inBounds(r, lower, upper))
              .map((r) => hex(entryOf(r)));
            if (!concurrent) {
              expect(keys).toEqual(must);
              return;
            }
            // Alongside other operations: everything present throughout, nothing never present.
            const may = new Set(
              [...before, ...inserted].filter((r) => inBounds(r, lower, upper)).map((r) => hex(entryOf(r))),
            );
            const got1 = new Set(keys);
            for (const k of must) expect(got1.has(k), "scan missed an entry present throughout").toBe(true);
            for (const k of keys) expect(may.has(k), "scan returned an entry never present").toBe(true);
          }),
        );
      }
    }
    await Promise.all(work);
    model = [...before.filter((r) => !deleted.includes(r)), ...inserted].sort(compareRows);
  }
  return model;
}

/**
 * Checks the tree from storage's pages: each level is a right-link chain in
 * entry order; each child holds entries ≥ its downlink's separator and < the
 * next one's. Returns the height and the leaf entries in order.
 */
function checkTree(volume: MemoryVolume): { height: number; entries: string[] } {
  const page = (block: number): Uint8Array => {
    const p = volume.storedPage(pageId(RELFILE, block));
    if (p === undefined) throw new Error(`block ${block} missing`);
    return p;
  };
  const { root, height } = btreeMeta(page(0));
  const entries: string[] = [];
  const leftmost: number[] = [];
  const walk = (block: number, level: number, low: Uint8Array | null, high: Uint8Array | null): void => {
    const p = page(block);
    expect(btreeLevel(p)).toBe(level);
    if (leftmost[level] === undefined) leftmost[level] = block;
    const count = btreeItemCount(p);
    for (let i = 0; i < count; i++) {
      const item = btreeItem(p, i);
      if (level === 0) {
        if (low !== null) expect(compareEntries(item, low)).toBeGreaterThanOrEqual(0);
        if (high !== null) expect(compareEntries(item, high)).toBeLessThan(0);
        entries.push(Buffer.from(item).toString("hex"));
        continue;
      }
      const sep = i === 0 ? low : internalSeparator(item).slice();
      const next = i + 1 < count ? internalSeparator(btreeItem(p, i + 1)).slice() : high;
      walk(internalChild(item), level - 1, sep, next);
    }
  };
  walk(root, height - 1, null, null);
  for (let level = 0; level < height; level++) {
    const chained: string[] = [];
    for (let block = leftmost[level]!; block !== BTREE_NO_SIBLING; block = btreeRightLink(page(block))) {
      expect(btreeLevel(page(block))).toBe(level);
      if (level === 0)
        for (let i = 0; i < btreeItemCount(page(block)); i++)
          chained.push(Buffer.from(btreeItem(page(block), i)).toString("hex"));
      expect(chained.length).toBeLessThan(1_000_000);
    }
    if (level === 0) expect(chained).toEqual(entries);
  }
  return { height, entries };
}

/** Invariant 1: what the pool holds is what storage's redo of the same records makes, byte for byte. */
function checkPages(volume: MemoryVolume, pool: BufferPool): void {
  const replayed = volume.replayAll();
  expect(replayed.size).toBeGreaterThan(1);
  for (const [key, page] of replayed) {
    const id = pageIdOfKey(key);
    expect(samePage(page, volume.storedPage(id)!)).toBe(true);
    const cached = pool.peek(id);
    if (cached !== undefined) expect(samePage(cached, page), `block ${id.block}`).toBe(true);
  }
}

function checkModel(volume: MemoryVolume, model: readonly Row[]): number {
  const { height, entries } = checkTree(volume);
  expect(entries).toEqual(model.map((r) => hex(entryOf(r))));
  return height;
}

function open(seed: number): { volume: MemoryVolume; pool: BufferPool; store: BtreeStore } {
  const volume = new MemoryVolume(seed);
  const pool = volume.pool(64); // small: pages get evicted and read back from "storage"
  return { volume, pool, store: new BtreeStore(pool, volume) };
}

const sortedRowsArb = (maxLength: number) =>
  fc
    .uniqueArray(rowArb, { minLength: maxLength / 2, maxLength, selector: (r) => hex(entryOf(r)) })
    .map((rows) => rows.sort(compareRows));

describe("BtreeStore against a sorted model", () => {
  it("inserts, deletes and range scans, alone and concurrently, on trees of several levels", async () => {
    let tallest = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 100, maxLength: 250 }), fc.nat(), async (steps, seed) => {
        const { volume, pool, store } = open(seed);
        await store.create(RELFILE);
        const model = await runSteps(store, [], steps);
        tallest = Math.max(tallest, checkModel(volume, model));
        checkPages(volume, pool);
      }),
      { numRuns: 20 },
    );
    expect(tallest).toBeGreaterThanOrEqual(3);
  });

  it("build, then scans return exactly the input; inserts and deletes after a build agree with the model", async () => {
    let tallest = 0;
    await fc.assert(
      fc.asyncProperty(
        sortedRowsArb(1000),
        fc.array(stepArb, { maxLength: 80 }),
        fc.nat(),
        async (rows, steps, seed) => {
          const { volume, pool, store } = open(seed);
          await store.build(RELFILE, rows.map(entryOf));
          tallest = Math.max(tallest, checkModel(volume, rows));
          expect((await collect(store)).map(hex)).toEqual(rows.map((r) => hex(entryOf(r))));
          const model = await runSteps(store, rows, steps);
          checkModel(volume, model);
          checkPages(volume, pool);
        },
      ),
      { numRuns: 12 },
    );
    expect(tallest).toBeGreaterThanOrEqual(3);
  });

  it("a store that finds an index already on storage (a restarted compute) reads and extends it", async () => {
    const { volume, store } = open(7);
    await store.create(RELFILE);
    const rows = Array.from({ length: 2000 }, (_, i) => ({
      a: i % 4,
      t: i % TEXTS.length,
      tid: { block: i, slot: 1 },
    }));
    for (const r of rows.slice(0, 1000)) await store.insert(RELFILE, entryOf(r));
    const fresh = new BtreeStore(volume.pool(64), volume);
    const first = new Set(rows.slice(0, 1000).map((r) => hex(entryOf(r))));
    const all = new Set(rows.map((r) => hex(entryOf(r))));
    const scans = [0, 1, 2].map(() => collect(fresh, undefined, undefined, true));
    await Promise.all(rows.slice(1000).map((r) => fresh.insert(RELFILE, entryOf(r))));
    // Scans that ran alongside the splits: in order, all of what was there throughout, nothing else.
    for (const got of await Promise.all(scans)) {
      const keys = got.map(hex);
      expect([...keys].sort()).toEqual([...new Set(keys)].sort());
      for (let i = 1; i < got.length; i++) {
        expect(
          compareEntries(encodeEntry(got[i - 1]!.key, got[i - 1]!.tid), encodeEntry(got[i]!.key, got[i]!.tid)),
        ).toBeLessThan(0);
      }
      const seen = new Set(keys);
      for (const k of first) expect(seen.has(k)).toBe(true);
      for (const k of keys) expect(all.has(k)).toBe(true);
    }
    expect(fresh.retries).toBeGreaterThan(0); // the pool evicted pages between a load and its use
    const sorted = [...rows].sort(compareRows);
    expect(checkModel(volume, sorted)).toBeGreaterThanOrEqual(4);
    expect((await collect(fresh)).map(hex)).toEqual(sorted.map((r) => hex(entryOf(r))));
  });

  it("packs int4 keys: CREATE INDEX over 100k rows fills leaves to 90%", async () => {
    const volume = new MemoryVolume(3);
    const pool = volume.pool(256);
    const store = new BtreeStore(pool, volume);
    const entries = function* (): Generator<IndexEntry> {
      for (let i = 1; i <= 100_000; i++)
        yield { key: encodeIndexKey(["int4"], [i]), tid: { block: i >> 6, slot: i & 63 } };
    };
    await store.build(RELFILE, entries());
    const leaves = new Set<number>();
    let scanned = 0;
    for await (const batch of store.scan(RELFILE)) scanned += batch.length;
    expect(scanned).toBe(100_000);
    for (const r of volume.records) if (r.pageId.relfile === RELFILE) leaves.add(r.pageId.block);
    // 100k entries of 11 bytes + 4 of pointer, 90% of 8160 bytes: 490 a leaf → 205 leaves, 1 root, 1 metapage.
    expect(leaves.size).toBeLessThanOrEqual(210);
    const bounded = await collect(
      store,
      { key: encodeIndexKey(["int4"], [500]), inclusive: false },
      { key: encodeIndexKey(["int4"], [1000]), inclusive: true },
    );
    expect(bounded.map((e) => e.tid)).toEqual(
      Array.from({ length: 500 }, (_, i) => ({ block: (501 + i) >> 6, slot: (501 + i) & 63 })),
    );
  });

  it("sequential inserts split at the right end and keep pages nearly full", async () => {
    const { volume, store } = open(5);
    await store.create(RELFILE);
    for (let i = 0; i < 5000; i++)
      await store.insert(RELFILE, { key: encodeIndexKey(["int4"], [i]), tid: { block: i, slot: 0 } });
    const blocks = new Set(volume.records.filter((r) => r.pageId.relfile === RELFILE).map((r) => r.pageId.block));
    expect(blocks.size).toBeLessThanOrEqual(Math.ceil(5000 / 440) + 3);
    expect((await collect(store)).length).toBe(5000);
  });

  it("rejects a key over the limit with 54000, a duplicate entry as a bug, a build out of order", async () => {
    const { store } = open(1);
    await store.create(RELFILE);
    const big = new Uint8Array(BTREE_KEY_BYTES_MAX + 1);
    await expect(store.insert(RELFILE, { key: big, tid: { block: 0, slot: 0 } })).rejects.toMatchObject({
      sqlState: "54000",
    });
    expect(await store.delete(RELFILE, { key: big, tid: { block: 0, slot: 0 } })).toBe(false);
    await store.insert(RELFILE, { key: Uint8Array.of(1), tid: { block: 0, slot: 0 } });
    await expect(store.insert(RELFILE, { key: Uint8Array.of(1), tid: { block: 0, slot: 0 } })).rejects.toThrow(
      InvariantError,
    );
    const other = open(2).store;
    const e = (k: number): IndexEntry => ({ key: Uint8Array.of(k), tid: { block: 0, slot: 0 } });
    await expect(other.build(RELFILE, [e(2), e(1)])).rejects.toThrow(InvariantError);
    await store.create(RELFILE + 1);
    await expect(store.build(RELFILE + 1, [e(1)])).rejects.toThrow(InvariantError);
  });
});
