import { assert } from "./assert.js";

/** Relation file number: names one relation's pages (like PostgreSQL's relfilenode). */
export type RelFile = number & { readonly __brand: "RelFile" };
/** Block number inside a relation file. */
export type BlockNumber = number & { readonly __brand: "BlockNumber" };
/** Protection group: a fixed shard of the page space (design section 2). */
export type GroupId = number & { readonly __brand: "GroupId" };
/** Volume epoch: bumped by every new writer; storage refuses older ones. */
export type Epoch = number & { readonly __brand: "Epoch" };
/** Transaction id: 64-bit in spirit (JS safe integer), never wraps. */
export type Xid = number & { readonly __brand: "Xid" };
/** A storage node's ordinal (storage-0, storage-1, ...). */
export type NodeId = number & { readonly __brand: "NodeId" };

/**
 * 21 bits, so PageKey = relfile × 2^32 + block stays a safe integer (< 2^53).
 * (It was 24 bits, which let PageKeys of relfiles ≥ 2^21 round and collide.)
 */
export const RELFILE_MAX = 0x1f_ffff;
export const BLOCK_MAX = 0xffff_ffff;

export function relFile(value: number): RelFile {
  assert(Number.isInteger(value) && value >= 0 && value <= RELFILE_MAX, () => `invalid relfile ${value}`);
  return value as RelFile;
}

export function blockNumber(value: number): BlockNumber {
  assert(Number.isInteger(value) && value >= 0 && value <= BLOCK_MAX, () => `invalid block ${value}`);
  return value as BlockNumber;
}

export function groupId(value: number): GroupId {
  assert(Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff, () => `invalid group ${value}`);
  return value as GroupId;
}

export function epoch(value: number): Epoch {
  assert(Number.isSafeInteger(value) && value >= 0, () => `invalid epoch ${value}`);
  return value as Epoch;
}

export function xid(value: number): Xid {
  assert(Number.isSafeInteger(value) && value >= 0, () => `invalid xid ${value}`);
  return value as Xid;
}

export function nodeId(value: number): NodeId {
  assert(Number.isInteger(value) && value >= 0 && value <= 0xffff, () => `invalid node id ${value}`);
  return value as NodeId;
}

/** A page: (relfile, block). */
export interface PageId {
  readonly relfile: RelFile;
  readonly block: BlockNumber;
}

/** A PageId packed into one safe integer, for maps and ordered keys. */
export type PageKey = number & { readonly __brand: "PageKey" };

export function pageId(relfile: number, block: number): PageId {
  return { relfile: relFile(relfile), block: blockNumber(block) };
}

export function pageKey(page: PageId): PageKey {
  return (page.relfile * 0x1_0000_0000 + page.block) as PageKey;
}

export function pageIdOfKey(key: PageKey): PageId {
  return pageId(Math.floor(key / 0x1_0000_0000), key % 0x1_0000_0000);
}

export function formatPageId(page: PageId): string {
  return `${page.relfile}/${page.block}`;
}
