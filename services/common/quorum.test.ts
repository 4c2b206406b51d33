import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvariantError } from "./assert.js";
import { type GroupId, type NodeId, groupId, nodeId } from "./ids.js";
import { INVALID_LSN, type Lsn, lsn } from "./lsn.js";
import { type Placement, computePlacement } from "./placement.js";
import { QuorumTracker, VdlTracker } from "./quorum.js";

/** Node count, N, W (a majority of N), group count. */
const configArb = fc
  .record({ nodes: fc.integer({ min: 1, max: 7 }), n: fc.nat(), w: fc.nat(), groups: fc.integer({ min: 1, max: 6 }) })
  .map(({ nodes, n, w, groups }) => {
    const replicaCount = 1 + (n % nodes);
    const majority = Math.floor(replicaCount / 2) + 1;
    const writeQuorum = majority + (w % (replicaCount - majority + 1));
    return computePlacement({
      nodes: Array.from({ length: nodes }, (_, i) => nodeId(i)),
      groupCount: groups,
      replicaCount,
      writeQuorum,
    });
  });

function wthHighest(values: readonly number[], w: number): number {
  return [...values].sort((a, b) => b - a)[w - 1]!;
}

describe("QuorumTracker", () => {
  it("PGCL is the W-th highest SCL, VCL the lowest PGCL; old and foreign acks change nothing", () => {
    fc.assert(
      fc.property(
        configArb,
        fc.array(fc.record({ node: fc.nat(), group: fc.nat(), scl: fc.nat({ max: 100 }) }), { maxLength: 60 }),
        (placement, acks) => {
          const tracker = new QuorumTracker(placement);
          const { nodes, groupCount, writeQuorum } = placement.config;
          const best = placement.replicas.map((rs) => new Map<NodeId, number>(rs.map((n) => [n, 0])));
          for (const a of acks) {
            const node = nodes[a.node % nodes.length]!;
            const g = groupId(a.group % groupCount);
            tracker.ack(node, g, lsn(a.scl));
            const sclOf = best[g]!;
            if (sclOf.has(node)) sclOf.set(node, Math.max(sclOf.get(node)!, a.scl)); // non-replicas are ignored
            for (let h = 0; h < groupCount; h++) {
              const scls = [...best[h]!.values()];
              expect(tracker.pgcl(groupId(h))).toBe(wthHighest(scls, writeQuorum));
              expect(tracker.allReplicasLsn(groupId(h))).toBe(Math.min(...scls));
            }
            expect(tracker.vcl()).toBe(Math.min(...best.map((m) => wthHighest([...m.values()], writeQuorum))));
            expect(tracker.scl(node, g)).toBe(sclOf.get(node) ?? INVALID_LSN);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("starts every SCL at the given LSN and refuses unknown groups", () => {
    const placement = computePlacement({
      nodes: [0, 1, 2].map(nodeId),
      groupCount: 2,
      replicaCount: 3,
      writeQuorum: 2,
    });
    const tracker = new QuorumTracker(placement, lsn(50));
    expect(tracker.vcl()).toBe(50);
    tracker.ack(nodeId(0), groupId(0), lsn(40));
    expect(tracker.scl(nodeId(0), groupId(0))).toBe(50);
    tracker.ack(nodeId(0), groupId(0), lsn(60));
    expect(tracker.pgcl(groupId(0))).toBe(50);
    tracker.ack(nodeId(2), groupId(0), lsn(55));
    expect(tracker.pgcl(groupId(0))).toBe(55);
    expect(tracker.vcl()).toBe(50); // group 1 has not moved
    expect(() => tracker.ack(nodeId(0), groupId(2), lsn(70))).toThrow(InvariantError);
  });
});

// ---------------------------------------------------------------------------
// A writer: appends MTRs, streams them to nodes in LSN order, and receives
// their acks late, out of order, or never.
// ---------------------------------------------------------------------------

type Step =
  | { kind: "append"; groups: number[] } // one MTR: a record per entry
  | { kind: "deliver"; node: number; upTo: number } // a node durably holds more of the log (-1: all of it)
  | { kind: "ack"; pick: number } // one pending ack arrives (any order)
  | { kind: "lose"; pick: number }; // one pending ack is lost

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("append" as const),
      groups: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("deliver" as const),
      node: fc.nat(),
      upTo: fc.oneof(fc.nat(), fc.constant(-1)),
    }),
  },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("ack" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("lose" as const), pick: fc.nat() }) },
);

class Writer {
  readonly quorum: QuorumTracker;
  readonly vdl = new VdlTracker();
  readonly groupOfLsn: GroupId[] = [INVALID_LSN as number as GroupId]; // index = LSN
  readonly cpls: Lsn[] = [];
  readonly delivered: number[]; // per node (index in config.nodes): every record ≤ it is durable there
  readonly pending: { node: NodeId; groups: readonly GroupId[]; scl: Lsn }[] = []; // acks in flight

  constructor(readonly placement: Placement) {
    this.quorum = new QuorumTracker(placement);
    this.delivered = placement.config.nodes.map(() => 0);
  }

  get appended(): number {
    return this.groupOfLsn.length - 1;
  }

  step(s: Step): void {
    const { nodes, groupCount } = this.placement.config;
    if (s.kind === "append") {
      for (const g of s.groups) this.groupOfLsn.push(groupId(g % groupCount));
      this.cpls.push(lsn(this.appended));
      this.vdl.addConsistencyPoint(lsn(this.appended));
    } else if (s.kind === "deliver") {
      const i = s.node % nodes.length;
      const behind = this.appended - this.delivered[i]!;
      const upTo = this.delivered[i]! + (s.upTo < 0 ? behind : s.upTo % (behind + 1)); // -1: everything appended
      this.delivered[i] = upTo;
      // One ack carries the SCLs of all the node's groups (throughLsn covers idle groups too).
      const node = nodes[i]!;
      this.pending.push({ node, groups: this.placement.groupsOfNode.get(node)!, scl: lsn(upTo) });
    } else if (this.pending.length > 0) {
      const [ack] = this.pending.splice(s.pick % this.pending.length, 1);
      if (s.kind === "ack") {
        for (const g of ack!.groups) this.quorum.ack(ack!.node, g, ack!.scl);
        this.vdl.advance(this.quorum.vcl());
      }
    }
  }

  /** How many replicas of the record's group hold it durably (the truth, not the acks). */
  copies(at: number): number {
    const g = this.groupOfLsn[at]!;
    const { nodes } = this.placement.config;
    return this.placement.replicas[g]!.filter((n) => this.delivered[nodes.indexOf(n)]! >= at).length;
  }
}

describe("VdlTracker over QuorumTracker", () => {
  it("VDL is a registered consistency point ≤ VCL, and never passes a record not on its write quorum", () => {
    fc.assert(
      fc.property(configArb, fc.array(stepArb, { minLength: 20, maxLength: 200 }), (placement, steps) => {
        const w = new Writer(placement);
        let previous = 0;
        for (const s of steps) {
          w.step(s);
          const vdl = w.vdl.vdl();
          const vcl = w.quorum.vcl();
          expect(vdl).toBeGreaterThanOrEqual(previous);
          previous = vdl;
          expect(vdl).toBeLessThanOrEqual(vcl);
          expect(vdl === 0 || w.cpls.includes(vdl)).toBe(true);
          // The highest one: no registered consistency point in (VDL, VCL] is left behind after an ack.
          if (s.kind === "ack") expect(w.cpls.some((c) => c > vdl && c <= vcl)).toBe(false);
          for (let at = 1; at <= vdl; at++) expect(w.copies(at)).toBeGreaterThanOrEqual(placement.config.writeQuorum);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("requires ascending consistency points", () => {
    const vdl = new VdlTracker(lsn(10));
    expect(() => vdl.addConsistencyPoint(lsn(10))).toThrow(InvariantError);
    vdl.addConsistencyPoint(lsn(12));
    expect(() => vdl.addConsistencyPoint(lsn(11))).toThrow(InvariantError);
    expect(vdl.advance(lsn(11))).toBe(10);
    expect(vdl.advance(lsn(100))).toBe(12);
    expect(() => vdl.addConsistencyPoint(lsn(12))).toThrow(InvariantError);
  });

  it("stays exact across the compaction of its queue", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            add: fc.oneof(fc.constant(0), fc.nat({ max: 600 })),
            step: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.nat({ max: 2000 })),
          }),
          { minLength: 5, maxLength: 60 },
        ),
        (ops) => {
          const vdl = new VdlTracker();
          let registered = 0; // consistency points are 2, 4, 6, ...
          let vcl = 0;
          for (const { add, step } of ops) {
            for (let i = 0; i < add; i++) vdl.addConsistencyPoint(lsn(2 * ++registered));
            vcl = Math.min(vcl + step, 2 * registered);
            const expected = vcl - (vcl % 2);
            expect(vdl.advance(lsn(vcl))).toBe(expected);
            expect(vdl.vdl()).toBe(expected);
          }
          expect(vdl.advance(lsn(2 * registered))).toBe(2 * registered);
        },
      ),
      { numRuns: 200 },
    );
  });
});
