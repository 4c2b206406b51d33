import type { Table } from "../access/database.js";
import type { ExecContext } from "./execute.js";
import { checkNotNull } from "./execute.js";
import { selectRows } from "./execute-select.js";
import type { InsertPlan } from "./plan.js";

/**
 * INSERT … SELECT: each row is inserted as the SELECT yields it, nothing
 * buffered beyond the SELECT's own batch. The SELECT reads through the same
 * transaction and command, so (as in PostgreSQL) it does not see the rows
 * this statement inserts: `insert into t select * from t` doubles t once.
 */
export async function runInsertSelect(
  table: Table,
  select: NonNullable<InsertPlan["select"]>,
  ctx: ExecContext,
): Promise<number> {
  const tx = ctx.tx();
  const params = ctx.params;
  let count = 0;
  for await (const batch of selectRows(select.plan, ctx)) {
    for (const output of batch) {
      ctx.cancel.check();
      const values = select.row.map((ev) => ev(output, params));
      checkNotNull(table, values);
      await ctx.db.insert(tx, table, values);
      count++;
    }
  }
  return count;
}
