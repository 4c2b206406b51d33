import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvariantError } from "./assert.js";
import {
  TUPLE_HEADER_BYTES,
  encodeHeapTuple,
  heapFitsTuple,
  heapFreeBytes,
  heapInsertSlot,
  heapSlotCount,
  heapSlotUsed,
  heapTupleData,
  heapTupleHeader,
} from "./heap-page.js";
import { type Xid, pageId } from "./ids.js";
import { RecordKind, decodeRecords, encodeRecords } from "./record.js";
import { heapInsertPayload, heapMultiInsertPayload, heapPrunePayload, heapSetXmaxPayload, redo } from "./redo.js";
import { HeapPageWriter } from "./testing/heap-page-writer.js";

class Writer extends HeapPageWriter {
  constructor() {
    super(pageId(16384, 3));
  }
}

type Op = { op: "insert"; data: Uint8Array; xmin: number } | { op: "prune"; picks: number[] };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("insert" as const),
      data: fc.uint8Array({ minLength: 0, maxLength: 600 }),
      xmin: fc.nat({ max: 1_000_000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant("prune" as const), picks: fc.array(fc.nat(), { maxLength: 8 }) }),
  },
);

describe("heap prune (VACUUM)", () => {
  it("keeps every remaining tuple's bytes and slot, frees exactly the pruned bytes, and redoes byte-identically", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), (ops) => {
        const w = new Writer();
        const model = new Map<number, Uint8Array>(); // slot → whole tuple bytes
        for (const op of ops) {
          if (op.op === "insert") {
            const tuple = encodeHeapTuple(
              { xmin: op.xmin as Xid, xmax: 0 as Xid, cid: 0, infomask: 0, natts: 1 },
              op.data,
            );
            if (!heapFitsTuple(w.page, tuple.length)) continue;
            const slot = heapInsertSlot(w.page);
            w.apply(RecordKind.HeapInsert, heapInsertPayload(slot, tuple));
            model.set(slot, tuple);
            continue;
          }
          const used = [...model.keys()];
          const slots = [...new Set(op.picks.flatMap((i) => (used.length === 0 ? [] : [used[i % used.length]!])))];
          if (slots.length === 0) continue;
          const before = heapFreeBytes(w.page);
          const slotCount = heapSlotCount(w.page);
          let freed = 0;
          for (const s of slots) {
            freed += model.get(s)!.length;
            model.delete(s);
          }
          w.apply(RecordKind.HeapPrune, heapPrunePayload({ unused: slots, redirects: [] }));
          expect(heapFreeBytes(w.page)).toBe(before + freed);
          expect(heapSlotCount(w.page)).toBe(slotCount);
        }
        const count = heapSlotCount(w.page);
        for (let slot = 0; slot < count; slot++) {
          const tuple = model.get(slot);
          expect(heapSlotUsed(w.page, slot)).toBe(tuple !== undefined);
          if (tuple === undefined) continue;
          expect(heapTupleHeader(w.page, slot).xmin).toBe(new DataView(tuple.buffer).getUint32(0, true));
          expect(Buffer.from(heapTupleData(w.page, slot))).toEqual(Buffer.from(tuple.subarray(TUPLE_HEADER_BYTES)));
        }
        const live = [...model.values()].reduce((n, t) => n + t.length, 0);
        expect(heapFreeBytes(w.page)).toBe(8192 - 24 - 4 * count - live);
        // Storage's side: the same records, encoded and decoded, redone from nothing.
        let replay: Uint8Array | null = null;
        for (const r of decodeRecords(encodeRecords(w.records))) replay = redo(replay, r);
        expect(Buffer.from(replay!)).toEqual(Buffer.from(w.page));
      }),
    );
  });

  it("refuses to prune a slot that is missing or already unused, and unused slots cannot be read", () => {
    const w = new Writer();
    const tuple = encodeHeapTuple({ xmin: 5 as Xid, xmax: 0 as Xid, cid: 0, infomask: 0, natts: 1 }, Uint8Array.of(1));
    w.apply(RecordKind.HeapInsert, heapInsertPayload(0, tuple));
    w.apply(RecordKind.HeapInsert, heapInsertPayload(1, tuple));
    const pruned = w.apply(RecordKind.HeapPrune, heapPrunePayload({ unused: [0], redirects: [] }));
    expect(() => w.apply(RecordKind.HeapPrune, heapPrunePayload({ unused: [0], redirects: [] }), pruned)).toThrow(
      InvariantError,
    );
    expect(() => w.apply(RecordKind.HeapPrune, heapPrunePayload({ unused: [2], redirects: [] }), pruned)).toThrow(
      InvariantError,
    );
    expect(() => w.apply(RecordKind.HeapPrune, new Uint8Array(0), pruned)).toThrow(InvariantError);
    expect(() => w.apply(RecordKind.HeapSetXmax, heapSetXmaxPayload(0, 9 as Xid, 0), pruned)).toThrow(InvariantError);
    expect(() => heapTupleHeader(pruned, 0)).toThrow(InvariantError);
    expect(() => heapTupleData(pruned, 0)).toThrow(InvariantError);
    expect(heapSlotUsed(pruned, 1)).toBe(true);
    expect(heapTupleHeader(pruned, 1).xmin).toBe(5);
  });

  it("a HeapMultiInsert record gives the page the same tuples in one record give one by one", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 400 }), { minLength: 1, maxLength: 40 }), (datas) => {
        const single = new Writer();
        const multi = new Writer();
        const batch: { slot: number; tuple: Uint8Array }[] = [];
        for (const [i, data] of datas.entries()) {
          const tuple = encodeHeapTuple({ xmin: (i + 3) as Xid, xmax: 0 as Xid, cid: i, infomask: 0, natts: 1 }, data);
          if (!heapFitsTuple(single.page, tuple.length)) break;
          const slot = heapInsertSlot(single.page);
          single.apply(RecordKind.HeapInsert, heapInsertPayload(slot, tuple));
          batch.push({ slot, tuple });
        }
        multi.apply(RecordKind.HeapMultiInsert, heapMultiInsertPayload(batch));
        const strip = (page: Uint8Array) => Buffer.from(page.subarray(8)); // all but the page LSN
        expect(strip(multi.page)).toEqual(strip(single.page));
        expect(() => multi.apply(RecordKind.HeapMultiInsert, new Uint8Array(2))).toThrow(InvariantError);
      }),
    );
  });
});
