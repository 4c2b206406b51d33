import { BodyReader, decodeStartupParameters, decodeTyped } from "./frontend-decode.js";
import {
  CANCEL_REQUEST_CODE,
  type FrontendMessage,
  GSSENC_REQUEST_CODE,
  SSL_REQUEST_CODE,
  type StartupPhaseMessage,
  type TypedMessageKind,
} from "./frontend-messages.js";
import { SqlError, SqlState } from "./sql-error.js";

/**
 * The frontend framer: bytes in, messages out, no socket inside.
 *
 *   framer.push(chunk); for (let m; (m = framer.next()); ) handle(m);
 *
 * It starts in the untyped startup phase (Int32 length, Int32 code) and stays
 * there through SSLRequest/GSSENCRequest until a StartupMessage arrives; then
 * every message is a type byte, an Int32 length and a body. A message's length
 * is checked against its limit as soon as the header is in, before a single
 * byte of its body is kept, so a header claiming 2 GiB costs nothing.
 *
 * A broken stream (bad length, unknown type, unsupported protocol) throws a
 * FramingError, every later call throws it again: the session must send it
 * (FATAL) and close. A well-framed body that does not decode is not a broken
 * stream: it comes out as a Malformed message.
 */

/** PostgreSQL's MAX_STARTUP_PACKET_LENGTH. */
export const STARTUP_PACKET_BYTES_MAX = 10_000;
/** PostgreSQL's PQ_SMALL_MESSAGE_LIMIT, for messages that carry only names. */
export const SMALL_MESSAGE_BYTES_MAX = 10_000;
/** PostgreSQL's PG_MAX_AUTH_TOKEN_LENGTH. */
export const AUTH_MESSAGE_BYTES_MAX = 65_535;
/** Default limit of Query, Parse, Bind, CopyData, FunctionCall (PostgreSQL allows 1 GiB). */
export const MESSAGE_BYTES_MAX_DEFAULT = 16 * 1024 * 1024;

export interface FramerOptions {
  /** Largest Query/Parse/Bind/CopyData/FunctionCall, counting the length word as the protocol does. */
  readonly messageBytesMax?: number;
}

/** The stream cannot be read any further. Carries the SQLSTATE to report (08P01, 0A000). */
export class FramingError extends Error {
  override name = "FramingError";
  constructor(readonly error: SqlError) {
    super(error.message);
  }
}

type Limit = "small" | "large" | "auth";
const TYPED: ReadonlyMap<number, { kind: TypedMessageKind; limit: Limit }> = new Map([
  [0x51, { kind: "Query", limit: "large" }], // Q
  [0x50, { kind: "Parse", limit: "large" }], // P
  [0x42, { kind: "Bind", limit: "large" }], // B
  [0x44, { kind: "Describe", limit: "small" }], // D
  [0x45, { kind: "Execute", limit: "small" }], // E
  [0x43, { kind: "Close", limit: "small" }], // C
  [0x53, { kind: "Sync", limit: "small" }], // S
  [0x48, { kind: "Flush", limit: "small" }], // H
  [0x58, { kind: "Terminate", limit: "small" }], // X
  [0x70, { kind: "PasswordMessage", limit: "auth" }], // p
  [0x64, { kind: "CopyData", limit: "large" }], // d
  [0x63, { kind: "CopyDone", limit: "small" }], // c
  [0x66, { kind: "CopyFail", limit: "small" }], // f
  [0x46, { kind: "FunctionCall", limit: "large" }], // F
]);

const TYPE_BYTES: ReadonlyMap<TypedMessageKind, number> = new Map([...TYPED].map(([byte, { kind }]) => [kind, byte]));

/** The type byte a typed message arrived with (for PostgreSQL's "unexpected message type 0x51"). */
export function typeByteOf(kind: TypedMessageKind): number {
  return TYPE_BYTES.get(kind)!;
}

const EMPTY = new Uint8Array(0);

export class FrontendFramer {
  private readonly messageBytesMax: number;
  /** Received bytes not yet consumed: chunks[head] from headOffset, then the rest. */
  private chunks: Uint8Array[] = [];
  private head = 0;
  private headOffset = 0;
  private buffered = 0;
  private phase: "startup" | "typed" = "startup";
  private sslDone = false;
  private gssDone = false;
  private failure: FramingError | undefined;

  constructor(options: FramerOptions = {}) {
    this.messageBytesMax = options.messageBytesMax ?? MESSAGE_BYTES_MAX_DEFAULT;
    if (!(this.messageBytesMax >= SMALL_MESSAGE_BYTES_MAX)) {
      throw new RangeError(`messageBytesMax must be at least ${SMALL_MESSAGE_BYTES_MAX}`);
    }
  }

  /** Bytes received and not yet returned as messages. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** True once the StartupMessage is through and typed messages follow. */
  get started(): boolean {
    return this.phase === "typed";
  }

  /** Hand over a received chunk; the framer may return views into it, so the caller must not reuse it. */
  push(chunk: Uint8Array): void {
    if (this.failure !== undefined || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The next complete message, or undefined until more bytes arrive. */
  next(): FrontendMessage | undefined {
    if (this.failure !== undefined) throw this.failure;
    try {
      return this.phase === "typed" ? this.nextTyped() : this.nextStartup();
    } catch (err) {
      if (!(err instanceof FramingError)) throw err;
      this.failure = err;
      this.chunks = [];
      this.head = 0;
      this.headOffset = 0;
      this.buffered = 0;
      throw err;
    }
  }

  private nextTyped(): FrontendMessage | undefined {
    if (this.buffered < 1) return undefined;
    const type = this.peekByte(0);
    const entry = TYPED.get(type);
    if (entry === undefined) fail(SqlState.protocolViolation, `invalid frontend message type ${type}`);
    if (this.buffered < 5) return undefined;
    const length = this.peekInt32(1);
    if (length < 4 || length > this.limitOf(entry.limit)) {
      fail(SqlState.protocolViolation, `invalid message length`, `message type ${type} claims ${length} bytes`);
    }
    if (this.buffered < 1 + length) return undefined;
    this.skip(5);
    const body = this.take(length - 4);
    try {
      return decodeTyped(entry.kind, body);
    } catch (err) {
      if (!(err instanceof SqlError)) throw err;
      return { kind: "Malformed", of: entry.kind, error: err };
    }
  }

  private nextStartup(): StartupPhaseMessage | undefined {
    if (this.buffered < 4) return undefined;
    const length = this.peekInt32(0);
    if (length < 8 || length > STARTUP_PACKET_BYTES_MAX) {
      fail(SqlState.protocolViolation, "invalid length of startup packet");
    }
    if (this.buffered < length) return undefined;
    this.skip(4);
    const r = new BodyReader(this.take(length - 4));
    const code = r.int32();
    if (code === SSL_REQUEST_CODE && !this.sslDone) {
      this.exactly(r, 0);
      this.sslDone = true;
      return { kind: "SSLRequest" };
    }
    if (code === GSSENC_REQUEST_CODE && !this.gssDone) {
      this.exactly(r, 0);
      this.gssDone = true;
      return { kind: "GSSENCRequest" };
    }
    if (code === CANCEL_REQUEST_CODE) {
      this.exactly(r, 8);
      return { kind: "CancelRequest", processId: r.int32(), secretKey: r.int32() };
    }
    const major = code >>> 16;
    const minor = code & 0xffff;
    if (major !== 3) {
      fail(SqlState.featureNotSupported, `unsupported frontend protocol ${major}.${minor}: server supports 3.0 to 3.0`);
    }
    try {
      const message = decodeStartupParameters(code, r);
      this.phase = "typed";
      return message;
    } catch (err) {
      if (err instanceof SqlError) throw new FramingError(err.fatal());
      throw err;
    }
  }

  private exactly(r: BodyReader, remaining: number): void {
    if (r.remaining !== remaining) fail(SqlState.protocolViolation, "invalid length of startup packet");
  }

  private limitOf(limit: Limit): number {
    if (limit === "large") return this.messageBytesMax;
    return limit === "auth" ? AUTH_MESSAGE_BYTES_MAX : SMALL_MESSAGE_BYTES_MAX;
  }

  // ---- the chunk queue ----

  private peekByte(index: number): number {
    let i = this.head;
    let offset = this.headOffset + index;
    for (;;) {
      const chunk = this.chunks[i]!;
      if (offset < chunk.length) return chunk[offset]!;
      offset -= chunk.length;
      i++;
    }
  }

  private peekInt32(index: number): number {
    return (
      (this.peekByte(index) << 24) |
      (this.peekByte(index + 1) << 16) |
      (this.peekByte(index + 2) << 8) |
      this.peekByte(index + 3)
    );
  }

  private skip(n: number): void {
    this.take(n);
  }

  /** The next n buffered bytes: a view when they sit in one chunk, else one copy. */
  private take(n: number): Uint8Array {
    if (n === 0) return EMPTY;
    const first = this.chunks[this.head]!;
    let out: Uint8Array;
    if (first.length - this.headOffset >= n) {
      out = first.subarray(this.headOffset, this.headOffset + n);
      this.headOffset += n;
    } else {
      out = new Uint8Array(n);
      let filled = 0;
      while (filled < n) {
        const chunk = this.chunks[this.head]!;
        const count = Math.min(chunk.length - this.headOffset, n - filled);
        out.set(chunk.subarray(this.headOffset, this.headOffset + count), filled);
        filled += count;
        this.headOffset += count;
        if (this.headOffset === chunk.length) this.dropHead();
      }
    }
    if (this.head < this.chunks.length && this.headOffset === this.chunks[this.head]!.length) this.dropHead();
    this.buffered -= n;
    return out;
  }

  private dropHead(): void {
    this.head++;
    this.headOffset = 0;
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head >= 64) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}

function fail(code: string, message: string, detail?: string): never {
  throw new FramingError(
    new SqlError(code, message, detail === undefined ? { severity: "FATAL" } : { severity: "FATAL", detail }),
  );
}
