import { assert } from "../../common/assert.js";
import {
  BTREE_ITEM_POINTER_BYTES,
  BTREE_NO_SIBLING,
  BTREE_PAGE_CAPACITY_BYTES,
  compareEntries,
  internalItem,
} from "../../common/btree-page.js";
import { pageId } from "../../common/ids.js";
import { PageKind } from "../../common/page.js";
import { RecordKind } from "../../common/record.js";
import { btreeMetaSetPayload, btreeWritePayload, pageInitPayload } from "../../common/redo.js";
import type { BufferPool } from "./buffer-pool.js";
import { type LogAppender, Mtr } from "./mtr.js";

/** How full CREATE INDEX leaves pages, as PostgreSQL's default fillfactors: room for later inserts. */
const LEAF_FILL_BYTES = Math.floor(BTREE_PAGE_CAPACITY_BYTES * 0.9);
const INTERNAL_FILL_BYTES = Math.floor(BTREE_PAGE_CAPACITY_BYTES * 0.7);
/** Pages written between yields to the event loop, so the log writer can flush and acknowledge. */
const PAGES_PER_YIELD = 64;

/** A page's first entry (null: minus infinity, for the leftmost page of a level) and its block. */
interface Downlink {
  readonly separator: Uint8Array | null;
  readonly block: number;
}

/**
 * Bottom-up build of a new index (CREATE INDEX): leaves are filled in order
 * at blocks 1, 2, … (so each one's right link is the next block), then each
 * upper level after the one below it, then the metapage. Each page is one
 * MTR (PageInit + BtreeWrite); nothing points at the tree until the
 * metapage's MTR, and nothing uses the index until its catalog row commits.
 * Returns the relation's block count.
 */
export async function buildBtree(
  pool: BufferPool,
  log: LogAppender,
  relfile: number,
  sortedEntries: Iterable<Uint8Array>,
): Promise<number> {
  const writer = new PageWriter(pool, log, relfile);
  let level = await packLevel(writer, 0, leafItems(sortedEntries));
  let height = 1;
  while (level.length > 1) {
    level = await packLevel(writer, height, internalItems(level));
    height++;
  }
  new Mtr(pool, log)
    .change(pageId(relfile, 0), RecordKind.PageInit, pageInitPayload(PageKind.BtreeMeta))
    .change(pageId(relfile, 0), RecordKind.BtreeMetaSet, btreeMetaSetPayload({ root: level[0]!.block, height }))
    .commit();
  return writer.nextBlock;
}

/** An item to place, the entry it starts a page with, and its form as a page's first item. */
interface Placed {
  readonly item: Uint8Array;
  readonly separator: Uint8Array | null;
  readonly asFirst: Uint8Array;
}

function* leafItems(sorted: Iterable<Uint8Array>): Generator<Placed> {
  let previous: Uint8Array | undefined;
  for (const entry of sorted) {
    assert(previous === undefined || compareEntries(previous, entry) < 0, "index build input not sorted by (key, tid)");
    previous = entry;
    yield { item: entry, separator: entry, asFirst: entry };
  }
}

function* internalItems(children: readonly Downlink[]): Generator<Placed> {
  for (const child of children) {
    yield {
      item: internalItem(child.block, child.separator),
      separator: child.separator,
      asFirst: internalItem(child.block, null), // minus infinity
    };
  }
}

/** Fills the pages of one level left to right; returns their downlinks for the level above. */
async function packLevel(writer: PageWriter, level: number, placed: Iterable<Placed>): Promise<Downlink[]> {
  const kind = level === 0 ? PageKind.BtreeLeaf : PageKind.BtreeInternal;
  const fill = level === 0 ? LEAF_FILL_BYTES : INTERNAL_FILL_BYTES;
  const out: Downlink[] = [];
  let page: Uint8Array[] = [];
  let separator: Uint8Array | null = null;
  let bytes = 0;
  for (const p of placed) {
    if (page.length > 0 && bytes + p.item.length + BTREE_ITEM_POINTER_BYTES > fill) {
      out.push({ separator: out.length === 0 ? null : separator, block: await writer.write(kind, level, page, false) });
      page = [];
      bytes = 0;
    }
    const item = page.length === 0 ? p.asFirst : p.item;
    if (page.length === 0) separator = p.separator;
    page.push(item);
    bytes += item.length + BTREE_ITEM_POINTER_BYTES;
  }
  out.push({ separator: out.length === 0 ? null : separator, block: await writer.write(kind, level, page, true) });
  return out;
}

/** Allocates blocks in order and writes each page as one MTR. */
class PageWriter {
  nextBlock = 1;
  private written = 0;

  constructor(
    private readonly pool: BufferPool,
    private readonly log: LogAppender,
    private readonly relfile: number,
  ) {}

  /** Writes the next block; `last` ends the level (no right link). */
  async write(
    kind: PageKind.BtreeLeaf | PageKind.BtreeInternal,
    level: number,
    items: Uint8Array[],
    last: boolean,
  ): Promise<number> {
    const block = this.nextBlock++;
    const page = pageId(this.relfile, block);
    const content = { kind, level, rightLink: last ? BTREE_NO_SIBLING : block + 1, items };
    new Mtr(this.pool, this.log)
      .change(page, RecordKind.PageInit, pageInitPayload(kind))
      .change(page, RecordKind.BtreeWrite, btreeWritePayload(content))
      .commit();
    if (++this.written % PAGES_PER_YIELD === 0) await new Promise((resolve) => setImmediate(resolve));
    return block;
  }
}
