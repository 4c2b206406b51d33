import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvariantError } from "./assert.js";
import { CLOG_XIDS_PER_PAGE, XidStatus, clogGetStatus } from "./clog-page.js";
import { type ControlData, encodeControlBody, readControl } from "./control-page.js";
import {
  type HeapTupleHeader,
  TUPLE_HEADER_BYTES,
  encodeHeapTuple,
  heapFits,
  heapSlotCount,
  heapTupleData,
  heapTupleHeader,
} from "./heap-page.js";
import { type GroupId, type PageId, type PageKey, type Xid, pageId, pageKey } from "./ids.js";
import { INVALID_LSN, type Lsn, lsn } from "./lsn.js";
import { PageKind, newZeroPage, pageKind, pageLsn, setPageLsn } from "./page.js";
import { groupOf } from "./placement.js";
import { type LogRecord, RecordKind, decodeRecords, encodeRecords } from "./record.js";
import {
  clogSetStatusPayload,
  heapInsertPayload,
  heapSetXmaxPayload,
  pageInitPayload,
  redo,
  redoInPlace,
} from "./redo.js";

// ---------------------------------------------------------------------------
// A tiny "compute": builds MTRs over a few pages the only allowed way (build a
// record, apply redo to its own buffer), and keeps a model of what it wrote.
// ---------------------------------------------------------------------------

const HEAP = [pageId(16384, 0), pageId(16384, 1), pageId(16385, 200)];
const CLOG = pageId(1, 0);
const CONTROL = pageId(0, 0);
const GROUP_COUNT = 4;

type Op =
  | { op: "insert"; page: number; header: HeapTupleHeader; data: Uint8Array }
  | { op: "setXmax"; page: number; slot: number; xmax: Xid; infomask: number }
  | { op: "reinit"; page: number }
  | { op: "clog"; index: number; status: XidStatus }
  | { op: "control"; data: ControlData };

const u64 = fc.oneof(fc.nat({ max: 1000 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));
const headerArb = fc.record({
  xmin: u64,
  xmax: u64,
  cid: fc.nat({ max: 0xffff_ffff }),
  infomask: fc.nat({ max: 0x3fff }), // below the HOT bits, which heap-chain.test.ts covers
  natts: fc.nat({ max: 0xffff }),
}) as fc.Arbitrary<HeapTupleHeader>;
const pageArb = fc.nat({ max: HEAP.length - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant("insert" as const),
      page: pageArb,
      header: headerArb,
      data: fc.uint8Array({ maxLength: 600 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("setXmax" as const),
      page: pageArb,
      slot: fc.nat(),
      xmax: u64 as fc.Arbitrary<Xid>,
      infomask: fc.nat({ max: 0x3fff }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("reinit" as const), page: pageArb }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("clog" as const),
      index: fc.oneof(fc.nat({ max: 20 }), fc.nat({ max: CLOG_XIDS_PER_PAGE - 1 })),
      status: fc.constantFrom(XidStatus.InProgress, XidStatus.Committed, XidStatus.Aborted, XidStatus.SubCommitted),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("control" as const),
      data: fc.record({
        nextXidReserved: u64,
        nextOidReserved: u64,
        nextRelfileReserved: u64,
        systemId: u64,
        catalogVersion: fc.nat({ max: 0xffff_ffff }),
      }),
    }),
  },
);
const mtrsArb = fc.array(fc.array(opArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 30 });

interface Tuple {
  header: HeapTupleHeader;
  data: Uint8Array;
}

class Compute {
  readonly buffers = new Map<PageKey, Uint8Array>();
  readonly records: LogRecord[] = [];
  /** Per page: a copy after each of its records, ascending by LSN. */
  readonly history = new Map<PageKey, { lsn: Lsn; bytes: Uint8Array }[]>();
  readonly heap: Tuple[][] = HEAP.map(() => []);
  readonly clog = new Map<number, XidStatus>();
  control: ControlData | undefined;
  private nextLsn = 1;
  private readonly lastOfGroup = new Map<GroupId, Lsn>();

  runMtr(ops: readonly Op[]): void {
    const before = this.records.length;
    for (const op of ops) this.apply(op);
    const last = this.records.length - 1;
    if (last >= before) this.records[last] = { ...this.records[last]!, endsMtr: true };
  }

  private apply(op: Op): void {
    switch (op.op) {
      case "insert": {
        const page = this.formatted(HEAP[op.page]!, PageKind.Heap, op.page);
        const tuple = encodeHeapTuple(op.header, op.data);
        if (!heapFits(page, tuple.length)) return;
        this.log(HEAP[op.page]!, RecordKind.HeapInsert, heapInsertPayload(heapSlotCount(page), tuple));
        this.heap[op.page]!.push({ header: op.header, data: op.data });
        return;
      }
      case "setXmax": {
        const tuples = this.heap[op.page]!;
        if (tuples.length === 0) return;
        const slot = op.slot % tuples.length;
        this.log(HEAP[op.page]!, RecordKind.HeapSetXmax, heapSetXmaxPayload(slot, op.xmax, op.infomask));
        tuples[slot] = { ...tuples[slot]!, header: { ...tuples[slot]!.header, xmax: op.xmax, infomask: op.infomask } };
        return;
      }
      case "reinit":
        this.log(HEAP[op.page]!, RecordKind.PageInit, pageInitPayload(PageKind.Heap));
        this.heap[op.page] = [];
        return;
      case "clog":
        this.formatted(CLOG, PageKind.Clog);
        this.log(CLOG, RecordKind.ClogSetStatus, clogSetStatusPayload(op.index, op.status));
        this.clog.set(op.index, op.status);
        return;
      case "control":
        this.formatted(CONTROL, PageKind.Control);
        this.log(CONTROL, RecordKind.ControlSet, encodeControlBody(op.data));
        this.control = op.data;
    }
  }

  /** The page's buffer, formatted first (inside the same MTR) if it never was. */
  private formatted(page: PageId, kind: PageKind, heapIndex?: number): Uint8Array {
    if (!this.buffers.has(pageKey(page))) {
      this.log(page, RecordKind.PageInit, pageInitPayload(kind));
      if (heapIndex !== undefined) this.heap[heapIndex] = [];
    }
    return this.buffers.get(pageKey(page))!;
  }

  private log(page: PageId, kind: RecordKind, payload: Uint8Array): void {
    const key = pageKey(page);
    const buffer = this.buffers.get(key) ?? newZeroPage();
    const group = groupOf(page, GROUP_COUNT);
    const record: LogRecord = {
      lsn: lsn(this.nextLsn++),
      pageId: page,
      prevLsnOfPage: pageLsn(buffer),
      prevLsnOfGroup: this.lastOfGroup.get(group) ?? INVALID_LSN,
      kind,
      endsMtr: false,
      payload,
    };
    redoInPlace(buffer, record); // compute changes its buffers only through redo (invariant 1)
    this.buffers.set(key, buffer);
    this.lastOfGroup.set(group, record.lsn);
    this.records.push(record);
    const history = this.history.get(key) ?? [];
    history.push({ lsn: record.lsn, bytes: buffer.slice() });
    this.history.set(key, history);
  }

  /** Compute's page as of `at`: the copy after its newest record ≤ at. */
  pageAt(key: PageKey, at: number): Uint8Array | null {
    let out: Uint8Array | null = null;
    for (const h of this.history.get(key) ?? []) if (h.lsn <= at) out = h.bytes;
    return out;
  }
}

/** Storage's way: materialize from nothing by redoing the page's records ≤ at. */
function materialize(records: readonly LogRecord[], key: PageKey, at: number): Uint8Array | null {
  let page: Uint8Array | null = null;
  for (const r of records) if (pageKey(r.pageId) === key && r.lsn <= at) page = redo(page, r);
  return page;
}

/** Byte equality of two page versions (expect().toEqual walks 8 KiB element by element: too slow here). */
function samePage(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

function run(mtrs: readonly (readonly Op[])[]): Compute {
  const compute = new Compute();
  for (const ops of mtrs) compute.runMtr(ops);
  return compute;
}

describe("redo determinism (invariant 1)", () => {
  it("compute's buffers and storage's materialized pages are byte-identical at every LSN", () => {
    fc.assert(
      fc.property(mtrsArb, fc.array(fc.nat(), { maxLength: 4 }), (mtrs, picks) => {
        const compute = run(mtrs);
        const stored = decodeRecords(encodeRecords(compute.records)); // what a storage node receives
        const last = stored.length === 0 ? 0 : stored[stored.length - 1]!.lsn;
        for (const key of compute.history.keys()) {
          // Every LSN, incrementally: each step is one pure redo of the previous version.
          let page: Uint8Array | null = null;
          for (let at = 0; at <= last; at++) {
            const r = stored[at - 1];
            if (r !== undefined && pageKey(r.pageId) === key) {
              const previous = page?.slice() ?? null;
              const next = redo(page, r);
              expect(samePage(page, previous), "redo modified its input").toBe(true);
              page = next;
            }
            expect(samePage(page, compute.pageAt(key, at)), `page ${key} at ${at}`).toBe(true);
          }
          // A few LSNs from scratch, as a node without images would.
          for (const pick of picks) {
            const at = pick % (last + 1);
            expect(samePage(materialize(stored, key, at), compute.pageAt(key, at)), `page ${key} at ${at}`).toBe(true);
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it("the pages read back what the MTRs wrote", () => {
    fc.assert(
      fc.property(mtrsArb, (mtrs) => {
        const compute = run(mtrs);
        compute.heap.forEach((tuples, i) => {
          const page = compute.buffers.get(pageKey(HEAP[i]!));
          if (page === undefined) {
            expect(tuples).toEqual([]);
            return;
          }
          expect(pageKind(page)).toBe(PageKind.Heap);
          expect(heapSlotCount(page)).toBe(tuples.length);
          tuples.forEach((t, slot) => {
            expect(heapTupleHeader(page, slot)).toEqual(t.header);
            expect(heapTupleData(page, slot)).toEqual(t.data);
          });
        });
        const clog = compute.buffers.get(pageKey(CLOG));
        if (clog !== undefined) {
          for (let i = 0; i < 24; i++) expect(clogGetStatus(clog, i)).toBe(compute.clog.get(i) ?? XidStatus.InProgress);
          for (const [i, status] of compute.clog) expect(clogGetStatus(clog, i)).toBe(status);
        }
        const control = compute.buffers.get(pageKey(CONTROL));
        if (control !== undefined) expect(readControl(control)).toEqual(compute.control);
        // Each page's LSN is its newest record's; each MTR ends with exactly one consistency point.
        for (const [key, history] of compute.history) {
          expect(pageLsn(compute.buffers.get(key)!)).toBe(history[history.length - 1]!.lsn);
        }
        const records = compute.records;
        if (records.length > 0) expect(records[records.length - 1]!.endsMtr).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});

describe("redo asserts", () => {
  const init = (kind: PageKind, at = 1): LogRecord => ({
    lsn: lsn(at),
    pageId: HEAP[0]!,
    prevLsnOfPage: INVALID_LSN,
    prevLsnOfGroup: INVALID_LSN,
    kind: RecordKind.PageInit,
    endsMtr: true,
    payload: pageInitPayload(kind),
  });
  const next = (page: Uint8Array, kind: RecordKind, payload: Uint8Array): LogRecord => ({
    ...init(PageKind.Heap),
    lsn: lsn(pageLsn(page) + 1),
    prevLsnOfPage: pageLsn(page),
    kind,
    payload,
  });

  it("throws InvariantError when prevLsnOfPage is not the page's LSN", () => {
    fc.assert(
      fc.property(fc.nat({ max: 1_000_000 }), fc.nat({ max: 1_000_000 }), (pageAt, prev) => {
        fc.pre(pageAt !== prev);
        const page = redo(null, init(PageKind.Heap));
        setPageLsn(page, lsn(pageAt));
        const record = { ...init(PageKind.Heap), lsn: lsn(Math.max(pageAt, prev) + 1), prevLsnOfPage: lsn(prev) };
        expect(() => redo(page, record)).toThrow(InvariantError);
        expect(() => redoInPlace(page, record)).toThrow(InvariantError);
        expect(pageLsn(page)).toBe(pageAt); // a refused record changes nothing
      }),
    );
    expect(() => redo(null, { ...init(PageKind.Heap, 5), prevLsnOfPage: lsn(4) })).toThrow(/expects page LSN/);
  });

  it("throws InvariantError on records that do not fit the page", () => {
    const heap = redo(null, init(PageKind.Heap));
    const tuple = encodeHeapTuple({ xmin: 1 as Xid, xmax: 0 as Xid, cid: 0, infomask: 0, natts: 1 }, Uint8Array.of(9));
    const bad: [string, () => unknown][] = [
      ["insert at the wrong slot", () => redo(heap, next(heap, RecordKind.HeapInsert, heapInsertPayload(1, tuple)))],
      [
        "tuple shorter than its header",
        () =>
          redo(heap, next(heap, RecordKind.HeapInsert, heapInsertPayload(0, new Uint8Array(TUPLE_HEADER_BYTES - 1)))),
      ],
      [
        "tuple that does not fit",
        () => redo(heap, next(heap, RecordKind.HeapInsert, heapInsertPayload(0, new Uint8Array(8192)))),
      ],
      [
        "xmax on a missing slot",
        () => redo(heap, next(heap, RecordKind.HeapSetXmax, heapSetXmaxPayload(0, 5 as Xid, 0))),
      ],
      [
        "CLOG write on a heap page",
        () => redo(heap, next(heap, RecordKind.ClogSetStatus, clogSetStatusPayload(0, XidStatus.Committed))),
      ],
      ["control write on a heap page", () => redo(heap, next(heap, RecordKind.ControlSet, new Uint8Array(36)))],
      [
        "insert on a page never formatted",
        () => redo(null, { ...next(newZeroPage(), RecordKind.HeapInsert, heapInsertPayload(0, tuple)) }),
      ],
      ["bad PageInit payload", () => redo(null, { ...init(PageKind.Heap), payload: Uint8Array.of(0) })],
      ["unknown kind", () => redo(heap, next(heap, 99 as RecordKind, new Uint8Array(0)))],
    ];
    for (const [what, f] of bad) expect(f, what).toThrow(InvariantError);
    const clog = redo(null, init(PageKind.Clog));
    expect(() => redo(clog, next(clog, RecordKind.ClogSetStatus, clogSetStatusPayload(CLOG_XIDS_PER_PAGE, 1)))).toThrow(
      InvariantError,
    );
    const control = redo(null, init(PageKind.Control));
    expect(() => redo(control, next(control, RecordKind.ControlSet, new Uint8Array(35)))).toThrow(InvariantError);
  });

  it("reads back heap tuples, xmax, CLOG statuses and the control body", () => {
    let heap = redo(null, init(PageKind.Heap));
    const header = { xmin: 7 as Xid, xmax: 0 as Xid, cid: 3, infomask: 0x10, natts: 2 };
    heap = redo(
      heap,
      next(heap, RecordKind.HeapInsert, heapInsertPayload(0, encodeHeapTuple(header, Uint8Array.of(1, 2)))),
    );
    heap = redo(
      heap,
      next(heap, RecordKind.HeapInsert, heapInsertPayload(1, encodeHeapTuple(header, Uint8Array.of(3)))),
    );
    heap = redo(heap, next(heap, RecordKind.HeapSetXmax, heapSetXmaxPayload(0, (2 ** 40) as Xid, 0x20)));
    expect(heapTupleHeader(heap, 0)).toEqual({ ...header, xmax: 2 ** 40, infomask: 0x20 });
    expect(heapTupleHeader(heap, 1)).toEqual(header);
    expect(heapTupleData(heap, 0)).toEqual(Uint8Array.of(1, 2));
    expect(heapTupleData(heap, 1)).toEqual(Uint8Array.of(3));
    expect(pageLsn(heap)).toBe(4);

    let clog = redo(null, init(PageKind.Clog));
    for (const [i, s] of [
      [5, XidStatus.Committed],
      [6, XidStatus.Aborted],
      [CLOG_XIDS_PER_PAGE - 1, XidStatus.SubCommitted],
    ] as const) {
      clog = redo(clog, next(clog, RecordKind.ClogSetStatus, clogSetStatusPayload(i, s)));
    }
    clog = redo(clog, next(clog, RecordKind.ClogSetStatus, clogSetStatusPayload(6, XidStatus.InProgress)));
    expect([4, 5, 6, 7, CLOG_XIDS_PER_PAGE - 1].map((i) => clogGetStatus(clog, i))).toEqual([0, 1, 0, 0, 3]);

    const data = {
      nextXidReserved: 1000,
      nextOidReserved: 2 ** 50,
      nextRelfileReserved: 16400,
      systemId: 2 ** 53 - 1,
      catalogVersion: 0xffff_ffff,
    };
    let control = redo(null, init(PageKind.Control));
    control = redo(control, next(control, RecordKind.ControlSet, encodeControlBody(data)));
    expect(readControl(control)).toEqual(data);
  });
});
