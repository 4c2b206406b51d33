/**
 * Assertions state invariants and stay on in production: a violated invariant
 * is a bug, and carrying on would risk wrong data (CONVENTIONS.md, TigerBeetle).
 */
export class InvariantError extends Error {
  override name = "InvariantError";
}

export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) {
    throw new InvariantError(typeof message === "function" ? message() : message);
  }
}
