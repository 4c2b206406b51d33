import type { Datum } from "../access/database.js";
import type { Evaluator, Expr, Value } from "./expr.js";
import { compile } from "./expr.js";
import { float8Add } from "./float8.js";
import { checkInt8, compareValues } from "./operators.js";
import type { SqlType } from "./types.js";

/**
 * count, sum, min and max, with PostgreSQL's result types: count → int8;
 * sum(int4) → int8; sum(int8) → numeric (exact, here a bigint); sum(float8)
 * → float8 (float8pl's overflow check); min/max → the argument's type; every
 * one but count gives NULL over no rows.
 */

export type AggregateKind = "count" | "sum" | "min" | "max";

export interface AggregateSpec {
  readonly kind: AggregateKind;
  /** undefined for count(*). */
  readonly arg: Expr | undefined;
  readonly argType: SqlType;
  readonly type: SqlType;
}

/** The result type of sum(argType), or undefined when PostgreSQL has no such sum. */
export function sumType(argType: SqlType): SqlType | undefined {
  if (argType === "int4") return "int8";
  if (argType === "int8" || argType === "numeric") return "numeric";
  if (argType === "float8") return "float8";
  return undefined;
}

/** Running state of one aggregate over one group. */
interface Accumulator {
  add(row: readonly Datum[], params: readonly Datum[]): void;
  result(): Datum;
}

/** Whole int4 sums stay exact in a double below 2^53; beyond that the total moves to a bigint. */
const SAFE_PARTIAL_SUM = 2 ** 52;

function countAccumulator(arg: Evaluator | undefined): Accumulator {
  let n = 0;
  return {
    add: arg === undefined ? () => void n++ : (row, params) => void (arg(row, params) !== null && n++),
    result: () => BigInt(n),
  };
}

function sumInt4Accumulator(arg: Evaluator): Accumulator {
  let partial = 0;
  let total = 0n;
  let any = false;
  return {
    add: (row, params) => {
      const v = arg(row, params);
      if (v === null) return;
      any = true;
      partial += v as number;
      if (partial > SAFE_PARTIAL_SUM || partial < -SAFE_PARTIAL_SUM) {
        total += BigInt(partial);
        partial = 0;
      }
    },
    result: () => (any ? checkInt8(total + BigInt(partial)) : null),
  };
}

function sumBigintAccumulator(arg: Evaluator): Accumulator {
  let total = 0n;
  let any = false;
  return {
    add: (row, params) => {
      const v = arg(row, params);
      if (v === null) return;
      any = true;
      total += v as bigint;
    },
    result: () => (any ? total : null),
  };
}

function sumFloat8Accumulator(arg: Evaluator): Accumulator {
  let total = 0;
  let any = false;
  return {
    add: (row, params) => {
      const v = arg(row, params);
      if (v === null) return;
      any = true;
      total = float8Add(total, v as number);
    },
    result: () => (any ? total : null),
  };
}

/** min (sign -1) or max (sign 1): the extreme non-NULL value, NULL if there is none. */
function extremeAccumulator(arg: Evaluator, type: SqlType, sign: 1 | -1): Accumulator {
  let best: Datum = null;
  return {
    add: (row, params) => {
      const v = arg(row, params);
      if (v === null) return;
      if (best === null || sign * compareValues(type, v as Value, best as Value) > 0) best = v;
    },
    result: () => best,
  };
}

/** The aggregates of a query, compiled once; `start()` makes the state of one group. */
export class Aggregates {
  private readonly makers: readonly (() => Accumulator)[];

  constructor(specs: readonly AggregateSpec[]) {
    this.makers = specs.map((spec) => {
      const arg = spec.arg === undefined ? undefined : compile(spec.arg);
      switch (spec.kind) {
        case "count":
          return () => countAccumulator(arg);
        case "sum":
          if (spec.argType === "int4") return () => sumInt4Accumulator(arg!);
          if (spec.argType === "float8") return () => sumFloat8Accumulator(arg!);
          return () => sumBigintAccumulator(arg!);
        case "min":
          return () => extremeAccumulator(arg!, spec.argType, -1);
        default:
          return () => extremeAccumulator(arg!, spec.argType, 1);
      }
    });
  }

  start(): Aggregation {
    return new Aggregation(this.makers.map((make) => make()));
  }
}

/** Folds the rows of one group into its aggregates; `results()` are the values aggrefs read. */
export class Aggregation {
  constructor(private readonly accumulators: readonly Accumulator[]) {}

  add(row: readonly Datum[], params: readonly Datum[]): void {
    for (const acc of this.accumulators) acc.add(row, params);
  }

  results(): Datum[] {
    return this.accumulators.map((acc) => acc.result());
  }
}
