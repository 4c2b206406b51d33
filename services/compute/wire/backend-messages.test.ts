import type { BackendMessage } from "pg-protocol/dist/messages.js";
import { Parser } from "pg-protocol/dist/parser.js";
import { describe, expect, it } from "vitest";
import { BackendWriter, type FieldDescription } from "./backend-messages.js";
import { SqlError } from "./sql-error.js";

/** node-postgres's parser of backend messages checks our serializer: what a client decodes is what we meant. */
function parse(bytes: Buffer | undefined): Record<string, unknown>[] {
  if (bytes === undefined) return [];
  const out: Record<string, unknown>[] = [];
  // Error#message is not enumerable: copy it by name.
  new Parser().parse(bytes, (m: BackendMessage) => out.push({ ...m, message: (m as { message?: string }).message }));
  return out;
}

const FIELD: FieldDescription = {
  name: "n",
  tableOid: 16_384,
  columnAttnum: 2,
  typeOid: 23,
  typeSize: 4,
  typeModifier: -1,
  format: 0,
};

describe("BackendWriter", () => {
  it("writes a whole round trip into one buffer that a client decodes message by message", () => {
    const w = new BackendWriter();
    w.parseComplete();
    w.bindComplete();
    w.parameterDescription([23, 4_294_967_295]);
    w.rowDescription([FIELD, { ...FIELD, name: "größe", tableOid: 0, columnAttnum: 0, typeOid: 25, typeSize: -1 }]);
    w.dataRow(["42", null, "zwölf ✓", new Uint8Array([0, 1, 2])]);
    w.commandComplete("SELECT 1");
    w.emptyQueryResponse();
    w.noData();
    w.portalSuspended();
    w.closeComplete();
    w.parameterStatus("TimeZone", "UTC");
    w.backendKeyData(7, -123_456);
    w.readyForQuery("T");
    expect(w.holdsReadyForQuery).toBe(true);
    const bytes = w.take();
    expect(w.byteLength).toBe(0);
    expect(w.holdsReadyForQuery).toBe(false);
    const messages = parse(bytes);
    expect(messages.map((m) => m.name)).toEqual([
      "parseComplete",
      "bindComplete",
      "parameterDescription",
      "rowDescription",
      "dataRow",
      "commandComplete",
      "emptyQuery",
      "noData",
      "portalSuspended",
      "closeComplete",
      "parameterStatus",
      "backendKeyData",
      "readyForQuery",
    ]);
    expect(messages[2]).toMatchObject({ dataTypeIDs: [23, 4_294_967_295] });
    expect(messages[3]).toMatchObject({
      fields: [
        {
          name: "n",
          tableID: 16_384,
          columnID: 2,
          dataTypeID: 23,
          dataTypeSize: 4,
          dataTypeModifier: -1,
          format: "text",
        },
        { name: "größe", tableID: 0, dataTypeID: 25, dataTypeSize: -1 },
      ],
    });
    expect(messages[4]).toMatchObject({ fields: ["42", null, "zwölf ✓", "\u0000\u0001\u0002"] });
    expect(messages[5]).toMatchObject({ text: "SELECT 1" });
    expect(messages[11]).toMatchObject({ processID: 7, secretKey: -123_456 });
    expect(messages[12]).toMatchObject({ status: "T" });
  });

  it("writes authentication requests", () => {
    const w = new BackendWriter();
    w.authenticationSasl(["SCRAM-SHA-256"]);
    w.authenticationSaslContinue("r=abc,s=c2FsdA==,i=4096");
    w.authenticationSaslFinal("v=c2ln");
    w.authenticationCleartextPassword();
    w.authenticationOk();
    expect(parse(w.take())).toEqual([
      expect.objectContaining({ name: "authenticationSASL", mechanisms: ["SCRAM-SHA-256"] }),
      expect.objectContaining({ name: "authenticationSASLContinue", data: "r=abc,s=c2FsdA==,i=4096" }),
      expect.objectContaining({ name: "authenticationSASLFinal", data: "v=c2ln" }),
      expect.objectContaining({ name: "authenticationCleartextPassword" }),
      expect.objectContaining({ name: "authenticationOk" }),
    ]);
  });

  it("writes every field of ErrorResponse and NoticeResponse", () => {
    const w = new BackendWriter();
    const error = new SqlError("23505", 'duplicate key value violates unique constraint "t_pkey"', {
      detail: "Key (id)=(1) already exists.",
      hint: "Use another key.",
      position: 15,
      internalPosition: 3,
      internalQuery: "select 1",
      where: "SQL function f",
      schema: "public",
      table: "t",
      column: "id",
      dataType: "int4",
      constraint: "t_pkey",
      file: "nbtinsert.c",
      line: 664,
      routine: "_bt_check_unique",
    });
    w.errorResponse(error);
    w.noticeResponse({ severity: "WARNING", code: "01000", message: "careful", hint: "h" });
    const [e, n] = parse(w.take());
    expect(e).toMatchObject({
      name: "error",
      severity: "ERROR",
      code: "23505",
      message: 'duplicate key value violates unique constraint "t_pkey"',
      detail: "Key (id)=(1) already exists.",
      hint: "Use another key.",
      position: "15",
      internalPosition: "3",
      internalQuery: "select 1",
      where: "SQL function f",
      schema: "public",
      table: "t",
      column: "id",
      dataType: "int4",
      constraint: "t_pkey",
      file: "nbtinsert.c",
      line: "664",
      routine: "_bt_check_unique",
    });
    expect(n).toMatchObject({ name: "notice", severity: "WARNING", code: "01000", message: "careful", hint: "h" });
  });

  it("grows for large rows, then takes them whole", () => {
    const w = new BackendWriter();
    const big = "x".repeat(100_000);
    for (let i = 0; i < 30; i++) w.dataRow([big, String(i)]);
    const rows = parse(w.take());
    expect(rows).toHaveLength(30);
    expect(rows[29]).toMatchObject({ fields: [big, "29"] });
    w.commandComplete("SELECT 30");
    expect(parse(w.take())).toEqual([expect.objectContaining({ text: "SELECT 30" })]);
    expect(w.take()).toBeUndefined();
  });

  it("never lets a NUL inside a string end a field early", () => {
    const w = new BackendWriter();
    w.commandComplete("SEL\0ECT 1");
    w.errorResponse(new SqlError("XX000", "bad\0 name"));
    w.readyForQuery("I");
    expect(parse(w.take())).toEqual([
      expect.objectContaining({ text: "SELECT 1" }),
      expect.objectContaining({ message: "bad name" }),
      expect.objectContaining({ name: "readyForQuery" }),
    ]);
  });

  it("answers SSLRequest with the single byte N", () => {
    const w = new BackendWriter();
    w.encryptionRefused();
    expect(w.take()).toEqual(Buffer.from("N"));
  });
});
