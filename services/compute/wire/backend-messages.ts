import type { ResponseFields } from "./sql-error.js";

/**
 * Backend messages, serialized into one growing buffer and taken out once per
 * round trip (`take()`), so a whole response — ParseComplete … ReadyForQuery —
 * leaves in one socket write. Every method appends exactly one message.
 */

export type TransactionStatus = "I" | "T" | "E";

/** One column of a RowDescription. */
export interface FieldDescription {
  readonly name: string;
  /** The column's table and attribute number, or 0 when it is not a table column. */
  readonly tableOid: number;
  readonly columnAttnum: number;
  readonly typeOid: number;
  /** pg_type.typlen: bytes, or -1 varlena, -2 cstring. */
  readonly typeSize: number;
  /** pg_attribute.atttypmod, -1 when none. */
  readonly typeModifier: number;
  /** 0 text, 1 binary. */
  readonly format: 0 | 1;
}

/** COPY's formats, as CopyInResponse and CopyOutResponse carry them. */
export interface CopyFormat {
  /** 0 text (text and csv), 1 binary. */
  readonly format: 0 | 1;
  /** One per column COPY reads or writes. */
  readonly columnFormats: readonly (0 | 1)[];
}

/** A column value of a DataRow: text, binary bytes, or NULL. */
export type DataValue = string | Uint8Array | null;

const INITIAL_BYTES = 16 * 1024;
/** After a large result, drop back to a small buffer rather than keep the peak. */
const RETAIN_BYTES_MAX = 1024 * 1024;

/** ErrorResponse/NoticeResponse field letters, in the order PostgreSQL writes them. */
const FIELD_CODES: ReadonlyArray<readonly [number, keyof ResponseFields]> = [
  [0x44, "detail"], // D
  [0x48, "hint"], // H
  [0x50, "position"], // P
  [0x70, "internalPosition"], // p
  [0x71, "internalQuery"], // q
  [0x57, "where"], // W
  [0x73, "schema"], // s
  [0x74, "table"], // t
  [0x63, "column"], // c
  [0x64, "dataType"], // d
  [0x6e, "constraint"], // n
  [0x46, "file"], // F
  [0x4c, "line"], // L
  [0x52, "routine"], // R
];

export class BackendWriter {
  private buf = Buffer.allocUnsafe(INITIAL_BYTES);
  private pos = 0;
  private messageStart = -1;
  private holdsReady = false;

  /** Bytes waiting to be sent. */
  get byteLength(): number {
    return this.pos;
  }

  /** True when the pending bytes end a client round trip (a ReadyForQuery is among them). */
  get holdsReadyForQuery(): boolean {
    return this.holdsReady;
  }

  /** The pending bytes as a buffer of their own (safe to hand to a socket), or undefined when none. */
  take(): Buffer | undefined {
    if (this.pos === 0) return undefined;
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    this.pos = 0;
    this.holdsReady = false;
    if (this.buf.length > RETAIN_BYTES_MAX) this.buf = Buffer.allocUnsafe(INITIAL_BYTES);
    return out;
  }

  /** The one-byte answer to SSLRequest and GSSENCRequest: 'N', not supported; the client goes on in plain text. */
  encryptionRefused(): void {
    this.byte(0x4e);
  }

  // ---- authentication ('R') ----

  authenticationOk(): void {
    this.begin(0x52);
    this.int32(0);
    this.end();
  }

  authenticationCleartextPassword(): void {
    this.begin(0x52);
    this.int32(3);
    this.end();
  }

  authenticationSasl(mechanisms: readonly string[]): void {
    this.begin(0x52);
    this.int32(10);
    for (const m of mechanisms) this.cstring(m);
    this.byte(0);
    this.end();
  }

  authenticationSaslContinue(data: string): void {
    this.begin(0x52);
    this.int32(11);
    this.text(data);
    this.end();
  }

  authenticationSaslFinal(data: string): void {
    this.begin(0x52);
    this.int32(12);
    this.text(data);
    this.end();
  }

  // ---- session start ----

  parameterStatus(name: string, value: string): void {
    this.begin(0x53);
    this.cstring(name);
    this.cstring(value);
    this.end();
  }

  backendKeyData(processId: number, secretKey: number): void {
    this.begin(0x4b);
    this.int32(processId);
    this.int32(secretKey);
    this.end();
  }

  /** 'v': the newest minor version we support and the `_pq_.` options we do not know. */
  negotiateProtocolVersion(minorSupported: number, unrecognizedOptions: readonly string[]): void {
    this.begin(0x76);
    this.int32(minorSupported);
    this.int32(unrecognizedOptions.length);
    for (const o of unrecognizedOptions) this.cstring(o);
    this.end();
  }

  readyForQuery(status: TransactionStatus): void {
    this.begin(0x5a);
    this.byte(status.charCodeAt(0));
    this.end();
    this.holdsReady = true;
  }

  // ---- results ----

  rowDescription(fields: readonly FieldDescription[]): void {
    this.begin(0x54);
    this.int16(fields.length);
    for (const f of fields) {
      this.cstring(f.name);
      this.uint32(f.tableOid);
      this.int16(f.columnAttnum);
      this.uint32(f.typeOid);
      this.int16(f.typeSize);
      this.int32(f.typeModifier);
      this.int16(f.format);
    }
    this.end();
  }

  dataRow(values: readonly DataValue[]): void {
    this.begin(0x44);
    this.int16(values.length);
    for (const v of values) {
      if (v === null) {
        this.int32(-1);
      } else if (typeof v === "string") {
        const at = this.pos;
        this.int32(0);
        const n = this.text(v);
        this.buf.writeInt32BE(n, at);
      } else {
        this.int32(v.length);
        this.ensure(v.length);
        this.buf.set(v, this.pos);
        this.pos += v.length;
      }
    }
    this.end();
  }

  commandComplete(tag: string): void {
    this.begin(0x43);
    this.cstring(tag);
    this.end();
  }

  emptyQueryResponse(): void {
    this.begin(0x49);
    this.end();
  }

  errorResponse(e: ResponseFields): void {
    this.response(0x45, e);
  }

  noticeResponse(n: ResponseFields): void {
    this.response(0x4e, n);
  }

  // ---- extended query protocol ----

  parseComplete(): void {
    this.begin(0x31);
    this.end();
  }

  bindComplete(): void {
    this.begin(0x32);
    this.end();
  }

  closeComplete(): void {
    this.begin(0x33);
    this.end();
  }

  noData(): void {
    this.begin(0x6e);
    this.end();
  }

  portalSuspended(): void {
    this.begin(0x73);
    this.end();
  }

  parameterDescription(typeOids: readonly number[]): void {
    this.begin(0x74);
    this.int16(typeOids.length);
    for (const oid of typeOids) this.uint32(oid);
    this.end();
  }

  // ---- COPY ----

  /** 'G': the client may now send CopyData … CopyDone (or CopyFail). */
  copyInResponse(f: CopyFormat): void {
    this.copyResponse(0x47, f);
  }

  /** 'H': CopyData rows follow, then CopyDone. */
  copyOutResponse(f: CopyFormat): void {
    this.copyResponse(0x48, f);
  }

  /** 'd': one COPY row (COPY TO sends one message per row, as PostgreSQL does). */
  copyData(data: Uint8Array | string): void {
    this.begin(0x64);
    if (typeof data === "string") this.text(data);
    else {
      this.ensure(data.length);
      this.buf.set(data, this.pos);
      this.pos += data.length;
    }
    this.end();
  }

  copyDone(): void {
    this.begin(0x63);
    this.end();
  }

  // ---- framing ----

  private copyResponse(type: number, f: CopyFormat): void {
    this.begin(type);
    this.byte(f.format);
    this.int16(f.columnFormats.length);
    for (const c of f.columnFormats) this.int16(c);
    this.end();
  }

  private response(type: number, e: ResponseFields): void {
    this.begin(type);
    this.byte(0x53); // S: severity, possibly localized
    this.cstring(e.severity);
    this.byte(0x56); // V: severity, never localized
    this.cstring(e.severity);
    this.byte(0x43); // C
    this.cstring(e.code);
    this.byte(0x4d); // M
    this.cstring(e.message);
    for (const [code, key] of FIELD_CODES) {
      const value = e[key];
      if (value === undefined || value === null) continue;
      this.byte(code);
      this.cstring(String(value));
    }
    this.byte(0);
    this.end();
  }

  private begin(type: number): void {
    this.ensure(5);
    this.buf[this.pos] = type;
    this.messageStart = this.pos + 1;
    this.pos += 5;
  }

  private end(): void {
    this.buf.writeInt32BE(this.pos - this.messageStart, this.messageStart);
    this.messageStart = -1;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  private byte(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  private int16(v: number): void {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
  }

  private int32(v: number): void {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
  }

  private uint32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }

  /** UTF-8 bytes of s without a terminator; returns their count. */
  private text(s: string): number {
    this.ensure(s.length * 3);
    const n = this.buf.write(s, this.pos, "utf8");
    this.pos += n;
    return n;
  }

  /** A NUL-terminated string. A NUL inside would end the field early and desynchronize the client: drop it. */
  private cstring(s: string): void {
    this.text(s.includes("\0") ? s.replaceAll("\0", "") : s);
    this.byte(0);
  }
}
