import type { SqlError } from "./sql-error.js";

/**
 * Messages a client sends (PostgreSQL protocol v3, protocol-message-formats.html),
 * as the framer yields them. Strings are decoded as UTF-8; byte payloads
 * (parameter values, authentication data, COPY data) are views into the
 * received chunks, valid as long as the caller keeps them (the framer never
 * writes into a chunk it was given).
 */

/** 0 text, 1 binary. */
export type FormatCode = 0 | 1;

/** Protocol 3.0 as the startup packet spells it: major << 16 | minor. */
export const PROTOCOL_3_0 = 196608;
export const SSL_REQUEST_CODE = 80877103;
export const GSSENC_REQUEST_CODE = 80877104;
export const CANCEL_REQUEST_CODE = 80877102;

// ---- the untyped startup phase: length-prefixed packets without a type byte ----

export interface StartupMessage {
  readonly kind: "StartupMessage";
  /** major << 16 | minor; the framer only lets major 3 through. */
  readonly protocolVersion: number;
  /** Name/value pairs in the order sent (`user`, `database`, `options`, GUCs, `_pq_.*`). */
  readonly parameters: ReadonlyMap<string, string>;
}
export interface SSLRequest {
  readonly kind: "SSLRequest";
}
export interface GSSENCRequest {
  readonly kind: "GSSENCRequest";
}
export interface CancelRequest {
  readonly kind: "CancelRequest";
  readonly processId: number;
  readonly secretKey: number;
}
export type StartupPhaseMessage = StartupMessage | SSLRequest | GSSENCRequest | CancelRequest;

// ---- typed messages: type byte, Int32 length, body ----

/** 'Q': simple query, possibly several statements. */
export interface Query {
  readonly kind: "Query";
  readonly sql: string;
}
/** 'P': prepare `sql` as statement `name` ("" is the unnamed statement). */
export interface Parse {
  readonly kind: "Parse";
  readonly name: string;
  readonly sql: string;
  /** One per parameter the client specifies; 0 leaves the type to the server. */
  readonly paramTypeOids: readonly number[];
}
/** 'B': bind parameters to a statement, making portal `portal`. Counts as sent (0, 1 or n formats). */
export interface Bind {
  readonly kind: "Bind";
  readonly portal: string;
  readonly statement: string;
  readonly paramFormats: readonly FormatCode[];
  /** null is SQL NULL (length -1 on the wire). */
  readonly params: readonly (Uint8Array | null)[];
  readonly resultFormats: readonly FormatCode[];
}
/** 'D': describe a prepared statement ('S') or a portal ('P'). */
export interface Describe {
  readonly kind: "Describe";
  readonly target: "S" | "P";
  readonly name: string;
}
/** 'E': run a portal; `rowsMax` 0 means no limit. */
export interface Execute {
  readonly kind: "Execute";
  readonly portal: string;
  readonly rowsMax: number;
}
/** 'C': close a prepared statement ('S') or a portal ('P'). */
export interface Close {
  readonly kind: "Close";
  readonly target: "S" | "P";
  readonly name: string;
}
export interface Sync {
  readonly kind: "Sync";
}
export interface Flush {
  readonly kind: "Flush";
}
export interface Terminate {
  readonly kind: "Terminate";
}
/**
 * 'p': PasswordMessage, SASLInitialResponse, SASLResponse and GSSResponse share
 * one type byte; only the authentication step knows which it asked for, so the
 * body stays raw (see decodeSaslInitialResponse).
 */
export interface PasswordMessage {
  readonly kind: "PasswordMessage";
  readonly data: Uint8Array;
}
/** 'd', 'c', 'f': COPY FROM STDIN traffic (ignored outside COPY, as PostgreSQL does). */
export interface CopyData {
  readonly kind: "CopyData";
  readonly data: Uint8Array;
}
export interface CopyDone {
  readonly kind: "CopyDone";
}
export interface CopyFail {
  readonly kind: "CopyFail";
  readonly message: string;
}
/** 'F': the legacy fast-path function call. */
export interface FunctionCall {
  readonly kind: "FunctionCall";
  readonly functionOid: number;
  readonly argFormats: readonly FormatCode[];
  readonly args: readonly (Uint8Array | null)[];
  readonly resultFormat: FormatCode;
}

export type TypedMessage =
  | Query
  | Parse
  | Bind
  | Describe
  | Execute
  | Close
  | Sync
  | Flush
  | Terminate
  | PasswordMessage
  | CopyData
  | CopyDone
  | CopyFail
  | FunctionCall;

export type TypedMessageKind = TypedMessage["kind"];

/**
 * A well-framed message whose body does not decode (a missing terminator,
 * bytes left over, invalid UTF-8). The stream is intact, so, as in PostgreSQL,
 * this is an ERROR of that message, not the end of the session.
 */
export interface Malformed {
  readonly kind: "Malformed";
  /** What the type byte announced. */
  readonly of: TypedMessageKind;
  readonly error: SqlError;
}

export type FrontendMessage = StartupPhaseMessage | TypedMessage | Malformed;

/**
 * Messages of the extended query protocol: after an error in one, the server
 * discards input until Sync. Sync itself is not one (an error while syncing
 * must not start a new skip), as in PostgreSQL's SocketBackend.
 */
export function isExtendedQueryMessage(kind: TypedMessageKind): boolean {
  switch (kind) {
    case "Parse":
    case "Bind":
    case "Describe":
    case "Execute":
    case "Close":
    case "Flush":
      return true;
    default:
      return false;
  }
}
