import type { GroupId, NodeId } from "./ids.js";
import { INVALID_LSN, LSN_MAX, type Lsn, formatLsn, lsnMax, lsnNext } from "./lsn.js";
import type { Placement } from "./placement.js";

/**
 * The writer change's choice (design section 7, steps 2–3 and 6) as a pure
 * function of what `GetState` returned: no I/O, so it can be property-tested
 * against a model of lossy replicas (recovery.test.ts).
 *
 * Why it is safe, in short. A VDL the old writer acknowledged had every record
 * at or below it on W replicas of its group, with SCL(g) >= it on W replicas
 * (SCLs never go back; a truncation never goes below a VDL). Reading N−W+1
 * replicas of every group meets each of those quorums, so:
 *  - max SCL(g) over the replicas read is >= every VDL ever acknowledged;
 *  - every record above V0 (the highest VDL hint read) that is on a quorum is
 *    held by a replica read whose hint is below it, so its header was returned.
 * Hence the chain-extended limits are >= the acknowledged VDL, and the highest
 * consistency point below all of them loses no acknowledged commit, splits no
 * MTR, and needs only records that some replica read holds.
 */

/** A record header as `GetState` reports it. */
export interface RecordHeaderInfo {
  readonly lsn: Lsn;
  readonly prevLsnOfGroup: Lsn;
  readonly endsMtr: boolean;
}

/** One replica's view of one group. */
export interface ReplicaGroupState {
  /** The replica holds every record of the group with LSN <= scl. */
  readonly scl: Lsn;
  /** Every record it holds for the group with LSN > its vdlHint, in any order, gaps allowed. */
  readonly above: readonly RecordHeaderInfo[];
  /** Newest record it holds for the group at or below its vdlHint (0 if none). */
  readonly lastLsnAtOrBelowHint: Lsn;
}

/** What one fenced storage node returned from `GetState`. */
export interface ReplicaState {
  readonly node: NodeId;
  readonly vdlHint: Lsn;
  readonly maxLsnSeen: Lsn;
  readonly groups: ReadonlyMap<GroupId, ReplicaGroupState>; // the groups this replica hosts
}

export interface RecoveryPlan {
  /** T: records above it are dropped everywhere. */
  readonly truncateLsn: Lsn;
  /** V0 = max vdlHint read: records in (V0, T] must be re-sent so they reach their write quorum. */
  readonly fetchFromLsn: Lsn;
  /** First LSN the new writer may assign: above every LSN any replica read has seen. */
  readonly nextLsn: Lsn;
  /** Indexed by GroupId: newest record of the group with LSN <= T (0 if none). */
  readonly lastLsnOfGroup: readonly Lsn[];
  /** Per group: the chain-extended limit (everything of the group up to it is held by a replica read). */
  readonly groupLimits: readonly Lsn[];
}

/** The states read cannot support a safe choice: too few replicas, or contradictory inputs. */
export class RecoveryError extends Error {
  override name = "RecoveryError";
}

/** The replicas read for one group, and the union of their headers (ascending, one per LSN). */
interface GroupView {
  readonly replicas: readonly ReplicaGroupState[];
  readonly headers: readonly RecordHeaderInfo[];
}

export function chooseRecovery(placement: Placement, states: readonly ReplicaState[]): RecoveryPlan {
  const views = groupViews(placement, states);
  let v0 = INVALID_LSN;
  for (const s of states) v0 = lsnMax(v0, s.vdlHint);
  const groupLimits = views.map(groupLimit);
  let low = LSN_MAX;
  let lowGroup = -1;
  groupLimits.forEach((limit, g) => {
    if (limit < low) [low, lowGroup] = [limit, g];
  });
  // V0 is a past VDL, so quorum intersection puts every limit at or above it.
  // If not, the states contradict each other (e.g. a replica that lost data).
  if (v0 > low) {
    throw new RecoveryError(
      `group ${lowGroup} is known only through ${formatLsn(low)}, below the VDL hint ${formatLsn(v0)}`,
    );
  }
  const truncateLsn = truncationPoint(views, v0, low);
  return {
    truncateLsn,
    fetchFromLsn: v0,
    nextLsn: nextLsnAfter(states, truncateLsn),
    lastLsnOfGroup: views.map((view) => lastLsnAtOrBelow(view, truncateLsn)),
    groupLimits,
  };
}

/** Per group, the states of its replicas that were read; enforces the read quorum N−W+1. */
function groupViews(placement: Placement, states: readonly ReplicaState[]): GroupView[] {
  const byNode = new Map<NodeId, ReplicaState>();
  for (const s of states) {
    // Two answers from one node would count it twice towards the read quorum.
    if (byNode.has(s.node)) throw new RecoveryError(`two states for node ${s.node}`);
    byNode.set(s.node, s);
  }
  const { replicaCount, writeQuorum } = placement.config;
  const needed = replicaCount - writeQuorum + 1;
  return placement.replicas.map((nodes, g) => {
    const group = g as GroupId;
    const replicas: ReplicaGroupState[] = [];
    // Only the group's replicas count: another node's copy could be stale
    // (left over from an old placement) and is not part of any write quorum.
    for (const node of nodes) {
      const replica = byNode.get(node);
      const state = replica?.groups.get(group);
      if (replica === undefined || state === undefined) continue;
      // Its records at or below the hint are summarized, not listed: the summary must stay there.
      if (state.lastLsnAtOrBelowHint > replica.vdlHint) {
        throw new RecoveryError(`group ${g}: node ${node} reports a record above its VDL hint as below it`);
      }
      replicas.push(state);
    }
    if (replicas.length < needed) {
      throw new RecoveryError(`group ${g}: read ${replicas.length} of the ${needed} replicas needed`);
    }
    return { replicas, headers: mergeHeaders(group, replicas) };
  });
}

/** Union of the replicas' headers, ascending by LSN; replicas must agree on each record. */
function mergeHeaders(group: GroupId, replicas: readonly ReplicaGroupState[]): RecordHeaderInfo[] {
  const byLsn = new Map<Lsn, RecordHeaderInfo>();
  for (const replica of replicas) {
    for (const h of replica.above) {
      if (h.prevLsnOfGroup >= h.lsn) {
        throw new RecoveryError(`group ${group}: record ${formatLsn(h.lsn)} links forward`);
      }
      const seen = byLsn.get(h.lsn);
      // Two different records at one LSN means a replica kept records a
      // previous truncation should have dropped: no choice would be safe.
      if (seen !== undefined && (seen.prevLsnOfGroup !== h.prevLsnOfGroup || seen.endsMtr !== h.endsMtr)) {
        throw new RecoveryError(`group ${group}: replicas disagree on record ${formatLsn(h.lsn)}`);
      }
      byLsn.set(h.lsn, h);
    }
  }
  return [...byLsn.values()].sort((a, b) => a.lsn - b.lsn);
}

/**
 * Limit(g): from the best SCL read, follow the back-links upward. A header
 * whose previous record of the group is at or below the limit proves there is
 * nothing of the group in between, so the limit moves to it. The first header
 * that does not link means a record in between is on no replica read: stop.
 */
function groupLimit(view: GroupView): Lsn {
  let limit = INVALID_LSN;
  for (const r of view.replicas) limit = lsnMax(limit, r.scl);
  for (const h of view.headers) {
    if (h.lsn <= limit) continue;
    if (h.prevLsnOfGroup > limit) break;
    limit = h.lsn;
  }
  return limit;
}

/**
 * T: the highest consistency point at or below every group's limit. V0 is one
 * (a past VDL); above it, a consistency point ≤ L is the end of an MTR whose
 * header some replica read returned.
 */
function truncationPoint(views: readonly GroupView[], v0: Lsn, low: Lsn): Lsn {
  let t = v0;
  for (const view of views) {
    for (const h of view.headers) {
      if (h.endsMtr && h.lsn > t && h.lsn <= low) t = h.lsn;
    }
  }
  return t;
}

/**
 * The new writer's back-link for its first record in the group. Records at or
 * below a replica's hint are summarized by lastLsnAtOrBelowHint (≤ V0 ≤ T);
 * above it, the headers are complete up to T, since T ≤ Limit(g).
 */
function lastLsnAtOrBelow(view: GroupView, t: Lsn): Lsn {
  let last = INVALID_LSN;
  for (const r of view.replicas) last = lsnMax(last, r.lastLsnAtOrBelowHint); // ≤ its hint ≤ V0 ≤ T
  for (const h of view.headers) if (h.lsn <= t) last = lsnMax(last, h.lsn);
  return last;
}

/**
 * An LSN is never reused (design section 7 step 6): a replica may hold records
 * above T that it drops only later, and a stale copy must never be mistaken for
 * a new record with the same LSN. So start above everything any state shows.
 */
function nextLsnAfter(states: readonly ReplicaState[], t: Lsn): Lsn {
  let high = t;
  for (const s of states) {
    high = lsnMax(high, lsnMax(s.maxLsnSeen, s.vdlHint));
    for (const g of s.groups.values()) {
      high = lsnMax(high, lsnMax(g.scl, g.lastLsnAtOrBelowHint));
      for (const h of g.above) high = lsnMax(high, h.lsn);
    }
  }
  return lsnNext(high);
}
