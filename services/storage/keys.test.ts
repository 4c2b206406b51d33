import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvariantError } from "../common/assert.js";
import { BLOCK_MAX, type GroupId, type PageKey, RELFILE_MAX, pageId, pageKey } from "../common/ids.js";
import type { Lsn } from "../common/lsn.js";
import {
  decodeGroupEntry,
  decodeProgress,
  encodeGroupEntry,
  encodeProgress,
  groupKey,
  lsnOfKey,
  pageOfKey,
  recordKey,
  seal,
  unseal,
} from "./keys.js";

function compare(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

const lsnArb = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const pageArb = fc.tuple(fc.integer({ min: 0, max: RELFILE_MAX }), fc.integer({ min: 0, max: BLOCK_MAX }));

describe("storage keys", () => {
  it("orders record keys by page, then LSN, bytewise", () => {
    fc.assert(
      fc.property(pageArb, lsnArb, pageArb, lsnArb, ([r1, b1], l1, [r2, b2], l2) => {
        const k1 = pageKey(pageId(r1, b1));
        const k2 = pageKey(pageId(r2, b2));
        const numeric = k1 !== k2 ? Math.sign(k1 - k2) : Math.sign(l1 - l2);
        expect(Math.sign(compare(recordKey(k1, l1), recordKey(k2, l2)))).toBe(numeric);
        expect(lsnOfKey(recordKey(k1, l1))).toBe(l1);
        expect(pageOfKey(recordKey(k1, l1))).toBe(k1);
      }),
    );
  });

  it("orders group keys by group, then LSN", () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffff }), lsnArb, fc.nat({ max: 0xffff }), lsnArb, (g1, l1, g2, l2) => {
        const numeric = g1 !== g2 ? Math.sign(g1 - g2) : Math.sign(l1 - l2);
        expect(Math.sign(compare(groupKey(g1 as GroupId, l1), groupKey(g2 as GroupId, l2)))).toBe(numeric);
      }),
    );
  });

  it("round-trips group entries and progress", () => {
    const entry = { lsn: 77 as Lsn, page: (2 ** 40) as PageKey, prevLsnOfGroup: 12 as Lsn, endsMtr: true };
    expect(decodeGroupEntry(groupKey(3 as GroupId, 77), encodeGroupEntry(entry))).toEqual(entry);
    const progress = {
      vdlHint: 5 as Lsn,
      maxLsnSeen: (2 ** 50) as Lsn,
      recordsStored: 9,
      imagesStored: 1,
      scls: new Map([
        [0 as GroupId, 3 as Lsn],
        [7 as GroupId, (2 ** 45) as Lsn],
      ]),
    };
    expect(decodeProgress(encodeProgress(progress))).toEqual(progress);
  });

  it("fails an assertion on any corrupted byte of a sealed value", () => {
    const sealed = seal(Uint8Array.of(1, 2, 3, 4, 5));
    expect(unseal(sealed, "x")).toEqual(Uint8Array.of(1, 2, 3, 4, 5));
    for (let i = 0; i < sealed.length; i++) {
      const bad = sealed.slice();
      bad[i]! ^= 0x10;
      expect(() => unseal(bad, "x")).toThrow(InvariantError);
    }
    expect(() => unseal(Uint8Array.of(1), "x")).toThrow(InvariantError);
  });
});
