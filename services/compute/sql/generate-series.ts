import type { Datum } from "../access/database.js";
import { coerce } from "./casts.js";
import { Code, notSupported, sqlError } from "./errors.js";
import type { Expr } from "./expr.js";
import { exprType } from "./expr.js";
import { typeDisplay } from "./types.js";

/**
 * generate_series(start, stop [, step]) over int4 and int8, the one
 * set-returning function Sediment has (in FROM only). Analysis picks the
 * variant as PostgreSQL's function resolution would among the integer ones
 * (int4 if every argument is int4 or an untyped literal, int8 if one is
 * int8); execution yields the values lazily, so a LIMIT above stops it.
 */

export type SeriesType = "int4" | "int8";

export interface SeriesCall {
  readonly type: SeriesType;
  /** Coerced to `type`: start, stop and maybe step. */
  readonly args: readonly Expr[];
}

const NOT_FOUND_HINT =
  "No function matches the given name and argument types. You might need to add explicit type casts.";

function signature(args: readonly Expr[]): string {
  return `generate_series(${args.map((a) => typeDisplay(exprType(a))).join(", ")})`;
}

/** The variant generate_series(args) calls; 42883 for a wrong count, 42725 when every argument is untyped. */
export function resolveSeries(args: readonly Expr[], location: number): SeriesCall {
  if (args.length < 2 || args.length > 3) {
    throw sqlError(Code.undefinedFunction, `function ${signature(args)} does not exist`, location, {
      hint: NOT_FOUND_HINT,
    });
  }
  const types = args.map(exprType);
  if (types.every((t) => t === "unknown")) {
    throw sqlError(Code.ambiguousFunction, `function ${signature(args)} is not unique`, location, {
      hint: "Could not choose a best candidate function. You might need to add explicit type casts.",
    });
  }
  if (!types.every((t) => t === "int4" || t === "int8" || t === "unknown")) {
    throw notSupported(`${signature(args)} (only the integer variants)`, location);
  }
  const type: SeriesType = types.includes("int8") ? "int8" : "int4";
  return { type, args: args.map((a) => coerce(a, type, "implicit")!) };
}

/** The series' values, `batch` at a time; no rows when an argument is NULL, 22023 for a zero step. */
export function* seriesBatches(
  type: SeriesType,
  values: readonly Datum[],
  batch: number,
): Generator<Datum[], void, undefined> {
  if (values.some((v) => v === null)) return;
  const start = BigInt(values[0] as number | bigint);
  const stop = BigInt(values[1] as number | bigint);
  const step = values.length > 2 ? BigInt(values[2] as number | bigint) : 1n;
  if (step === 0n) throw sqlError(Code.invalidParameterValue, "step size cannot equal zero");
  // Bigint arithmetic cannot overflow, so the last value may be the type's maximum (PostgreSQL stops there too).
  const out = type === "int4" ? (v: bigint): Datum => Number(v) : (v: bigint): Datum => v;
  let chunk: Datum[] = [];
  for (let v = start; step > 0n ? v <= stop : v >= stop; v += step) {
    chunk.push(out(v));
    if (chunk.length >= batch) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}
