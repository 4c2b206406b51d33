import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvariantError } from "./assert.js";
import { BLOCK_MAX, type NodeId, RELFILE_MAX, groupId, nodeId, pageId } from "./ids.js";
import { BLOCKS_PER_CHUNK_SHIFT, computePlacement, groupOf, replicasOf } from "./placement.js";

const nodeListArb = (min: number, max: number) =>
  fc.uniqueArray(fc.nat({ max: 0xffff }), { minLength: min, maxLength: max }).map((ns) => ns.map(nodeId));
const pageArb = fc.record({
  relfile: fc.nat({ max: RELFILE_MAX }),
  block: fc.oneof(fc.nat({ max: 2000 }), fc.nat({ max: BLOCK_MAX })),
});

describe("replicasOf", () => {
  it("returns replicaCount distinct nodes of the list, whatever the list's order", () => {
    fc.assert(
      fc.property(nodeListArb(1, 12), fc.nat({ max: 0xffff_ffff }), fc.nat(), (nodes, g, pick) => {
        const count = 1 + (pick % nodes.length);
        const replicas = replicasOf(groupId(g), nodes, count);
        expect(replicas).toHaveLength(count);
        expect(new Set(replicas).size).toBe(count);
        for (const n of replicas) expect(nodes).toContain(n);
        expect(replicasOf(groupId(g), [...nodes].reverse(), count)).toEqual(replicas);
        // A smaller replica count is a prefix: [0] is the preferred replica.
        expect(replicasOf(groupId(g), nodes, Math.max(1, count - 1))).toEqual(
          replicas.slice(0, Math.max(1, count - 1)),
        );
      }),
    );
  });

  it("adding a node changes only the groups the new node now hosts (rendezvous)", () => {
    fc.assert(
      fc.property(nodeListArb(4, 11), fc.integer({ min: 1, max: 5 }), (all, replicaCount) => {
        const nodes = all.slice(0, -1);
        const added = all[all.length - 1]!;
        fc.pre(replicaCount <= nodes.length);
        const groupCount = 64;
        const writeQuorum = Math.floor(replicaCount / 2) + 1;
        const before = computePlacement({ nodes, groupCount, replicaCount, writeQuorum });
        const after = computePlacement({ nodes: [...nodes, added], groupCount, replicaCount, writeQuorum });
        for (let g = 0; g < groupCount; g++) {
          const old = before.replicas[g]!;
          const now = after.replicas[g]!;
          if (!now.includes(added)) {
            expect(now).toEqual(old);
          } else {
            // The new node took exactly one seat: the others keep their order, the last one leaves.
            expect(now.filter((n) => n !== added)).toEqual(old.slice(0, -1));
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it("refuses too few nodes and duplicates", () => {
    expect(() => replicasOf(groupId(0), [nodeId(1), nodeId(2)], 3)).toThrow(InvariantError);
    expect(() => replicasOf(groupId(0), [nodeId(1), nodeId(1), nodeId(2)], 2)).toThrow(InvariantError);
  });
});

describe("computePlacement", () => {
  it("lists each group's replicas, and each node's groups consistently", () => {
    fc.assert(
      fc.property(nodeListArb(3, 10), fc.integer({ min: 1, max: 100 }), (nodes, groupCount) => {
        const placement = computePlacement({ nodes, groupCount, replicaCount: 3, writeQuorum: 2 });
        expect(placement.replicas).toHaveLength(groupCount);
        const fromNodes = new Map<number, NodeId[]>();
        for (const [node, groups] of placement.groupsOfNode) {
          for (const g of groups) fromNodes.set(g, [...(fromNodes.get(g) ?? []), node]);
        }
        placement.replicas.forEach((replicas, g) => {
          expect(replicas).toEqual(replicasOf(groupId(g), nodes, 3));
          expect([...fromNodes.get(g)!].sort((a, b) => a - b)).toEqual([...replicas].sort((a, b) => a - b));
        });
        expect([...placement.groupsOfNode.keys()].sort((a, b) => a - b)).toEqual([...nodes].sort((a, b) => a - b));
      }),
      { numRuns: 100 },
    );
  });

  it("refuses a write quorum that is not a majority or exceeds the replicas", () => {
    const nodes = [0, 1, 2].map(nodeId);
    expect(() => computePlacement({ nodes, groupCount: 1, replicaCount: 3, writeQuorum: 1 })).toThrow(InvariantError);
    expect(() => computePlacement({ nodes, groupCount: 1, replicaCount: 2, writeQuorum: 3 })).toThrow(InvariantError);
    expect(() => computePlacement({ nodes, groupCount: 1, replicaCount: 4, writeQuorum: 3 })).toThrow(InvariantError);
  });

  it("spreads groups over the nodes", () => {
    const nodes = [0, 1, 2, 3, 4, 5].map(nodeId);
    const placement = computePlacement({ nodes, groupCount: 600, replicaCount: 3, writeQuorum: 2 });
    // Each node should host about 600 × 3 / 6 = 300 groups.
    for (const groups of placement.groupsOfNode.values()) {
      expect(groups.length).toBeGreaterThan(200);
      expect(groups.length).toBeLessThan(400);
    }
  });
});

describe("groupOf", () => {
  it("stays in range and keeps each 128-block chunk of a relation together", () => {
    fc.assert(
      fc.property(pageArb, fc.integer({ min: 1, max: 100_000 }), fc.nat({ max: 127 }), (page, groupCount, offset) => {
        const g = groupOf(pageId(page.relfile, page.block), groupCount);
        expect(Number.isInteger(g) && g >= 0 && g < groupCount).toBe(true);
        const chunkStart = (page.block >>> BLOCKS_PER_CHUNK_SHIFT) << BLOCKS_PER_CHUNK_SHIFT;
        const sibling = (chunkStart >>> 0) + offset;
        expect(groupOf(pageId(page.relfile, sibling), groupCount)).toBe(g);
      }),
    );
  });

  it("spreads the chunks of a relation over the groups", () => {
    const seen = new Set<number>();
    for (let chunk = 0; chunk < 1000; chunk++) seen.add(groupOf(pageId(16384, chunk << BLOCKS_PER_CHUNK_SHIFT), 64));
    expect(seen.size).toBe(64);
    expect(() => groupOf(pageId(1, 1), 0)).toThrow(InvariantError);
  });
});
