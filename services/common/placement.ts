import { assert } from "./assert.js";
import { type GroupId, type NodeId, type PageId, groupId } from "./ids.js";

/** Blocks per placement chunk: 128 × 8 KiB = 1 MiB of a relation stays in one group. */
export const BLOCKS_PER_CHUNK_SHIFT = 7;

/** 32-bit integer mix (murmur3 finalizer): cheap and well spread. */
function mix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hash2(a: number, b: number): number {
  return mix32(Math.imul(mix32(a) ^ 0x9e3779b9, 31) ^ mix32(b ^ 0x7f4a7c15));
}

/** group = hash(relfile, block >> 7) mod groupCount (design section 2). */
export function groupOf(page: PageId, groupCount: number): GroupId {
  assert(Number.isInteger(groupCount) && groupCount > 0, "group count must be positive");
  return groupId(hash2(page.relfile, page.block >>> BLOCKS_PER_CHUNK_SHIFT) % groupCount);
}

/**
 * Rendezvous (highest random weight) hashing: the `replicaCount` nodes with
 * the highest hash(group, node). Adding a node moves only the groups it wins.
 * Result is sorted by descending weight, so [0] is the preferred replica.
 */
export function replicasOf(group: GroupId, nodes: readonly NodeId[], replicaCount: number): NodeId[] {
  assert(nodes.length >= replicaCount, () => `need ${replicaCount} nodes, have ${nodes.length}`);
  assert(new Set(nodes).size === nodes.length, "duplicate node ids");
  return nodes
    .map((node) => ({ node, weight: hash2(group, node + 0x10000) }))
    .sort((a, b) => b.weight - a.weight || a.node - b.node)
    .slice(0, replicaCount)
    .map((x) => x.node);
}

export interface PlacementConfig {
  readonly nodes: readonly NodeId[];
  readonly groupCount: number;
  readonly replicaCount: number;
  readonly writeQuorum: number;
}

/** The full placement: replicas of every group, and the groups of every node. */
export interface Placement {
  readonly config: PlacementConfig;
  readonly replicas: readonly (readonly NodeId[])[]; // indexed by GroupId
  readonly groupsOfNode: ReadonlyMap<NodeId, readonly GroupId[]>;
}

export function computePlacement(config: PlacementConfig): Placement {
  assert(config.writeQuorum > config.replicaCount / 2, "write quorum must be a majority of the replicas");
  assert(config.writeQuorum <= config.replicaCount, "write quorum larger than the replica count");
  const replicas: NodeId[][] = [];
  const groupsOfNode = new Map<NodeId, GroupId[]>(config.nodes.map((n) => [n, []]));
  for (let g = 0; g < config.groupCount; g++) {
    const set = replicasOf(groupId(g), config.nodes, config.replicaCount);
    replicas.push(set);
    for (const n of set) groupsOfNode.get(n)!.push(groupId(g));
  }
  return { config, replicas, groupsOfNode };
}
