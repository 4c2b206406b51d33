import type { AccessError } from "./database.js";

/** An error the access layer reports to the client with its SQLSTATE. */
export class AccessFailure extends Error implements AccessError {
  override name = "AccessFailure";
  constructor(
    readonly sqlState: string,
    message: string,
  ) {
    super(message);
  }
}
