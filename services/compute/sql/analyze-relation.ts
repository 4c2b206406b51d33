import type { RangeVar } from "libpg-query";
import type { Table } from "../access/database.js";
import type { SessionClock } from "./clock.js";
import { Code, notSupported, sqlError } from "./errors.js";
import type { SessionInfo } from "./functions.js";
import type { ParamSlots } from "./params.js";
import type { Relation } from "./query.js";

/** What analysis may ask of the catalog, and the statement's parameters. */
export interface AnalyzeEnv {
  /** The table visible to the statement's transaction (started on first use). */
  lookupTable(name: string): Promise<Table | undefined>;
  readonly params: ParamSlots;
  /** What now(), CURRENT_TIMESTAMP and clock_timestamp() read when the plan runs. */
  readonly clock: SessionClock;
  /** The session's user and database, for current_user and current_database(). */
  readonly session?: SessionInfo;
}

/**
 * User tables live in public; the system catalogs in pg_catalog, which is
 * searched first, as in PostgreSQL. information_schema is not there yet.
 */
export function checkSchema(schema: string | undefined, catalog: string | undefined, location: number): void {
  if (catalog !== undefined) throw notSupported("cross-database references", location);
  if (schema === undefined || schema === "public" || schema === "pg_catalog") return;
  if (schema === "information_schema") throw notSupported("information_schema", location);
  throw sqlError(Code.undefinedSchema, `schema "${schema}" does not exist`, location);
}

/** The table `schema.name` names, if any: a system catalog only in pg_catalog, a user table only in public. */
export async function lookupQualified(
  env: AnalyzeEnv,
  schema: string | undefined,
  name: string,
): Promise<Table | undefined> {
  const table = await env.lookupTable(name);
  if (table === undefined || schema === undefined) return table;
  return (table.system === true) === (schema === "pg_catalog") ? table : undefined;
}

/** DML and DDL on system catalogs is refused (PostgreSQL's allow_system_table_mods = off). */
export function checkNotSystem(table: Table, location?: number): void {
  if (table.system === true) {
    throw sqlError(Code.insufficientPrivilege, `permission denied: "${table.name}" is a system catalog`, location);
  }
}

/** A table named in FROM, UPDATE or DELETE: 42P01 if there is none by that name. */
export async function resolveRangeVar(rv: RangeVar, env: AnalyzeEnv): Promise<Relation> {
  const location = rv.location ?? -1;
  checkSchema(rv.schemaname, rv.catalogname, location);
  const name = rv.relname ?? "";
  const table = await lookupQualified(env, rv.schemaname, name);
  if (table === undefined) {
    const shown = rv.schemaname === undefined ? name : `${rv.schemaname}.${name}`;
    throw sqlError(Code.undefinedTable, `relation "${shown}" does not exist`, location);
  }
  if ((rv.alias?.colnames?.length ?? 0) > 0) throw notSupported("column aliases", location);
  const alias = rv.alias?.aliasname;
  return { table, refname: alias ?? name, aliased: alias !== undefined };
}
