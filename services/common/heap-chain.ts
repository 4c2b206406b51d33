import {
  HEAP_HOT_UPDATED,
  HEAP_ONLY_TUPLE,
  type HeapPruneChanges,
  type HeapTupleHeader,
  NO_SLOT,
  heapHotLink,
  heapRedirectTarget,
  heapSlotCount,
  heapSlotState,
  heapSlotUsed,
  heapTupleHeader,
} from "./heap-page.js";

/**
 * HOT chains (heap-only tuples), PostgreSQL's design: an UPDATE that changes
 * no indexed column and fits on the old version's page puts the new version
 * there as a heap-only tuple linked from the old one, and adds no index
 * entry. Index entries name the chain's root slot; readers walk the chain.
 * Pruning (on access, or by VACUUM) cuts the dead versions off the front of
 * a chain: the root then redirects to the first version kept.
 */

/**
 * The versions of the HOT chain rooted at `root`, oldest first: [] when the
 * slot is unused or holds a heap-only tuple (not a root: the slot was freed
 * and used again since an index entry named it). Follows a redirect, then
 * HOT links while the next version is heap-only and was inserted by the
 * transaction that updated the previous one (PostgreSQL's xmin = prior
 * xmax check, which catches a link to a slot freed and used again).
 */
export function hotChain(page: Uint8Array, root: number): number[] {
  const state = heapSlotState(page, root);
  if (state === "unused") return [];
  let slot = root;
  if (state === "redirect") {
    slot = heapRedirectTarget(page, root);
  } else if ((heapTupleHeader(page, root).infomask & HEAP_ONLY_TUPLE) !== 0) {
    return [];
  }
  const members: number[] = [];
  const limit = heapSlotCount(page);
  let priorXmax: number | undefined;
  while (members.length < limit && heapSlotUsed(page, slot)) {
    const h = heapTupleHeader(page, slot);
    if (slot !== root) {
      if ((h.infomask & HEAP_ONLY_TUPLE) === 0) break;
      if (priorXmax !== undefined && h.xmin !== priorXmax) break;
    }
    members.push(slot);
    const next = heapHotLink(page, slot);
    if ((h.infomask & HEAP_HOT_UPDATED) === 0 || next === NO_SLOT) break;
    priorXmax = h.xmax;
    slot = next;
  }
  return members;
}

/**
 * What a prune may do with a version, decided by the caller from commit
 * status and the global xmin: "dead" (no snapshot can see it, now or
 * later), "recentlyDead" (deleted or updated by a transaction that is running
 * or committed too recently: a snapshot may still see it), "live" (not
 * deleted, its deleter aborted, or its status is not known: the caller must
 * say "live" when unsure).
 */
export type VersionFate = "dead" | "recentlyDead" | "live";

/** A chain with every version dead: its root's index entries must go before its slots can be freed. */
export interface DeadChain {
  readonly root: number;
  /** A version holding the row's bytes; every version of a chain has the same indexed values. */
  readonly keySlot: number;
  /** Freed once the index entries are gone: the root and every version. */
  readonly slots: readonly number[];
}

export interface PrunePlan extends HeapPruneChanges {
  readonly deadChains: readonly DeadChain[];
  /** Tuples whose bytes the changes free. */
  readonly freedTuples: number;
}

/**
 * Plans one page's prune (PostgreSQL's heap_page_prune). Each chain is walked
 * from its root up to the first live version; every version up to the last
 * dead one is removable (a newer version being dead means the older ones
 * are too, whatever their own xmax says). The root then redirects to the
 * first version kept, and removed heap-only versions become unused. A chain
 * whose every version is dead keeps its newest version (the bytes VACUUM
 * needs to find the index entries) and is listed in `deadChains`; when its
 * root is in `cleaned` (VACUUM removed its index entries), all of its slots
 * become unused instead. Heap-only tuples no chain reaches (the new half of
 * an aborted update) become unused once dead.
 */
export function planHeapPrune(
  page: Uint8Array,
  fate: (h: HeapTupleHeader) => VersionFate,
  cleaned: ReadonlySet<number> = new Set(),
): PrunePlan {
  const count = heapSlotCount(page);
  const unused: number[] = [];
  const redirects: [number, number][] = [];
  const deadChains: DeadChain[] = [];
  const visited = new Set<number>();
  let freedTuples = 0;
  for (let root = 0; root < count; root++) {
    const members = hotChain(page, root);
    if (members.length === 0) continue;
    let latestDead = -1;
    let walked = 0;
    for (const [i, slot] of members.entries()) {
      visited.add(slot);
      walked = i + 1;
      const f = fate(heapTupleHeader(page, slot));
      if (f === "dead") latestDead = i;
      else if (f === "live") break;
    }
    if (latestDead < 0) continue;
    const rootHoldsTuple = heapSlotState(page, root) === "normal";
    const wholeChain = latestDead === members.length - 1 && walked === members.length;
    if (wholeChain) {
      const slots = rootHoldsTuple ? members : [root, ...members];
      if (cleaned.has(root)) {
        unused.push(...slots);
        freedTuples += members.length;
        continue;
      }
      deadChains.push({ root, keySlot: members[latestDead]!, slots });
    }
    const keep = wholeChain ? latestDead : latestDead + 1;
    if (keep === 0) continue;
    for (const slot of members.slice(0, keep)) {
      if (slot !== root) unused.push(slot);
      freedTuples++;
    }
    redirects.push([root, members[keep]!]);
  }
  for (let slot = 0; slot < count; slot++) {
    if (visited.has(slot) || !heapSlotUsed(page, slot)) continue;
    const h = heapTupleHeader(page, slot);
    if ((h.infomask & HEAP_ONLY_TUPLE) === 0 || fate(h) !== "dead") continue;
    unused.push(slot);
    freedTuples++;
  }
  return { unused, redirects, deadChains, freedTuples };
}

/** Whether a plan changes the page at all. */
export function planChangesPage(plan: HeapPruneChanges): boolean {
  return plan.unused.length > 0 || plan.redirects.length > 0;
}
