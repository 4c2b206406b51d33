import type { CopyFormat, DataValue, FieldDescription, TransactionStatus } from "./backend-messages.js";
import type { FormatCode } from "./frontend-messages.js";
import type { SqlNotice } from "./sql-error.js";

/**
 * The seam between the wire layer and the SQL engine: one QueryEngine per
 * connection, made by a SessionFactory once the client has authenticated.
 *
 * The wire layer owns the protocol: framing, authentication, the names of
 * prepared statements and portals, Describe, format-code bookkeeping, and the
 * error recovery of the extended protocol (after an error, discard input until
 * Sync, then ReadyForQuery). The engine owns SQL: parsing, planning,
 * executing, transactions.
 *
 * Errors: an engine method reports a SQL error by throwing (rejecting with) a
 * SqlError; any other exception is sent as XX000 internal_error and logged.
 * A SqlError with severity FATAL ends the session after it is sent.
 */

export type { CopyFormat, DataValue, FieldDescription, TransactionStatus };

/** COPY … TO STDOUT after its CopyOutResponse: each row as one CopyData, then CopyDone. */
export interface CopyOut {
  data(bytes: Uint8Array | string): void;
  /** CopyDone; the engine's CommandComplete (`COPY n`) follows. */
  done(): void;
}

/** Where Execute and the simple query protocol put their results. Valid until the engine's promise settles. */
export interface RowSink {
  dataRow(values: readonly DataValue[]): void;
  /** The statement finished: "SELECT 1", "INSERT 0 3", "BEGIN" … */
  commandComplete(tag: string): void;
  /** The statement text was empty (only whitespace, comments, semicolons). */
  emptyQuery(): void;
  notice(notice: SqlNotice): void;
  /** A reported setting changed (SET application_name, TimeZone …): a ParameterStatus for the client. */
  parameterStatus(name: string, value: string): void;
  /**
   * Undefined while the client keeps up; a promise to await when the socket is
   * congested. Check it between batches of rows, never await per row.
   */
  backpressure(): Promise<void> | undefined;
  /**
   * COPY … FROM STDIN: sends CopyInResponse, then yields the payload of each
   * CopyData the client sends (views: use them before asking for the next),
   * and ends at CopyDone. The wire layer reads the socket only while the
   * engine asks for data, so a slow engine slows the client (backpressure).
   * Iterating throws a SqlError on CopyFail (57014), on any message COPY does
   * not allow (08P01: the session then ends, as PostgreSQL's does) or when
   * the client goes away. An engine that fails mid-copy just stops iterating:
   * the client's remaining CopyData/CopyDone are ignored afterwards, as in
   * PostgreSQL. Absent on sinks that cannot take a copy (the statement fails
   * with 0A000).
   */
  copyIn?(format: CopyFormat): AsyncIterable<Uint8Array>;
  /** COPY … TO STDOUT: sends CopyOutResponse; rows go out through the returned CopyOut. Absent like copyIn. */
  copyOut?(format: CopyFormat): CopyOut;
}

/** The simple query protocol also describes each result set before its rows. */
export interface ResultSink extends RowSink {
  rowDescription(fields: readonly FieldDescription[]): void;
}

/** A statement prepared by Parse. The wire layer keeps it under its name. */
export interface PreparedStatement {
  /** One per parameter ($1 … $n): those the client gave, the rest inferred. */
  readonly paramTypeOids: readonly number[];
  /** The result columns (format 0), or null when the statement returns no rows (NoData). */
  readonly fields: readonly FieldDescription[] | null;
  /**
   * Bind parameters. The wire layer has checked the counts and expanded the
   * format codes: exactly one per parameter and one per result column.
   */
  bind(
    params: readonly (Uint8Array | null)[],
    paramFormats: readonly FormatCode[],
    resultFormats: readonly FormatCode[],
  ): Promise<Portal>;
  /** The statement was closed or replaced. */
  close?(): void;
}

/** A bound statement, ready to run (possibly in several Executes of rowsMax rows). */
export interface Portal {
  /** The result columns with the formats asked for in Bind, or null (NoData). */
  readonly fields: readonly FieldDescription[] | null;
  /**
   * Run until done or `rowsMax` rows were sent (0: no limit). Sends DataRows,
   * then CommandComplete (or emptyQuery) when done; no RowDescription.
   */
  execute(out: RowSink, rowsMax: number): Promise<"complete" | "suspended">;
  /** The portal was closed, replaced, or its transaction ended. */
  close?(): void;
}

export interface QueryEngine {
  /** Simple query protocol: one string, possibly several statements, each with its own results. */
  simpleQuery(sql: string, out: ResultSink): Promise<void>;
  /** Extended query protocol (Parse). Without it, Parse fails with 0A000. */
  prepare?(sql: string, paramTypeOids: readonly number[]): Promise<PreparedStatement>;
  /** Sync: end of an extended-protocol batch; commit the implicit transaction, if any. */
  sync?(): Promise<void>;
  /**
   * The wire layer sent an error the engine did not raise (an unknown
   * statement name, a malformed or miscounted Bind, …): treat it as a failed
   * statement, as PostgreSQL does (abort the implicit transaction, or mark
   * the open transaction block failed).
   */
  statementFailed?(error: Error): void;
  /** 'I' idle, 'T' in a transaction block, 'E' in a failed one; read for every ReadyForQuery. */
  transactionStatus(): TransactionStatus;
  /**
   * Settings to report at startup as ParameterStatus, over the wire layer's
   * defaults (PostgreSQL 15's GUC_REPORT set).
   */
  readonly reportedParameters?: ReadonlyMap<string, string>;
  /**
   * A CancelRequest for this session arrived (from another connection, at any
   * time): make the running statement fail with 57014 "canceling statement
   * due to user request"; no effect when idle.
   */
  cancel(): void;
  /** The connection ended (Terminate or socket closed): abort what is open and release everything. */
  close(): Promise<void>;
}

/** What the client asked for at startup, after authentication. */
export interface SessionStart {
  readonly user: string;
  readonly database: string;
  /** Every startup parameter as sent (`application_name`, `options`, GUCs …). */
  readonly parameters: ReadonlyMap<string, string>;
  /** This session's BackendKeyData process id. */
  readonly processId: number;
}

/** Makes the engine of one connection; a SqlError thrown here is sent as FATAL and ends the session. */
export type SessionFactory = (start: SessionStart) => Promise<QueryEngine>;
