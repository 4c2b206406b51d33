import { assert } from "./assert.js";
import {
  type BtreeMeta,
  type BtreePageContent,
  btreeDeleteItem,
  btreeInsertItem,
  btreeSetMeta,
  btreeWritePage,
  isBtreeNode,
} from "./btree-page.js";
import { getU16, getU32, getU64, setU16, setU32, setU64, view } from "./bytes.js";
import { XidStatus, clogSetStatus } from "./clog-page.js";
import { controlWriteBody } from "./control-page.js";
import { type HeapPruneChanges, heapHotUpdate, heapPlaceTuple, heapPrune, heapSetXmax } from "./heap-page.js";
import type { Xid } from "./ids.js";
import { formatLsn } from "./lsn.js";
import {
  PAGE_KIND_MAX,
  PAGE_SIZE_BYTES,
  PageKind,
  initPageHeader,
  newZeroPage,
  pageKind,
  pageLsn,
  setPageLsn,
} from "./page.js";
import { type LogRecord, RecordKind } from "./record.js";

/**
 * The pure redo function (design invariant 1): reads only `page` and `record`
 * and is deterministic, so compute's buffer and storage's materialized page
 * are byte-identical at every LSN. `null` stands for a page with no record yet.
 * Returns a new page; the input is not modified.
 */
export function redo(page: Uint8Array | null, record: LogRecord): Uint8Array {
  const out = page === null ? newZeroPage() : page.slice();
  redoInPlace(out, record);
  return out;
}

/** Applies `record` to `page` in place (compute's buffers, storage's materializer). */
export function redoInPlace(page: Uint8Array, record: LogRecord): void {
  assert(page.length === PAGE_SIZE_BYTES, "page has the wrong size");
  const current = pageLsn(page);
  assert(
    current === record.prevLsnOfPage,
    () =>
      `record ${formatLsn(record.lsn)} expects page LSN ${formatLsn(record.prevLsnOfPage)}, page is at ${formatLsn(current)}`,
  );
  const p = record.payload;
  const dv = view(p);
  switch (record.kind) {
    case RecordKind.PageInit: {
      assert(p.length === 1 && p[0]! > 0 && p[0]! <= PAGE_KIND_MAX, "bad PageInit payload");
      page.fill(0);
      initPageHeader(page, p[0] as PageKind);
      break;
    }
    case RecordKind.HeapInsert:
      assert(p.length >= 2, "bad HeapInsert payload");
      heapPlaceTuple(page, dv.getUint16(0, true), p.subarray(2));
      break;
    case RecordKind.HeapSetXmax:
      assert(p.length === 12, "bad HeapSetXmax payload");
      heapSetXmax(page, dv.getUint16(0, true), getU64(dv, 2) as Xid, dv.getUint16(10, true));
      break;
    case RecordKind.ClogSetStatus: {
      assert(p.length === 3, "bad ClogSetStatus payload");
      const status = p[2]!;
      assert(status <= XidStatus.SubCommitted, "bad CLOG status");
      clogSetStatus(page, dv.getUint16(0, true), status as XidStatus);
      break;
    }
    case RecordKind.ControlSet:
      controlWriteBody(page, p);
      break;
    case RecordKind.BtreeInsert:
      assert(p.length >= 2, "bad BtreeInsert payload");
      btreeInsertItem(page, dv.getUint16(0, true), p.subarray(2));
      break;
    case RecordKind.BtreeDelete:
      assert(p.length === 2, "bad BtreeDelete payload");
      btreeDeleteItem(page, dv.getUint16(0, true));
      break;
    case RecordKind.BtreeWrite:
      btreeWritePage(page, decodeBtreeWrite(p));
      break;
    case RecordKind.BtreeMetaSet:
      assert(p.length === 8, "bad BtreeMetaSet payload");
      btreeSetMeta(page, { root: dv.getUint32(0, true), height: dv.getUint32(4, true) });
      break;
    case RecordKind.HeapPrune:
      heapPrune(page, decodeHeapPrune(p));
      break;
    case RecordKind.HeapMultiInsert:
      for (const { slot, tuple } of decodeHeapMultiInsert(p)) heapPlaceTuple(page, slot, tuple);
      break;
    case RecordKind.HeapHotUpdate:
      assert(p.length >= 4, "bad HeapHotUpdate payload");
      heapHotUpdate(page, dv.getUint16(0, true), dv.getUint16(2, true), p.subarray(4));
      break;
    default:
      assert(false, () => `unknown record kind ${record.kind}`);
  }
  assert(record.kind === RecordKind.PageInit || pageKind(page) !== PageKind.Uninitialized, "page not formatted");
  setPageLsn(page, record.lsn);
}

// Payload builders: the only way the writer side should make payloads.

export function pageInitPayload(kind: PageKind): Uint8Array {
  return Uint8Array.of(kind);
}

export function heapInsertPayload(slot: number, tuple: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + tuple.length);
  view(out).setUint16(0, slot, true);
  out.set(tuple, 2);
  return out;
}

export function heapSetXmaxPayload(slot: number, xmax: Xid, infomask: number): Uint8Array {
  const out = new Uint8Array(12);
  const dv = view(out);
  dv.setUint16(0, slot, true);
  setU64(dv, 2, xmax);
  dv.setUint16(10, infomask, true);
  return out;
}

/** A prune of one heap page (HeapPrune): at least one change. */
export function heapPrunePayload(changes: HeapPruneChanges): Uint8Array {
  const { unused, redirects } = changes;
  const out = new Uint8Array(4 + 2 * unused.length + 4 * redirects.length);
  const dv = view(out);
  dv.setUint16(0, unused.length, true);
  dv.setUint16(2, redirects.length, true);
  let at = 4;
  for (const slot of unused) {
    dv.setUint16(at, slot, true);
    at += 2;
  }
  for (const [from, to] of redirects) {
    dv.setUint16(at, from, true);
    dv.setUint16(at + 2, to, true);
    at += 4;
  }
  return out;
}

function decodeHeapPrune(p: Uint8Array): HeapPruneChanges {
  assert(p.length >= 4, "bad HeapPrune payload");
  const dv = view(p);
  const nUnused = dv.getUint16(0, true);
  const nRedirects = dv.getUint16(2, true);
  assert(nUnused + nRedirects > 0 && p.length === 4 + 2 * nUnused + 4 * nRedirects, "bad HeapPrune payload");
  const unused: number[] = [];
  const redirects: [number, number][] = [];
  let at = 4;
  for (let i = 0; i < nUnused; i++, at += 2) unused.push(dv.getUint16(at, true));
  for (let i = 0; i < nRedirects; i++, at += 4) redirects.push([dv.getUint16(at, true), dv.getUint16(at + 2, true)]);
  return { unused, redirects };
}

/** New tuples for one page, each at the slot heapInsertSlot gives after the ones before it. */
export function heapMultiInsertPayload(tuples: readonly { slot: number; tuple: Uint8Array }[]): Uint8Array {
  const out = new Uint8Array(2 + tuples.reduce((n, t) => n + 4 + t.tuple.length, 0));
  const dv = view(out);
  dv.setUint16(0, tuples.length, true);
  let at = 2;
  for (const { slot, tuple } of tuples) {
    dv.setUint16(at, slot, true);
    dv.setUint16(at + 2, tuple.length, true);
    out.set(tuple, at + 4);
    at += 4 + tuple.length;
  }
  return out;
}

function decodeHeapMultiInsert(p: Uint8Array): { slot: number; tuple: Uint8Array }[] {
  assert(p.length >= 2, "bad HeapMultiInsert payload");
  const dv = view(p);
  const count = dv.getUint16(0, true);
  assert(count > 0, "bad HeapMultiInsert payload: no tuples");
  const out: { slot: number; tuple: Uint8Array }[] = [];
  let at = 2;
  for (let i = 0; i < count; i++) {
    assert(at + 4 <= p.length, "bad HeapMultiInsert payload: truncated");
    const slot = dv.getUint16(at, true);
    const length = dv.getUint16(at + 2, true);
    assert(at + 4 + length <= p.length, "bad HeapMultiInsert payload: truncated tuple");
    out.push({ slot, tuple: p.subarray(at + 4, at + 4 + length) });
    at += 4 + length;
  }
  assert(at === p.length, "bad HeapMultiInsert payload: trailing bytes");
  return out;
}

export function heapHotUpdatePayload(oldSlot: number, newSlot: number, tuple: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + tuple.length);
  const dv = view(out);
  dv.setUint16(0, oldSlot, true);
  dv.setUint16(2, newSlot, true);
  out.set(tuple, 4);
  return out;
}

/** `index` is the xid's position inside its CLOG page (clogLocation). */
export function clogSetStatusPayload(index: number, status: XidStatus): Uint8Array {
  const out = new Uint8Array(3);
  view(out).setUint16(0, index, true);
  out[2] = status;
  return out;
}

export function btreeInsertPayload(index: number, item: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + item.length);
  view(out).setUint16(0, index, true);
  out.set(item, 2);
  return out;
}

export function btreeDeletePayload(index: number): Uint8Array {
  const out = new Uint8Array(2);
  view(out).setUint16(0, index, true);
  return out;
}

const BTREE_WRITE_HEADER_BYTES = 9;

/** At most RECORD_PAYLOAD_BYTES_MAX for any content that fits a page (2 bytes of length per item, 4 of pointer). */
export function btreeWritePayload(content: BtreePageContent): Uint8Array {
  let total = BTREE_WRITE_HEADER_BYTES;
  for (const item of content.items) total += 2 + item.length;
  const out = new Uint8Array(total);
  out[0] = content.kind;
  setU16(out, 1, content.level);
  setU32(out, 3, content.rightLink);
  setU16(out, 7, content.items.length);
  let at = BTREE_WRITE_HEADER_BYTES;
  for (const item of content.items) {
    setU16(out, at, item.length);
    out.set(item, at + 2);
    at += 2 + item.length;
  }
  return out;
}

/** The items are views into the payload. */
function decodeBtreeWrite(p: Uint8Array): BtreePageContent {
  assert(p.length >= BTREE_WRITE_HEADER_BYTES, "bad BtreeWrite payload");
  const kind = p[0]! as PageKind;
  assert(isBtreeNode(kind), "bad BtreeWrite page kind");
  const count = getU16(p, 7);
  const items: Uint8Array[] = [];
  let at = BTREE_WRITE_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    assert(at + 2 <= p.length, "BtreeWrite payload truncated");
    const length = getU16(p, at);
    assert(at + 2 + length <= p.length, "BtreeWrite payload truncated");
    items.push(p.subarray(at + 2, at + 2 + length));
    at += 2 + length;
  }
  assert(at === p.length, "BtreeWrite payload has trailing bytes");
  return { kind, level: getU16(p, 1), rightLink: getU32(p, 3), items };
}

export function btreeMetaSetPayload(meta: BtreeMeta): Uint8Array {
  const out = new Uint8Array(8);
  const dv = view(out);
  dv.setUint32(0, meta.root, true);
  dv.setUint32(4, meta.height, true);
  return out;
}
