/**
 * Errors and notices as the client sees them: every field of PostgreSQL's
 * ErrorResponse/NoticeResponse (protocol-error-fields.html). Errors are values
 * at this boundary: the engine throws a SqlError, the wire layer sends it.
 */

/** SQLSTATE codes the wire layer itself raises (errcodes.txt names). */
export const SqlState = {
  featureNotSupported: "0A000",
  protocolViolation: "08P01",
  connectionFailure: "08006",
  invalidParameterValue: "22023",
  characterNotInRepertoire: "22021",
  invalidAuthorizationSpecification: "28000",
  invalidPassword: "28P01",
  invalidSqlStatementName: "26000",
  invalidCursorName: "34000",
  invalidCatalogName: "3D000",
  duplicateCursor: "42P03",
  duplicatePreparedStatement: "42P05",
  tooManyConnections: "53300",
  programLimitExceeded: "54000",
  queryCanceled: "57014",
  adminShutdown: "57P01",
  internalError: "XX000",
} as const;

export type ErrorSeverity = "ERROR" | "FATAL" | "PANIC";
export type NoticeSeverity = "WARNING" | "NOTICE" | "DEBUG" | "INFO" | "LOG";

/** The optional fields, named as in libpq's PG_DIAG_* (field letter in brackets). */
export interface DiagnosticFields {
  /** [D] secondary message. */
  readonly detail?: string;
  /** [H] suggestion what to do. */
  readonly hint?: string;
  /** [P] 1-based character index into the query string. */
  readonly position?: number;
  /** [p] 1-based index into `internalQuery`. */
  readonly internalPosition?: number;
  /** [q] text of an internally generated command that failed. */
  readonly internalQuery?: string;
  /** [W] context: call stack of the error. */
  readonly where?: string;
  /** [s] [t] [c] [d] [n] the object the error is about. */
  readonly schema?: string;
  readonly table?: string;
  readonly column?: string;
  readonly dataType?: string;
  readonly constraint?: string;
  /** [F] [L] [R] where in the server's source the error was raised. */
  readonly file?: string;
  readonly line?: number;
  readonly routine?: string;
}

/** What ErrorResponse and NoticeResponse carry: [S]/[V] severity, [C] code, [M] message, the rest optional. */
export interface ResponseFields extends DiagnosticFields {
  readonly severity: ErrorSeverity | NoticeSeverity;
  readonly code: string;
  readonly message: string;
}

const SQLSTATE_PATTERN = /^[0-9A-Z]{5}$/;

/** A SQL error for the client. `severity` FATAL ends the session after it is sent. */
export class SqlError extends Error implements ResponseFields {
  override name = "SqlError";
  readonly severity: ErrorSeverity;
  readonly detail?: string;
  readonly hint?: string;
  readonly position?: number;
  readonly internalPosition?: number;
  readonly internalQuery?: string;
  readonly where?: string;
  readonly schema?: string;
  readonly table?: string;
  readonly column?: string;
  readonly dataType?: string;
  readonly constraint?: string;
  readonly file?: string;
  readonly line?: number;
  readonly routine?: string;

  constructor(
    readonly code: string,
    message: string,
    fields: DiagnosticFields & { readonly severity?: ErrorSeverity } = {},
  ) {
    super(message);
    if (!SQLSTATE_PATTERN.test(code)) throw new RangeError(`not a SQLSTATE: ${JSON.stringify(code)}`);
    this.severity = fields.severity ?? "ERROR";
    Object.assign(this, withoutUndefined(fields));
  }

  /** The same error with FATAL severity (startup and protocol errors end the session). */
  fatal(): SqlError {
    return new SqlError(this.code, this.message, { ...diagnostics(this), severity: "FATAL" });
  }
}

/** A notice or warning sent with NoticeResponse; never changes control flow. */
export interface SqlNotice extends DiagnosticFields {
  readonly severity: NoticeSeverity;
  readonly code: string;
  readonly message: string;
}

/** Any thrown value as a SqlError: non-SQL exceptions become internal errors (XX000). */
export function toSqlError(err: unknown): SqlError {
  if (err instanceof SqlError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SqlError(SqlState.internalError, message);
}

function diagnostics(e: DiagnosticFields): DiagnosticFields {
  const {
    detail,
    hint,
    position,
    internalPosition,
    internalQuery,
    where,
    schema,
    table,
    column,
    dataType,
    constraint,
    file,
    line,
    routine,
  } = e;
  return withoutUndefined({
    detail,
    hint,
    position,
    internalPosition,
    internalQuery,
    where,
    schema,
    table,
    column,
    dataType,
    constraint,
    file,
    line,
    routine,
  });
}

function withoutUndefined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}
