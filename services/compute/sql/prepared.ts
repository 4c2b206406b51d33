import type { Node } from "libpg-query";
import type { Datum } from "../access/database.js";
import type { FormatCode } from "../wire/frontend-messages.js";
import type { FieldDescription, Portal, PreparedStatement, RowSink } from "../wire/query-engine.js";
import { decodeText, parseBinary, parseText } from "./datum-io.js";
import { notSupported } from "./errors.js";
import type { Execution } from "./execution.js";
import type { Plan, ResultColumn } from "./plan.js";
import { fieldDescriptions } from "./plan.js";
import type { Query } from "./query.js";
import type { SqlType } from "./types.js";
import { typeDisplay, typeOid } from "./types.js";

/**
 * The extended protocol's objects: a statement prepared by Parse (its parse
 * tree, analyzed query and plan, re-planned when its tables change) and the
 * portals Bind makes of it. The engine does the work; these hold the state.
 */

export interface PreparedState {
  readonly sql: string;
  /** undefined for an empty statement (Execute answers EmptyQueryResponse). */
  readonly node: Node | undefined;
  query: Query | undefined;
  plan: Plan | undefined;
  /** The catalog generation the plan was last checked at (Database.catalogGeneration). */
  checkedAt: number;
  readonly paramTypes: readonly SqlType[];
  readonly columns: readonly ResultColumn[] | null;
  /** COMMIT/ROLLBACK: allowed in a failed transaction block. */
  readonly exitsTransaction: boolean;
}

/** What the engine does for these objects. */
export interface PortalHost {
  bind(
    state: PreparedState,
    params: readonly (Uint8Array | null)[],
    paramFormats: readonly FormatCode[],
    resultFormats: readonly FormatCode[],
  ): Promise<Portal>;
  execute(portal: SqlPortal, out: RowSink, rowsMax: number): Promise<"complete" | "suspended">;
}

export class SqlPreparedStatement implements PreparedStatement {
  readonly paramTypeOids: readonly number[];
  readonly fields: readonly FieldDescription[] | null;

  constructor(
    private readonly host: PortalHost,
    readonly state: PreparedState,
  ) {
    this.paramTypeOids = state.paramTypes.map(typeOid);
    this.fields = state.columns === null ? null : fieldDescriptions(state.columns);
  }

  bind(
    params: readonly (Uint8Array | null)[],
    paramFormats: readonly FormatCode[],
    resultFormats: readonly FormatCode[],
  ): Promise<Portal> {
    return this.host.bind(this.state, params, paramFormats, resultFormats);
  }
}

export class SqlPortal implements Portal {
  readonly fields: readonly FieldDescription[] | null;
  execution: Execution | undefined;
  /** Its transaction ended: a portal does not outlive it. */
  ended = false;
  private readonly unregister: () => void;

  constructor(
    private readonly host: PortalHost,
    readonly state: PreparedState,
    readonly params: readonly Datum[],
    readonly formats: readonly FormatCode[],
    onTransactionEnd: (listener: () => void) => () => void,
  ) {
    this.fields = state.columns === null ? null : fieldDescriptions(state.columns, formats);
    this.unregister = onTransactionEnd(() => {
      this.ended = true;
      this.execution?.close();
    });
  }

  execute(out: RowSink, rowsMax: number): Promise<"complete" | "suspended"> {
    return this.host.execute(this, out, rowsMax);
  }

  close(): void {
    this.execution?.close();
    this.unregister();
  }
}

/** Parameters as Bind sends them, in text or binary, as the prepared types. */
export function decodeParams(
  types: readonly SqlType[],
  params: readonly (Uint8Array | null)[],
  formats: readonly FormatCode[],
): Datum[] {
  return params.map((bytes, i) => {
    if (bytes === null) return null;
    const type = types[i]!;
    return formats[i] === 1 ? parseBinary(type, bytes) : parseText(type, decodeText(bytes));
  });
}

/** Binary results exist for the column types; numeric is sent in text only. */
export function checkResultFormats(columns: readonly ResultColumn[] | null, formats: readonly FormatCode[]): void {
  columns?.forEach((c, i) => {
    if (formats[i] === 1 && c.type === "numeric") throw notSupported(`binary format for ${typeDisplay(c.type)}`);
  });
}
