import type { AccessError, Column, Datum } from "./database.js";

/** An error the access layer reports to the client with its SQLSTATE. */
export class AccessFailure extends Error implements AccessError {
  override name = "AccessFailure";
  readonly detail: string | undefined;
  /** Which row of an insertMany call failed. */
  rowIndex: number | undefined;
  constructor(
    readonly sqlState: string,
    message: string,
    readonly duplicateKey?: AccessError["duplicateKey"],
    fields: { readonly detail?: string } = {},
  ) {
    super(message);
    this.detail = fields.detail;
  }
}

/** 23505 with the key for the DETAIL line. */
export function duplicateKeyError(
  message: string,
  columns: readonly Column[],
  values: readonly Datum[],
  existing: boolean,
): AccessFailure {
  return new AccessFailure("23505", message, { columns, values, existing });
}
