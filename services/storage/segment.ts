import { assert } from "../common/assert.js";
import type { GroupId } from "../common/ids.js";
import { INVALID_LSN, type Lsn, formatLsn, lsnMax, lsnMin } from "../common/lsn.js";

/**
 * Per-node bookkeeping of the log (docs/log-protocol.md §3), pure: no I/O.
 *
 * For every hosted group the node keeps its SCL, the headers of the records
 * it holds above the SCL (gaps below them are not filled yet), and "covered"
 * intervals (a, b]: ranges in which the node is known to hold *every* record
 * of the group. A stream of contiguous batches covers (streamFrom, T]; a
 * complete ReadLog answer from a peer covers (after, min(peer SCL, through)].
 *
 * Rules, applied until nothing changes:
 *  - chain: the lowest held record r above SCL with r.prevLsnOfGroup <= SCL
 *    extends SCL to r.lsn (nothing of the group lies between);
 *  - cover: an interval (a, b] with a <= SCL < b extends SCL to b (this is the
 *    stream rule "SCL >= streamFrom ⇒ SCL = max(SCL, T)", generalized so that
 *    a repair can close the gap below a stream after the fact).
 * Both only ever use facts about records actually held, so SCL never passes a
 * missing record of its group.
 */
export interface HeldHeader {
  readonly lsn: Lsn;
  readonly prevLsnOfGroup: Lsn;
  readonly endsMtr: boolean;
}

/** What is missing for a group: the records in (after, through]. */
export interface Gap {
  readonly group: GroupId;
  readonly after: Lsn;
  readonly through: Lsn;
}

interface Interval {
  from: Lsn; // exclusive
  to: Lsn; // inclusive
}

/** Intervals kept per group; beyond this the lowest are forgotten (losing knowledge is always safe). */
const INTERVALS_PER_GROUP_MAX = 64;

class GroupSegment {
  scl: Lsn;
  /** Held records above `scl`, ascending by LSN. */
  readonly held: HeldHeader[] = [];
  /** Disjoint, non-adjacent, ascending; every `to` > `scl`. */
  covered: Interval[] = [];

  constructor(scl: Lsn) {
    this.scl = scl;
  }

  indexOf(lsn: Lsn): number {
    let lo = 0;
    let hi = this.held.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.held[mid]!.lsn < lsn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  holds(lsn: Lsn): boolean {
    if (lsn <= this.scl) return true;
    const i = this.indexOf(lsn);
    return i < this.held.length && this.held[i]!.lsn === lsn;
  }

  hold(header: HeldHeader): boolean {
    if (header.lsn <= this.scl) return false;
    const i = this.indexOf(header.lsn);
    if (i < this.held.length && this.held[i]!.lsn === header.lsn) return false;
    this.held.splice(i, 0, header);
    return true;
  }

  cover(from: Lsn, to: Lsn): void {
    if (to <= from || to <= this.scl) return;
    const merged: Interval[] = [];
    let next: Interval = { from, to };
    for (const iv of this.covered) {
      if (iv.to < next.from) merged.push(iv);
      else if (next.to < iv.from) {
        merged.push(next);
        next = iv;
      } else next = { from: lsnMin(iv.from, next.from), to: lsnMax(iv.to, next.to) };
    }
    merged.push(next);
    this.covered = merged.length > INTERVALS_PER_GROUP_MAX ? merged.slice(-INTERVALS_PER_GROUP_MAX) : merged;
  }

  /** Applies the chain and cover rules until neither moves SCL; true when SCL moved. */
  advance(): boolean {
    const before = this.scl;
    for (;;) {
      const first = this.held[0];
      if (first !== undefined && first.prevLsnOfGroup <= this.scl) {
        this.scl = first.lsn;
        this.held.shift();
        continue;
      }
      const iv = this.covered.find((c) => c.from <= this.scl && this.scl < c.to);
      if (iv === undefined) break;
      this.scl = iv.to;
      this.dropHeldThroughScl();
    }
    this.covered = this.covered.filter((c) => c.to > this.scl);
    return this.scl !== before;
  }

  private dropHeldThroughScl(): void {
    const i = this.indexOf((this.scl + 1) as Lsn);
    if (i > 0) this.held.splice(0, i);
  }

  truncate(t: Lsn): void {
    this.scl = lsnMin(this.scl, t);
    const i = this.indexOf((t + 1) as Lsn);
    this.held.splice(i);
    this.covered = this.covered
      .map((c) => ({ from: c.from, to: lsnMin(c.to, t) }))
      .filter((c) => c.from < c.to && c.to > this.scl);
  }

  gap(): { after: Lsn; through: Lsn } | undefined {
    const firstInterval = this.covered[0];
    if (firstInterval !== undefined && firstInterval.from > this.scl) {
      return { after: this.scl, through: firstInterval.from };
    }
    const last = this.held[this.held.length - 1];
    if (last !== undefined) return { after: this.scl, through: last.lsn };
    return undefined;
  }
}

export class Segment {
  private readonly groups = new Map<GroupId, GroupSegment>();

  /** `scls`: every group the node has state for (hosted or not). */
  constructor(scls: Iterable<readonly [GroupId, Lsn]> = []) {
    for (const [g, scl] of scls) this.groups.set(g, new GroupSegment(scl));
  }

  /** Starts tracking `group` (a newly hosted group starts at SCL 0: everything is missing). */
  addGroup(group: GroupId, scl: Lsn = INVALID_LSN): void {
    if (!this.groups.has(group)) this.groups.set(group, new GroupSegment(scl));
  }

  has(group: GroupId): boolean {
    return this.groups.has(group);
  }

  groupIds(): GroupId[] {
    return [...this.groups.keys()].sort((a, b) => a - b);
  }

  scl(group: GroupId): Lsn {
    return this.get(group).scl;
  }

  /** Every group's SCL, ascending by group. */
  scls(): Map<GroupId, Lsn> {
    return new Map(this.groupIds().map((g) => [g, this.get(g).scl]));
  }

  /** Whether the node holds record `lsn` of `group` (at or below SCL, every record is held). */
  holds(group: GroupId, lsn: Lsn): boolean {
    return this.get(group).holds(lsn);
  }

  /** Notes a record as held; false when it was already held (resends are idempotent). */
  hold(group: GroupId, header: HeldHeader): boolean {
    assert(header.prevLsnOfGroup < header.lsn, () => `record ${formatLsn(header.lsn)} links forward`);
    return this.get(group).hold(header);
  }

  /** The node now holds every record of `group` in (from, to]. Call only after they are held. */
  cover(group: GroupId, from: Lsn, to: Lsn): void {
    this.get(group).cover(from, to);
  }

  /** Re-applies the SCL rules to `group`; true when its SCL moved. */
  advance(group: GroupId): boolean {
    return this.get(group).advance();
  }

  /** Records above `t` are gone: SCL(g) = min(SCL(g), t) and nothing above t is held or covered. */
  truncate(t: Lsn): void {
    for (const g of this.groups.values()) g.truncate(t);
  }

  /** The hole below what the node already holds for `group`, if any. */
  gap(group: GroupId): Gap | undefined {
    const gap = this.get(group).gap();
    return gap === undefined ? undefined : { group, ...gap };
  }

  /** Headers held above SCL(group), ascending. */
  heldAbove(group: GroupId): readonly HeldHeader[] {
    return this.get(group).held;
  }

  heldCount(): number {
    let n = 0;
    for (const g of this.groups.values()) n += g.held.length;
    return n;
  }

  private get(group: GroupId): GroupSegment {
    const g = this.groups.get(group);
    assert(g !== undefined, () => `group ${group} is not tracked by this node`);
    return g;
  }
}
