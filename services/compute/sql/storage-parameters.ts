import type { Node } from "libpg-query";
import { Code, notSupported, sqlError } from "./errors.js";
import { rint } from "./float8.js";

/**
 * CREATE TABLE … WITH (storage parameters), checked as PostgreSQL's
 * reloptions.c checks heap options. fillfactor is validated (10–100) and
 * accepted; there is no free space map yet, so every page is filled. The
 * other heap options only tune autovacuum, TOAST or parallelism, none of
 * which exists here: they are accepted and ignored. Anything else is 22023.
 */

const FILLFACTOR_MIN = 10;
const FILLFACTOR_MAX = 100;

const IGNORED_HEAP_OPTIONS: ReadonlySet<string> = new Set([
  "autovacuum_enabled",
  "autovacuum_vacuum_threshold",
  "autovacuum_vacuum_insert_threshold",
  "autovacuum_analyze_threshold",
  "autovacuum_vacuum_cost_delay",
  "autovacuum_vacuum_cost_limit",
  "autovacuum_freeze_min_age",
  "autovacuum_freeze_max_age",
  "autovacuum_freeze_table_age",
  "autovacuum_multixact_freeze_min_age",
  "autovacuum_multixact_freeze_max_age",
  "autovacuum_multixact_freeze_table_age",
  "autovacuum_vacuum_scale_factor",
  "autovacuum_vacuum_insert_scale_factor",
  "autovacuum_analyze_scale_factor",
  "log_autovacuum_min_duration",
  "toast_tuple_target",
  "user_catalog_table",
  "parallel_workers",
  "vacuum_index_cleanup",
  "vacuum_truncate",
]);

/** The option's value as reloptions see it: the text of the literal, "true" when none is given. */
function optionText(arg: Node | undefined): string {
  if (arg === undefined) return "true";
  if ("Integer" in arg) return String(arg.Integer.ival ?? 0);
  if ("Float" in arg) return arg.Float.fval ?? "";
  if ("String" in arg) return arg.String.sval ?? "";
  if ("Boolean" in arg) return arg.Boolean.boolval === true ? "true" : "false";
  if ("TypeName" in arg) {
    const names = arg.TypeName.names ?? [];
    const last = names[names.length - 1];
    return last !== undefined && "String" in last ? (last.String.sval ?? "") : "";
  }
  return "";
}

/** parse_int: an integer, or a number rounded to one; undefined if neither. */
function parseInteger(text: string): number | undefined {
  const t = text.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return undefined;
  const value = rint(Number(t));
  return Number.isFinite(value) ? value : undefined;
}

function checkFillfactor(text: string): void {
  const value = parseInteger(text);
  if (value === undefined) {
    throw sqlError(Code.invalidParameterValue, `invalid value for integer option "fillfactor": ${text}`);
  }
  if (value < FILLFACTOR_MIN || value > FILLFACTOR_MAX) {
    throw sqlError(Code.invalidParameterValue, `value ${text} out of bounds for option "fillfactor"`, undefined, {
      detail: `Valid values are between "${FILLFACTOR_MIN}" and "${FILLFACTOR_MAX}".`,
    });
  }
}

export function checkStorageParameters(options: readonly Node[] | undefined): void {
  for (const node of options ?? []) {
    const def = "DefElem" in node ? node.DefElem : undefined;
    if (def === undefined) throw notSupported("this storage parameter");
    const name = def.defname ?? "";
    if (def.defnamespace !== undefined) {
      if (def.defnamespace !== "toast") {
        throw sqlError(Code.invalidParameterValue, `unrecognized parameter namespace "${def.defnamespace}"`);
      }
      if (!IGNORED_HEAP_OPTIONS.has(name)) {
        throw sqlError(Code.invalidParameterValue, `unrecognized parameter "${name}"`);
      }
      continue;
    }
    if (name === "fillfactor") checkFillfactor(optionText(def.arg));
    else if (!IGNORED_HEAP_OPTIONS.has(name)) {
      throw sqlError(Code.invalidParameterValue, `unrecognized parameter "${name}"`);
    }
  }
}
