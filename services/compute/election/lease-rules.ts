/**
 * The pure rules of the Lease election (client-go's leaderelection, made
 * explicit and property-tested in lease-rules.test.ts): what a candidate does
 * given the Lease it read, when it saw it and its own identity; and when a
 * holder must stop. No clock, no I/O: times are milliseconds on the caller's
 * monotonic clock, and durations are all that is compared across processes.
 *
 * Why it is safe (no two writers at once), given clocks that tick at the
 * same rate:
 * - a holder counts a renewal from the moment it SENT it (`sentAtMs`), so the
 *   server committed that version at or after `sentAtMs`; it stops writing at
 *   `sentAtMs + renewDeadlineMs` unless a later renewal succeeds;
 * - a candidate times a holder's version from when IT first saw that version
 *   (never from the record's `renewTime`, which is another machine's wall
 *   clock), so it saw it at or after the commit, hence at or after
 *   `sentAtMs`; it takes over only after that version stayed unchanged for
 *   the full `leaseDurationSeconds`, and only by a replace conditional on that
 *   very resourceVersion, which fails (409) if the holder renewed meanwhile;
 * - `renewDeadlineMs < leaseDurationSeconds × 1000`, so the holder has stopped
 *   before anyone can win; the gap is the margin for exiting and for event
 *   loop stalls. Epoch fencing on storage (design section 7) backs this up:
 *   even a writer that overstays cannot make anything durable once the new
 *   one has fenced.
 */

/** The part of a `coordination.k8s.io/v1` Lease the election reads. */
export interface LeaseRecord {
  /** Empty or undefined: nobody holds it (never acquired, or released). */
  readonly holderIdentity: string | undefined;
  readonly leaseDurationSeconds: number;
  readonly leaseTransitions: number;
}

/** What a candidate knows of the Lease: the version it last read and when it first saw that version. */
export interface Observation {
  /** undefined: the Lease does not exist. */
  readonly resourceVersion: string | undefined;
  readonly record: LeaseRecord | undefined;
  readonly observedAtMs: number;
}

export interface LeaseTiming {
  /** Written to the Lease: how long others wait after its last change before taking over. */
  readonly leaseDurationSeconds: number;
  /** A holder that has not renewed successfully within this (counted from the send) stops writing. */
  readonly renewDeadlineMs: number;
  /** How often a holder renews and a candidate polls. */
  readonly retryPeriodMs: number;
}

/**
 * Aimed at a ~1 s failover, the smallest lease the API allows (an integer of
 * seconds). A crashed writer's version is seen by the standby within one
 * retry period of its last renewal; the standby waits out 1 s from then and
 * polls every 150 ms, then recovers (~0.2–0.5 s): about 1.3–1.8 s in all,
 * plus the Service's endpoint update. A holder renews every 150 ms and stops
 * 600 ms after the send of its last successful renewal: 4 attempts to ride
 * out an API server hiccup, and 400 ms of margin before anyone can take
 * over. A cluster whose API server often takes longer than ~0.5 s per write
 * should raise all three (e.g. 5 s / 3.5 s / 1 s): spurious failovers cost
 * more than slower ones.
 */
export const DEFAULT_LEASE_TIMING: LeaseTiming = {
  leaseDurationSeconds: 1,
  renewDeadlineMs: 600,
  retryPeriodMs: 150,
};

/** Rejects timings under which a holder could still write after another won. */
export function checkLeaseTiming(timing: LeaseTiming): string | undefined {
  const { leaseDurationSeconds, renewDeadlineMs, retryPeriodMs } = timing;
  if (!Number.isInteger(leaseDurationSeconds) || leaseDurationSeconds < 1) {
    return `lease duration must be a whole number of seconds ≥ 1, got ${leaseDurationSeconds}`;
  }
  if (!(renewDeadlineMs > 0 && renewDeadlineMs < leaseDurationSeconds * 1000)) {
    return `renew deadline (${renewDeadlineMs} ms) must be positive and below the lease duration (${leaseDurationSeconds} s)`;
  }
  if (!(retryPeriodMs > 0 && retryPeriodMs < renewDeadlineMs)) {
    return `retry period (${retryPeriodMs} ms) must be positive and below the renew deadline (${renewDeadlineMs} ms)`;
  }
  return undefined;
}

/** The new observation after a read: the clock restarts only when the version changed. */
export function observe(
  previous: Observation | undefined,
  resourceVersion: string | undefined,
  record: LeaseRecord | undefined,
  nowMs: number,
): Observation {
  if (previous !== undefined && previous.resourceVersion === resourceVersion) {
    return { resourceVersion, record, observedAtMs: previous.observedAtMs };
  }
  return { resourceVersion, record, observedAtMs: nowMs };
}

export type LeaseDecision =
  /** No Lease yet: create it with us as holder (409 AlreadyExists if another did first). */
  | { readonly kind: "create" }
  /** Free or expired: replace it, conditional on the version read; a transition. */
  | { readonly kind: "acquire" }
  /** Ours: replace it with a fresh renewTime, conditional on the version read. */
  | { readonly kind: "renew" }
  /** Another holds it, and may keep it until `expiresAtMs` unless it renews: read again. */
  | { readonly kind: "wait"; readonly expiresAtMs: number };

export function decide(observation: Observation, nowMs: number, identity: string): LeaseDecision {
  const { record } = observation;
  if (observation.resourceVersion === undefined || record === undefined) return { kind: "create" };
  const holder = record.holderIdentity ?? "";
  if (holder === identity) return { kind: "renew" };
  if (holder === "") return { kind: "acquire" };
  const expiresAtMs = observation.observedAtMs + record.leaseDurationSeconds * 1000;
  return nowMs >= expiresAtMs ? { kind: "acquire" } : { kind: "wait", expiresAtMs };
}

/** The record a successful create/acquire/renew writes. */
export function nextRecord(
  previous: LeaseRecord | undefined,
  decision: "create" | "acquire" | "renew",
  identity: string,
  timing: LeaseTiming,
): LeaseRecord {
  const transitions = previous?.leaseTransitions ?? 0;
  return {
    holderIdentity: identity,
    leaseDurationSeconds: timing.leaseDurationSeconds,
    leaseTransitions: decision === "acquire" && (previous?.holderIdentity ?? "") !== "" ? transitions + 1 : transitions,
  };
}

/** When a holder whose last successful renewal was sent at `sentAtMs` must have stopped writing. */
export function holdUntilMs(sentAtMs: number, timing: LeaseTiming): number {
  return sentAtMs + timing.renewDeadlineMs;
}
