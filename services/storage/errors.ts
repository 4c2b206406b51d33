import * as grpc from "@grpc/grpc-js";
import { InvariantError } from "../common/assert.js";
import type { Logger } from "../common/observe/log.js";
import { RecordFormatError } from "../common/record.js";

/** An error that ends one call with a chosen gRPC status: bad input or a refused request, never a bug. */
export class StatusError extends Error {
  override name = "StatusError";
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

export function invalidArgument(message: string): StatusError {
  return new StatusError(grpc.status.INVALID_ARGUMENT, message);
}

export function failedPrecondition(message: string): StatusError {
  return new StatusError(grpc.status.FAILED_PRECONDITION, message);
}

export function unavailable(message: string): StatusError {
  return new StatusError(grpc.status.UNAVAILABLE, message);
}

export interface CallStatus {
  readonly code: grpc.status;
  readonly details: string;
}

/**
 * Stops the process on a violated invariant: the node's state (or its disk)
 * is wrong and serving on would spread wrong data. Everything else is an
 * error of one call.
 */
export function crash(log: Logger, err: unknown): never {
  log.fatal({ err }, "invariant violated: stopping the storage node");
  process.exit(70);
}

/** The status a failed call ends with; crashes on an InvariantError. */
export function statusOf(log: Logger, err: unknown): CallStatus {
  if (err instanceof InvariantError) crash(log, err);
  if (err instanceof StatusError) return { code: err.code, details: err.message };
  if (err instanceof RecordFormatError) return { code: grpc.status.INVALID_ARGUMENT, details: err.message };
  log.error({ err }, "call failed");
  return { code: grpc.status.INTERNAL, details: err instanceof Error ? err.message : String(err) };
}

/** A uint64 from the wire, as an exact safe integer (protobuf longs above 2^53 arrive rounded). */
export function wireInt(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw invalidArgument(`${field} is not a safe non-negative integer`);
  }
  return value;
}
