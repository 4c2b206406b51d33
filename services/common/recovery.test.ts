import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type GroupId, type NodeId, nodeId, pageId } from "./ids.js";
import { INVALID_LSN, type Lsn, lsn } from "./lsn.js";
import { type Placement, computePlacement, groupOf } from "./placement.js";
import { QuorumTracker, VdlTracker } from "./quorum.js";
import {
  type RecordHeaderInfo,
  RecoveryError,
  type RecoveryPlan,
  type ReplicaGroupState,
  type ReplicaState,
  chooseRecovery,
} from "./recovery.js";

// ---------------------------------------------------------------------------
// The model: a writer's log, replicas that each got part of it, a crash.
// ---------------------------------------------------------------------------

const GROUP_COUNT = 8;
/** (nodes, N, W): the brief's 3/3/2 first, then wider ones so N−W+1 varies. */
const CONFIGS = [
  { nodes: 3, replicaCount: 3, writeQuorum: 2 },
  { nodes: 3, replicaCount: 3, writeQuorum: 2 },
  { nodes: 4, replicaCount: 3, writeQuorum: 2 },
  { nodes: 5, replicaCount: 3, writeQuorum: 2 },
  { nodes: 5, replicaCount: 5, writeQuorum: 3 },
  { nodes: 6, replicaCount: 5, writeQuorum: 4 },
] as const;
/** A pool of pages over several relations and 128-block chunks, so records spread over the groups. */
const PAGES = Array.from({ length: 20 }, (_, i) => pageId(1 + (i % 7), (i % 3) * 128 + i));

interface TrueRecord {
  readonly lsn: Lsn;
  readonly group: GroupId;
  readonly prevLsnOfGroup: Lsn;
  readonly endsMtr: boolean;
  readonly mtr: number;
}

interface MtrShape {
  readonly gap: number; // LSNs skipped before the MTR: LSNs ascend but need not be dense
  readonly pages: readonly number[]; // indexes into PAGES, one record each
}

/** Deterministic PRNG (mulberry32) for the many small per-record choices. */
function prng(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function buildLog(mtrs: readonly MtrShape[]): TrueRecord[] {
  const log: TrueRecord[] = [];
  const lastOfGroup = new Map<GroupId, Lsn>();
  let next = 1;
  mtrs.forEach((shape, mtr) => {
    next += shape.gap;
    shape.pages.forEach((p, i) => {
      const group = groupOf(PAGES[p]!, GROUP_COUNT);
      const record = {
        lsn: lsn(next++), // an MTR takes one contiguous LSN range (invariant 7)
        group,
        prevLsnOfGroup: lastOfGroup.get(group) ?? INVALID_LSN,
        endsMtr: i === shape.pages.length - 1,
        mtr,
      };
      lastOfGroup.set(group, record.lsn);
      log.push(record);
    });
  });
  return log;
}

interface NodeModel {
  readonly node: NodeId;
  readonly held: ReadonlySet<number>; // LSNs of the records it holds (its groups only)
  readonly scl: ReadonlyMap<GroupId, Lsn>;
  readonly maxLsnSeen: Lsn;
}

/** SCL by the storage rule: start at the stream's proven prefix, then follow back-links. */
function chainScl(start: Lsn, heldOfGroup: readonly TrueRecord[]): Lsn {
  let scl = start;
  for (const r of heldOfGroup) if (r.lsn > scl && r.prevLsnOfGroup <= scl) scl = r.lsn;
  return scl;
}

/**
 * The writer sends each node batches in LSN order. A node keeps every batch up
 * to the first one it lost (its stream's proven prefix, throughLsn included),
 * then some of the later batches (lost or delayed batches, resends in flight),
 * and nothing after the point where the writer crashed on its stream.
 */
function simulateNode(node: NodeId, placement: Placement, log: readonly TrueRecord[], rand: () => number): NodeModel {
  const down = rand() < 0.1;
  const lossRate = [0, 0, 0.15, 0.4][Math.floor(rand() * 4)]!;
  const sentThrough = Math.floor(log.length * (1 - rand() ** 2)); // records the writer sent before the crash
  const groups = new Set(placement.groupsOfNode.get(node) ?? []);
  const held = new Set<number>();
  let prefix = 0;
  let contiguous = !down;
  for (let start = 0; start < sentThrough; ) {
    let end = start + 1;
    while (end < sentThrough && rand() < 0.6) end++;
    const delivered = !down && rand() >= lossRate;
    if (delivered) {
      for (const r of log.slice(start, end)) if (groups.has(r.group)) held.add(r.lsn);
    }
    contiguous &&= delivered;
    if (contiguous) prefix = log[end - 1]!.lsn;
    start = end;
  }
  const scl = new Map<GroupId, Lsn>();
  for (const g of groups) {
    scl.set(
      g,
      chainScl(
        lsn(prefix),
        log.filter((r) => r.group === g && held.has(r.lsn)),
      ),
    );
  }
  return { node, held, scl, maxLsnSeen: lsn(Math.max(prefix, ...held)) };
}

/** The VDL the old writer could have reached: every SCL acknowledged, in a random order. */
function writerVdl(placement: Placement, nodes: readonly NodeModel[], log: readonly TrueRecord[], rand: () => number) {
  const quorum = new QuorumTracker(placement);
  const vdl = new VdlTracker();
  for (const r of log) if (r.endsMtr) vdl.addConsistencyPoint(r.lsn);
  const acks = nodes.flatMap((n) => [...n.scl].map(([g, scl]) => ({ node: n.node, g, scl })));
  for (let i = acks.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [acks[i], acks[j]] = [acks[j]!, acks[i]!];
  }
  for (const a of acks) {
    quorum.ack(a.node, a.g, a.scl);
    vdl.advance(quorum.vcl());
  }
  return vdl.vdl();
}

/** Nodes in a random order until every group has N−W+1 of its replicas, then maybe a few more. */
function chooseReadSet(placement: Placement, rand: () => number): NodeId[] {
  const { nodes, replicaCount, writeQuorum } = placement.config;
  const order = [...nodes].sort(() => rand() - 0.5);
  const read: NodeId[] = [];
  const covered = () =>
    placement.replicas.every((rs) => rs.filter((n) => read.includes(n)).length >= replicaCount - writeQuorum + 1);
  for (const n of order) if (!covered() || rand() < 0.25) read.push(n);
  return read;
}

function stateOf(model: NodeModel, vdlHint: Lsn, log: readonly TrueRecord[], rand: () => number): ReplicaState {
  const groups = new Map<GroupId, ReplicaGroupState>();
  for (const [g, scl] of model.scl) {
    const mine = log.filter((r) => r.group === g && model.held.has(r.lsn));
    const above: RecordHeaderInfo[] = mine
      .filter((r) => r.lsn > vdlHint)
      .map((r) => ({ lsn: r.lsn, prevLsnOfGroup: r.prevLsnOfGroup, endsMtr: r.endsMtr }))
      .sort(() => rand() - 0.5); // no order promised
    const below = mine.filter((r) => r.lsn <= vdlHint);
    groups.set(g, {
      scl,
      above,
      lastLsnAtOrBelowHint: below.length === 0 ? INVALID_LSN : below[below.length - 1]!.lsn,
    });
  }
  return { node: model.node, vdlHint, maxLsnSeen: lsn(Math.max(model.maxLsnSeen, vdlHint)), groups };
}

interface Scenario {
  readonly placement: Placement;
  readonly log: readonly TrueRecord[];
  readonly nodes: readonly NodeModel[];
  readonly vdl: Lsn;
  readonly read: readonly NodeModel[];
  readonly states: readonly ReplicaState[];
}

function buildScenario(configIndex: number, mtrs: readonly MtrShape[], seed: number): Scenario {
  const rand = prng(seed);
  const c = CONFIGS[configIndex]!;
  const nodeIds = Array.from({ length: c.nodes }, (_, i) => nodeId(i));
  const placement = computePlacement({ ...c, nodes: nodeIds, groupCount: GROUP_COUNT });
  const log = buildLog(mtrs);
  const nodes = nodeIds.map((n) => simulateNode(n, placement, log, rand));
  const vdl = writerVdl(placement, nodes, log, rand);
  // A VDL hint is a VDL the writer once sent: 0 or a consistency point at or below the last one.
  const hints = [INVALID_LSN, ...log.filter((r) => r.endsMtr && r.lsn <= vdl).map((r) => r.lsn)];
  const readIds = chooseReadSet(placement, rand);
  const read = nodes.filter((n) => readIds.includes(n.node));
  const states = read.map((n) => {
    const hint = rand() < 0.4 ? vdl : hints[Math.floor(rand() * hints.length)]!;
    return stateOf(n, hint, log, rand);
  });
  return { placement, log, nodes, vdl, read, states };
}

function holdersOf(s: Scenario, r: TrueRecord): NodeModel[] {
  return s.read.filter((n) => s.placement.replicas[r.group]!.includes(n.node) && n.held.has(r.lsn));
}

/**
 * Limit(g) from the true log: the best SCL read, then on along the group's
 * records while some replica read holds the next one (all limits are ≥ V0, so
 * every such record is above its holder's hint and was reported as a header).
 */
function expectedLimit(s: Scenario, g: GroupId): number {
  let limit = Math.max(
    ...s.states.map((st) => (s.placement.replicas[g]!.includes(st.node) ? st.groups.get(g)!.scl : 0)),
  );
  for (const r of s.log) {
    if (r.group !== g || r.lsn <= limit) continue;
    if (holdersOf(s, r).length === 0) break;
    limit = r.lsn;
  }
  return limit;
}

/** The properties of design invariant 3 and section 7, checked against the true log. */
function checkPlan(s: Scenario, plan: RecoveryPlan): void {
  const t = plan.truncateLsn;
  const v0 = Math.max(...s.states.map((st) => st.vdlHint));
  expect(plan.fetchFromLsn).toBe(v0);
  // No acknowledged commit is lost.
  expect(t).toBeGreaterThanOrEqual(s.vdl);
  expect(t).toBeGreaterThanOrEqual(v0);
  // T is a consistency point.
  if (t !== 0) expect(s.log.find((r) => r.lsn === t)?.endsMtr).toBe(true);
  // No MTR is half kept.
  const side = new Map<number, boolean>();
  for (const r of s.log) {
    const kept = r.lsn <= t;
    expect(side.get(r.mtr) ?? kept).toBe(kept);
    side.set(r.mtr, kept);
  }
  // Every record kept can be fetched from a replica read; every limit is backed by data.
  for (const r of s.log) {
    if (r.lsn <= plan.groupLimits[r.group]!) expect(holdersOf(s, r).length).toBeGreaterThan(0);
  }
  for (let g = 0; g < GROUP_COUNT; g++) {
    expect(plan.groupLimits[g]).toBe(expectedLimit(s, g as GroupId));
    expect(plan.groupLimits[g]).toBeGreaterThanOrEqual(t);
    const ofGroup = s.log.filter((r) => r.group === g && r.lsn <= t);
    expect(plan.lastLsnOfGroup[g]).toBe(ofGroup.length === 0 ? 0 : ofGroup[ofGroup.length - 1]!.lsn);
  }
  // T is the highest consistency point under the lowest limit (nothing kept is given up needlessly)...
  const low = Math.min(...plan.groupLimits);
  expect(s.log.some((r) => r.endsMtr && r.lsn > t && r.lsn <= low)).toBe(false);
  // ...which is at least the best bound the SCLs read prove on their own.
  const sclBound = Math.min(
    ...s.placement.replicas.map((_, g) => Math.max(...s.states.map((st) => st.groups.get(g as GroupId)?.scl ?? 0))),
  );
  const bestBySclOnly = Math.max(0, ...s.log.filter((r) => r.endsMtr && r.lsn <= sclBound).map((r) => r.lsn));
  expect(t).toBeGreaterThanOrEqual(bestBySclOnly);
  // LSNs are never reused.
  for (const n of s.read) for (const held of n.held) expect(plan.nextLsn).toBeGreaterThan(held);
  for (const st of s.states) expect(plan.nextLsn).toBeGreaterThan(st.maxLsnSeen);
  expect(plan.nextLsn).toBeGreaterThan(t);
}

const mtrArb = fc.record({
  gap: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3 })),
  pages: fc.array(fc.integer({ min: 0, max: PAGES.length - 1 }), { minLength: 1, maxLength: 4 }),
});

describe("chooseRecovery against a model of lossy replicas", () => {
  it("keeps every acknowledged commit, splits no MTR, and needs only records a replica read holds", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: CONFIGS.length - 1 }),
        fc.array(mtrArb, { maxLength: 40, size: "max" }),
        fc.integer(),
        (config, mtrs, seed) => {
          const s = buildScenario(config, mtrs, seed);
          checkPlan(s, chooseRecovery(s.placement, s.states));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("does not depend on the order of the states", () => {
    fc.assert(
      fc.property(fc.array(mtrArb, { minLength: 1, maxLength: 25 }), fc.integer(), (mtrs, seed) => {
        const s = buildScenario(2, mtrs, seed);
        const plan = chooseRecovery(s.placement, s.states);
        expect(chooseRecovery(s.placement, [...s.states].reverse())).toEqual(plan);
      }),
      { numRuns: 100 },
    );
  });

  it("with no loss, keeps the whole log", () => {
    fc.assert(
      fc.property(fc.array(mtrArb, { minLength: 1, maxLength: 25 }), (mtrs) => {
        const log = buildLog(mtrs);
        const placement = computePlacement({
          nodes: [nodeId(0), nodeId(1), nodeId(2)],
          groupCount: GROUP_COUNT,
          replicaCount: 3,
          writeQuorum: 2,
        });
        const last = log[log.length - 1]!.lsn;
        // Every node holds everything, the writer never sent a VDL: all records come back as headers.
        const states = [nodeId(0), nodeId(1)].map((node) =>
          stateOf(
            {
              node,
              held: new Set(log.map((r) => r.lsn)),
              scl: new Map(placement.groupsOfNode.get(node)!.map((g) => [g, last])),
              maxLsnSeen: last,
            },
            INVALID_LSN,
            log,
            prng(1),
          ),
        );
        const plan = chooseRecovery(placement, states);
        expect(plan.truncateLsn).toBe(last);
        expect(plan.nextLsn).toBe(last + 1);
      }),
      { numRuns: 50 },
    );
  });
});

// ---------------------------------------------------------------------------
// Hand-made cases.
// ---------------------------------------------------------------------------

const N3 = computePlacement({
  nodes: [nodeId(0), nodeId(1), nodeId(2)],
  groupCount: 2,
  replicaCount: 3,
  writeQuorum: 2,
});
const G0 = 0 as GroupId;
const G1 = 1 as GroupId;

function h(l: number, prev: number, endsMtr = false): RecordHeaderInfo {
  return { lsn: lsn(l), prevLsnOfGroup: lsn(prev), endsMtr };
}

function groupState(scl: number, above: RecordHeaderInfo[] = [], lastBelow = 0): ReplicaGroupState {
  return { scl: lsn(scl), above, lastLsnAtOrBelowHint: lsn(lastBelow) };
}

function state(node: number, groups: [GroupId, ReplicaGroupState][], vdlHint = 0, maxLsnSeen = 0): ReplicaState {
  return { node: nodeId(node), vdlHint: lsn(vdlHint), maxLsnSeen: lsn(maxLsnSeen), groups: new Map(groups) };
}

const empty = (node: number) =>
  state(node, [
    [G0, groupState(0)],
    [G1, groupState(0)],
  ]);

describe("chooseRecovery", () => {
  it("starts a fresh volume at LSN 1", () => {
    expect(chooseRecovery(N3, [empty(0), empty(1)])).toEqual({
      truncateLsn: 0,
      fetchFromLsn: 0,
      nextLsn: 1,
      lastLsnOfGroup: [0, 0],
      groupLimits: [0, 0],
    });
  });

  it("follows back-links across replicas and stops at the first gap", () => {
    // Log: 1(g0) 2(g1)* | 3(g0) 4(g0)* | 5(g1) 6(g0)* | 7(g1)*   (* ends an MTR)
    // Node 0 has everything through 2 and then 4; node 1 has through 3, then 6 and 7.
    const n0 = state(0, [
      [G0, groupState(2, [h(1, 0), h(4, 3, true)])],
      [G1, groupState(2, [h(2, 0, true)])],
    ]);
    const n1 = state(1, [
      [G0, groupState(3, [h(1, 0), h(3, 1), h(6, 4, true)])],
      [G1, groupState(3, [h(2, 0, true), h(7, 5, true)])],
    ]);
    const plan = chooseRecovery(N3, [n0, n1]);
    // g0: SCL 3, then 4 (prev 3), then 6 (prev 4). g1: SCL 3; 7 links to 5, which nobody has.
    expect(plan.groupLimits).toEqual([6, 3]);
    expect(plan.truncateLsn).toBe(2); // 3 is not a consistency point; 4 is above g1's limit
    expect(plan.lastLsnOfGroup).toEqual([1, 2]);
    expect(plan.nextLsn).toBe(8);
  });

  it("uses the VDL hint as a consistency point and the summary of records below it", () => {
    // g0: 4, 9, 12*   g1: 3, 8, 10*, 11   (10 is a VDL the writer sent to node 0)
    const n0 = state(
      0,
      [
        [G0, groupState(10, [h(12, 9, true)], 9)],
        [G1, groupState(10, [], 10)],
      ],
      10,
      12,
    );
    const n1 = state(
      1,
      [
        [G0, groupState(4, [], 4)],
        [G1, groupState(11, [h(8, 3), h(10, 8, true), h(11, 10)], 3)],
      ],
      5,
      11,
    );
    const plan = chooseRecovery(N3, [n0, n1]);
    expect(plan.fetchFromLsn).toBe(10);
    expect(plan.groupLimits).toEqual([12, 11]);
    expect(plan.truncateLsn).toBe(10); // 12 ends an MTR but is above g1's limit
    expect(plan.lastLsnOfGroup).toEqual([9, 10]);
    expect(plan.nextLsn).toBe(13);
  });

  it("ignores group states from nodes that do not host the group", () => {
    const placement = computePlacement({
      nodes: [nodeId(0), nodeId(1), nodeId(2), nodeId(3)],
      groupCount: 4,
      replicaCount: 3,
      writeQuorum: 2,
    });
    const g = 0 as GroupId;
    const outsider = [0, 1, 2, 3].find((n) => !placement.replicas[g]!.includes(nodeId(n)))!;
    const states = [0, 1, 2, 3].map((n) =>
      state(
        n,
        placement.groupsOfNode.get(nodeId(n))!.map((x) => [x, groupState(0)] as [GroupId, ReplicaGroupState]),
      ),
    );
    // The outsider claims a long chain for g: a stale copy must not raise the limit.
    const stale = states[outsider]!.groups as Map<GroupId, ReplicaGroupState>;
    stale.set(g, groupState(50, [h(51, 50, true)]));
    const plan = chooseRecovery(placement, states);
    expect(plan.groupLimits[g]).toBe(0);
    expect(plan.truncateLsn).toBe(0);
    expect(plan.nextLsn).toBe(52); // still never reuses an LSN anyone has seen
    // Without a second real replica of g the outsider does not make up the read quorum.
    const others = placement.replicas[g]!.slice(1);
    expect(() =>
      chooseRecovery(
        placement,
        states.filter((s) => !others.includes(s.node)),
      ),
    ).toThrow(/group 0/);
  });

  it("throws RecoveryError naming a group with too few replicas read", () => {
    expect(() => chooseRecovery(N3, [empty(0)])).toThrow(RecoveryError);
    expect(() => chooseRecovery(N3, [empty(0)])).toThrow(/group 0: read 1 of the 2/);
    expect(() => chooseRecovery(N3, [])).toThrow(RecoveryError);
    // Node 1 answered, but not for group 1.
    const partial = state(1, [[G0, groupState(0)]]);
    expect(() => chooseRecovery(N3, [empty(0), partial])).toThrow(/group 1: read 1 of the 2/);
    const five = computePlacement({
      nodes: [0, 1, 2, 3, 4].map(nodeId),
      groupCount: 1,
      replicaCount: 5,
      writeQuorum: 3,
    });
    const all = (n: number) => state(n, [[G0, groupState(0)]]);
    expect(() => chooseRecovery(five, [all(0), all(1)])).toThrow(/group 0: read 2 of the 3/);
    expect(chooseRecovery(five, [all(0), all(1), all(4)]).truncateLsn).toBe(0);
  });

  it("throws RecoveryError on states that contradict each other", () => {
    // A VDL hint above what the replicas read can prove.
    expect(() =>
      chooseRecovery(N3, [
        state(
          0,
          [
            [G0, groupState(3)],
            [G1, groupState(9)],
          ],
          5,
        ),
        empty(1),
      ]),
    ).toThrow(/group 0 is known only through 0\/3, below the VDL hint 0\/5/);
    // Two different records at one LSN.
    const a = state(0, [
      [G0, groupState(0, [h(1, 0, true)])],
      [G1, groupState(0)],
    ]);
    const b = state(1, [
      [G0, groupState(0, [h(1, 0, false)])],
      [G1, groupState(0)],
    ]);
    expect(() => chooseRecovery(N3, [a, b])).toThrow(/disagree on record/);
    // A back-link that points forward.
    expect(() =>
      chooseRecovery(N3, [
        state(0, [
          [G0, groupState(0, [h(2, 2)])],
          [G1, groupState(0)],
        ]),
        empty(1),
      ]),
    ).toThrow(RecoveryError);
    // A summary of records below the hint that is above it.
    expect(() =>
      chooseRecovery(N3, [
        state(
          0,
          [
            [G0, groupState(0, [], 4)],
            [G1, groupState(0)],
          ],
          3,
        ),
        empty(1),
      ]),
    ).toThrow(/above its VDL hint/);
    // The same node twice would count twice towards the quorum.
    expect(() => chooseRecovery(N3, [empty(0), empty(0)])).toThrow(/two states for node 0/);
  });
});
