import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvariantError } from "./assert.js";
import { view } from "./bytes.js";
import { crc32c } from "./crc32c.js";
import { BLOCK_MAX, RELFILE_MAX, pageId, pageIdOfKey, pageKey } from "./ids.js";
import { LSN_MAX, type Lsn } from "./lsn.js";
import {
  type LogRecord,
  RECORD_HEADER_BYTES,
  RECORD_KIND_MAX,
  RECORD_PAYLOAD_BYTES_MAX,
  RecordFormatError,
  type RecordKind,
  decodeRecordAt,
  decodeRecords,
  encodeRecordInto,
  encodeRecords,
  recordBytes,
  recordSliceAt,
} from "./record.js";

// ---------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------

/** Everything but the LSN; back-links are chosen below the LSN they belong to. */
function recordArb(lsnValue: number, maxPayload: number): fc.Arbitrary<LogRecord> {
  const below = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: lsnValue - 1 }));
  return fc.record({
    lsn: fc.constant(lsnValue as Lsn),
    pageId: fc.record({
      relfile: fc.oneof(fc.constant(RELFILE_MAX), fc.integer({ min: 0, max: RELFILE_MAX })),
      block: fc.oneof(fc.constant(BLOCK_MAX), fc.integer({ min: 0, max: BLOCK_MAX })),
    }),
    prevLsnOfPage: below,
    prevLsnOfGroup: below,
    kind: fc.integer({ min: 1, max: RECORD_KIND_MAX }),
    endsMtr: fc.boolean(),
    payload: fc.uint8Array({ maxLength: maxPayload }),
  }) as fc.Arbitrary<LogRecord>;
}

const lsnArb = fc.oneof(
  fc.integer({ min: 1, max: 1000 }),
  fc.integer({ min: 1, max: LSN_MAX }),
  fc.integer({ min: LSN_MAX - 10, max: LSN_MAX }),
);

/** A batch: strictly ascending LSNs. */
function batchArb(maxRecords: number, maxPayload: number): fc.Arbitrary<LogRecord[]> {
  return fc
    .uniqueArray(lsnArb, { minLength: 1, maxLength: maxRecords })
    .map((lsns) => lsns.sort((a, b) => a - b))
    .chain((lsns) => fc.tuple(...lsns.map((l) => recordArb(l, maxPayload))));
}

/** Fields compared as plain values (a decoded payload is a view into the batch). */
function plain(r: LogRecord) {
  return { ...r, pageId: { ...r.pageId }, payload: Array.from(r.payload) };
}

/** Record boundaries in an encoded batch. */
function boundaries(records: readonly LogRecord[]): Set<number> {
  const out = new Set<number>([0]);
  let at = 0;
  for (const r of records) {
    at += recordBytes(r);
    out.add(at);
  }
  return out;
}

/** Recomputes the checksum of the record at `offset`, so a crafted field gets past it. */
function reseal(bytes: Uint8Array, offset = 0): Uint8Array {
  const dv = view(bytes.subarray(offset));
  dv.setUint32(4, crc32c(bytes, offset + 8, offset + dv.getUint32(0, true)), true);
  return bytes;
}

/** Decoding either succeeds or throws RecordFormatError: never another exception. */
function decodeOrFormatError(bytes: Uint8Array): LogRecord[] | RecordFormatError {
  try {
    return decodeRecords(bytes);
  } catch (e) {
    if (e instanceof RecordFormatError) return e;
    throw e;
  }
}

const one: LogRecord = {
  lsn: 10 as Lsn,
  pageId: pageId(3, 7),
  prevLsnOfPage: 4 as Lsn,
  prevLsnOfGroup: 9 as Lsn,
  kind: 2 as RecordKind,
  endsMtr: true,
  payload: Uint8Array.of(1, 2, 3),
};

// ---------------------------------------------------------------------------

describe("record encoding", () => {
  it("crc32c matches the standard check value", () => {
    expect(crc32c(new TextEncoder().encode("123456789"))).toBe(0xe3069283);
  });

  it("round-trips random batches, payloads up to 8 KiB", () => {
    fc.assert(
      fc.property(batchArb(4, RECORD_PAYLOAD_BYTES_MAX), (records) => {
        const bytes = encodeRecords(records);
        expect(bytes.length).toBe(records.reduce((n, r) => n + recordBytes(r), 0));
        expect(decodeRecords(bytes).map(plain)).toEqual(records.map(plain));
      }),
      { numRuns: 200 },
    );
  });

  it("decodes one record at an offset, and slices it without copying", () => {
    fc.assert(
      fc.property(batchArb(5, 300), (records) => {
        const bytes = encodeRecords(records);
        let at = 0;
        for (const r of records) {
          expect(plain(decodeRecordAt(bytes, at))).toEqual(plain(r));
          const slice = recordSliceAt(bytes, at);
          expect(slice.buffer).toBe(bytes.buffer);
          expect(plain(decodeRecords(slice)[0]!)).toEqual(plain(r));
          at += recordBytes(r);
        }
      }),
      { numRuns: 100 },
    );
  });

  it("encodeRecordInto writes at an offset of a larger buffer", () => {
    const target = new Uint8Array(5 + recordBytes(one) + 5);
    expect(encodeRecordInto(target, 5, one)).toBe(5 + recordBytes(one));
    expect(plain(decodeRecordAt(target.subarray(0, 5 + recordBytes(one)), 5))).toEqual(plain(one));
  });

  it("refuses to encode a payload over a page or a back-link that does not point back", () => {
    expect(() => encodeRecords([{ ...one, payload: new Uint8Array(RECORD_PAYLOAD_BYTES_MAX + 1) }])).toThrow(
      InvariantError,
    );
    expect(() => encodeRecords([{ ...one, prevLsnOfPage: one.lsn }])).toThrow(InvariantError);
    expect(() => encodeRecords([{ ...one, prevLsnOfGroup: 11 as Lsn }])).toThrow(InvariantError);
  });

  it("PageKey is exact for every relfile and block", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: RELFILE_MAX }),
        fc.integer({ min: 0, max: BLOCK_MAX }),
        fc.integer({ min: 1, max: 7 }),
        (relfile, block, delta) => {
          const key = pageKey(pageId(relfile, block));
          expect(Number.isSafeInteger(key)).toBe(true);
          expect(pageIdOfKey(key)).toEqual(pageId(relfile, block));
          // Neighbouring pages keep distinct keys (24-bit relfiles made them round together).
          if (block + delta <= BLOCK_MAX) expect(pageKey(pageId(relfile, block + delta))).not.toBe(key);
        },
      ),
    );
    expect(() => pageId(RELFILE_MAX + 1, 0)).toThrow(InvariantError);
  });
});

describe("decodeRecords rejects malformed batches with RecordFormatError", () => {
  it("any truncation that is not at a record boundary, at every byte", () => {
    fc.assert(
      fc.property(batchArb(4, 64), (records) => {
        const bytes = encodeRecords(records);
        const cuts = boundaries(records);
        for (let cut = 0; cut < bytes.length; cut++) {
          const result = decodeOrFormatError(bytes.subarray(0, cut));
          if (cuts.has(cut)) {
            // A cut between records is a valid, shorter batch.
            expect(result).toBeInstanceOf(Array);
            expect((result as LogRecord[]).map(plain)).toEqual(
              records.slice(0, (result as LogRecord[]).length).map(plain),
            );
          } else {
            expect(result).toBeInstanceOf(RecordFormatError);
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it("truncations of large records", () => {
    fc.assert(
      fc.property(batchArb(2, RECORD_PAYLOAD_BYTES_MAX), fc.array(fc.nat(), { maxLength: 20 }), (records, picks) => {
        const bytes = encodeRecords(records);
        const cuts = boundaries(records);
        for (const pick of picks) {
          const cut = pick % bytes.length;
          if (!cuts.has(cut)) expect(decodeOrFormatError(bytes.subarray(0, cut))).toBeInstanceOf(RecordFormatError);
        }
      }),
      { numRuns: 100 },
    );
  });

  it("any single changed byte", () => {
    fc.assert(
      fc.property(batchArb(3, 200), fc.nat(), fc.integer({ min: 1, max: 255 }), (records, pick, xor) => {
        const bytes = encodeRecords(records);
        const at = pick % bytes.length;
        bytes[at]! ^= xor;
        expect(decodeOrFormatError(bytes)).toBeInstanceOf(RecordFormatError);
      }),
      { numRuns: 1000 },
    );
  });

  it("records out of order or repeated", () => {
    fc.assert(
      fc.property(batchArb(4, 32), fc.nat(), (records, pick) => {
        fc.pre(records.length >= 2);
        const i = 1 + (pick % (records.length - 1));
        const swapped = [...records];
        [swapped[i - 1], swapped[i]] = [swapped[i]!, swapped[i - 1]!];
        expect(decodeOrFormatError(encodeRecords(swapped))).toBeInstanceOf(RecordFormatError);
        const repeated = [...records.slice(0, i), records[i - 1]!, ...records.slice(i)];
        expect(decodeOrFormatError(encodeRecords(repeated))).toBeInstanceOf(RecordFormatError);
      }),
      { numRuns: 100 },
    );
  });

  it("unknown kinds and flags, reserved bits, bad LSNs, relfiles out of range (checksum valid)", () => {
    const patch = (edit: (dv: DataView) => void): Uint8Array => {
      const bytes = encodeRecords([one]);
      edit(view(bytes));
      return reseal(bytes);
    };
    fc.assert(
      fc.property(
        fc.oneof(fc.constant(0), fc.integer({ min: RECORD_KIND_MAX + 1, max: 255 })),
        fc.integer({ min: 2, max: 255 }),
        (kind, flags) => {
          expect(() => decodeRecords(patch((dv) => dv.setUint8(40, kind)))).toThrow(RecordFormatError);
          expect(() => decodeRecords(patch((dv) => dv.setUint8(41, flags)))).toThrow(RecordFormatError);
        },
      ),
    );
    const cases: [string, (dv: DataView) => void][] = [
      ["reserved", (dv) => dv.setUint16(42, 1, true)],
      ["lsn 0", (dv) => dv.setUint32(8, 0, true)],
      ["lsn above 2^53", (dv) => dv.setUint32(12, 0x20_0000, true)],
      ["prev page not below", (dv) => dv.setUint32(16, 10, true)],
      ["prev group not below", (dv) => dv.setUint32(24, 11, true)],
      ["relfile", (dv) => dv.setUint32(32, RELFILE_MAX + 1, true)],
      ["length below header", (dv) => dv.setUint32(0, RECORD_HEADER_BYTES - 1, true)],
    ];
    for (const [what, edit] of cases) {
      expect(() => decodeRecords(patch(edit)), what).toThrow(RecordFormatError);
    }
    const huge = new Uint8Array(RECORD_HEADER_BYTES + RECORD_PAYLOAD_BYTES_MAX + 1);
    view(huge).setUint32(0, huge.length, true);
    expect(() => decodeRecords(reseal(huge))).toThrow(/bad record length/);
  });

  it("random bytes: records or RecordFormatError, nothing else", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        decodeOrFormatError(bytes);
      }),
      { numRuns: 1000 },
    );
  });

  it("random headers with a valid length and checksum: records or RecordFormatError", () => {
    // Random bytes almost never pass the checksum; sealing them reaches every field check.
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: RECORD_HEADER_BYTES, maxLength: 120 }), { maxLength: 3 }),
        (parts) => {
          const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
          let at = 0;
          for (const p of parts) {
            bytes.set(p, at);
            view(bytes).setUint32(at, p.length, true);
            reseal(bytes, at);
            at += p.length;
          }
          const result = decodeOrFormatError(bytes);
          if (Array.isArray(result)) for (const r of result) expect(r.lsn).toBeGreaterThan(r.prevLsnOfPage);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
