import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { type GroupId, nodeId, pageId } from "../common/ids.js";
import type { Lsn } from "../common/lsn.js";
import { PageKind } from "../common/page.js";
import { groupOf } from "../common/placement.js";
import { type LogRecord, RecordFormatError, RecordKind, encodeRecords } from "../common/record.js";
import { pageInitPayload } from "../common/redo.js";
import { validateBatch, validateHello } from "./append-batch.js";
import { Topology } from "./membership.js";

const self = nodeId(0);
const membership = {
  nodes: [0, 1, 2].map((n) => ({ nodeId: n, address: `h:${n}` })),
  groupCount: 8,
  replicaCount: 2,
  writeQuorum: 2,
};
const topology = new Topology(
  validateHello({ epoch: 1, truncateLsn: 0, membership, writerId: 0 }, self).membership,
  self,
);

/** Pages of hosted and foreign groups. */
function pageIn(hosted: boolean) {
  for (let r = 1; ; r++) {
    const p = pageId(r, 0);
    if (topology.hosts(groupOf(p, 8)) === hosted) return p;
  }
}

function rec(lsn: number, prevLsnOfGroup: number, page = pageIn(true)): LogRecord {
  return {
    lsn: lsn as Lsn,
    pageId: page,
    prevLsnOfPage: 0 as Lsn,
    prevLsnOfGroup: prevLsnOfGroup as Lsn,
    kind: RecordKind.PageInit,
    endsMtr: true,
    payload: pageInitPayload(PageKind.Heap),
  };
}

function batch(from: number, to: number, records: LogRecord[]) {
  return { epoch: 1, prevThroughLsn: from, throughLsn: to, vdl: 0, records: Buffer.from(encodeRecords(records)) };
}

describe("AppendLog validation", () => {
  it("accepts a well-formed batch and keeps each record's encoded bytes", () => {
    const v = validateBatch(batch(10, 20, [rec(11, 3), rec(15, 11)]), topology, 10 as Lsn);
    expect(v.records.map((r) => [r.record.lsn, r.encoded.length])).toEqual([
      [11, 45],
      [15, 45],
    ]);
    expect(v.records[0]!.group).toBe(groupOf(pageIn(true), 8) as GroupId);
  });

  it("refuses what breaks the protocol with INVALID_ARGUMENT", () => {
    const bad = (b: ReturnType<typeof batch>, expectFrom?: number) => () =>
      validateBatch(b, topology, expectFrom as Lsn | undefined);
    const invalid = expect.objectContaining({ code: grpc.status.INVALID_ARGUMENT });
    expect(bad(batch(10, 20, [rec(10, 3)]))).toThrow(invalid); // not above P
    expect(bad(batch(10, 20, [rec(21, 3)]))).toThrow(invalid); // above T
    expect(bad(batch(10, 20, [rec(12, 11)]))).toThrow(invalid); // links into (P, T] to a record not sent
    expect(bad(batch(10, 20, [rec(11, 3), rec(12, 3)]))).toThrow(invalid); // broken chain
    expect(bad(batch(10, 20, [rec(11, 3, pageIn(false))]))).toThrow(invalid); // group not hosted
    expect(bad(batch(20, 10, []))).toThrow(invalid);
    expect(bad(batch(12, 20, []), 10)).toThrow(invalid); // not contiguous
    expect(bad({ ...batch(10, 20, []), throughLsn: 2 ** 60 })).toThrow(invalid);
    expect(bad({ ...batch(10, 20, []), records: Buffer.from("garbage bytes that are no record at all!!!!!") })).toThrow(
      RecordFormatError,
    );
  });

  it("refuses unusable memberships", () => {
    const hello = (m: Partial<typeof membership>) => () =>
      validateHello({ epoch: 1, truncateLsn: 0, membership: { ...membership, ...m }, writerId: 0 }, self);
    const invalid = expect.objectContaining({ code: grpc.status.INVALID_ARGUMENT });
    expect(hello({ writeQuorum: 1 })).toThrow(invalid);
    expect(hello({ replicaCount: 4 })).toThrow(invalid);
    expect(hello({ groupCount: 0 })).toThrow(invalid);
    expect(
      hello({
        nodes: [
          { nodeId: 1, address: "a" },
          { nodeId: 1, address: "b" },
        ],
      }),
    ).toThrow(invalid);
    expect(hello({ nodes: [{ nodeId: 5, address: "a" }], replicaCount: 1, writeQuorum: 1 })).toThrow(invalid);
    expect(() => validateHello({ epoch: 1, truncateLsn: 0, membership: null, writerId: 0 }, self)).toThrow(invalid);
  });
});
