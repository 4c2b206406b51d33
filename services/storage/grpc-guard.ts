import type * as grpc from "@grpc/grpc-js";
import type { Logger } from "../common/observe/log.js";
import { type CallStatus, invalidArgument, statusOf } from "./errors.js";

/**
 * grpc-js answers INTERNAL when a request's protobuf bytes do not decode
 * (server-interceptors.js: "Error deserializing request"), and that happens
 * before any handler or interceptor sees the call. The storage protocol says
 * malformed input is INVALID_ARGUMENT, so every request deserializer is
 * wrapped: an undecodable message becomes a marker the handlers refuse.
 */
const UNDECODABLE = Symbol("undecodable");

interface Undecodable {
  readonly [UNDECODABLE]: string;
}

export function isUndecodable(message: unknown): message is Undecodable {
  return typeof message === "object" && message !== null && UNDECODABLE in message;
}

/** Throws INVALID_ARGUMENT for a request that did not decode. */
export function decoded<T>(message: T | Undecodable): T {
  if (isUndecodable(message)) throw invalidArgument(`undecodable request: ${message[UNDECODABLE]}`);
  return message;
}

export function guardDeserializers(service: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const guarded: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(service)) {
    const decode = method.requestDeserialize;
    guarded[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return decode(bytes);
        } catch (err) {
          return { [UNDECODABLE]: err instanceof Error ? err.message : String(err) };
        }
      },
    };
  }
  return guarded as grpc.ServiceDefinition;
}

/** A unary handler from an async function: errors become statuses, undecodable requests INVALID_ARGUMENT. */
export function unary<Req, Res>(log: Logger, handle: (request: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => handle(decoded(call.request)))
      .then(
        (response) => callback(null, response),
        (err: unknown) => {
          const status: CallStatus = statusOf(log, err);
          callback({ code: status.code, details: status.details });
        },
      );
  };
}
