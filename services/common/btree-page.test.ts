import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvariantError } from "./assert.js";
import {
  BTREE_KEY_BYTES_MAX,
  BTREE_PAGE_CAPACITY_BYTES,
  type BtreePageContent,
  btreeContent,
  btreeFits,
  btreeFreeBytes,
  btreeItem,
  btreeItemCount,
  btreeLevel,
  btreeMeta,
  btreeRightLink,
  compareEntries,
  compareItemKeyToBound,
  compareKeyToBound,
  encodeEntry,
  entryKey,
  entryTid,
  internalChild,
  internalChildIndex,
  internalItem,
  internalSeparator,
  leafLowerBound,
} from "./btree-page.js";
import { compareBytes } from "./bytes.js";
import { pageId } from "./ids.js";
import { encodeIndexKey } from "./index-key.js";
import { INVALID_LSN, lsn } from "./lsn.js";
import { PAGE_SIZE_BYTES, PageKind, pageLower, pageLsn, pageUpper } from "./page.js";
import { type LogRecord, RECORD_PAYLOAD_BYTES_MAX, RecordKind, decodeRecords, encodeRecords } from "./record.js";
import {
  btreeDeletePayload,
  btreeInsertPayload,
  btreeMetaSetPayload,
  btreeWritePayload,
  pageInitPayload,
  redo,
} from "./redo.js";

const PAGE = pageId(16400, 1);

function record(page: Uint8Array | null, kind: RecordKind, payload: Uint8Array): LogRecord {
  const prev = page === null ? 0 : pageLsn(page);
  return {
    lsn: lsn(prev + 1),
    pageId: PAGE,
    prevLsnOfPage: lsn(prev),
    prevLsnOfGroup: INVALID_LSN,
    kind,
    endsMtr: true,
    payload,
  };
}

function apply(page: Uint8Array | null, kind: RecordKind, payload: Uint8Array): Uint8Array {
  // Through the wire encoding, as a storage node receives it.
  return redo(page, decodeRecords(encodeRecords([record(page, kind, payload)]))[0]!);
}

function formatted(content: BtreePageContent): Uint8Array {
  const page = apply(null, RecordKind.PageInit, pageInitPayload(content.kind));
  return apply(page, RecordKind.BtreeWrite, btreeWritePayload(content));
}

const emptyLeaf = (): Uint8Array => formatted({ kind: PageKind.BtreeLeaf, level: 0, rightLink: 0, items: [] });
const tidArb = fc.record({ block: fc.nat({ max: 0xffff_ffff }), slot: fc.nat({ max: 0xffff }) });
const entryArb = fc.record({ key: fc.uint8Array({ maxLength: 12 }), tid: tidArb });

describe("B-tree entries", () => {
  it("order by key bytes, then tid; encode/decode round-trip", () => {
    fc.assert(
      fc.property(entryArb, entryArb, (a, b) => {
        const ea = encodeEntry(a.key, a.tid);
        const eb = encodeEntry(b.key, b.tid);
        expect(entryKey(ea)).toEqual(a.key);
        expect(entryTid(ea)).toEqual(a.tid);
        const byKey = compareBytes(a.key, b.key);
        const expected = byKey !== 0 ? byKey : a.tid.block - b.tid.block || a.tid.slot - b.tid.slot;
        expect(Math.sign(compareEntries(ea, eb))).toBe(Math.sign(expected));
      }),
    );
  });

  it("compares keys to prefix bounds", () => {
    const two = encodeIndexKey(["int4", "int4"], [5, 1]);
    expect(compareKeyToBound(two, encodeIndexKey(["int4"], [5]))).toBe(0);
    expect(compareKeyToBound(two, encodeIndexKey(["int4"], [6]))).toBeLessThan(0);
    expect(compareKeyToBound(two, encodeIndexKey(["int4"], [4]))).toBeGreaterThan(0);
    expect(compareKeyToBound(Uint8Array.of(1), Uint8Array.of(1, 0))).toBeLessThan(0);
  });
});

describe("compareItemKeyToBound", () => {
  it("orders an item's key in place as compareKeyToBound orders its view", () => {
    fc.assert(
      fc.property(
        fc.array(entryArb, { minLength: 1, maxLength: 20 }),
        fc.uint8Array({ maxLength: 14 }),
        fc.boolean(),
        (entries, bound, internal) => {
          const sorted = entries.map((e) => encodeEntry(e.key, e.tid)).sort(compareEntries);
          const items = internal ? sorted.map((e, i) => internalItem(i + 2, i === 0 ? null : e)) : sorted;
          const kind = internal ? PageKind.BtreeInternal : PageKind.BtreeLeaf;
          const page = formatted({ kind, level: internal ? 1 : 0, rightLink: 0, items });
          const from = internal ? 1 : 0; // the minus-infinity item has no separator
          for (let i = from; i < items.length; i++) {
            const item = btreeItem(page, i);
            const key = entryKey(internal ? internalSeparator(item) : item);
            expect(Math.sign(compareItemKeyToBound(page, i, internal, bound))).toBe(
              Math.sign(compareKeyToBound(key, bound)),
            );
          }
        },
      ),
    );
  });
});

describe("B-tree page redo", () => {
  it("inserts and deletes keep the page equal to a sorted model and compact", () => {
    const opArb = fc.oneof(
      { weight: 3, arbitrary: entryArb.map((e) => ({ op: "insert" as const, ...e })) },
      { weight: 1, arbitrary: fc.nat().map((n) => ({ op: "delete" as const, n })) },
    );
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
        let page = emptyLeaf();
        let model: Uint8Array[] = [];
        for (const op of ops) {
          if (op.op === "insert") {
            const entry = encodeEntry(op.key, op.tid);
            const at = leafLowerBound(page, entry);
            if (model.some((m) => compareEntries(m, entry) === 0)) {
              expect(() => apply(page, RecordKind.BtreeInsert, btreeInsertPayload(at, entry))).toThrow(InvariantError);
              continue;
            }
            if (!btreeFits(page, entry.length)) continue;
            page = apply(page, RecordKind.BtreeInsert, btreeInsertPayload(at, entry));
            model.push(entry);
            model.sort(compareEntries);
          } else if (model.length > 0) {
            const at = op.n % model.length;
            page = apply(page, RecordKind.BtreeDelete, btreeDeletePayload(at));
            model = model.filter((_, i) => i !== at);
          }
          expect(btreeItemCount(page)).toBe(model.length);
          for (const [i, m] of model.entries()) expect(btreeItem(page, i)).toEqual(m);
          const used = model.reduce((n, m) => n + m.length + 4, 0);
          expect(btreeFreeBytes(page)).toBe(BTREE_PAGE_CAPACITY_BYTES - used);
        }
        // Deletes leave no garbage: the free gap is zeros, and the content survives a rewrite.
        expect(page.subarray(pageLower(page), pageUpper(page)).every((b) => b === 0)).toBe(true);
        expect(btreeContent(formatted(btreeContent(page)))).toEqual(btreeContent(page));
      }),
      { numRuns: 200 },
    );
  });

  it("writes whole pages, internal pages with a minus-infinity downlink, and the metapage", () => {
    const sep = (k: number, child: number): Uint8Array =>
      internalItem(child, encodeEntry(encodeIndexKey(["int4"], [k]), { block: 1, slot: 1 }));
    const content: BtreePageContent = {
      kind: PageKind.BtreeInternal,
      level: 2,
      rightLink: 77,
      items: [internalItem(3, null), sep(10, 4), sep(20, 5)],
    };
    const page = formatted(content);
    expect(btreeContent(page)).toEqual(content);
    expect(btreeLevel(page)).toBe(2);
    expect(btreeRightLink(page)).toBe(77);
    const probe = (k: number): number =>
      internalChild(
        btreeItem(page, internalChildIndex(page, encodeEntry(encodeIndexKey(["int4"], [k]), { block: 0, slot: 0 }))),
      );
    expect([probe(-5), probe(10), probe(15), probe(20), probe(99)]).toEqual([3, 3, 4, 4, 5]);
    expect(internalSeparator(btreeItem(page, 0)).length).toBe(0);
    const inserted = apply(page, RecordKind.BtreeInsert, btreeInsertPayload(2, sep(15, 9)));
    expect(btreeItemCount(inserted)).toBe(4);
    expect(internalChild(btreeItem(inserted, 2))).toBe(9);

    let meta = apply(null, RecordKind.PageInit, pageInitPayload(PageKind.BtreeMeta));
    meta = apply(meta, RecordKind.BtreeMetaSet, btreeMetaSetPayload({ root: 7, height: 3 }));
    expect(btreeMeta(meta)).toEqual({ root: 7, height: 3 });
  });

  it("a full page's BtreeWrite payload fits a record", () => {
    const items: Uint8Array[] = [];
    for (let i = 0; btreeItemsFit(items, 6); i++) items.push(encodeEntry(new Uint8Array(0), { block: i, slot: 0 }));
    const payload = btreeWritePayload({ kind: PageKind.BtreeLeaf, level: 0, rightLink: 0, items });
    expect(payload.length).toBeLessThanOrEqual(RECORD_PAYLOAD_BYTES_MAX);
    expect(btreeFreeBytes(formatted({ kind: PageKind.BtreeLeaf, level: 0, rightLink: 0, items }))).toBeLessThan(10);
  });

  it("fits more than 300 int4 leaf items on a page", () => {
    const perItem = encodeEntry(encodeIndexKey(["int4"], [1]), { block: 0, slot: 0 }).length + 4;
    expect(Math.floor(BTREE_PAGE_CAPACITY_BYTES / perItem)).toBeGreaterThan(500);
  });

  it("rejects malformed payloads and changes that break the page's order", () => {
    const leaf = (...keys: number[]): Uint8Array =>
      formatted({
        kind: PageKind.BtreeLeaf,
        level: 0,
        rightLink: 0,
        items: keys.map((k) => encodeEntry(Uint8Array.of(k), { block: 0, slot: 0 })),
      });
    const e = (k: number): Uint8Array => encodeEntry(Uint8Array.of(k), { block: 0, slot: 0 });
    const page = leaf(1, 3);
    const meta = apply(null, RecordKind.PageInit, pageInitPayload(PageKind.BtreeMeta));
    const heap = apply(null, RecordKind.PageInit, pageInitPayload(PageKind.Heap));
    const unwritten = apply(null, RecordKind.PageInit, pageInitPayload(PageKind.BtreeLeaf));
    const write = (c: Partial<BtreePageContent>): Uint8Array =>
      btreeWritePayload({ kind: PageKind.BtreeLeaf, level: 0, rightLink: 0, items: [], ...c });
    const good = write({ items: [e(1)] });
    const bad: [string, () => unknown][] = [
      ["insert payload too short", () => apply(page, RecordKind.BtreeInsert, Uint8Array.of(0))],
      ["insert out of order", () => apply(page, RecordKind.BtreeInsert, btreeInsertPayload(0, e(2)))],
      ["insert duplicate", () => apply(page, RecordKind.BtreeInsert, btreeInsertPayload(1, e(1)))],
      ["insert past the end", () => apply(page, RecordKind.BtreeInsert, btreeInsertPayload(3, e(9)))],
      [
        "insert item shorter than a tid",
        () => apply(page, RecordKind.BtreeInsert, btreeInsertPayload(2, Uint8Array.of(1))),
      ],
      [
        "insert key too long",
        () =>
          apply(page, RecordKind.BtreeInsert, btreeInsertPayload(2, new Uint8Array(BTREE_KEY_BYTES_MAX + 7).fill(9))),
      ],
      ["insert on a page never written", () => apply(unwritten, RecordKind.BtreeInsert, btreeInsertPayload(0, e(1)))],
      ["insert on a heap page", () => apply(heap, RecordKind.BtreeInsert, btreeInsertPayload(0, e(1)))],
      ["delete payload size", () => apply(page, RecordKind.BtreeDelete, Uint8Array.of(0, 0, 0))],
      ["delete past the end", () => apply(page, RecordKind.BtreeDelete, btreeDeletePayload(2))],
      ["write truncated", () => apply(page, RecordKind.BtreeWrite, good.subarray(0, good.length - 1))],
      ["write trailing bytes", () => apply(page, RecordKind.BtreeWrite, Uint8Array.of(...good, 0))],
      ["write header too short", () => apply(page, RecordKind.BtreeWrite, good.subarray(0, 8))],
      ["write heap kind", () => apply(page, RecordKind.BtreeWrite, write({ kind: PageKind.Heap as never }))],
      ["write leaf at level 1", () => apply(page, RecordKind.BtreeWrite, write({ level: 1 }))],
      ["write out of order", () => apply(page, RecordKind.BtreeWrite, write({ items: [e(2), e(1)] }))],
      ["write on a meta page", () => apply(meta, RecordKind.BtreeWrite, good)],
      [
        "write internal without minus infinity",
        () =>
          apply(
            page,
            RecordKind.BtreeWrite,
            write({ kind: PageKind.BtreeInternal, level: 1, items: [internalItem(2, e(1))] }),
          ),
      ],
      [
        "write internal without items",
        () => apply(page, RecordKind.BtreeWrite, write({ kind: PageKind.BtreeInternal, level: 1 })),
      ],
      [
        "write downlink to block 0",
        () =>
          apply(
            page,
            RecordKind.BtreeWrite,
            write({ kind: PageKind.BtreeInternal, level: 1, items: [internalItem(0, null)] }),
          ),
      ],
      [
        "write more than a page holds (yet less than a record's payload)",
        () =>
          apply(
            page,
            RecordKind.BtreeWrite,
            write({
              items: Array.from({ length: 100 }, (_, i) => encodeEntry(new Uint8Array(72).fill(i), entryTid(e(0)))),
            }),
          ),
      ],
      ["meta payload size", () => apply(meta, RecordKind.BtreeMetaSet, Uint8Array.of(1, 0, 0, 0))],
      ["meta root 0", () => apply(meta, RecordKind.BtreeMetaSet, btreeMetaSetPayload({ root: 0, height: 1 }))],
      ["meta height 0", () => apply(meta, RecordKind.BtreeMetaSet, btreeMetaSetPayload({ root: 1, height: 0 }))],
      ["meta on a leaf", () => apply(page, RecordKind.BtreeMetaSet, btreeMetaSetPayload({ root: 1, height: 1 }))],
      ["meta read before set", () => btreeMeta(meta)],
    ];
    for (const [what, f] of bad) expect(f, what).toThrow(InvariantError);
    expect(page.length).toBe(PAGE_SIZE_BYTES);
  });
});

function btreeItemsFit(items: readonly Uint8Array[], next: number): boolean {
  return items.reduce((n, i) => n + i.length + 4, 0) + next + 4 <= BTREE_PAGE_CAPACITY_BYTES;
}
