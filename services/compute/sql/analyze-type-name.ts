import type { TypeName } from "libpg-query";
import type { ColumnType } from "../access/database.js";
import { CHARACTER_LENGTH_MAX, VARHDRSZ } from "./character.js";
import { Code, notSupported, sqlError } from "./errors.js";
import { stringList } from "./nodes.js";
import { columnTypeOfName } from "./types.js";

/**
 * A type named in SQL (CREATE TABLE columns, casts) → our type and its
 * modifier, checked as PostgreSQL's typmodin functions check them:
 * char(n)/varchar(n) → n + 4, timestamp(p) → p (above 6 it is 6), else −1.
 */

/** The parser's internal names of SQL-standard types, as the user wrote them. */
const INTERNAL_TYPE_NAMES: Readonly<Record<string, string>> = {
  bpchar: "char",
  int2: "smallint",
  float4: "real",
  float8: "double precision",
  timestamptz: "timestamp with time zone",
  timetz: "time with time zone",
};

/** The largest fractional-second precision (MAX_TIMESTAMP_PRECISION). */
const TIMESTAMP_PRECISION_MAX = 6;

export interface NamedType {
  readonly type: ColumnType;
  readonly typmod: number;
}

/** The type a TypeName names, or 0A000 naming it. */
export function typeOfTypeName(t: TypeName): NamedType {
  const names = stringList(t.names) ?? [];
  const location = t.location ?? -1;
  const type = columnTypeOfName(names);
  const shown = names
    .filter((n) => n !== "pg_catalog")
    .map((n) => INTERNAL_TYPE_NAMES[n] ?? n)
    .join(".");
  if (type === undefined) throw notSupported(`type ${shown}`, location);
  if ((t.arrayBounds?.length ?? 0) > 0) throw notSupported(`array types`, location);
  if (t.setof === true || t.pct_type === true) throw notSupported(`type ${shown}`, location);
  const mods = t.typmods ?? [];
  if (mods.length === 0) return { type, typmod: -1 };
  const values = mods.map((m) => ("A_Const" in m ? m.A_Const.ival : undefined));
  if (values.some((v) => v === undefined)) throw notSupported(`type modifiers on ${shown}`, location);
  const numbers = values.map((v) => v!.ival ?? 0);
  switch (type) {
    case "bpchar":
    case "varchar": {
      const sqlName = type === "bpchar" ? "char" : "varchar";
      if (numbers.length !== 1) {
        throw sqlError(Code.syntaxError, `invalid type modifier`, location);
      }
      const n = numbers[0]!;
      if (n < 1) throw sqlError(Code.invalidParameterValue, `length for type ${sqlName} must be at least 1`, location);
      if (n > CHARACTER_LENGTH_MAX) {
        throw sqlError(
          Code.invalidParameterValue,
          `length for type ${sqlName} cannot exceed ${CHARACTER_LENGTH_MAX}`,
          location,
        );
      }
      return { type, typmod: n + VARHDRSZ };
    }
    case "timestamp":
    case "timestamptz": {
      const upper = type === "timestamp" ? "TIMESTAMP" : "TIMESTAMP WITH TIME ZONE";
      if (numbers.length !== 1) throw sqlError(Code.syntaxError, `invalid type modifier`, location);
      const p = numbers[0]!;
      if (p < 0) throw sqlError(Code.invalidParameterValue, `${upper}(${p}) precision must not be negative`, location);
      // PostgreSQL also warns that the precision was reduced.
      return { type, typmod: Math.min(p, TIMESTAMP_PRECISION_MAX) };
    }
    default:
      throw sqlError(Code.syntaxError, `type modifier is not allowed for type "${shown}"`, location);
  }
}
