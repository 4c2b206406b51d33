import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type GroupId, groupId } from "../common/ids.js";
import type { Lsn } from "../common/lsn.js";
import { Segment } from "./segment.js";

/** A writer's log: LSNs ascending, each record in one group, back-linked per group. */
interface ModelRecord {
  lsn: Lsn;
  group: GroupId;
  prevLsnOfGroup: Lsn;
}

function buildLog(spec: readonly { step: number; group: number }[]): ModelRecord[] {
  const last = new Map<number, number>();
  let lsn = 0;
  return spec.map(({ step, group }) => {
    lsn += step;
    const prev = last.get(group) ?? 0;
    last.set(group, lsn);
    return { lsn: lsn as Lsn, group: groupId(group), prevLsnOfGroup: prev as Lsn };
  });
}

const GROUPS = [0, 1, 2, 3].map(groupId);

/** A delivery: a stream of contiguous batches from P, or one group's repair-like range. */
type Delivery =
  | { kind: "stream"; start: number; cuts: number[] }
  | { kind: "range"; group: number; from: number; to: number; cover: boolean }
  | { kind: "stray"; picks: number[] };

const deliveryArb = (maxLsn: number): fc.Arbitrary<Delivery> =>
  fc.oneof(
    fc.record({
      kind: fc.constant("stream" as const),
      start: fc.nat({ max: maxLsn }),
      cuts: fc.array(fc.nat({ max: maxLsn }), { maxLength: 5 }),
    }),
    fc.record({
      kind: fc.constant("range" as const),
      group: fc.nat({ max: GROUPS.length - 1 }),
      from: fc.nat({ max: maxLsn }),
      to: fc.nat({ max: maxLsn }),
      cover: fc.boolean(),
    }),
    fc.record({ kind: fc.constant("stray" as const), picks: fc.array(fc.nat(), { maxLength: 6 }) }),
  );

class Harness {
  readonly segment = new Segment(GROUPS.map((g) => [g, 0 as Lsn] as const));
  readonly delivered = new Set<number>(); // LSNs the node really holds

  constructor(readonly log: readonly ModelRecord[]) {}

  private hold(r: ModelRecord): void {
    this.delivered.add(r.lsn);
    this.segment.hold(r.group, { lsn: r.lsn, prevLsnOfGroup: r.prevLsnOfGroup, endsMtr: false });
  }

  /** One batch (P, T]: every record of every group in it, then the cover and the rules. */
  batch(from: number, to: number, streamFrom: number): void {
    for (const r of this.log) if (r.lsn > from && r.lsn <= to) this.hold(r);
    for (const g of GROUPS) {
      this.segment.cover(g, streamFrom as Lsn, to as Lsn);
      this.segment.advance(g);
    }
  }

  apply(d: Delivery): void {
    if (d.kind === "stream") {
      let p = d.start;
      for (const cut of [...d.cuts].sort((a, b) => a - b)) {
        if (cut < p) continue;
        this.batch(p, cut, d.start);
        p = cut;
      }
      return;
    }
    if (d.kind === "range") {
      const [from, to] = d.from <= d.to ? [d.from, d.to] : [d.to, d.from];
      const g = GROUPS[d.group]!;
      // A repair asks from the current SCL; only a request from SCL may claim a cover.
      const after = (d.cover ? this.segment.scl(g) : from) as Lsn;
      for (const r of this.log) if (r.group === g && r.lsn > after && r.lsn <= to) this.hold(r);
      if (d.cover) this.segment.cover(g, after, to as Lsn);
      this.segment.advance(g);
      return;
    }
    for (const pick of d.picks) {
      const r = this.log[pick % Math.max(1, this.log.length)];
      if (r === undefined) continue;
      this.hold(r);
      this.segment.advance(r.group);
    }
  }

  /** Nothing of g at or below SCL(g) is missing. */
  checkSafe(): void {
    for (const g of GROUPS) {
      const scl = this.segment.scl(g);
      for (const r of this.log) {
        if (r.group === g && r.lsn <= scl)
          expect(this.delivered.has(r.lsn), `g${g} lsn ${r.lsn} <= SCL ${scl}`).toBe(true);
      }
      for (const h of this.segment.heldAbove(g)) expect(h.lsn).toBeGreaterThan(scl);
    }
  }
}

const logArb = fc
  .array(fc.record({ step: fc.integer({ min: 1, max: 3 }), group: fc.nat({ max: GROUPS.length - 1 }) }), {
    minLength: 0,
    maxLength: 40,
  })
  .map(buildLog);

describe("Segment", () => {
  it("never lets SCL pass a missing record, whatever is lost, duplicated or reordered", () => {
    fc.assert(
      fc.property(
        logArb.chain((log) => {
          const maxLsn = (log[log.length - 1]?.lsn ?? 0) + 3;
          return fc.tuple(fc.constant(log), fc.array(deliveryArb(maxLsn), { maxLength: 12 }));
        }),
        ([log, deliveries]) => {
          const h = new Harness(log);
          for (const d of deliveries) {
            h.apply(d);
            h.checkSafe();
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it("reaches T after a full delivery following any history", () => {
    fc.assert(
      fc.property(
        logArb.chain((log) => {
          const maxLsn = (log[log.length - 1]?.lsn ?? 0) + 3;
          return fc.tuple(fc.constant(log), fc.array(deliveryArb(maxLsn), { maxLength: 8 }), fc.constant(maxLsn));
        }),
        ([log, deliveries, t]) => {
          const h = new Harness(log);
          for (const d of deliveries) h.apply(d);
          h.batch(0, t, 0);
          for (const g of GROUPS) expect(h.segment.scl(g)).toBe(t);
          h.checkSafe();
        },
      ),
      { numRuns: 200 },
    );
  });

  it("closes a gap below a stream once a repair covers it, then jumps to the stream's T", () => {
    const log = buildLog([
      { step: 1, group: 0 },
      { step: 1, group: 1 },
      { step: 1, group: 0 },
      { step: 1, group: 0 },
    ]); // g0: 1, 3, 4; g1: 2
    const h = new Harness(log);
    h.batch(0, 1, 0); // stream 1 delivers (0, 1]
    h.batch(3, 10, 3); // stream 2 starts at 3: record 3 is lost
    const g0 = GROUPS[0]!;
    expect(h.segment.scl(g0)).toBe(1);
    expect(h.segment.gap(g0)).toEqual({ group: g0, after: 1, through: 3 });
    expect(h.segment.scl(GROUPS[1]!)).toBe(1); // g1's record 2 was never sent to it either
    h.apply({ kind: "range", group: 0, from: 0, to: 3, cover: true });
    expect(h.segment.scl(g0)).toBe(10);
    expect(h.segment.gap(g0)).toBeUndefined();
  });

  it("advances by the chain alone when no cover is known", () => {
    const s = new Segment([[groupId(0), 0 as Lsn]]);
    const g = groupId(0);
    s.hold(g, { lsn: 7 as Lsn, prevLsnOfGroup: 5 as Lsn, endsMtr: true });
    s.advance(g);
    expect(s.scl(g)).toBe(0);
    s.hold(g, { lsn: 5 as Lsn, prevLsnOfGroup: 0 as Lsn, endsMtr: false });
    s.advance(g);
    expect(s.scl(g)).toBe(7);
    expect(s.hold(g, { lsn: 5 as Lsn, prevLsnOfGroup: 0 as Lsn, endsMtr: false })).toBe(false);
  });

  it("truncation lowers SCL and forgets records and covers above T", () => {
    const g = groupId(0);
    const s = new Segment([[g, 0 as Lsn]]);
    s.hold(g, { lsn: 2 as Lsn, prevLsnOfGroup: 0 as Lsn, endsMtr: true });
    s.cover(g, 0 as Lsn, 5 as Lsn);
    s.advance(g);
    s.hold(g, { lsn: 9 as Lsn, prevLsnOfGroup: 8 as Lsn, endsMtr: true });
    s.cover(g, 8 as Lsn, 12 as Lsn);
    expect(s.scl(g)).toBe(5);
    s.truncate(3 as Lsn);
    expect(s.scl(g)).toBe(3);
    expect(s.heldAbove(g)).toEqual([]);
    expect(s.gap(g)).toBeUndefined();
  });
});
