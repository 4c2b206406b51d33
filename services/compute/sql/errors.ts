import type { AccessError, ColumnType, Datum } from "../access/database.js";
import type { DiagnosticFields } from "../wire/sql-error.js";
import { SqlError } from "../wire/sql-error.js";

/** The SQLSTATEs the SQL layer raises (errcodes.txt names). */
export const Code = {
  successfulCompletion: "00000",
  featureNotSupported: "0A000",
  invalidParameterValue: "22023",
  nullValueNotAllowed: "22004",
  cardinalityViolation: "21000",
  numericValueOutOfRange: "22003",
  invalidTextRepresentation: "22P02",
  divisionByZero: "22012",
  invalidRowCountInLimit: "2201W",
  stringDataRightTruncation: "22001",
  invalidDatetimeFormat: "22007",
  datetimeFieldOverflow: "22008",
  invalidTimeZoneDisplacement: "22009",
  floatingPointException: "22P01",
  invalidRowCountInOffset: "2201X",
  characterNotInRepertoire: "22021",
  badCopyFileFormat: "22P04",
  invalidBinaryRepresentation: "22P03",
  notNullViolation: "23502",
  activeSqlTransaction: "25001",
  readOnlySqlTransaction: "25006",
  noActiveSqlTransaction: "25P01",
  inFailedSqlTransaction: "25P02",
  serializationFailure: "40001",
  syntaxError: "42601",
  undefinedTable: "42P01",
  undefinedColumn: "42703",
  undefinedFunction: "42883",
  undefinedParameter: "42P02",
  undefinedSchema: "3F000",
  duplicateTable: "42P07",
  uniqueViolation: "23505",
  insufficientPrivilege: "42501",
  wrongObjectType: "42809",
  undefinedObject: "42704",
  cantChangeRuntimeParam: "55P02",
  dependentObjectsStillExist: "2BP01",
  invalidTableDefinition: "42P16",
  duplicateColumn: "42701",
  duplicateAlias: "42712",
  ambiguousColumn: "42702",
  ambiguousFunction: "42725",
  datatypeMismatch: "42804",
  groupingError: "42803",
  cannotCoerce: "42846",
  invalidColumnReference: "42P10",
  tooManyColumns: "54011",
  programLimitExceeded: "54000",
  queryCanceled: "57014",
  objectNotInPrerequisiteState: "55000",
  invalidCursorName: "34000",
} as const;

/**
 * `location` is a parse-tree location: a 0-based byte offset into the
 * statement text. It is stored as position = location + 1 and turned into a
 * character position once, where the text is known (`withCharacterPosition`).
 */
export function sqlError(
  code: string,
  message: string,
  location?: number,
  fields: Omit<DiagnosticFields, "position"> = {},
): SqlError {
  const position = location === undefined || location < 0 ? undefined : location + 1;
  return new SqlError(code, message, { ...fields, position });
}

/** Anything outside the supported subset: never a crash, never a silently wrong answer. */
export function notSupported(construct: string, location?: number): SqlError {
  return sqlError(Code.featureNotSupported, `feature not supported: ${construct}`, location);
}

export function canceled(reason: "user request" | "statement timeout" = "user request"): SqlError {
  return new SqlError(Code.queryCanceled, `canceling statement due to ${reason}`);
}

/** The byte-offset position of an analysis error as PostgreSQL's 1-based character index. */
export function withCharacterPosition(err: SqlError, sql: string): SqlError {
  const position = err.position;
  if (position === undefined || isAscii(sql)) return err;
  const prefix = Buffer.from(sql, "utf8")
    .subarray(0, position - 1)
    .toString("utf8");
  const chars = [...prefix].length + 1;
  if (chars === position) return err;
  const { detail, hint, table, column, dataType, constraint, severity } = err;
  return new SqlError(err.code, err.message, {
    detail,
    hint,
    table,
    column,
    dataType,
    constraint,
    severity,
    position: chars,
  });
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** An AccessError of the seam (an Error with `sqlState`) as a SqlError; anything else is passed through. */
export function fromAccessError(err: unknown, formatKey: (type: ColumnType, value: Datum) => string | null): unknown {
  if (err instanceof SqlError) return err;
  if (err instanceof Error && "sqlState" in err && typeof err.sqlState === "string") {
    try {
      const key = (err as AccessError).duplicateKey;
      const detail = (err as AccessError).detail;
      if (key === undefined) return new SqlError(err.sqlState, err.message, detail === undefined ? {} : { detail });
      const names = key.columns.map((c) => c.name).join(", ");
      const values = key.values.map((v, i) => (v === null ? "null" : formatKey(key.columns[i]!.type, v))).join(", ");
      return new SqlError(err.sqlState, err.message, {
        detail: `Key (${names})=(${values}) ${key.existing ? "already exists" : "is duplicated"}.`,
      });
    } catch {
      return err;
    }
  }
  return err;
}
