import { typeByteOf } from "./framer.js";
import type { FrontendMessage } from "./frontend-messages.js";
import { SqlError, SqlState } from "./sql-error.js";

/**
 * The COPY FROM STDIN sub-protocol, as PostgreSQL's CopyGetData reads it:
 * after CopyInResponse the client sends CopyData*, then CopyDone or CopyFail.
 * Flush and Sync are skipped (libpq and drivers may send them without
 * noticing the statement was a COPY: PostgreSQL throws them away too, so a
 * Sync sent then is lost). Anything else is a protocol violation that costs
 * the connection: PostgreSQL reports it as an ERROR, then ends the session
 * because it no longer knows where the next message starts.
 */

/** What the session lends to a copy-in: its framed input. */
export interface CopyInSource {
  /** The next framed message, or undefined until more bytes arrive (undefined too once the session closed). */
  next(): FrontendMessage | undefined;
  /** Resolves when more bytes arrived or the session closed; resumes a paused socket first. */
  more(): Promise<void>;
  readonly closed: boolean;
  /** A message COPY does not allow arrived: after the error, the session must end. */
  lost(): void;
}

/** PostgreSQL's message when the connection drops in the middle of COPY. */
export function copyConnectionLost(): SqlError {
  return new SqlError(SqlState.connectionFailure, "unexpected EOF on client connection with an open transaction");
}

/** The payloads of the client's CopyData until CopyDone; throws on CopyFail and on protocol errors. */
export async function* copyInData(source: CopyInSource): AsyncGenerator<Uint8Array, void, undefined> {
  for (;;) {
    if (source.closed) throw copyConnectionLost();
    const m = source.next();
    if (m === undefined) {
      await source.more();
      continue;
    }
    switch (m.kind) {
      case "CopyData":
        yield m.data;
        break;
      case "CopyDone":
        return;
      case "CopyFail":
        throw new SqlError(SqlState.queryCanceled, `COPY from stdin failed: ${m.message}`);
      case "Flush":
      case "Sync":
        break;
      case "Malformed":
        // Well framed, so the stream is intact: an ERROR of this COPY (a CopyFail without its terminator …).
        if (m.of === "CopyData" || m.of === "CopyDone" || m.of === "CopyFail" || m.of === "Flush" || m.of === "Sync") {
          throw m.error;
        }
        source.lost();
        throw unexpected(typeByteOf(m.of));
      default:
        source.lost();
        throw unexpected(typeByteOfMessage(m));
    }
  }
}

function typeByteOfMessage(m: FrontendMessage): number {
  switch (m.kind) {
    case "StartupMessage":
    case "SSLRequest":
    case "GSSENCRequest":
    case "CancelRequest":
    case "Malformed":
      return 0; // not after startup: the framer yields only typed messages by now
    default:
      return typeByteOf(m.kind);
  }
}

function unexpected(type: number): SqlError {
  const hex = type.toString(16).toUpperCase().padStart(2, "0");
  return new SqlError(SqlState.protocolViolation, `unexpected message type 0x${hex} during COPY from stdin`);
}

/** The FATAL that follows an unexpected message during COPY (PostgresMain's recovery). */
export function protocolSynchronizationLost(): SqlError {
  return new SqlError(SqlState.protocolViolation, "terminating connection because protocol synchronization was lost", {
    severity: "FATAL",
  });
}
