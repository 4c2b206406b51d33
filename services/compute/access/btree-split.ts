import { assert } from "../../common/assert.js";
import {
  BTREE_ITEM_POINTER_BYTES,
  BTREE_PAGE_CAPACITY_BYTES,
  CHILD_BYTES,
  internalChild,
  internalItem,
  internalSeparator,
} from "../../common/btree-page.js";
import { PageKind } from "../../common/page.js";

/** Left share of a split in the middle of a level, and at the right end (sequential inserts fill pages). */
export const SPLIT_FRACTION_MIDDLE = 0.5;
export const SPLIT_FRACTION_RIGHTMOST = 0.9;

export interface SplitPlan {
  readonly left: readonly Uint8Array[];
  /** For an internal page, its first item is already the minus-infinity downlink. */
  readonly right: readonly Uint8Array[];
  /** The entry the parent's new downlink carries: the first entry of the right half. */
  readonly separator: Uint8Array;
}

/**
 * Splits the items of an overfull page (already including the new item) so
 * that both halves fit, the left one holding about `leftFraction` of the
 * bytes. On an internal page the right half's first separator moves up to
 * the parent, and that item keeps only its downlink.
 */
export function planSplit(kind: PageKind, items: readonly Uint8Array[], leftFraction: number): SplitPlan {
  assert(items.length >= 2, "a split needs two items");
  const sizes = items.map((i) => i.length + BTREE_ITEM_POINTER_BYTES);
  const total = sizes.reduce((a, b) => a + b, 0);
  const target = total * leftFraction;
  let best = -1;
  let bestDistance = Number.POSITIVE_INFINITY;
  let left = 0;
  for (let k = 1; k < items.length; k++) {
    left += sizes[k - 1]!;
    const shrink = kind === PageKind.BtreeInternal ? items[k]!.length - CHILD_BYTES : 0;
    const right = total - left - shrink;
    if (left > BTREE_PAGE_CAPACITY_BYTES || right > BTREE_PAGE_CAPACITY_BYTES) continue;
    const distance = Math.abs(left - target);
    if (distance < bestDistance) {
      best = k;
      bestDistance = distance;
    }
  }
  assert(best > 0, "no split point leaves both halves fitting");
  const first = items[best]!;
  if (kind === PageKind.BtreeLeaf) {
    return { left: items.slice(0, best), right: items.slice(best), separator: first };
  }
  return {
    left: items.slice(0, best),
    right: [internalItem(internalChild(first), null), ...items.slice(best + 1)],
    separator: internalSeparator(first).slice(),
  };
}
