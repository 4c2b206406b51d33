import type { BackendWriter } from "./backend-messages.js";
import type { Bind, Close, Describe, Execute, FormatCode, Parse } from "./frontend-messages.js";
import type { Portal, PreparedStatement, QueryEngine, RowSink } from "./query-engine.js";
import { SqlError, SqlState } from "./sql-error.js";

/**
 * The extended query protocol's bookkeeping, which PostgreSQL keeps in
 * postgres.c rather than in its executor: prepared statements and portals by
 * name (the unnamed ones replaced silently, named ones never), parameter and
 * result format codes expanded from their 0/1/n forms, Describe answered from
 * what the engine returned. Errors are thrown; the session turns them into
 * ErrorResponse and the skip until Sync.
 */

export interface ExtendedQueryLimits {
  readonly preparedStatementsMax: number;
  readonly portalsMax: number;
}

/** An error the engine raised itself (the session must not tell it about its own error). */
export class EngineRaised {
  constructor(readonly cause: unknown) {}
}

async function fromEngine<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw new EngineRaised(err);
  }
}

/** 0 codes: all text; 1 code: for all; n codes: one each (the count was checked against n). */
function expandFormats(codes: readonly FormatCode[], count: number): readonly FormatCode[] {
  if (codes.length === count) return codes;
  const code: FormatCode = codes.length === 0 ? 0 : codes[0]!;
  return new Array<FormatCode>(count).fill(code);
}

export class ExtendedQuery {
  private readonly statements = new Map<string, PreparedStatement>();
  private readonly portals = new Map<string, Portal>();

  constructor(
    private readonly engine: QueryEngine,
    private readonly out: BackendWriter,
    private readonly sink: RowSink,
    private readonly limits: ExtendedQueryLimits,
    private readonly onCloseError: (err: unknown) => void,
  ) {}

  parse(m: Parse): Promise<void> {
    const prepare = this.engine.prepare?.bind(this.engine);
    if (m.name === "") this.dropStatement("");
    else if (this.statements.has(m.name)) {
      throw new SqlError(SqlState.duplicatePreparedStatement, `prepared statement "${m.name}" already exists`);
    }
    if (prepare === undefined)
      throw new SqlError(SqlState.featureNotSupported, "extended query protocol is not supported");
    if (this.statements.size >= this.limits.preparedStatementsMax) {
      throw new SqlError(
        SqlState.programLimitExceeded,
        `too many prepared statements: at most ${this.limits.preparedStatementsMax}`,
      );
    }
    return fromEngine(() => prepare(m.sql, m.paramTypeOids)).then((statement) => {
      this.statements.set(m.name, statement);
      this.out.parseComplete();
    });
  }

  bind(m: Bind): Promise<void> {
    const statement = this.statement(m.statement);
    if (m.portal === "") this.dropPortal("");
    else if (this.portals.has(m.portal))
      throw new SqlError(SqlState.duplicateCursor, `cursor "${m.portal}" already exists`);
    if (this.portals.size >= this.limits.portalsMax) {
      throw new SqlError(SqlState.programLimitExceeded, `too many portals: at most ${this.limits.portalsMax}`);
    }
    const paramCount = statement.paramTypeOids.length;
    if (m.params.length !== paramCount) {
      throw new SqlError(
        SqlState.protocolViolation,
        `bind message supplies ${m.params.length} parameters, but prepared statement "${m.statement}" requires ${paramCount}`,
      );
    }
    const columns = statement.fields?.length ?? 0;
    if (m.resultFormats.length > 1 && m.resultFormats.length !== columns) {
      throw new SqlError(
        SqlState.protocolViolation,
        `bind message has ${m.resultFormats.length} result formats but query has ${columns} columns`,
      );
    }
    const paramFormats = expandFormats(m.paramFormats, paramCount);
    const resultFormats = expandFormats(m.resultFormats, columns);
    return fromEngine(() => statement.bind(m.params, paramFormats, resultFormats)).then((portal) => {
      this.portals.set(m.portal, portal);
      this.out.bindComplete();
    });
  }

  describe(m: Describe): void {
    if (m.target === "S") {
      const statement = this.statement(m.name);
      this.out.parameterDescription(statement.paramTypeOids);
      this.describeFields(statement.fields);
    } else {
      this.describeFields(this.portal(m.name).fields);
    }
  }

  execute(m: Execute): Promise<void> {
    const portal = this.portal(m.portal);
    return fromEngine(() => portal.execute(this.sink, m.rowsMax)).then((outcome) => {
      if (outcome === "suspended") this.out.portalSuspended();
    });
  }

  /** Closing what does not exist is not an error. */
  close(m: Close): void {
    if (m.target === "S") this.dropStatement(m.name);
    else this.dropPortal(m.name);
    this.out.closeComplete();
  }

  /** A simple Query replaces the unnamed statement and portal, as if it used them. */
  dropUnnamed(): void {
    this.dropStatement("");
    this.dropPortal("");
  }

  /** The transaction ended: protocol-level portals do not outlive it. */
  closePortals(): void {
    for (const name of [...this.portals.keys()]) this.dropPortal(name);
  }

  closeAll(): void {
    this.closePortals();
    for (const name of [...this.statements.keys()]) this.dropStatement(name);
  }

  get portalCount(): number {
    return this.portals.size;
  }

  /** null: the statement returns no rows (NoData); [] is a result of zero columns (`select;`). */
  private describeFields(fields: PreparedStatement["fields"]): void {
    if (fields === null) this.out.noData();
    else this.out.rowDescription(fields);
  }

  private statement(name: string): PreparedStatement {
    const statement = this.statements.get(name);
    if (statement !== undefined) return statement;
    throw new SqlError(
      SqlState.invalidSqlStatementName,
      name === "" ? "unnamed prepared statement does not exist" : `prepared statement "${name}" does not exist`,
    );
  }

  private portal(name: string): Portal {
    const portal = this.portals.get(name);
    if (portal !== undefined) return portal;
    throw new SqlError(SqlState.invalidCursorName, `portal "${name}" does not exist`);
  }

  private dropStatement(name: string): void {
    const statement = this.statements.get(name);
    if (statement === undefined) return;
    this.statements.delete(name);
    try {
      statement.close?.();
    } catch (err) {
      this.onCloseError(err);
    }
  }

  private dropPortal(name: string): void {
    const portal = this.portals.get(name);
    if (portal === undefined) return;
    this.portals.delete(name);
    try {
      portal.close?.();
    } catch (err) {
      this.onCloseError(err);
    }
  }
}
