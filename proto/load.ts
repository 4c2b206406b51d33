import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import type { ProtoGrpcType } from "./gen/storage.js";

/**
 * Loads storage.proto at run time. The TypeScript types come from
 * proto-loader-gen-types (proto/gen, made by `npm run gen`), so the
 * contract is written once, in the .proto file.
 */
// Next to this file when run from source (vitest), two levels up when run from dist/.
const PROTO_PATH = [new URL("./storage.proto", import.meta.url), new URL("../../proto/storage.proto", import.meta.url)]
  .map((u) => fileURLToPath(u))
  .find((p) => existsSync(p))!;

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

let cached: ProtoGrpcType | undefined;

export function loadStorageProto(): ProtoGrpcType {
  if (cached === undefined) {
    const definition = protoLoader.loadSync(PROTO_PATH, LOADER_OPTIONS);
    cached = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
  }
  return cached;
}

/** Largest gRPC message either side accepts; larger ones are refused before they are buffered. */
export const GRPC_MESSAGE_BYTES_MAX = 8 * 1024 * 1024;

export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  "grpc.max_receive_message_length": GRPC_MESSAGE_BYTES_MAX,
  "grpc.max_send_message_length": GRPC_MESSAGE_BYTES_MAX,
  "grpc.keepalive_time_ms": 10_000,
  // A peer that stops answering pings for this long is gone. Generous: a
  // compute busy building a large index must not lose its streams.
  "grpc.keepalive_timeout_ms": 20_000,
  "grpc-node.flow_control_window": 4 * 1024 * 1024,
  // grpc-js waits 1 s, then up to 120 s, before reconnecting a channel; a
  // restarted storage node must be back in the write quorum within a second.
  "grpc.initial_reconnect_backoff_ms": 50,
  "grpc.min_reconnect_backoff_ms": 50,
  "grpc.max_reconnect_backoff_ms": 250,
};

export type * from "./gen/storage.js";
