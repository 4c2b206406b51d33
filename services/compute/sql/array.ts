import { Code, notSupported, sqlError } from "./errors.js";

/**
 * One-dimensional arrays of strings (text[], name[]). An array value is kept
 * as its canonical text output (`{pg_catalog,public}`), so it is a Datum like
 * any other and goes to the client as is; the few functions that look inside
 * (array_position) parse it. Only catalog functions make arrays, so they
 * are small and this costs nothing that matters.
 */

/** array_out's quoting: empty, NULL-looking, or holding a delimiter, brace, quote, backslash or space. */
function needsQuotes(element: string): boolean {
  return element === "" || element.toUpperCase() === "NULL" || /[{},"\\ \t\n\r\v\f]/.test(element);
}

export function formatArray(elements: readonly (string | null)[]): string {
  const parts = elements.map((e) => {
    if (e === null) return "NULL";
    return needsQuotes(e) ? `"${e.replace(/["\\]/g, (c) => `\\${c}`)}"` : e;
  });
  return `{${parts.join(",")}}`;
}

function malformed(text: string, detail: string, location?: number): never {
  throw sqlError(Code.invalidTextRepresentation, `malformed array literal: "${text}"`, location, { detail });
}

const SPACE = /[ \t\n\r\v\f]/;

/** array_in for a one-dimensional array of strings. */
export function parseArray(text: string, location?: number): (string | null)[] {
  let i = 0;
  const skipSpace = (): void => {
    while (i < text.length && SPACE.test(text[i]!)) i++;
  };
  skipSpace();
  if (text[i] === "[") throw notSupported("array dimension decorations", location);
  if (text[i] !== "{") malformed(text, 'Array value must start with "{" or dimension information.', location);
  i++;
  const out: (string | null)[] = [];
  skipSpace();
  if (text[i] === "}") {
    i++;
  } else {
    for (;;) {
      skipSpace();
      if (text[i] === "{") throw notSupported("multidimensional arrays", location);
      let value = "";
      let quoted = false;
      let sawAny = false;
      while (i < text.length && text[i] !== "," && text[i] !== "}") {
        const c = text[i]!;
        if (c === '"') {
          quoted = true;
          sawAny = true;
          i++;
          while (i < text.length && text[i] !== '"') {
            if (text[i] === "\\") i++;
            value += text[i] ?? "";
            i++;
          }
          if (i >= text.length) malformed(text, "Unexpected end of input.", location);
          i++;
        } else if (c === "\\") {
          value += text[i + 1] ?? "";
          sawAny = true;
          i += 2;
        } else if (SPACE.test(c)) {
          // Spaces around an unquoted element are dropped; inside one they stay.
          let j = i;
          while (j < text.length && SPACE.test(text[j]!)) j++;
          if (j < text.length && text[j] !== "," && text[j] !== "}" && sawAny) value += text.slice(i, j);
          i = j;
        } else {
          value += c;
          sawAny = true;
          i++;
        }
      }
      if (i >= text.length) malformed(text, "Unexpected end of input.", location);
      if (!sawAny) malformed(text, 'Unexpected "," character.', location);
      out.push(!quoted && value.toUpperCase() === "NULL" ? null : value);
      if (text[i] === "}") {
        i++;
        break;
      }
      i++;
    }
  }
  skipSpace();
  if (i < text.length) malformed(text, "Junk after closing right brace.", location);
  return out;
}
