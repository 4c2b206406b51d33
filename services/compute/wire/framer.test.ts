import fc from "fast-check";
import { serialize } from "pg-protocol";
import { describe, expect, it } from "vitest";
import { FramingError, FrontendFramer, SMALL_MESSAGE_BYTES_MAX } from "./framer.js";
import type { FrontendMessage } from "./frontend-messages.js";

/** Bytes of a typed message: type, Int32 length, body. */
function typed(type: string, ...parts: (Uint8Array | string | number[])[]): Buffer {
  const body = Buffer.concat(
    parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : Array.isArray(p) ? Buffer.from(p) : p)),
  );
  const header = Buffer.alloc(5);
  header.write(type, 0, "latin1");
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}
const int16 = (v: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(v);
  return b;
};
const int32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
};
function startupPacket(code: number, body: Uint8Array = new Uint8Array(0)): Buffer {
  return Buffer.concat([int32(8 + body.length), int32(code), body]);
}

/** Messages as plain data, so a Buffer view and a copied Uint8Array compare equal. */
function plain(m: FrontendMessage): unknown {
  return JSON.parse(
    JSON.stringify(m, function (this: Record<string, unknown>, key, value: unknown) {
      const original = key === "" ? value : this[key]; // before Buffer#toJSON
      if (original instanceof Uint8Array) return { hex: Buffer.from(original).toString("hex") };
      if (original instanceof Map) return Object.fromEntries(original);
      if (original instanceof Error) return { ...original, message: original.message };
      return value;
    }),
  );
}

function decodeAll(chunks: Iterable<Uint8Array>, framer = new FrontendFramer()): unknown[] {
  const out: unknown[] = [];
  for (const chunk of chunks) {
    framer.push(chunk);
    for (let m = framer.next(); m !== undefined; m = framer.next()) out.push(plain(m));
  }
  return out;
}

const STARTUP_PHASE: Buffer[] = [
  serialize.requestSsl(),
  startupPacket(80877104),
  serialize.startup({ user: "postgres", database: "postgres", application_name: "framer ✓" }),
];
const TYPED_PHASE: Buffer[] = [
  serialize.sendSASLInitialResponseMessage("SCRAM-SHA-256", "n,,n=*,r=abc"),
  serialize.sendSCRAMClientFinalMessage("c=biws,r=abcdef,p=xyz"),
  serialize.query("select 1; select 'héllo'"),
  serialize.query(""),
  serialize.parse({ name: "s1", text: "select $1::int, $2", types: [23, 0] }),
  serialize.bind({ portal: "p1", statement: "s1", values: ["42", null, Buffer.from([0, 1, 2])] }),
  serialize.bind({}),
  serialize.describe({ type: "S", name: "s1" }),
  serialize.describe({ type: "P", name: "" }),
  serialize.execute({ portal: "p1", rows: 10 }),
  serialize.execute(),
  serialize.close({ type: "S", name: "s1" }),
  serialize.close({ type: "P", name: "p1" }),
  serialize.flush(),
  serialize.sync(),
  serialize.copyData(Buffer.from("1\tx\n")),
  serialize.copyDone(),
  serialize.copyFail("stop"),
  typed("F", int32(1234), int16(1), int16(1), int16(2), int32(2), "ab", int32(-1), int16(0)),
  serialize.end(),
];
const STREAM = Buffer.concat([...STARTUP_PHASE, ...TYPED_PHASE]);
const EXPECTED = decodeAll([STREAM]);

describe("FrontendFramer decodes", () => {
  it("every message of both phases into its typed form", () => {
    expect(EXPECTED).toMatchSnapshot();
    expect(EXPECTED).toHaveLength(STARTUP_PHASE.length + TYPED_PHASE.length);
    expect(EXPECTED).not.toContainEqual(expect.objectContaining({ kind: "Malformed" }));
  });

  it("the same whatever the cut: at every byte boundary", () => {
    for (let cut = 0; cut <= STREAM.length; cut++) {
      expect(decodeAll([STREAM.subarray(0, cut), STREAM.subarray(cut)])).toEqual(EXPECTED);
    }
  });

  it("the same byte by byte", () => {
    const bytes = Array.from({ length: STREAM.length }, (_, i) => STREAM.subarray(i, i + 1));
    expect(decodeAll(bytes)).toEqual(EXPECTED);
  });

  it("the same in any chunking (coalesced and split)", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: STREAM.length - 1 }), { maxLength: 40 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), STREAM.length];
        const chunks = points.slice(1).map((end, i) => STREAM.subarray(points[i]!, end));
        expect(decodeAll(chunks)).toEqual(EXPECTED);
      }),
    );
  });

  it("Bind parameters as views: NULL, text and binary", () => {
    const framer = new FrontendFramer();
    framer.push(STARTUP_PHASE[2]!);
    framer.next();
    framer.push(serialize.bind({ values: ["7", null, Buffer.from([9])] }));
    const bind = framer.next();
    expect(bind).toMatchObject({ kind: "Bind", paramFormats: [0, 0, 1], resultFormats: [0] });
    if (bind?.kind !== "Bind") throw new Error("not a Bind");
    expect(bind.params.map((p) => (p === null ? null : Array.from(p)))).toEqual([[0x37], null, [9]]);
  });
});

function startedFramer(options?: ConstructorParameters<typeof FrontendFramer>[0]): FrontendFramer {
  const framer = new FrontendFramer(options);
  framer.push(serialize.startup({ user: "postgres" }));
  expect(framer.next()?.kind).toBe("StartupMessage");
  return framer;
}

function framingError(framer: FrontendFramer): FramingError {
  try {
    framer.next();
  } catch (err) {
    if (err instanceof FramingError) return err;
    throw err;
  }
  throw new Error("no FramingError");
}

describe("FrontendFramer rejects", () => {
  it("a typed message claiming 2 GiB as soon as its header is in, keeping none of it", () => {
    const framer = startedFramer();
    const before = process.memoryUsage().arrayBuffers;
    framer.push(Buffer.from([0x51, 0x7f, 0xff, 0xff, 0xff]));
    const e = framingError(framer);
    expect(e.error).toMatchObject({ code: "08P01", message: "invalid message length", severity: "FATAL" });
    expect(framer.bufferedBytes).toBe(0);
    framer.push(Buffer.alloc(1024 * 1024)); // the body the client goes on sending is dropped
    expect(framer.bufferedBytes).toBe(0);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
    expect(() => framer.next()).toThrow(FramingError);
  });

  it("a startup packet claiming 2 GiB, or shorter than its header", () => {
    for (const length of [0x7fffffff, 10_001, 7, 0, -1]) {
      const framer = new FrontendFramer();
      framer.push(int32(length));
      expect(framingError(framer).error).toMatchObject({ code: "08P01", message: "invalid length of startup packet" });
    }
  });

  it("typed lengths below 4, negative, or above the message's own limit", () => {
    for (const [type, length] of [
      ["Q", 3],
      ["Q", -5],
      ["Q", 0x80000000 | 0],
      ["S", SMALL_MESSAGE_BYTES_MAX + 1],
      ["p", 65_536],
    ] as const) {
      const framer = startedFramer();
      framer.push(Buffer.concat([Buffer.from(type, "latin1"), int32(length)]));
      expect(framingError(framer).error.code).toBe("08P01");
    }
  });

  it("a message one byte over messageBytesMax, and accepts one at it", () => {
    const framer = startedFramer({ messageBytesMax: 20_000 });
    framer.push(typed("Q", "x".repeat(20_000 - 5), [0]));
    expect(framer.next()).toMatchObject({ kind: "Query" });
    framer.push(typed("Q", "x".repeat(20_000 - 4), [0]).subarray(0, 5));
    expect(framingError(framer).error.message).toBe("invalid message length");
  });

  it("an unknown message type from its first byte", () => {
    const framer = startedFramer();
    framer.push(Buffer.from("Z"));
    expect(framingError(framer).error).toMatchObject({ code: "08P01", message: "invalid frontend message type 90" });
  });

  it("protocol versions other than 3.x with PostgreSQL's words", () => {
    // (1234.5678 to 1234.5680 are the codes of CancelRequest, SSLRequest and GSSENCRequest.)
    for (const [code, words] of [
      [0x0002_0000, "2.0"],
      [0x0004_0000, "4.0"],
      [(1234 << 16) | 5681, "1234.5681"],
    ] as const) {
      const framer = new FrontendFramer();
      framer.push(startupPacket(code, Buffer.from("user\0postgres\0\0")));
      expect(framingError(framer).error).toMatchObject({
        code: "0A000",
        message: `unsupported frontend protocol ${words}: server supports 3.0 to 3.0`,
      });
    }
  });

  it("a second SSLRequest as PostgreSQL does (an unknown protocol 1234.5679)", () => {
    const framer = new FrontendFramer();
    framer.push(Buffer.concat([serialize.requestSsl(), serialize.requestSsl()]));
    expect(framer.next()).toEqual({ kind: "SSLRequest" });
    expect(framingError(framer).error.message).toBe(
      "unsupported frontend protocol 1234.5679: server supports 3.0 to 3.0",
    );
  });

  it("a startup packet without its terminator", () => {
    const framer = new FrontendFramer();
    framer.push(startupPacket(196608, Buffer.from("user\0postgres\0")));
    expect(framingError(framer).error.message).toMatch(/^invalid startup packet layout/);
  });
});

describe("FrontendFramer reports a malformed body without breaking the stream", () => {
  const cases: [string, Buffer, string, string][] = [
    ["no terminator", typed("Q", "select 1"), "08P01", "invalid string in message"],
    ["bytes left over", typed("Q", "select 1", [0, 0]), "08P01", "invalid message format"],
    ["a short body", typed("P", "s\0select 1\0", int16(2), int32(23)), "08P01", "insufficient data left in message"],
    ["a bad Describe subtype", typed("D", "X", [0]), "08P01", "invalid DESCRIBE message subtype 88"],
    ["a bad Close subtype", typed("C", "Y", [0]), "08P01", "invalid CLOSE message subtype 89"],
    ["invalid UTF-8", typed("Q", [0xc3, 0x28, 0]), "22021", 'invalid byte sequence for encoding "UTF8"'],
    [
      "a bad format code",
      typed("B", [0, 0], int16(1), int16(7), int16(0), int16(0)),
      "22023",
      "unsupported format code: 7",
    ],
    [
      "miscounted formats",
      typed("B", [0, 0], int16(2), int16(0), int16(0), int16(1), int32(1), "1", int16(0)),
      "08P01",
      "bind message has 2 parameter formats but 1 parameters",
    ],
    [
      "a negative value length",
      typed("B", [0, 0], int16(0), int16(1), int32(-2), int16(0)),
      "08P01",
      "insufficient data left in message",
    ],
    ["a Sync with a body", typed("S", [1]), "08P01", "invalid message format"],
  ];
  for (const [what, bytes, code, message] of cases) {
    it(what, () => {
      const framer = startedFramer();
      framer.push(Buffer.concat([bytes, serialize.sync()]));
      expect(framer.next()).toMatchObject({ kind: "Malformed", error: { code, message } });
      expect(framer.next()).toEqual({ kind: "Sync" });
    });
  }
});

describe("FrontendFramer on garbage", () => {
  function drain(framer: FrontendFramer, chunks: Uint8Array[]): void {
    for (const chunk of chunks) {
      framer.push(chunk);
      try {
        for (let i = 0; i < 10_000 && framer.next() !== undefined; i++);
      } catch (err) {
        if (!(err instanceof FramingError)) throw err;
        expect(err.error.severity).toBe("FATAL");
        expect(["08P01", "0A000", "22021", "22023"]).toContain(err.error.code);
        return;
      }
    }
  }
  const chunks = fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 });

  it("raises only FramingError in the startup phase", () => {
    fc.assert(
      fc.property(chunks, (cs) => drain(new FrontendFramer(), cs)),
      { numRuns: 2000 },
    );
  });

  it("raises only FramingError in the typed phase", () => {
    fc.assert(
      fc.property(chunks, (cs) => drain(startedFramer(), cs)),
      { numRuns: 2000 },
    );
  });

  it("raises only FramingError on mutated valid streams", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(STREAM.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        (flips) => {
          const bytes = Buffer.from(STREAM);
          for (const [at, value] of flips) bytes[at] = value;
          drain(new FrontendFramer(), [bytes]);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
