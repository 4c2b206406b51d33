import { timestampFromUnixMicros } from "./datetime.js";

/**
 * A session's three times, as PostgreSQL keeps them (xact.c): the start of
 * the current transaction (now(), CURRENT_TIMESTAMP: stable within it), the
 * arrival of the current protocol message (statement_timestamp()), and the
 * wall clock itself (clock_timestamp()). Times are timestamptz values:
 * microseconds since 2000-01-01 UTC. The clock source is a parameter so
 * tests can drive it.
 */

/** The wall clock in microseconds since 1970, with sub-millisecond resolution. */
export function systemMicros(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
}

export class SessionClock {
  private statementStart: bigint;
  private transactionStart: bigint;

  constructor(private readonly unixMicros: () => bigint = systemMicros) {
    this.statementStart = this.now();
    this.transactionStart = this.statementStart;
  }

  /** A protocol message (Query, Parse, Bind, Execute …) arrived. */
  startStatement(): void {
    this.statementStart = this.now();
  }

  /** A transaction began with the current statement (its first, or BEGIN). */
  startTransaction(): void {
    this.transactionStart = this.statementStart;
  }

  transactionTimestamp(): bigint {
    return this.transactionStart;
  }

  statementTimestamp(): bigint {
    return this.statementStart;
  }

  clockTimestamp(): bigint {
    return this.now();
  }

  private now(): bigint {
    return timestampFromUnixMicros(this.unixMicros());
  }
}
