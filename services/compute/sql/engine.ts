import type { Node } from "libpg-query";
import type { Database, Datum } from "../access/database.js";
import type { FormatCode } from "../wire/frontend-messages.js";
import type {
  Portal,
  PreparedStatement,
  QueryEngine,
  ResultSink,
  RowSink,
  SessionStart,
  TransactionStatus,
} from "../wire/query-engine.js";
import { SqlError } from "../wire/sql-error.js";
import type { AnalyzeEnv } from "./analyze.js";
import { analyzeStatement, isTransactionExit } from "./analyze.js";
import { Cancellation } from "./cancel.js";
import { formatText } from "./datum-io.js";
import { Code, canceled, fromAccessError, notSupported, sqlError, withCharacterPosition } from "./errors.js";
import type { SessionInfo } from "./functions.js";
import { DEFAULT_SESSION } from "./functions.js";
import { ParamSlots } from "./params.js";
import type { ParseCache, ParsedStatement } from "./parse.js";
import type { Plan, ResultColumn } from "./plan.js";
import { fieldDescriptions, plan, queryTables, resultColumns } from "./plan.js";
import type { PortalHost, PreparedState } from "./prepared.js";
import { SqlPortal, SqlPreparedStatement, checkResultFormats, decodeParams } from "./prepared.js";
import { SERVER_VERSION, SessionSettings } from "./settings.js";
import type { ExecutionInputs } from "./statement.js";
import { StatementScope, makeExecution, sameTable } from "./statement.js";
import { SessionTransaction } from "./transaction.js";
import type { SqlType } from "./types.js";
import { paramTypeOfOid, typeOid } from "./types.js";

/**
 * The SQL engine of one connection, behind the wire layer's QueryEngine:
 * parse (cached) → analyze → plan → execute, with PostgreSQL's transaction
 * rules for the simple and extended protocols (transaction.ts). The wire
 * layer calls one method at a time; `cancel` may come at any moment.
 */
export class SqlEngine implements QueryEngine, PortalHost {
  private readonly txn: SessionTransaction;
  private cancellation = new Cancellation();
  private running = false;
  /** A rollback started by `statementFailed`, awaited before the next call. */
  private pendingAbort: Promise<void> | undefined;

  private readonly settings: SessionSettings;
  private readonly session: SessionInfo;

  constructor(
    private readonly db: Database,
    private readonly parser: ParseCache,
    start: Pick<SessionStart, "parameters"> = { parameters: new Map() },
    session: SessionInfo = DEFAULT_SESSION,
  ) {
    this.settings = new SessionSettings(SERVER_VERSION, start.parameters);
    this.session = { ...session, setting: (name) => this.settings.get(name) };
    this.txn = new SessionTransaction(db, (committed) => this.settings.transactionEnded(committed));
  }

  /** The GUC_REPORT settings for the startup ParameterStatus messages (the wire layer reports server_version). */
  get reportedParameters(): ReadonlyMap<string, string> {
    const reported = this.settings.reported();
    reported.delete("server_version");
    return reported;
  }

  transactionStatus(): TransactionStatus {
    return this.txn.status();
  }

  cancel(): void {
    if (!this.running) return;
    this.cancellation.cancel();
    this.txn.interrupt(canceled("user request"));
  }

  statementFailed(_error: Error): void {
    const previous = this.pendingAbort ?? Promise.resolve();
    this.pendingAbort = previous.then(() => this.txn.abort());
  }

  async close(): Promise<void> {
    this.cancellation.cancel();
    await this.settle();
    await this.txn.close();
  }

  // ---- simple query protocol ----

  async simpleQuery(sql: string, out: ResultSink): Promise<void> {
    await this.call(sql, async () => {
      const statements = this.parser.parse(sql);
      if (statements.length === 0) {
        out.emptyQuery();
        return;
      }
      // Several statements in one Query run in one implicit transaction (unless they hold BEGIN/COMMIT).
      for (const statement of statements) await this.runSimple(statement, out);
      await this.txn.finishImplicit();
    });
  }

  private async runSimple(statement: ParsedStatement, out: ResultSink): Promise<void> {
    this.checkNotFailed(statement.node);
    this.cancellation.check();
    this.txn.startStatement();
    const scope = new StatementScope(this.txn);
    const query = await analyzeStatement(statement.node, this.env(scope, ParamSlots.none()));
    const columns = resultColumns(query);
    const execution = makeExecution(plan(query), this.inputs(scope, [], columns, []));
    if (columns !== null) out.rowDescription(fieldDescriptions(columns));
    await execution.run(out, 0);
  }

  // ---- extended query protocol ----

  async prepare(sql: string, paramTypeOids: readonly number[]): Promise<PreparedStatement> {
    return this.call(sql, async () => {
      const statements = this.parser.parse(sql);
      if (statements.length > 1) {
        throw sqlError(Code.syntaxError, "cannot insert multiple commands into a prepared statement");
      }
      const node = statements[0]?.node;
      if (node !== undefined) this.checkNotFailed(node);
      const generation = this.db.catalogGeneration();
      const params = new ParamSlots(paramTypeOids.map(paramType), true);
      this.txn.startStatement();
      const query =
        node === undefined ? undefined : await analyzeStatement(node, this.env(new StatementScope(this.txn), params));
      const state: PreparedState = {
        sql,
        node,
        query,
        plan: query === undefined ? undefined : plan(query),
        paramTypes: params.resolve(),
        columns: query === undefined ? null : resultColumns(query),
        exitsTransaction: node !== undefined && isTransactionExit(node),
        checkedAt: generation,
      };
      return new SqlPreparedStatement(this, state);
    });
  }

  async bind(
    state: PreparedState,
    params: readonly (Uint8Array | null)[],
    paramFormats: readonly FormatCode[],
    resultFormats: readonly FormatCode[],
  ): Promise<Portal> {
    return this.call(state.sql, async () => {
      if (!state.exitsTransaction && this.txn.failed) throw inFailedTransaction();
      const values = decodeParams(state.paramTypes, params, paramFormats);
      checkResultFormats(state.columns, resultFormats);
      this.txn.startStatement();
      return new SqlPortal(this, state, values, resultFormats, (listener) => this.txn.onEnd(listener));
    });
  }

  async execute(portal: SqlPortal, out: RowSink, rowsMax: number): Promise<"complete" | "suspended"> {
    return this.call(portal.state.sql, async () => {
      const state = portal.state;
      if (state.node === undefined) {
        out.emptyQuery();
        return "complete";
      }
      this.checkNotFailed(state.node);
      if (portal.ended) {
        throw sqlError(Code.invalidCursorName, "portal does not exist: its transaction has ended");
      }
      this.cancellation.check();
      this.txn.startStatement();
      if (portal.execution === undefined) {
        const scope = new StatementScope(this.txn);
        const p = await this.revalidate(state, scope);
        portal.execution = makeExecution(p, this.inputs(scope, portal.params, state.columns, portal.formats));
      }
      return portal.execution.run(out, rowsMax);
    });
  }

  async sync(): Promise<void> {
    await this.call("", () => this.txn.finishImplicit());
  }

  /**
   * A cached plan is run only against the tables it was made for: if one was
   * dropped or re-created, the statement is analyzed again (it may now fail,
   * 42P01) and must keep its result columns, as PostgreSQL's plan cache does.
   */
  private async revalidate(state: PreparedState, scope: StatementScope): Promise<Plan> {
    const generation = this.db.catalogGeneration();
    if (state.checkedAt === generation) return state.plan!;
    const tables = queryTables(state.query!);
    let stale = false;
    for (const table of tables) {
      if (!sameTable(table, await this.db.lookupTable(scope.transaction(), table.name))) stale = true;
    }
    if (!stale) {
      state.checkedAt = generation;
      return state.plan!;
    }
    const params = new ParamSlots(state.paramTypes, true);
    const query = await analyzeStatement(state.node!, this.env(scope, params));
    const types = params.resolve();
    if (!sameColumns(resultColumns(query), state.columns) || types.some((t, i) => t !== state.paramTypes[i])) {
      throw notSupported("cached plan must not change result type");
    }
    state.query = query;
    state.plan = plan(query);
    state.checkedAt = generation;
    return state.plan;
  }

  // ---- shared ----

  /**
   * One engine call: a fresh cancellation; on error the transaction is rolled
   * back (a block becomes failed) and the error gets its character position.
   */
  private async call<T>(sql: string, body: () => Promise<T>): Promise<T> {
    if (this.pendingAbort !== undefined) await this.settle();
    this.txn.clock.startStatement();
    const cancellation = new Cancellation();
    this.cancellation = cancellation;
    this.running = true;
    const timeoutMs = Number(this.settings.raw("statement_timeout"));
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            cancellation.cancel("statement timeout");
            this.txn.interrupt(canceled("statement timeout"));
          }, timeoutMs)
        : undefined;
    this.txn.setLockTimeout(Number(this.settings.raw("lock_timeout")));
    try {
      return await body();
    } catch (err) {
      await this.txn.abort();
      const mapped = fromAccessError(err, formatText);
      throw mapped instanceof SqlError ? withCharacterPosition(mapped, sql) : mapped;
    } finally {
      clearTimeout(timer);
      this.running = false;
    }
  }

  private async settle(): Promise<void> {
    const pending = this.pendingAbort;
    if (pending === undefined) return;
    this.pendingAbort = undefined;
    await pending.catch(() => {});
  }

  private checkNotFailed(node: Node): void {
    if (this.txn.failed && !isTransactionExit(node)) throw inFailedTransaction();
  }

  private env(scope: StatementScope, params: ParamSlots): AnalyzeEnv {
    return {
      lookupTable: (name) => this.db.lookupTable(scope.transaction(), name),
      params,
      clock: this.txn.clock,
      session: this.session,
    };
  }

  private inputs(
    scope: StatementScope,
    params: readonly Datum[],
    columns: readonly ResultColumn[] | null,
    formats: readonly (0 | 1)[],
  ): ExecutionInputs {
    return {
      db: this.db,
      scope,
      params,
      cancellation: () => this.cancellation,
      columns,
      formats,
      settings: this.settings,
    };
  }
}

function inFailedTransaction(): SqlError {
  return sqlError(
    Code.inFailedSqlTransaction,
    "current transaction is aborted, commands ignored until end of transaction block",
  );
}

/** A Parse parameter type: 0 (infer) or one of the column types; anything else is not supported. */
function paramType(oid: number): SqlType {
  if (oid === 0) return "unknown";
  const type = paramTypeOfOid(oid);
  if (type === undefined) throw notSupported(`parameters of type oid ${oid}`);
  return type;
}

function sameColumns(a: readonly ResultColumn[] | null, b: readonly ResultColumn[] | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((c, i) => typeOid(c.type) === typeOid(b[i]!.type) && c.name === b[i]!.name);
}
