import type { PageKey } from "../common/ids.js";
import { INVALID_LSN, type Lsn } from "../common/lsn.js";
import { newZeroPage } from "../common/page.js";
import { redoInPlace } from "../common/redo.js";
import type { Store } from "./store.js";

/** A page as of some LSN, and how much redo it took to get there. */
export interface PageVersion {
  readonly page: Uint8Array;
  /** LSN of the last record applied (0: the page has no record at or below the LSN read). */
  readonly pageLsn: Lsn;
  /** LSN of the image the read started from (0: none). */
  readonly imageLsn: Lsn;
  /** Records redone on top of that image. */
  readonly applied: number;
}

/**
 * The page as of `lsn`: the newest image at or below it, plus the page's
 * records after the image, redone (design section 5). The caller must make
 * sure `lsn` <= SCL of the page's group, so that no record is missing: a
 * broken page chain here is corruption, and redo's assertion stops the node.
 */
export async function readPageAt(store: Store, page: PageKey, lsn: Lsn): Promise<PageVersion> {
  const image = await store.newestImage(page, lsn);
  const imageLsn = image?.lsn ?? INVALID_LSN;
  const records = await store.pageRecords(page, imageLsn, lsn);
  const bytes = image === undefined ? newZeroPage() : image.page.slice();
  for (const record of records) redoInPlace(bytes, record);
  const last = records[records.length - 1];
  return { page: bytes, pageLsn: last?.lsn ?? imageLsn, imageLsn, applied: records.length };
}
