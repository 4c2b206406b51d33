import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type GroupId, type NodeId, epoch, nodeId, pageId } from "../../common/ids.js";
import { INVALID_LSN, type Lsn } from "../../common/lsn.js";
import { computePlacement, groupOf } from "../../common/placement.js";
import { RecordKind, decodeRecords } from "../../common/record.js";
import { LogWriter, type OutgoingBatch } from "./log-writer.js";

/**
 * A deterministic simulation: the pure LogWriter against simulated storage
 * nodes that follow docs/log-protocol.md (chain rule + stream rule), with
 * seeded delivery order, disconnects and slow nodes.
 */
const GROUPS = 8;
const NODES = [0, 1, 2].map(nodeId);
const placement = computePlacement({ nodes: NODES, groupCount: GROUPS, replicaCount: 3, writeQuorum: 2 });

class SimNode {
  held = new Map<GroupId, Map<Lsn, Lsn>>(); // group → lsn → prevLsnOfGroup
  scl = new Map<GroupId, Lsn>();
  streamFrom: Lsn | undefined;
  constructor(readonly id: NodeId) {
    for (const g of placement.groupsOfNode.get(id)!) {
      this.held.set(g, new Map());
      this.scl.set(g, INVALID_LSN);
    }
  }
  hello(): Map<GroupId, Lsn> {
    this.streamFrom = undefined;
    return new Map(this.scl);
  }
  batch(b: OutgoingBatch): Map<GroupId, Lsn> {
    this.streamFrom ??= b.prevThroughLsn;
    for (const r of decodeRecords(b.records)) {
      const g = groupOf(r.pageId, GROUPS);
      expect(r.lsn > b.prevThroughLsn && r.lsn <= b.throughLsn).toBe(true);
      this.held.get(g)!.set(r.lsn, r.prevLsnOfGroup);
    }
    for (const [g, held] of this.held) {
      let scl = this.scl.get(g)!;
      const above = [...held.entries()].filter(([l]) => l > scl).sort((a, b) => a[0] - b[0]);
      for (const [l, prev] of above) if (prev <= scl) scl = l;
      if (scl >= this.streamFrom) scl = Math.max(scl, b.throughLsn) as Lsn;
      this.scl.set(g, scl);
    }
    return new Map(this.scl);
  }
  holds(g: GroupId, lsn: Lsn): boolean {
    return this.held.get(g)?.has(lsn) ?? false;
  }
}

function newWriter(resendBytesMax = 1 << 20): LogWriter {
  return new LogWriter(
    { placement, epoch: epoch(1), resendBytesMax, batchBytesMax: 4096, inflightBatchesMax: 1 },
    {
      nextLsn: 1 as Lsn,
      durableLsn: INVALID_LSN,
      lastLsnOfGroup: new Array(GROUPS).fill(INVALID_LSN),
      carriedRecords: [],
      truncateLsn: INVALID_LSN,
    },
  );
}

type Op = { kind: "append"; pages: number[] } | { kind: "deliver"; node: number } | { kind: "drop"; node: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("append" as const),
      pages: fc.array(fc.nat(63), { minLength: 1, maxLength: 4 }),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("deliver" as const), node: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("drop" as const), node: fc.nat(2) }) },
);

/** Runs a scenario; returns the writer, nodes and the MTR ends appended. */
function run(ops: readonly Op[], resendBytesMax?: number) {
  const writer = newWriter(resendBytesMax);
  const nodes = NODES.map((n) => new SimNode(n));
  const queues = NODES.map((): OutgoingBatch[] => []);
  const connected = NODES.map(() => false);
  const connect = (n: number) => {
    writer.step({ type: "connected", node: NODES[n]! });
    writer.step({ type: "ack", node: NODES[n]!, throughLsn: INVALID_LSN, scls: nodes[n]!.hello() });
    connected[n] = true;
  };
  const pump = () => {
    writer.tick(); // the simulation flushes at every step; the lazy flush has its own test
    const ready = writer.ready();
    for (const n of ready.reconnect) {
      writer.step({ type: "disconnected", node: n });
      queues[n] = [];
      connect(n);
    }
    const again = writer.ready();
    for (const b of again.batches) queues[b.node]!.push(b);
    writer.advance(again);
  };
  const records: { lsn: Lsn; group: GroupId; endsMtr: boolean }[] = [];
  for (let n = 0; n < NODES.length; n++) connect(n);
  for (const op of ops) {
    if (op.kind === "append") {
      if (!writer.canAppend()) continue;
      const recs = writer.append(
        op.pages.map((p) => ({
          pageId: pageId(1 + (p % 3), p * 50),
          prevLsnOfPage: INVALID_LSN,
          kind: RecordKind.PageInit,
          payload: Uint8Array.of(1),
        })),
      );
      for (const r of recs) records.push({ lsn: r.lsn, group: groupOf(r.pageId, GROUPS), endsMtr: r.endsMtr });
    } else if (op.kind === "deliver") {
      const b = queues[op.node]!.shift();
      if (b !== undefined)
        writer.step({ type: "ack", node: b.node, throughLsn: b.throughLsn, scls: nodes[op.node]!.batch(b) });
    } else {
      writer.step({ type: "disconnected", node: NODES[op.node]! });
      queues[op.node] = [];
      connected[op.node] = false;
      connect(op.node);
    }
    pump();
    checkInvariants(writer, nodes, records);
  }
  return { writer, nodes, queues, records, pump };
}

function checkInvariants(
  writer: LogWriter,
  nodes: SimNode[],
  records: { lsn: Lsn; group: GroupId; endsMtr: boolean }[],
) {
  const vdl = writer.vdl();
  // VDL is a consistency point, and every record at or below it is on a write quorum.
  if (vdl > 0) expect(records.find((r) => r.lsn === vdl)?.endsMtr).toBe(true);
  for (const r of records) {
    if (r.lsn > vdl) break;
    const holders = placement.replicas[r.group]!.filter((n) => nodes[n]!.holds(r.group, r.lsn)).length;
    expect(holders).toBeGreaterThanOrEqual(2);
  }
}

describe("LogWriter (simulated storage)", () => {
  it("VDL never passes a record that is not on a write quorum, and reaches the last MTR once delivered", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 200 }), (ops) => {
        const { writer, nodes, queues, records, pump } = run(ops);
        // Drain: deliver everything to every node.
        for (let i = 0; i < 10_000 && queues.some((q) => q.length > 0); i++) {
          for (let n = 0; n < 3; n++) {
            const b = queues[n]!.shift();
            if (b !== undefined)
              writer.step({ type: "ack", node: b.node, throughLsn: b.throughLsn, scls: nodes[n]!.batch(b) });
          }
          pump();
        }
        checkInvariants(writer, nodes, records);
        expect(writer.vdl()).toBe(records.length > 0 ? writer.lastLsn : 0);
        // Every replica ends with every record of its groups: resends fill every gap.
        for (const r of records)
          for (const n of placement.replicas[r.group]!) expect(nodes[n]!.holds(r.group, r.lsn)).toBe(true);
        expect(writer.retainedBytes()).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it("applies back-pressure when records not on a quorum fill the resend window", () => {
    const writer = newWriter(2000);
    for (const n of NODES) {
      writer.step({ type: "connected", node: n });
      writer.step({ type: "ack", node: n, throughLsn: INVALID_LSN, scls: new Map() });
    }
    let appended = 0;
    while (writer.canAppend() && appended < 1000) {
      writer.append([
        {
          pageId: pageId(1, appended),
          prevLsnOfPage: INVALID_LSN,
          kind: RecordKind.PageInit,
          payload: Uint8Array.of(1),
        },
      ]);
      appended++;
    }
    expect(writer.canAppend()).toBe(false);
    expect(appended).toBeLessThan(100);
  });

  it("holds records until a commit asks for them (or they fill a quarter batch)", () => {
    const writer = newWriter();
    for (const n of NODES) {
      writer.step({ type: "connected", node: n });
      writer.step({ type: "ack", node: n, throughLsn: INVALID_LSN, scls: new Map() });
    }
    const first = writer.append([
      { pageId: pageId(1, 0), prevLsnOfPage: INVALID_LSN, kind: RecordKind.PageInit, payload: Uint8Array.of(1) },
    ]);
    expect(writer.ready().batches).toEqual([]);
    writer.requestFlush(first[0]!.lsn);
    const ready = writer.ready();
    expect(ready.batches.map((b) => [b.node, b.throughLsn])).toEqual(NODES.map((n) => [n, 1]));
    writer.advance(ready);
    // A large batch goes without being asked (batchBytesMax 4096 here: a quarter is 1 KiB).
    for (let i = 1; i < 40; i++) {
      writer.append([
        { pageId: pageId(1, i), prevLsnOfPage: INVALID_LSN, kind: RecordKind.PageInit, payload: Uint8Array.of(1) },
      ]);
    }
    for (const n of NODES)
      writer.step({
        type: "ack",
        node: n,
        throughLsn: 1 as Lsn,
        scls: new Map([[groupOf(pageId(1, 0), GROUPS), 1 as Lsn]]),
      });
    expect(writer.ready().batches.length).toBe(3);
  });

  it("assigns one contiguous LSN range per MTR with per-group back-links", () => {
    const writer = newWriter();
    const a = writer.append([
      { pageId: pageId(1, 0), prevLsnOfPage: INVALID_LSN, kind: RecordKind.PageInit, payload: Uint8Array.of(1) },
      { pageId: pageId(1, 1), prevLsnOfPage: INVALID_LSN, kind: RecordKind.PageInit, payload: Uint8Array.of(1) },
    ]);
    const b = writer.append([
      { pageId: pageId(1, 2), prevLsnOfPage: INVALID_LSN, kind: RecordKind.PageInit, payload: Uint8Array.of(1) },
    ]);
    expect(a.map((r) => r.lsn)).toEqual([1, 2]);
    expect(a.map((r) => r.endsMtr)).toEqual([false, true]);
    expect(b[0]!.lsn).toBe(3);
    // blocks 0..127 share one group: each record links to the previous one.
    expect(a[1]!.prevLsnOfGroup).toBe(1);
    expect(b[0]!.prevLsnOfGroup).toBe(2);
  });
});
