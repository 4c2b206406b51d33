import type { Datum } from "../access/database.js";
import { formatArray, parseArray } from "./array.js";
import { coerce } from "./casts.js";
import { Code, sqlError } from "./errors.js";
import type { Expr } from "./expr.js";
import { exprType } from "./expr.js";
import type { SqlType } from "./types.js";
import { isArrayType, isStringType, typeDisplay } from "./types.js";

/**
 * The scalar functions catalog queries use (pgbench's partitioning check,
 * drivers, psql): the session's user, database and schemas, and
 * array_position. The search path is PostgreSQL's default, `"$user", public`,
 * with no schema named after any user, so it is pg_catalog then public.
 */

/** Who the session is, as its startup message said. */
export interface SessionInfo {
  readonly user: string;
  readonly database: string;
  /** A run-time parameter's current value (SHOW's text); throws 42704 for an unknown name. */
  readonly setting?: (name: string) => string;
}

/** What version() says: "PostgreSQL <major.minor>" first, which drivers parse. */
export const VERSION_TEXT = "PostgreSQL 15.0 (Sediment) on x86_64-pc-linux-gnu, compiled by Node.js, 64-bit";

export const DEFAULT_SESSION: SessionInfo = { user: "postgres", database: "postgres" };

const SEARCH_PATH = ["public"];
const IMPLICIT_SCHEMAS = ["pg_catalog"];

function noSuchFunction(name: string, args: readonly Expr[], location: number): never {
  const signature = `${name}(${args.map((a) => typeDisplay(exprType(a))).join(", ")})`;
  throw sqlError(Code.undefinedFunction, `function ${signature} does not exist`, location, {
    hint: "No function matches the given name and argument types. You might need to add explicit type casts.",
  });
}

function constant(type: SqlType, value: Datum, location: number): Expr {
  return { kind: "const", type, value, location };
}

function call(type: SqlType, args: readonly Expr[], strict: boolean, fn: (args: readonly Datum[]) => Datum): Expr {
  return { kind: "func", type, args, strict, fn };
}

/** An argument as `type`, implicitly; undefined if it cannot be. */
function arg(e: Expr, type: SqlType): Expr | undefined {
  return coerce(e, type, "implicit");
}

/** array_position(anycompatiblearray, anycompatible [, int]): 1-based, NULL if absent; finds NULL too. */
function arrayPosition(args: readonly Expr[], location: number): Expr {
  if (args.length < 2 || args.length > 3) noSuchFunction("array_position", args, location);
  const arrayType = exprType(args[0]!);
  const array = isArrayType(arrayType) ? args[0]! : arrayType === "unknown" ? arg(args[0]!, "text[]") : undefined;
  const elementType = exprType(args[1]!);
  const element = isStringType(elementType) || elementType === "unknown" ? arg(args[1]!, "text") : undefined;
  const start = args[2] === undefined ? undefined : arg(args[2], "int4");
  if (array === undefined || element === undefined || (args.length === 3 && start === undefined)) {
    noSuchFunction("array_position", args, location);
  }
  const all = start === undefined ? [array, element] : [array, element, start];
  return call("int4", all, false, ([a, e, s]) => {
    if (a === null) return null;
    if (s === null && all.length === 3) {
      throw sqlError(Code.nullValueNotAllowed, "initial position must not be null");
    }
    const elements = parseArray(a as string);
    const from = s === undefined ? 0 : Math.max(0, (s as number) - 1);
    for (let i = from; i < elements.length; i++) if (elements[i] === e) return i + 1;
    return null;
  });
}

function currentSchemas(args: readonly Expr[], location: number): Expr {
  const implicit = args.length === 1 ? arg(args[0]!, "bool") : undefined;
  if (implicit === undefined) noSuchFunction("current_schemas", args, location);
  return call("name[]", [implicit], true, ([withImplicit]) =>
    formatArray(withImplicit === true ? [...IMPLICIT_SCHEMAS, ...SEARCH_PATH] : SEARCH_PATH),
  );
}

type Resolver = (args: readonly Expr[], location: number, session: SessionInfo) => Expr;

function niladic(name: string, value: (session: SessionInfo) => string): Resolver {
  return (args, location, session) => {
    if (args.length > 0) noSuchFunction(name, args, location);
    return constant("name", value(session), location);
  };
}

/** current_setting(name [, missing_ok]): evaluated when the statement runs, so a SET before it counts. */
function currentSetting(args: readonly Expr[], location: number, session: SessionInfo): Expr {
  const name = args[0] === undefined ? undefined : arg(args[0], "text");
  const missingOk = args[1] === undefined ? undefined : arg(args[1], "bool");
  if (name === undefined || args.length > 2 || (args.length === 2 && missingOk === undefined)) {
    noSuchFunction("current_setting", args, location);
  }
  const all = missingOk === undefined ? [name] : [name, missingOk];
  return call("text", all, true, ([n, ok]) => {
    try {
      return session.setting === undefined ? null : session.setting(n as string);
    } catch (error) {
      if (ok === true) return null;
      throw error;
    }
  });
}

const FUNCTIONS: ReadonlyMap<string, Resolver> = new Map<string, Resolver>([
  ["current_setting", currentSetting],
  [
    "version",
    (args, location) => {
      if (args.length > 0) noSuchFunction("version", args, location);
      return constant("text", VERSION_TEXT, location);
    },
  ],
  ["array_position", arrayPosition],
  ["current_schemas", currentSchemas],
  ["current_schema", niladic("current_schema", () => SEARCH_PATH[0]!)],
  ["current_database", niladic("current_database", (s) => s.database)],
  ["current_user", niladic("current_user", (s) => s.user)],
  ["session_user", niladic("session_user", (s) => s.user)],
]);

/** A call of a scalar function we know, or undefined when there is none by that name. */
export function scalarFunction(
  name: string,
  args: readonly Expr[],
  location: number,
  session: SessionInfo,
): Expr | undefined {
  return FUNCTIONS.get(name)?.(args, location, session);
}

/** The SQL-standard spellings without parentheses (current_user, current_catalog …) as constants. */
export function sqlValueFunction(op: string, location: number, session: SessionInfo): Expr | undefined {
  switch (op) {
    case "SVFOP_CURRENT_USER":
    case "SVFOP_CURRENT_ROLE":
    case "SVFOP_USER":
    case "SVFOP_SESSION_USER":
      return constant("name", session.user, location);
    case "SVFOP_CURRENT_CATALOG":
      return constant("name", session.database, location);
    case "SVFOP_CURRENT_SCHEMA":
      return constant("name", SEARCH_PATH[0]!, location);
    default:
      return undefined;
  }
}
