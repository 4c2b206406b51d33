import type { GroupId, PageKey } from "../common/ids.js";
import { LSN_MAX, type Lsn } from "../common/lsn.js";
import { type Store, type StoreOp, deleteRecordOps } from "./store.js";

/** What dropping everything above T takes: the deletes, and what they remove. */
export interface TruncationPlan {
  readonly ops: StoreOp[];
  readonly records: number;
  readonly images: number;
  readonly pages: ReadonlySet<PageKey>;
}

/**
 * Deletes of every record and page image with LSN > t (design section 7,
 * step 5). An image above t names the page LSN of a record above t, so only
 * the pages of the group entries above t can have one: no full scan.
 */
export async function planTruncation(store: Store, groups: readonly GroupId[], t: Lsn): Promise<TruncationPlan> {
  const ops: StoreOp[] = [];
  const pages = new Set<PageKey>();
  let records = 0;
  for (const group of groups) {
    for (const entry of await store.groupEntries(group, t, LSN_MAX)) {
      ops.push(...deleteRecordOps(group, entry));
      pages.add(entry.page);
      records++;
    }
  }
  let images = 0;
  for (const page of pages) {
    for (const key of await store.imageKeysAbove(page, t)) {
      ops.push({ type: "del", key });
      images++;
    }
  }
  return { ops, records, images, pages };
}
