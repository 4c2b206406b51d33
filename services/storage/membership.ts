import { type GroupId, type NodeId, type PageId, nodeId } from "../common/ids.js";
import { type Placement, computePlacement, groupOf } from "../common/placement.js";
import { invalidArgument } from "./errors.js";
import type { Membership__Output } from "./wire.js";

/** Which nodes exist and how groups are placed: sent by the writer in Hello, persisted by the node. */
export interface MembershipConfig {
  readonly nodes: readonly { readonly nodeId: NodeId; readonly address: string }[];
  readonly groupCount: number;
  readonly replicaCount: number;
  readonly writeQuorum: number;
}

/** Bounds on a Hello's membership: placement costs groups × nodes × log(nodes) per Hello. */
export const GROUP_COUNT_MAX = 1 << 14;
const NODES_MAX = 256;
const ADDRESS_BYTES_MAX = 255;

/** Validates a membership from the wire (INVALID_ARGUMENT when unusable): computePlacement asserts, it must not see bad input. */
export function membershipFromWire(m: Membership__Output | null | undefined, self: NodeId): MembershipConfig {
  if (m === null || m === undefined) throw invalidArgument("Hello carries no membership");
  const { groupCount, replicaCount, writeQuorum } = m;
  if (m.nodes.length === 0 || m.nodes.length > NODES_MAX) throw invalidArgument("membership: bad node count");
  if (!Number.isInteger(groupCount) || groupCount < 1 || groupCount > GROUP_COUNT_MAX) {
    throw invalidArgument(`membership: bad group count ${groupCount}`);
  }
  if (replicaCount < 1 || replicaCount > m.nodes.length) throw invalidArgument("membership: bad replica count");
  if (writeQuorum * 2 <= replicaCount || writeQuorum > replicaCount) {
    throw invalidArgument("membership: write quorum must be a majority of the replicas");
  }
  const ids = new Set<number>();
  const nodes = m.nodes.map((n) => {
    if (!Number.isInteger(n.nodeId) || n.nodeId > 0xffff || ids.has(n.nodeId)) {
      throw invalidArgument(`membership: bad or duplicate node id ${n.nodeId}`);
    }
    if (n.address.length > ADDRESS_BYTES_MAX) throw invalidArgument("membership: address too long");
    ids.add(n.nodeId);
    return { nodeId: nodeId(n.nodeId), address: n.address };
  });
  if (!ids.has(self)) throw invalidArgument(`membership does not include node ${self}`);
  return { nodes, groupCount, replicaCount, writeQuorum };
}

export function sameMembership(a: MembershipConfig | null, b: MembershipConfig | null): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A membership as seen from one node: its groups and its peers. */
export class Topology {
  readonly placement: Placement;
  readonly hosted: readonly GroupId[];
  private readonly hostedSet: ReadonlySet<GroupId>;
  private readonly addresses: ReadonlyMap<NodeId, string>;

  constructor(
    readonly config: MembershipConfig,
    readonly self: NodeId,
  ) {
    this.placement = computePlacement({
      nodes: config.nodes.map((n) => n.nodeId),
      groupCount: config.groupCount,
      replicaCount: config.replicaCount,
      writeQuorum: config.writeQuorum,
    });
    this.hosted = this.placement.groupsOfNode.get(self) ?? [];
    this.hostedSet = new Set(this.hosted);
    this.addresses = new Map(config.nodes.map((n) => [n.nodeId, n.address]));
  }

  hosts(group: GroupId): boolean {
    return this.hostedSet.has(group);
  }

  groupOf(page: PageId): GroupId {
    return groupOf(page, this.config.groupCount);
  }

  /** The other replicas of `group`, preferred first, with an address. */
  peersOf(group: GroupId): { nodeId: NodeId; address: string }[] {
    const replicas = this.placement.replicas[group] ?? [];
    return replicas
      .filter((n) => n !== this.self)
      .map((n) => ({ nodeId: n, address: this.addresses.get(n) ?? "" }))
      .filter((p) => p.address !== "");
  }
}
