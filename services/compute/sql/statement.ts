import type { Database, Datum, Table, Transaction } from "../access/database.js";
import type { RowSink } from "../wire/query-engine.js";
import type { Cancellation } from "./cancel.js";
import { runCopyFrom, runCopyTo } from "./copy.js";
import { Code, sqlError } from "./errors.js";
import type { ExecContext } from "./execute.js";
import { runDelete, runInsert, runUpdate } from "./execute.js";
import { alterTable, createIndex, createTable, dropIndexes, dropTables, truncate } from "./execute-ddl.js";
import { runInsertSelect } from "./execute-insert-select.js";
import { selectRows } from "./execute-select.js";
import { runVacuum } from "./execute-vacuum.js";
import type { Execution } from "./execution.js";
import { CommandExecution, RowsExecution } from "./execution.js";
import { explainLines } from "./explain.js";
import type { Plan, ResultColumn, SleepPlan } from "./plan.js";
import type { SessionSettings } from "./settings.js";
import type { SessionTransaction } from "./transaction.js";

/**
 * The statement being run: its transaction (begun on first use, with one
 * `startCommand` per statement, before analysis reads the catalog) and the
 * Execution of its plan.
 */
export class StatementScope {
  private tx: Transaction | undefined;

  constructor(readonly txn: SessionTransaction) {}

  readonly transaction = (): Transaction => {
    if (this.tx === undefined) {
      this.tx = this.txn.transaction();
      this.tx.startCommand();
    }
    return this.tx;
  };
}

export interface ExecutionInputs {
  readonly db: Database;
  readonly scope: StatementScope;
  readonly params: readonly Datum[];
  /** The session's current cancellation: a portal may run across several Execute messages. */
  readonly cancellation: () => Cancellation;
  readonly columns: readonly ResultColumn[] | null;
  readonly formats: readonly (0 | 1)[];
  readonly settings: SessionSettings;
}

/** An ExecContext; `cancel` is the session's current one (a class: a getter in an object literal is slow to make). */
class StatementContext implements ExecContext {
  readonly db: Database;
  readonly tx: () => Transaction;
  readonly params: readonly Datum[];

  constructor(private readonly inputs: ExecutionInputs) {
    this.db = inputs.db;
    this.tx = inputs.scope.transaction;
    this.params = inputs.params;
  }

  get cancel(): Cancellation {
    return this.inputs.cancellation();
  }
}

function insertTag(n: number): string {
  return `INSERT 0 ${n}`;
}

export function makeExecution(p: Plan, inputs: ExecutionInputs): Execution {
  const { db, scope } = inputs;
  const txn = scope.txn;
  const ctx = new StatementContext(inputs);
  const write = (command: string, run: (out: RowSink) => Promise<string>): Execution =>
    new CommandExecution(async (out) => {
      if (txn.readOnly) {
        throw sqlError(Code.readOnlySqlTransaction, `cannot execute ${command} in a read-only transaction`);
      }
      return run(out);
    });
  switch (p.kind) {
    case "select":
      return new RowsExecution(() => selectRows(p, ctx), inputs.columns ?? [], inputs.formats);
    case "sleep":
      return new RowsExecution(() => sleepRows(p, ctx), inputs.columns ?? [], inputs.formats);
    case "relation-size": {
      const rows = async function* () {
        yield [[BigInt(await db.relationSize(scope.transaction(), p.table))]];
      };
      return new RowsExecution(rows, inputs.columns ?? [], inputs.formats);
    }
    case "insert":
      return write("INSERT", async () =>
        insertTag(p.select === undefined ? await runInsert(p, ctx) : await runInsertSelect(p.table, p.select, ctx)),
      );
    case "update":
      return write("UPDATE", async () => `UPDATE ${await runUpdate(p, ctx)}`);
    case "delete":
      return write("DELETE", async () => `DELETE ${await runDelete(p, ctx)}`);
    case "create-table":
      return write("CREATE TABLE", (out) => createTable(p, db, scope.transaction(), (n) => out.notice(n)));
    case "drop-table":
      return write("DROP TABLE", (out) => dropTables(p, db, scope.transaction(), (n) => out.notice(n)));
    case "create-index":
      return write("CREATE INDEX", (out) => createIndex(p, db, scope.transaction(), (n) => out.notice(n)));
    case "alter-table":
      return write("ALTER TABLE", (out) => alterTable(p, db, scope.transaction(), (n) => out.notice(n)));
    case "drop-index":
      return write("DROP INDEX", (out) => dropIndexes(p, db, scope.transaction(), (n) => out.notice(n)));
    case "truncate":
      return write("TRUNCATE TABLE", () => truncate(p, db, scope.transaction()));
    case "vacuum":
      return new CommandExecution(async (out) => {
        const command = p.vacuum ? "VACUUM" : "ANALYZE";
        if (p.vacuum && txn.blockState === "block") {
          throw sqlError(Code.activeSqlTransaction, "VACUUM cannot run inside a transaction block");
        }
        await runVacuum(p, db, scope.transaction(), (n) => out.notice(n));
        return command;
      });
    case "set":
      return new CommandExecution(async (out) => {
        const inBlock = txn.blockState === "block";
        if (p.isLocal && !inBlock) {
          out.notice({
            severity: "WARNING",
            code: Code.noActiveSqlTransaction,
            message: "SET LOCAL can only be used in transaction blocks",
          });
        }
        if (p.name === undefined) inputs.settings.resetAll(inBlock);
        else inputs.settings.set(p.name, p.value, p.isLocal, inBlock);
        for (const [name, value] of inputs.settings.takeReports()) out.parameterStatus(name, value);
        return p.tag;
      });
    case "explain": {
      const lines = explainLines(p.plan);
      const rows = async function* () {
        yield lines.map((line) => [line]);
      };
      return new RowsExecution(rows, inputs.columns ?? [], inputs.formats, () => "EXPLAIN");
    }
    case "show": {
      const settings = inputs.settings;
      const rows = async function* () {
        yield p.name === undefined ? settings.all() : [[settings.get(p.name)]];
      };
      return new RowsExecution(rows, inputs.columns ?? [], inputs.formats, () => "SHOW");
    }
    case "copy-from":
      return write("COPY FROM", async (out) => `COPY ${await runCopyFrom(p, ctx, out)}`);
    case "copy-to":
      return new CommandExecution(async (out) => `COPY ${await runCopyTo(p, ctx, out)}`);
    case "begin":
      return new CommandExecution(async (out) => {
        txn.begin(p, (n) => out.notice(n));
        return p.tag;
      });
    case "commit":
      return new CommandExecution((out) => txn.commit((n) => out.notice(n)));
    case "rollback":
      return new CommandExecution(async (out) => {
        await txn.rollback((n) => out.notice(n));
        return "ROLLBACK";
      });
  }
}

/** pg_sleep(seconds): NULL for NULL (it is strict), else an empty void value after the sleep. */
async function* sleepRows(p: SleepPlan, ctx: ExecContext): AsyncGenerator<readonly (readonly Datum[])[]> {
  const seconds = p.seconds([], ctx.params);
  if (seconds === null) {
    yield [[null]];
    return;
  }
  const ms = Number(seconds) * 1000;
  if (ms > 0) await ctx.cancel.sleep(ms);
  yield [[""]];
}

/** Tables a cached plan was made against are still the ones the catalog has (same oid, same columns). */
export function sameTable(a: Table, b: Table | undefined): boolean {
  if (b === undefined || a.oid !== b.oid || a.relfile !== b.relfile || a.columns.length !== b.columns.length) {
    return false;
  }
  const sameIndexes =
    a.indexes.length === b.indexes.length &&
    a.indexes.every((i, n) => i.oid === b.indexes[n]!.oid && i.relfile === b.indexes[n]!.relfile);
  return (
    sameIndexes &&
    a.columns.every((c, i) => {
      const d = b.columns[i]!;
      return c.name === d.name && c.type === d.type && c.typmod === d.typmod && c.notNull === d.notNull;
    })
  );
}
