import { Code, notSupported, sqlError } from "./errors.js";

/**
 * Run-time parameters (GUCs) of a session: SET, SET LOCAL, RESET, SHOW, with
 * PostgreSQL's transaction behaviour (a SET is undone when its transaction
 * rolls back; SET LOCAL lasts until the transaction ends) and the
 * ParameterStatus reports of the GUC_REPORT ones. Only values Sediment
 * honours are accepted; the rest get a clear error, never a silent no-op
 * that would change results.
 */

type Kind =
  | { readonly type: "string" }
  | { readonly type: "bool" }
  | { readonly type: "int"; readonly min: number; readonly max: number }
  /** Milliseconds, with units accepted (5s, 1min) and shown as PostgreSQL shows them. */
  | { readonly type: "ms" }
  | { readonly type: "enum"; readonly values: readonly string[] }
  /** Only these spellings (compared case- and space-insensitively); stored as the first. */
  | { readonly type: "fixed"; readonly values: readonly string[]; readonly what: string }
  | { readonly type: "readonly" };

interface Definition {
  /** As PostgreSQL spells it (SHOW's column name, ParameterStatus). */
  readonly name: string;
  readonly initial: string;
  readonly kind: Kind;
  readonly reported: boolean;
  readonly description: string;
}

/** What SHOW server_version says (the wire layer reports its own at startup). */
export const SERVER_VERSION = "15.0 (Sediment)";

const MS_UNITS: readonly [string, number][] = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["min", 60_000],
  ["s", 1000],
  ["ms", 1],
];

const DEFINITIONS: readonly Definition[] = [
  def("application_name", "", { type: "string" }, true, "Sets the application name to be reported."),
  def(
    "client_encoding",
    "UTF8",
    { type: "fixed", values: ["UTF8", "UTF-8", "unicode"], what: "client encodings other than UTF8" },
    true,
    "Sets the client's character set encoding.",
  ),
  def(
    "DateStyle",
    "ISO, MDY",
    { type: "fixed", values: ["ISO, MDY", "ISO", "MDY", "MDY, ISO"], what: "DateStyle other than ISO, MDY" },
    true,
    "Sets the display format for date and time values.",
  ),
  def(
    "IntervalStyle",
    "postgres",
    { type: "fixed", values: ["postgres"], what: "IntervalStyle other than postgres" },
    true,
    "Sets the display format for interval values.",
  ),
  def(
    "TimeZone",
    "UTC",
    { type: "fixed", values: ["UTC", "Etc/UTC", "GMT", "Z", "UCT", "Zulu"], what: "time zones other than UTC" },
    true,
    "Sets the time zone for displaying and interpreting time stamps.",
  ),
  def(
    "standard_conforming_strings",
    "on",
    { type: "fixed", values: ["on", "true"], what: "standard_conforming_strings = off" },
    true,
    "Causes '...' strings to treat backslashes literally.",
  ),
  def(
    "extra_float_digits",
    "1",
    { type: "int", min: -15, max: 3 },
    false,
    "Sets the number of digits displayed for floating-point values.",
  ),
  def(
    "search_path",
    '"$user", public',
    { type: "string" },
    false,
    "Sets the schema search order for names that are not schema-qualified.",
  ),
  def("statement_timeout", "0", { type: "ms" }, false, "Sets the maximum allowed duration of any statement."),
  def("lock_timeout", "0", { type: "ms" }, false, "Sets the maximum allowed duration of any wait for a lock."),
  def(
    "idle_in_transaction_session_timeout",
    "0",
    { type: "ms" },
    false,
    "Sets the maximum allowed idle time between queries, when in a transaction.",
  ),
  def(
    "client_min_messages",
    "notice",
    { type: "enum", values: ["debug5", "debug4", "debug3", "debug2", "debug1", "log", "notice", "warning", "error"] },
    false,
    "Sets the message levels that are sent to the client.",
  ),
  def(
    "default_transaction_isolation",
    "read committed",
    { type: "enum", values: ["read committed", "repeatable read", "read uncommitted"] },
    false,
    "Sets the transaction isolation level of each new transaction.",
  ),
  def(
    "default_transaction_read_only",
    "off",
    { type: "bool" },
    true,
    "Sets the default read-only status of new transactions.",
  ),
  def(
    "synchronous_commit",
    "on",
    { type: "enum", values: ["on", "off", "local", "remote_write", "remote_apply"] },
    false,
    "Sets the current transaction's synchronization level (Sediment always waits for the write quorum).",
  ),
  def(
    "bytea_output",
    "hex",
    { type: "fixed", values: ["hex"], what: "bytea_output = escape" },
    false,
    "Sets the output format for bytea.",
  ),
  def("jit", "off", { type: "bool" }, false, "Allow JIT compilation (Sediment has none)."),
  def("row_security", "on", { type: "bool" }, false, "Enable row security."),
  def("work_mem", "4MB", { type: "string" }, false, "Sets the maximum memory to be used for query workspaces."),
  def(
    "maintenance_work_mem",
    "64MB",
    { type: "string" },
    false,
    "Sets the maximum memory to be used for maintenance operations.",
  ),
  def("server_version", "15.0", { type: "readonly" }, true, "Shows the server version."),
  def("server_version_num", "150000", { type: "readonly" }, false, "Shows the server version as an integer."),
  def("server_encoding", "UTF8", { type: "readonly" }, true, "Shows the server (database) character set encoding."),
  def("integer_datetimes", "on", { type: "readonly" }, true, "Shows whether datetimes are integer based."),
  def("max_identifier_length", "63", { type: "readonly" }, false, "Shows the maximum identifier length."),
  def("lc_collate", "C", { type: "readonly" }, false, "Shows the collation order locale."),
  def("lc_ctype", "C", { type: "readonly" }, false, "Shows the character classification and case conversion locale."),
  def("is_superuser", "on", { type: "readonly" }, true, "Shows whether the current user is a superuser."),
  def("in_hot_standby", "off", { type: "readonly" }, true, "Shows whether hot standby is currently active."),
];

function def(name: string, initial: string, kind: Kind, reported: boolean, description: string): Definition {
  return { name, initial, kind, reported, description };
}

const BY_NAME: ReadonlyMap<string, Definition> = new Map(DEFINITIONS.map((d) => [d.name.toLowerCase(), d]));

function definition(name: string): Definition {
  const found = BY_NAME.get(name.toLowerCase());
  if (found === undefined) throw sqlError(Code.undefinedObject, `unrecognized configuration parameter "${name}"`);
  return found;
}

/** A parameter's canonical name, for SHOW's column: 42704 when there is none. */
export function settingName(name: string): string {
  return definition(name).name;
}

function invalid(d: Definition, value: string): never {
  throw sqlError(Code.invalidParameterValue, `invalid value for parameter "${d.name}": "${value}"`);
}

function normalize(d: Definition, value: string): string {
  const k = d.kind;
  switch (k.type) {
    case "string":
      return value;
    case "readonly":
      throw sqlError(Code.cantChangeRuntimeParam, `parameter "${d.name}" cannot be changed`);
    case "bool": {
      const v = value.trim().toLowerCase();
      if (["on", "true", "yes", "1", "t", "y"].includes(v)) return "on";
      if (["off", "false", "no", "0", "f", "n"].includes(v)) return "off";
      throw sqlError(Code.invalidParameterValue, `parameter "${d.name}" requires a Boolean value`);
    }
    case "int": {
      if (!/^\s*[-+]?\d+\s*$/.test(value)) {
        throw sqlError(Code.invalidParameterValue, `invalid value for parameter "${d.name}": "${value}"`);
      }
      const n = Number(value);
      if (n < k.min || n > k.max) {
        throw sqlError(
          Code.invalidParameterValue,
          `${n} is outside the valid range for parameter "${d.name}" (${k.min} .. ${k.max})`,
        );
      }
      return String(n);
    }
    case "ms": {
      const m = /^\s*(\d+)\s*(ms|s|min|h|d)?\s*$/.exec(value);
      if (m === null) invalid(d, value);
      const factor = MS_UNITS.find(([unit]) => unit === (m[2] ?? "ms"))![1];
      const ms = Number(m[1]) * factor;
      if (ms > 2_147_483_647) {
        throw sqlError(
          Code.invalidParameterValue,
          `${ms} ms is outside the valid range for parameter "${d.name}" (0 .. 2147483647)`,
        );
      }
      return String(ms);
    }
    case "enum": {
      const v = value.trim().toLowerCase();
      if (!k.values.includes(v)) invalid(d, value);
      return v;
    }
    case "fixed": {
      const squash = (s: string) => s.toLowerCase().replace(/\s+/g, "");
      if (!k.values.some((v) => squash(v) === squash(value))) throw notSupported(k.what);
      return k.values[0]!;
    }
  }
}

/** How SHOW prints a stored value: milliseconds in the largest exact unit, as PostgreSQL does. */
function shown(d: Definition, stored: string): string {
  if (d.kind.type !== "ms" || stored === "0") return stored;
  const ms = Number(stored);
  for (const [unit, factor] of MS_UNITS) if (ms % factor === 0) return `${ms / factor}${unit}`;
  return `${ms}ms`;
}

export class SessionSettings {
  private readonly values = new Map<string, string>();
  /** Values when the current transaction made its first change, to undo on rollback. */
  private atTransactionStart: Map<string, string> | undefined;
  /** Parameters set with SET LOCAL in the current transaction. */
  private readonly local = new Set<string>();

  /**
   * `startup`: the startup packet's parameters (application_name, options
   * like DateStyle …), applied as the session's defaults.
   */
  /** Reported parameters changed since the last `takeReports`: ParameterStatus messages to send. */
  private readonly reports = new Map<string, string>();

  constructor(serverVersion: string, startup: ReadonlyMap<string, string>) {
    for (const d of DEFINITIONS) this.values.set(d.name, d.initial);
    this.values.set("server_version", serverVersion);
    for (const [name, value] of startup) {
      const d = BY_NAME.get(name.toLowerCase());
      if (d !== undefined && d.kind.type !== "readonly") this.values.set(d.name, normalize(d, value));
    }
  }

  get(name: string): string {
    const d = definition(name);
    return shown(d, this.values.get(d.name)!);
  }

  /** The value as stored (milliseconds for timeouts). */
  raw(name: string): string {
    return this.values.get(definition(name).name)!;
  }

  /** SET (value undefined: DEFAULT) or SET LOCAL. */
  set(name: string, value: string | undefined, isLocal: boolean, inTransactionBlock: boolean): void {
    const d = definition(name);
    const next = value === undefined ? d.initial : normalize(d, value);
    if (d.kind.type === "readonly")
      throw sqlError(Code.cantChangeRuntimeParam, `parameter "${d.name}" cannot be changed`);
    // SET LOCAL outside a block has no effect (PostgreSQL warns); there is nothing to undo.
    if (isLocal && !inTransactionBlock) return;
    this.atTransactionStart ??= new Map(this.values);
    if (isLocal) this.local.add(d.name);
    this.assign(d, next);
  }

  resetAll(inTransactionBlock: boolean): void {
    for (const d of DEFINITIONS) if (d.kind.type !== "readonly") this.set(d.name, undefined, false, inTransactionBlock);
  }

  /** The end of the transaction: keep the session-level SETs of a commit, undo everything of a rollback. */
  transactionEnded(committed: boolean): void {
    const before = this.atTransactionStart;
    if (before === undefined) return;
    this.atTransactionStart = undefined;
    for (const d of DEFINITIONS) {
      const undo = !committed || this.local.has(d.name);
      if (undo && before.get(d.name) !== this.values.get(d.name)) this.assign(d, before.get(d.name)!);
    }
    this.local.clear();
  }

  private assign(d: Definition, value: string): void {
    const changed = this.values.get(d.name) !== value;
    this.values.set(d.name, value);
    if (changed && d.reported) this.reports.set(d.name, shown(d, value));
  }

  takeReports(): [string, string][] {
    const out = [...this.reports];
    this.reports.clear();
    return out;
  }

  /** The GUC_REPORT parameters and their values, for the startup ParameterStatus messages. */
  reported(): Map<string, string> {
    return new Map(DEFINITIONS.filter((d) => d.reported).map((d) => [d.name, shown(d, this.values.get(d.name)!)]));
  }

  /** SHOW ALL: name, setting, description. */
  all(): [string, string, string][] {
    return [...DEFINITIONS]
      .sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1))
      .map((d) => [d.name, shown(d, this.values.get(d.name)!), d.description]);
  }
}
