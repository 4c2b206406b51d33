import * as grpc from "@grpc/grpc-js";
import type { Membership } from "../../../proto/gen/sediment/storage/Membership.js";
import type { StorageClient } from "../../../proto/gen/sediment/storage/Storage.js";
import { CHANNEL_OPTIONS, loadStorageProto } from "../../../proto/load.js";
import type { NodeId } from "../../common/ids.js";
import type { Placement } from "../../common/placement.js";

/** The storage nodes a compute talks to: one gRPC client (one HTTP/2 connection) each. */
export interface StorageNodeAddress {
  readonly node: NodeId;
  readonly address: string; // host:port
}

export class StorageCluster {
  readonly clients = new Map<NodeId, StorageClient>();

  constructor(
    readonly nodes: readonly StorageNodeAddress[],
    readonly placement: Placement,
  ) {
    const proto = loadStorageProto();
    for (const { node, address } of nodes) {
      this.clients.set(
        node,
        new proto.sediment.storage.Storage(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS),
      );
    }
  }

  client(node: NodeId): StorageClient {
    const client = this.clients.get(node);
    if (client === undefined) throw new Error(`no storage node ${node}`);
    return client;
  }

  membership(): Membership {
    const c = this.placement.config;
    return {
      nodes: this.nodes.map((n) => ({ nodeId: n.node, address: n.address })),
      groupCount: c.groupCount,
      replicaCount: c.replicaCount,
      writeQuorum: c.writeQuorum,
    };
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
  }
}

/** Parses `host:port,host:port,...` into node ids 0..n-1 in order. */
export function parseStorageList(list: string): StorageNodeAddress[] {
  return list
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((address, i) => {
      if (!/^[^:\s]+:\d{1,5}$/.test(address)) throw new Error(`bad storage address ${JSON.stringify(address)}`);
      return { node: i as NodeId, address };
    });
}
