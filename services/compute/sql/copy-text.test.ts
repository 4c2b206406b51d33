import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SqlError } from "../wire/sql-error.js";
import { completeUtf8Length, decodeChunk, invalidUtf8Offset } from "./copy-encoding.js";
import { csvFields, textFields, unescapeText } from "./copy-fields.js";
import { CopyLineReader } from "./copy-lines.js";
import { type CopyOutFormat, copyOutLine } from "./copy-out-format.js";

/**
 * The pure pieces of COPY: cutting input into lines whatever the chunking,
 * splitting and de-escaping fields, and the output escaping that COPY FROM
 * must read back to the same values.
 */

function readAll(csv: boolean, pieces: readonly string[]): { lines: string[]; lineNo: number } {
  const reader = new CopyLineReader(csv);
  const lines: string[] = [];
  for (const piece of pieces) {
    reader.push(piece);
    for (let l = reader.next(false); typeof l === "string"; l = reader.next(false)) lines.push(l);
  }
  for (let l = reader.next(true); typeof l === "string"; l = reader.next(true)) lines.push(l);
  return { lines, lineNo: reader.lineNo };
}

function cuts(text: string, at: readonly number[]): string[] {
  const points = [...new Set(at.map((p) => p % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const p of points) {
    out.push(text.slice(from, p));
    from = p;
  }
  out.push(text.slice(from));
  return out;
}

function failure(run: () => unknown): { code: string; message: string } | undefined {
  try {
    run();
    return undefined;
  } catch (err) {
    if (!(err instanceof SqlError)) throw err;
    return { code: err.code, message: err.message };
  }
}

const TEXT: CopyOutFormat = { csv: false, delimiter: "\t", null: "\\N", quote: "", escape: "", forceQuote: [] };
const CSV: CopyOutFormat = { csv: true, delimiter: ",", null: "", quote: '"', escape: '"', forceQuote: [] };

const value = fc.option(
  fc.string({ unit: fc.constantFrom("a", "\t", "\n", "\r", "\\", '"', ",", ".", "N", "é", "\b", "7") }),
  {
    nil: null,
  },
);
const rows = fc.array(fc.array(value, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 });

/** COPY TO's text of rows read back by COPY FROM's reader and splitter. */
function roundTrip(format: CopyOutFormat, data: readonly (readonly (string | null)[])[], at: readonly number[]) {
  const text = data.map((r) => copyOutLine(r, format)).join("");
  const reader = new CopyLineReader(format.csv);
  const out: (string | null)[][] = [];
  const take = (atEof: boolean): void => {
    for (let l = reader.next(atEof); typeof l === "string"; l = reader.next(atEof)) {
      const fields: (string | null)[] = [];
      const n = format.csv
        ? csvFields(l, reader.special, ",", '"', '"', "", fields)
        : textFields(l, reader.special, "\t", "\\N", fields);
      out.push(fields.slice(0, n));
    }
  };
  for (const piece of cuts(text, at)) {
    reader.push(piece);
    take(false);
  }
  take(true);
  return out;
}

describe("CopyLineReader", () => {
  it("cuts lines the same whatever the chunking (text and CSV)", () => {
    const char = fc.constantFrom("a", "\t", "\n", "\\", '"', ",", "é", "\\.");
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(char, { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (csv, cs, at) => {
          const text = `${cs.join("")}\n`;
          const whole = failure(() => readAll(csv, [text])) ?? readAll(csv, [text]);
          const pieces = failure(() => readAll(csv, cuts(text, at))) ?? readAll(csv, cuts(text, at));
          expect(pieces).toEqual(whole);
        },
      ),
    );
  });

  it("takes the line end style of the first line and rejects the others", () => {
    expect(readAll(false, ["a\r\nb\r\n"]).lines).toEqual(["a", "b"]);
    expect(readAll(false, ["a\rb\r"]).lines).toEqual(["a", "b"]);
    expect(failure(() => readAll(false, ["a\nb\r\n"]))).toEqual({
      code: "22P04",
      message: "literal carriage return found in data",
    });
    expect(failure(() => readAll(false, ["a\r\nb\n"]))).toEqual({
      code: "22P04",
      message: "literal newline found in data",
    });
    expect(failure(() => readAll(true, ["a\nb\r,\n"]))).toEqual({
      code: "22P04",
      message: "unquoted carriage return found in data",
    });
  });

  it("ends at \\. (text: anywhere, keeping what precedes it; CSV: alone on its line)", () => {
    expect(readAll(false, ["a\n\\.\nignored\n"]).lines).toEqual(["a"]);
    expect(readAll(false, ["a\nb\\.\nignored"]).lines).toEqual(["a", "b"]);
    expect(readAll(false, ["a\\\\.\n"]).lines).toEqual(["a\\\\."]);
    expect(failure(() => readAll(false, ["a\n\\.x\n"]))?.message).toBe("end-of-copy marker corrupt");
    expect(readAll(true, ["a\n\\.x\n\\.\nb\n"]).lines).toEqual(["a", "\\.x"]);
    expect(readAll(true, ['"\n\\.\n"\n']).lines).toEqual(['"\n\\.\n"']);
  });

  it("counts lines inside CSV quotes as PostgreSQL's cur_lineno does (once the line end style is known)", () => {
    // Lines 1 and 2, then line 3 is begun at the end; the first line's style is not known while it is read.
    expect(readAll(true, ['a,"x\ny"\nb\n'])).toEqual({ lines: ['a,"x\ny"', "b"], lineNo: 3 });
    // Line 2 holds a quoted newline (counted: 3), b is line 4, line 5 is begun at the end.
    expect(readAll(true, ['a\n"x\ny"\nb\n'])).toEqual({ lines: ["a", '"x\ny"', "b"], lineNo: 5 });
  });

  it("keeps a last line without its end, and a backslash just before the end", () => {
    expect(readAll(false, ["a\nb"]).lines).toEqual(["a", "b"]);
    expect(readAll(false, ["a\\"]).lines).toEqual(["a\\"]);
    expect(readAll(false, ["a\n\n"]).lines).toEqual(["a", ""]);
  });
});

describe("fields", () => {
  it("de-escapes text format like PostgreSQL, octal and hex as bytes", () => {
    const fields: (string | null)[] = [];
    const n = textFields("a\\tb\t\\N\t\\303\\251\\x41\\q\t\\\\N\t", true, "\t", "\\N", fields);
    expect(fields.slice(0, n)).toEqual(["a\tb", null, "éAq", "\\N", ""]);
    expect(unescapeText("x\\")).toBe("x");
    expect(failure(() => unescapeText("\\0"))).toEqual({
      code: "22021",
      message: 'invalid byte sequence for encoding "UTF8": 0x00',
    });
    expect(failure(() => unescapeText("\\377"))?.message).toBe('invalid byte sequence for encoding "UTF8": 0xff');
  });

  it("reads CSV quotes, doubled quotes and a quoted NULL marker as a string", () => {
    const fields: (string | null)[] = [];
    const n = csvFields('1,"a,""b""",,"",x"y"z', true, ",", '"', '"', "", fields);
    expect(fields.slice(0, n)).toEqual(["1", 'a,"b"', null, "", "xyz"]);
    expect(failure(() => csvFields('"abc', true, ",", '"', '"', "", fields))?.message).toBe(
      "unterminated CSV quoted field",
    );
  });

  it("reads back what COPY TO writes, text and CSV, however the output is cut", () => {
    fc.assert(
      fc.property(rows, fc.array(fc.nat(), { maxLength: 5 }), (data, at) => {
        expect(roundTrip(TEXT, data, at)).toEqual(data);
        // An empty string equals CSV's NULL marker, so it is written quoted ("") and survives.
        expect(roundTrip(CSV, data, at)).toEqual(data);
      }),
    );
  });
});

describe("UTF-8 of COPY input", () => {
  it("finds the first invalid sequence as PostgreSQL's verifier does", () => {
    expect(invalidUtf8Offset(Buffer.from("aé€😀"))).toBe(-1);
    expect(invalidUtf8Offset(Buffer.from([0x61, 0xc3, 0x28]))).toBe(1);
    expect(invalidUtf8Offset(Buffer.from([0xed, 0xa0, 0x80]))).toBe(0); // a surrogate
    expect(invalidUtf8Offset(Buffer.from([0x61, 0x00]))).toBe(1);
    expect(decodeChunk(Buffer.from([0x61, 0x0a, 0xff, 0x62])).error?.message).toBe(
      'invalid byte sequence for encoding "UTF8": 0xff',
    );
  });

  it("holds back only a character cut at the end", () => {
    const euro = Buffer.from("a€");
    expect(completeUtf8Length(euro)).toBe(4);
    expect(completeUtf8Length(euro.subarray(0, 3))).toBe(1);
    expect(completeUtf8Length(Buffer.from([0x61, 0xff]))).toBe(2);
  });
});
