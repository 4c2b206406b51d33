import { describe, expect, it } from "vitest";
import { relFile } from "../../common/ids.js";
import type { Index, Table } from "../access/database.js";
import type { Expr, ParamSlot } from "./expr.js";
import { chooseIndexPath, evaluateRange } from "./index-path.js";
import type { ComparisonOp } from "./operators.js";

const index = (name: string, columns: number[], unique = false): Index => ({
  oid: 1,
  name,
  relfile: relFile(100),
  columns,
  unique,
  primary: false,
});

const table = (indexes: Index[]): Table => ({
  oid: 16384,
  name: "t",
  relfile: relFile(16384),
  columns: [
    { name: "a", type: "int4", typmod: -1, notNull: true },
    { name: "b", type: "text", typmod: -1, notNull: false },
    { name: "c", type: "int8", typmod: -1, notNull: false },
  ],
  indexes,
});

const col = (i: number, type: "int4" | "text" | "int8" = "int4"): Expr => ({ kind: "column", type, index: i });
const lit = (value: number | string | null, type: "int4" | "text" = "int4"): Expr => ({
  kind: "const",
  type,
  value,
  location: 0,
});
const cmp = (left: Expr, op: ComparisonOp, right: Expr): Expr => ({
  kind: "binary",
  type: "bool",
  left,
  right,
  fn: () => true,
  comparison: op,
});
const and = (...args: Expr[]): Expr => ({ kind: "and", args });

describe("chooseIndexPath", () => {
  it("uses no index without a usable condition", () => {
    const t = table([index("t_a", [0])]);
    expect(chooseIndexPath(t, undefined)).toBeUndefined();
    expect(chooseIndexPath(t, cmp(col(0), "<>", lit(1)))).toBeUndefined();
    expect(chooseIndexPath(t, cmp(col(0), "=", col(0)))).toBeUndefined(); // value reads the row
    expect(chooseIndexPath(t, { kind: "or", args: [cmp(col(0), "=", lit(1)), cmp(col(0), "=", lit(2))] })).toBe(
      undefined,
    );
    expect(chooseIndexPath(table([]), cmp(col(0), "=", lit(1)))).toBeUndefined();
  });

  it("turns equality into a closed range and flips `value op column`", () => {
    const t = table([index("t_a", [0])]);
    const eq = chooseIndexPath(t, cmp(col(0), "=", lit(5)))!;
    expect(evaluateRange(eq, [])).toEqual({
      lower: { values: [5], inclusive: true },
      upper: { values: [5], inclusive: true },
    });
    const flipped = chooseIndexPath(t, cmp(lit(5), ">", col(0)))!; // 5 > a  ⇔  a < 5
    expect(evaluateRange(flipped, [])).toEqual({ upper: { values: [5], inclusive: false } });
  });

  it("takes an equality prefix then one range on the next column", () => {
    const t = table([index("t_a_b", [0, 1])]);
    const path = chooseIndexPath(t, and(cmp(col(0), "=", lit(1)), cmp(col(1, "text"), ">=", lit("m", "text"))))!;
    expect(evaluateRange(path, [])).toEqual({
      lower: { values: [1, "m"], inclusive: true },
      upper: { values: [1], inclusive: true },
    });
    // A range on the second column alone cannot use the index.
    expect(chooseIndexPath(t, cmp(col(1, "text"), "=", lit("m", "text")))).toBeUndefined();
  });

  it("prefers the index with more equal columns, then a fully matched unique one", () => {
    const t = table([index("t_a", [0]), index("t_a_b", [0, 1]), index("t_a_u", [0], true)]);
    const both = chooseIndexPath(t, and(cmp(col(0), "=", lit(1)), cmp(col(1, "text"), "=", lit("x", "text"))))!;
    expect(both.index.name).toBe("t_a_b");
    expect(chooseIndexPath(t, cmp(col(0), "=", lit(1)))!.index.name).toBe("t_a_u");
  });

  it("evaluates parameters per execution; a NULL bound matches nothing", () => {
    const slot: ParamSlot = { index: 0, type: "int4" };
    const t = table([index("t_a", [0])]);
    const path = chooseIndexPath(t, cmp(col(0), "=", { kind: "param", slot, location: 0 }))!;
    expect(evaluateRange(path, [42])?.lower).toEqual({ values: [42], inclusive: true });
    expect(evaluateRange(path, [null])).toBeUndefined();
  });

  it("ignores a column compared through a cast to another type", () => {
    const t = table([index("t_c", [2])]);
    expect(chooseIndexPath(t, cmp(col(2, "int4"), "=", lit(1)))).toBeUndefined();
  });
});
