import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type VersionFate, hotChain, planChangesPage, planHeapPrune } from "./heap-chain.js";
import {
  HEAP_ONLY_TUPLE,
  type HeapTupleHeader,
  encodeHeapTuple,
  heapFitsTuple,
  heapInsertSlot,
  heapSlotCount,
  heapSlotUsed,
  heapTupleData,
  heapTupleHeader,
} from "./heap-page.js";
import type { Xid } from "./ids.js";
import { RecordKind, decodeRecords, encodeRecords } from "./record.js";
import { heapHotUpdatePayload, heapInsertPayload, heapPrunePayload, heapSetXmaxPayload, redo } from "./redo.js";
import { HeapPageWriter } from "./testing/heap-page-writer.js";

/**
 * HOT chains against a model of transactions: random inserts, HOT updates
 * and deletes by transactions that commit, abort or keep running, and
 * prunes (on access, or VACUUM's with the dead chains' index entries gone)
 * at a random global xmin. A prune must not change what any snapshot that
 * can still exist sees through any root, must free exactly the tuples it
 * says, and storage's redo of the same records must give the same page.
 */
type Status = "committed" | "aborted" | "running";

class Model extends HeapPageWriter {
  readonly status = new Map<number, Status>([[0, "committed"]]);
  nextXid = 3;

  xid(status: Status): number {
    const xid = this.nextXid++;
    this.status.set(xid, status);
    return xid;
  }

  committed(xid: number): boolean {
    return this.status.get(xid) === "committed";
  }

  /** PostgreSQL's MVCC rule for a snapshot that sees the transactions below `x` that committed. */
  visible(h: HeapTupleHeader, x: number): boolean {
    if (!(h.xmin < x && this.committed(h.xmin))) return false;
    return h.xmax === 0 || !(h.xmax < x && this.committed(h.xmax));
  }

  /** What a snapshot `x` sees through each root: the visible version's bytes, or "-". */
  seen(x: number): string[] {
    const out: string[] = [];
    for (let root = 0; root < heapSlotCount(this.page); root++) {
      const v = hotChain(this.page, root).find((s) => this.visible(heapTupleHeader(this.page, s), x));
      out.push(v === undefined ? "-" : Buffer.from(heapTupleData(this.page, v)).toString("hex"));
    }
    return out;
  }

  fate(h: HeapTupleHeader, globalXmin: number): VersionFate {
    const inserter = this.status.get(h.xmin);
    if (inserter === "aborted") return "dead";
    if (h.xmax === 0) return "live";
    const deleter = this.status.get(h.xmax);
    if (deleter === "running") return "recentlyDead";
    if (deleter !== "committed") return "live";
    return h.xmax < globalXmin ? "dead" : "recentlyDead";
  }

  /** The version a new transaction would update: inserted by a committed one, not deleted or deleted by an aborted one. */
  current(root: number): number | undefined {
    return hotChain(this.page, root).find((s) => {
      const h = heapTupleHeader(this.page, s);
      return this.committed(h.xmin) && (h.xmax === 0 || this.status.get(h.xmax) === "aborted");
    });
  }

  normalCount(): number {
    let n = 0;
    for (let s = 0; s < heapSlotCount(this.page); s++) if (heapSlotUsed(this.page, s)) n++;
    return n;
  }
}

type Op =
  | { op: "insert"; status: Status; data: Uint8Array }
  | { op: "update"; pick: number; status: Status; data: Uint8Array }
  | { op: "delete"; pick: number; status: Status }
  | { op: "finish"; pick: number; commit: boolean }
  | { op: "prune"; horizonPick: number; vacuum: boolean };

const statusArb = fc.constantFrom<Status>("committed", "committed", "aborted", "running");
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("insert" as const),
      status: statusArb,
      data: fc.uint8Array({ maxLength: 300 }),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant("update" as const),
      pick: fc.nat(),
      status: statusArb,
      data: fc.uint8Array({ maxLength: 300 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("delete" as const), pick: fc.nat(), status: statusArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("finish" as const), pick: fc.nat(), commit: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant("prune" as const), horizonPick: fc.nat(), vacuum: fc.boolean() }),
  },
);

function step(m: Model, op: Op): void {
  const roots = [...Array(heapSlotCount(m.page)).keys()].filter((r) => hotChain(m.page, r).length > 0);
  switch (op.op) {
    case "insert": {
      const tuple = encodeHeapTuple(
        { xmin: m.xid(op.status) as Xid, xmax: 0 as Xid, cid: 0, infomask: 0, natts: 1 },
        op.data,
      );
      if (heapFitsTuple(m.page, tuple.length))
        m.apply(RecordKind.HeapInsert, heapInsertPayload(heapInsertSlot(m.page), tuple));
      return;
    }
    case "update":
    case "delete": {
      if (roots.length === 0) return;
      const old = m.current(roots[op.pick % roots.length]!);
      if (old === undefined) return;
      const xid = m.xid(op.status);
      const tuple =
        op.op === "update"
          ? encodeHeapTuple({ xmin: xid as Xid, xmax: 0 as Xid, cid: 0, infomask: HEAP_ONLY_TUPLE, natts: 1 }, op.data)
          : undefined;
      if (tuple !== undefined && !heapFitsTuple(m.page, tuple.length)) return;
      m.apply(RecordKind.HeapSetXmax, heapSetXmaxPayload(old, xid as Xid, 0));
      if (tuple !== undefined)
        m.apply(RecordKind.HeapHotUpdate, heapHotUpdatePayload(old, heapInsertSlot(m.page), tuple));
      return;
    }
    case "finish": {
      const running = [...m.status].filter(([, s]) => s === "running").map(([x]) => x);
      if (running.length > 0) m.status.set(running[op.pick % running.length]!, op.commit ? "committed" : "aborted");
      return;
    }
    case "prune": {
      const running = [...m.status].filter(([, s]) => s === "running").map(([x]) => x);
      const ceiling = Math.min(m.nextXid, ...running);
      const globalXmin = 1 + (op.horizonPick % ceiling);
      const fate = (h: HeapTupleHeader) => m.fate(h, globalXmin);
      const before = [];
      for (let x = globalXmin; x <= m.nextXid; x++) before.push(m.seen(x));
      const normal = m.normalCount();
      let plan = planHeapPrune(m.page, fate);
      if (op.vacuum) plan = planHeapPrune(m.page, fate, new Set(plan.deadChains.map((c) => c.root)));
      if (planChangesPage(plan)) m.apply(RecordKind.HeapPrune, heapPrunePayload(plan));
      expect(m.normalCount()).toBe(normal - plan.freedTuples);
      for (let x = globalXmin; x <= m.nextXid; x++) expect(m.seen(x)).toEqual(before[x - globalXmin]);
      if (op.vacuum) expect(planHeapPrune(m.page, fate).deadChains).toEqual([]);
      // Nothing left to do at the same horizon: a second prune changes nothing.
      expect(planChangesPage(planHeapPrune(m.page, fate))).toBe(false);
      return;
    }
  }
}

describe("HOT chains and prune", () => {
  it("a prune keeps what every possible snapshot sees, frees what it says, and redoes byte-identically", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
        const m = new Model();
        for (const op of ops) step(m, op);
        let replay: Uint8Array | null = null;
        for (const r of decodeRecords(encodeRecords(m.records))) replay = redo(replay, r);
        expect(Buffer.from(replay!)).toEqual(Buffer.from(m.page));
      }),
      { numRuns: 120 },
    );
  });

  it("a chain whose versions are all dead is left for VACUUM, then freed with its root", () => {
    const m = new Model();
    const x1 = m.xid("committed");
    m.apply(
      RecordKind.HeapInsert,
      heapInsertPayload(
        0,
        encodeHeapTuple({ xmin: x1 as Xid, xmax: 0 as Xid, cid: 0, infomask: 0, natts: 1 }, Uint8Array.of(1)),
      ),
    );
    const x2 = m.xid("committed");
    m.apply(RecordKind.HeapSetXmax, heapSetXmaxPayload(0, x2 as Xid, 0));
    const hot = encodeHeapTuple(
      { xmin: x2 as Xid, xmax: 0 as Xid, cid: 0, infomask: HEAP_ONLY_TUPLE, natts: 1 },
      Uint8Array.of(2),
    );
    m.apply(RecordKind.HeapHotUpdate, heapHotUpdatePayload(0, 1, hot));
    expect(hotChain(m.page, 0)).toEqual([0, 1]);
    expect(hotChain(m.page, 1)).toEqual([]); // a heap-only tuple is no root
    const x3 = m.xid("committed");
    m.apply(RecordKind.HeapSetXmax, heapSetXmaxPayload(1, x3 as Xid, 0)); // deleted
    const fate = (h: HeapTupleHeader) => m.fate(h, m.nextXid);
    const onAccess = planHeapPrune(m.page, fate);
    expect(onAccess).toMatchObject({ unused: [], redirects: [[0, 1]], freedTuples: 1 });
    expect(onAccess.deadChains).toEqual([{ root: 0, keySlot: 1, slots: [0, 1] }]);
    m.apply(RecordKind.HeapPrune, heapPrunePayload(onAccess));
    expect(hotChain(m.page, 0)).toEqual([1]);
    const vacuum = planHeapPrune(m.page, fate, new Set([0]));
    expect(vacuum).toMatchObject({ unused: [0, 1], redirects: [], freedTuples: 1 });
    m.apply(RecordKind.HeapPrune, heapPrunePayload(vacuum));
    expect(hotChain(m.page, 0)).toEqual([]);
    expect(heapInsertSlot(m.page)).toBe(0);
  });
});
