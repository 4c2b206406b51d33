import type {
  Bind,
  Close,
  Describe,
  Execute,
  FormatCode,
  FunctionCall,
  Parse,
  StartupMessage,
  TypedMessage,
  TypedMessageKind,
} from "./frontend-messages.js";
import { SqlError, SqlState } from "./sql-error.js";

/**
 * Message bodies into typed messages. Every failure is a SqlError with
 * PostgreSQL's wording (pqformat.c, postgres.c); the framer decides whether it
 * ends the session (startup phase) or only that message (typed phase).
 */

const utf8 = new TextDecoder("utf-8", { fatal: true });

function protocolViolation(message: string): SqlError {
  return new SqlError(SqlState.protocolViolation, message);
}

/** A cursor over one message body; reads past the end raise PostgreSQL's errors. */
export class BodyReader {
  private offset = 0;

  constructor(private readonly body: Uint8Array) {}

  get remaining(): number {
    return this.body.length - this.offset;
  }

  byte(): number {
    this.need(1);
    return this.body[this.offset++]!;
  }

  int16(): number {
    this.need(2);
    const b = this.body;
    const v = (b[this.offset]! << 8) | b[this.offset + 1]!;
    this.offset += 2;
    return v > 0x7fff ? v - 0x1_0000 : v;
  }

  uint16(): number {
    return this.int16() & 0xffff;
  }

  int32(): number {
    this.need(4);
    const b = this.body;
    const o = this.offset;
    this.offset += 4;
    return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
  }

  uint32(): number {
    return this.int32() >>> 0;
  }

  /** A NUL-terminated UTF-8 string. */
  cstring(): string {
    const end = this.body.indexOf(0, this.offset);
    if (end < 0) throw protocolViolation("invalid string in message");
    const s = decodeUtf8(this.body.subarray(this.offset, end));
    this.offset = end + 1;
    return s;
  }

  bytes(length: number): Uint8Array {
    if (length < 0) throw protocolViolation("insufficient data left in message");
    this.need(length);
    const out = this.body.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  /** Int32 length, then that many bytes; -1 is NULL. */
  nullableBytes(): Uint8Array | null {
    const length = this.int32();
    return length === -1 ? null : this.bytes(length);
  }

  /** pq_getmsgend: a body must be consumed exactly. */
  end(): void {
    if (this.offset !== this.body.length) throw protocolViolation("invalid message format");
  }

  private need(n: number): void {
    if (this.offset + n > this.body.length) throw protocolViolation("insufficient data left in message");
  }
}

export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new SqlError(SqlState.characterNotInRepertoire, 'invalid byte sequence for encoding "UTF8"');
  }
}

function formatCode(r: BodyReader): FormatCode {
  const code = r.int16();
  if (code !== 0 && code !== 1) throw new SqlError(SqlState.invalidParameterValue, `unsupported format code: ${code}`);
  return code;
}

function formatCodes(r: BodyReader): FormatCode[] {
  const count = r.uint16();
  const codes: FormatCode[] = new Array(count);
  for (let i = 0; i < count; i++) codes[i] = formatCode(r);
  return codes;
}

function values(r: BodyReader): (Uint8Array | null)[] {
  const count = r.uint16();
  const out: (Uint8Array | null)[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = r.nullableBytes();
  return out;
}

function target(r: BodyReader, what: "DESCRIBE" | "CLOSE"): "S" | "P" {
  const t = r.byte();
  if (t === 0x53) return "S";
  if (t === 0x50) return "P";
  throw protocolViolation(`invalid ${what} message subtype ${t}`);
}

function decodeParse(r: BodyReader): Parse {
  const name = r.cstring();
  const sql = r.cstring();
  const count = r.uint16();
  const paramTypeOids: number[] = new Array(count);
  for (let i = 0; i < count; i++) paramTypeOids[i] = r.uint32();
  return { kind: "Parse", name, sql, paramTypeOids };
}

function decodeBind(r: BodyReader): Bind {
  const portal = r.cstring();
  const statement = r.cstring();
  const paramFormats = formatCodes(r);
  const params = values(r);
  if (paramFormats.length > 1 && paramFormats.length !== params.length) {
    throw protocolViolation(
      `bind message has ${paramFormats.length} parameter formats but ${params.length} parameters`,
    );
  }
  const resultFormats = formatCodes(r);
  return { kind: "Bind", portal, statement, paramFormats, params, resultFormats };
}

function decodeFunctionCall(r: BodyReader): FunctionCall {
  const functionOid = r.uint32();
  const argFormats = formatCodes(r);
  const args = values(r);
  if (argFormats.length > 1 && argFormats.length !== args.length) {
    throw protocolViolation(`function call message has ${args.length} arguments but ${argFormats.length} formats`);
  }
  const resultFormat = formatCode(r);
  return { kind: "FunctionCall", functionOid, argFormats, args, resultFormat };
}

/** Decode the body of a typed message; throws SqlError when it is malformed. */
export function decodeTyped(kind: TypedMessageKind, body: Uint8Array): TypedMessage {
  const r = new BodyReader(body);
  let m: TypedMessage;
  switch (kind) {
    case "Query":
      m = { kind, sql: r.cstring() };
      break;
    case "Parse":
      m = decodeParse(r);
      break;
    case "Bind":
      m = decodeBind(r);
      break;
    case "Describe":
      m = { kind, target: target(r, "DESCRIBE"), name: r.cstring() } satisfies Describe;
      break;
    case "Execute":
      m = { kind, portal: r.cstring(), rowsMax: Math.max(0, r.int32()) } satisfies Execute;
      break;
    case "Close":
      m = { kind, target: target(r, "CLOSE"), name: r.cstring() } satisfies Close;
      break;
    case "Sync":
    case "Flush":
    case "Terminate":
    case "CopyDone":
      m = { kind };
      break;
    case "PasswordMessage":
    case "CopyData":
      m = { kind, data: r.bytes(r.remaining) };
      break;
    case "CopyFail":
      m = { kind, message: r.cstring() };
      break;
    case "FunctionCall":
      m = decodeFunctionCall(r);
      break;
  }
  r.end();
  return m;
}

/** The startup packet body after its protocol version: name/value pairs, then a NUL. */
export function decodeStartupParameters(protocolVersion: number, r: BodyReader): StartupMessage {
  const parameters = new Map<string, string>();
  for (;;) {
    if (r.remaining === 0) throw protocolViolation("invalid startup packet layout: expected terminator as last byte");
    const name = r.cstring();
    if (name === "") break;
    if (r.remaining === 0) throw protocolViolation("invalid startup packet layout: expected terminator as last byte");
    parameters.set(name, r.cstring());
  }
  if (r.remaining !== 0) throw protocolViolation("invalid startup packet layout: expected terminator as last byte");
  return { kind: "StartupMessage", protocolVersion, parameters };
}

/** SASLInitialResponse: mechanism, then Int32 length (-1: none) and the client-first-message. */
export function decodeSaslInitialResponse(data: Uint8Array): { mechanism: string; response: Uint8Array | null } {
  const r = new BodyReader(data);
  const mechanism = r.cstring();
  const response = r.nullableBytes();
  r.end();
  return { mechanism, response };
}
