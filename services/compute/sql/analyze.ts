import type { ColumnDef, Constraint, CreateStmt, DropStmt, Node, SelectStmt, TransactionStmt } from "libpg-query";
import type { Column, IsolationLevel } from "../access/database.js";
import { analyzeCopy } from "./analyze-copy.js";
import {
  analyzeAlterTable,
  analyzeCreateIndex,
  analyzeTruncate,
  analyzeVacuum,
  constraintIndex,
  dropIndexNames,
} from "./analyze-ddl.js";
import { analyzeDelete, analyzeInsert, analyzeUpdate } from "./analyze-dml.js";
import { analyzeExpr, typeOfTypeName } from "./analyze-expr.js";
import type { AnalyzeEnv } from "./analyze-relation.js";
import { checkSchema } from "./analyze-relation.js";
import { relationSizeQuery } from "./analyze-relation-size.js";
import { analyzeSelect } from "./analyze-select.js";
import { analyzeSet, analyzeShow } from "./analyze-settings.js";
import { coerce } from "./casts.js";
import { Code, notSupported, sqlError } from "./errors.js";
import { checkExplainOptions } from "./explain.js";
import { exprType } from "./expr.js";
import { nodeLocation, nodeTag, stringList } from "./nodes.js";
import type {
  BeginQuery,
  CreateTableQuery,
  DropIndexQuery,
  DropTableQuery,
  IndexSpec,
  Query,
  SleepQuery,
} from "./query.js";
import { statementCall } from "./statement-call.js";
import { checkStorageParameters } from "./storage-parameters.js";
import { isNumericType, typeDisplay } from "./types.js";

/** A parse tree → Query: the statement dispatch, DDL, transaction control and pg_sleep. */

export type { AnalyzeEnv };

/** PostgreSQL's MaxHeapAttributeNumber. */
export const COLUMNS_MAX = 1600;

const STATEMENT_NAMES: Readonly<Record<string, string>> = {
  ViewStmt: "CREATE VIEW",
  CreateSeqStmt: "CREATE SEQUENCE",
  CreateTableAsStmt: "CREATE TABLE AS",
  PrepareStmt: "PREPARE",
  ExecuteStmt: "EXECUTE",
  DeallocateStmt: "DEALLOCATE",
  DeclareCursorStmt: "DECLARE CURSOR",
  FetchStmt: "FETCH",
  ClosePortalStmt: "CLOSE",
  LockStmt: "LOCK",
  DiscardStmt: "DISCARD",
  MergeStmt: "MERGE",
  CallStmt: "CALL",
  DoStmt: "DO",
  ListenStmt: "LISTEN",
  NotifyStmt: "NOTIFY",
  UnlistenStmt: "UNLISTEN",
  RenameStmt: "ALTER … RENAME",
  CreateSchemaStmt: "CREATE SCHEMA",
  CreatedbStmt: "CREATE DATABASE",
  CreateFunctionStmt: "CREATE FUNCTION",
  CheckPointStmt: "CHECKPOINT",
};

export async function analyzeStatement(node: Node, env: AnalyzeEnv): Promise<Query> {
  if ("SelectStmt" in node) {
    const special = sleepQuery(node.SelectStmt, env) ?? (await relationSizeQuery(node.SelectStmt, env));
    return special ?? analyzeSelect(node.SelectStmt, env);
  }
  if ("InsertStmt" in node) return analyzeInsert(node.InsertStmt, env);
  if ("UpdateStmt" in node) return analyzeUpdate(node.UpdateStmt, env);
  if ("DeleteStmt" in node) return analyzeDelete(node.DeleteStmt, env);
  if ("CreateStmt" in node) return analyzeCreateTable(node.CreateStmt);
  if ("DropStmt" in node) return analyzeDrop(node.DropStmt);
  if ("ExplainStmt" in node) {
    checkExplainOptions(node.ExplainStmt);
    const inner = node.ExplainStmt.query!;
    if (!["SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt"].includes(nodeTag(inner))) {
      throw notSupported(`EXPLAIN ${STATEMENT_NAMES[nodeTag(inner)] ?? nodeTag(inner).replace(/Stmt$/, "")}`);
    }
    return { kind: "explain", query: await analyzeStatement(inner, env) };
  }
  if ("VariableSetStmt" in node) return analyzeSet(node.VariableSetStmt);
  if ("VariableShowStmt" in node) return analyzeShow(node.VariableShowStmt);
  if ("TruncateStmt" in node) return analyzeTruncate(node.TruncateStmt, env);
  if ("VacuumStmt" in node) return analyzeVacuum(node.VacuumStmt, env);
  if ("IndexStmt" in node) return analyzeCreateIndex(node.IndexStmt, env);
  if ("AlterTableStmt" in node) return analyzeAlterTable(node.AlterTableStmt, env);
  if ("TransactionStmt" in node) return analyzeTransaction(node.TransactionStmt);
  if ("CopyStmt" in node) return analyzeCopy(node.CopyStmt, env);
  const tag = nodeTag(node);
  throw notSupported(STATEMENT_NAMES[tag] ?? tag.replace(/Stmt$/, ""));
}

/** Statements allowed in a failed transaction block (PostgreSQL's IsTransactionExitStmt). */
export function isTransactionExit(node: Node): boolean {
  if (!("TransactionStmt" in node)) return false;
  const kind = node.TransactionStmt.kind;
  return kind === "TRANS_STMT_COMMIT" || kind === "TRANS_STMT_ROLLBACK" || kind === "TRANS_STMT_ROLLBACK_TO";
}

/** `SELECT pg_sleep(x) [AS name]` and nothing else; undefined if the statement is not that. */
function sleepQuery(s: SelectStmt, env: AnalyzeEnv): SleepQuery | undefined {
  const found = statementCall(s, "pg_sleep");
  if (found === undefined) return undefined;
  const { call, plain, location } = found;
  if (!plain) throw notSupported("pg_sleep() other than as SELECT pg_sleep(seconds)", location);
  const args = call.args ?? [];
  if (args.length !== 1 || call.agg_star === true) throw notSupported("this pg_sleep() call", location);
  const arg = args[0]!;
  const name = found.alias ?? "pg_sleep";
  const literal = "A_Const" in arg ? (arg.A_Const.fval?.fval ?? arg.A_Const.sval?.sval) : undefined;
  if (literal !== undefined) {
    // pg_sleep takes float8: the one place a fractional number is accepted.
    const seconds = Number(literal);
    if (literal.trim() === "" || Number.isNaN(seconds)) {
      throw sqlError(
        Code.invalidTextRepresentation,
        `invalid input syntax for type double precision: "${literal}"`,
        nodeLocation(arg),
      );
    }
    return { kind: "sleep", name, seconds };
  }
  let seconds = analyzeExpr(arg, { relation: undefined, params: env.params, clock: env.clock, clause: "pg_sleep" });
  // Whole seconds only from parameters and strings: there is no float8 here.
  if (exprType(seconds) === "unknown") seconds = coerce(seconds, "int8", "implicit")!;
  const type = exprType(seconds);
  if (!isNumericType(type)) {
    throw sqlError(Code.undefinedFunction, `function pg_sleep(${typeDisplay(type)}) does not exist`, location, {
      hint: "No function matches the given name and argument types. You might need to add explicit type casts.",
    });
  }
  return { kind: "sleep", name, seconds };
}

function analyzeCreateTable(s: CreateStmt): CreateTableQuery {
  const rv = s.relation!;
  const location = rv.location ?? -1;
  checkSchema(rv.schemaname, rv.catalogname, location);
  if (rv.relpersistence === "t") throw notSupported("temporary tables", location);
  if (rv.relpersistence === "u") throw notSupported("unlogged tables", location);
  if ((s.inhRelations?.length ?? 0) > 0) throw notSupported("INHERITS");
  if (s.partspec !== undefined) throw notSupported("PARTITION BY");
  if (s.partbound !== undefined) throw notSupported("PARTITION OF");
  if (s.ofTypename !== undefined) throw notSupported("CREATE TABLE … OF");
  if (s.tablespacename !== undefined) throw notSupported("TABLESPACE");
  if (s.accessMethod !== undefined) throw notSupported("USING (table access method)");
  if (s.oncommit !== undefined && s.oncommit !== "ONCOMMIT_NOOP") throw notSupported("ON COMMIT");
  const name = rv.relname ?? "";
  const columns: Column[] = [];
  const keys: { constraint: Constraint; column: string | undefined }[] = [];
  for (const element of s.tableElts ?? []) {
    if (!("ColumnDef" in element)) {
      const c = "Constraint" in element ? element.Constraint : undefined;
      if (c?.contype === "CONSTR_PRIMARY" || c?.contype === "CONSTR_UNIQUE") {
        keys.push({ constraint: c, column: undefined });
        continue;
      }
      throw notSupported(c === undefined ? "LIKE" : constraintName(c.contype), nodeLocation(element));
    }
    const column = columnDefinition(element.ColumnDef, name, (constraint) =>
      keys.push({ constraint, column: element.ColumnDef.colname }),
    );
    if (columns.some((c) => c.name === column.name)) {
      throw sqlError(Code.duplicateColumn, `column "${column.name}" specified more than once`);
    }
    columns.push(column);
  }
  if (columns.length > COLUMNS_MAX) {
    throw sqlError(Code.tooManyColumns, `tables can have at most ${COLUMNS_MAX} columns`);
  }
  const indexes: IndexSpec[] = keys.map((k) => constraintIndex(k.constraint, { columns }, k.column));
  if (indexes.filter((i) => i.primary).length > 1) {
    throw sqlError(Code.invalidTableDefinition, `multiple primary keys for table "${name}" are not allowed`);
  }
  // A primary key's columns are NOT NULL, as PostgreSQL makes them.
  for (const i of indexes) {
    if (i.primary) for (const c of i.columns) columns[c] = { ...columns[c]!, notNull: true };
  }
  checkStorageParameters(s.options);
  return { kind: "create-table", name, columns, ifNotExists: s.if_not_exists === true, indexes };
}

const CONSTRAINT_NAMES: Readonly<Record<string, string>> = {
  CONSTR_DEFAULT: "DEFAULT",
  CONSTR_IDENTITY: "GENERATED … AS IDENTITY",
  CONSTR_GENERATED: "GENERATED columns",
  CONSTR_CHECK: "CHECK constraints",
  CONSTR_PRIMARY: "PRIMARY KEY",
  CONSTR_UNIQUE: "UNIQUE constraints",
  CONSTR_EXCLUSION: "EXCLUDE constraints",
  CONSTR_FOREIGN: "FOREIGN KEY",
  CONSTR_NOTNULL: "NOT NULL table constraints",
};

function constraintName(contype: string | undefined): string {
  return CONSTRAINT_NAMES[contype ?? ""] ?? "constraint attributes (DEFERRABLE …)";
}

function columnDefinition(def: ColumnDef, table: string, key: (c: Constraint) => void): Column {
  const name = def.colname ?? "";
  const { type, typmod } = typeOfTypeName(def.typeName ?? {});
  if (def.collClause !== undefined) throw notSupported("COLLATE", def.collClause.location);
  if (def.compression !== undefined) throw notSupported("COMPRESSION", def.location);
  if (def.storage_name !== undefined) throw notSupported("STORAGE", def.location);
  let notNull: boolean | undefined;
  for (const node of def.constraints ?? []) {
    const c = "Constraint" in node ? node.Constraint : undefined;
    const kind = c?.contype;
    if (kind === "CONSTR_PRIMARY" || kind === "CONSTR_UNIQUE") {
      key(c!);
      continue;
    }
    if (kind !== "CONSTR_NOTNULL" && kind !== "CONSTR_NULL") throw notSupported(constraintName(kind), c?.location);
    const wantNotNull = kind === "CONSTR_NOTNULL";
    if (notNull !== undefined && notNull !== wantNotNull) {
      throw sqlError(
        Code.syntaxError,
        `conflicting NULL/NOT NULL declarations for column "${name}" of table "${table}"`,
        c?.location,
      );
    }
    notNull = wantNotNull;
  }
  return { name, type, typmod, notNull: notNull === true };
}

const OBJECT_NAMES: Readonly<Record<string, string>> = {
  OBJECT_VIEW: "DROP VIEW",
  OBJECT_SEQUENCE: "DROP SEQUENCE",
  OBJECT_SCHEMA: "DROP SCHEMA",
  OBJECT_MATVIEW: "DROP MATERIALIZED VIEW",
  OBJECT_FUNCTION: "DROP FUNCTION",
  OBJECT_TYPE: "DROP TYPE",
};

function analyzeDrop(s: DropStmt): DropTableQuery | DropIndexQuery {
  if (s.removeType === "OBJECT_INDEX") {
    if (s.concurrent === true) throw notSupported("DROP INDEX CONCURRENTLY");
    return { kind: "drop-index", names: dropIndexNames(s.objects ?? []), ifExists: s.missing_ok === true };
  }
  if (s.removeType !== "OBJECT_TABLE") {
    throw notSupported(OBJECT_NAMES[s.removeType ?? ""] ?? `DROP ${String(s.removeType).replace(/^OBJECT_/, "")}`);
  }
  if (s.concurrent === true) throw notSupported("DROP … CONCURRENTLY");
  const names = (s.objects ?? []).map((object) => {
    const parts = "List" in object ? stringList(object.List.items) : undefined;
    if (parts === undefined || parts.length === 0) throw notSupported("this DROP TABLE name");
    if (parts.length > 3)
      throw sqlError(Code.syntaxError, `improper qualified name (too many dotted names): ${parts.join(".")}`);
    checkSchema(parts.length >= 2 ? parts[parts.length - 2] : undefined, parts.length === 3 ? parts[0] : undefined, -1);
    return parts[parts.length - 1]!;
  });
  return { kind: "drop-table", names, ifExists: s.missing_ok === true };
}

function analyzeTransaction(s: TransactionStmt): Query {
  switch (s.kind) {
    case "TRANS_STMT_BEGIN":
      return beginQuery(s.options ?? [], "BEGIN");
    case "TRANS_STMT_START":
      return beginQuery(s.options ?? [], "START TRANSACTION");
    case "TRANS_STMT_COMMIT":
      if (s.chain === true) throw notSupported("COMMIT AND CHAIN");
      return { kind: "commit" };
    case "TRANS_STMT_ROLLBACK":
      if (s.chain === true) throw notSupported("ROLLBACK AND CHAIN");
      return { kind: "rollback" };
    case "TRANS_STMT_SAVEPOINT":
    case "TRANS_STMT_RELEASE":
    case "TRANS_STMT_ROLLBACK_TO":
      throw notSupported("savepoints", s.location);
    default:
      throw notSupported("two-phase commit", s.location);
  }
}

function beginQuery(options: readonly Node[], tag: BeginQuery["tag"]): BeginQuery {
  let isolation: IsolationLevel | undefined;
  let readOnly: boolean | undefined;
  for (const node of options) {
    const def = "DefElem" in node ? node.DefElem : undefined;
    const arg = def?.arg !== undefined && "A_Const" in def.arg ? def.arg.A_Const : undefined;
    if (def?.defname === "transaction_isolation") {
      const level = arg?.sval?.sval;
      if (level === "serializable") throw notSupported("SERIALIZABLE isolation", def.location);
      isolation = level === "repeatable read" ? "repeatable read" : "read committed"; // read uncommitted is read committed
    } else if (def?.defname === "transaction_read_only") {
      readOnly = (arg?.ival?.ival ?? 0) !== 0;
    } else if (def?.defname !== "transaction_deferrable") {
      throw notSupported(`transaction option ${def?.defname}`, def?.location);
    }
  }
  return { kind: "begin", tag, isolation, readOnly };
}
