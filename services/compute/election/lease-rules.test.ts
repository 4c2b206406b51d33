import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_LEASE_TIMING,
  type LeaseTiming,
  checkLeaseTiming,
  decide,
  holdUntilMs,
  nextRecord,
  observe,
} from "./lease-rules.js";
import { type Fault, overlaps, simulate } from "./lease-sim.js";

/** Mostly a healthy API server (a few ms), with slow replies, lost replies, 500s and event loop stalls mixed in. */
const latencyArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 20 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 600 }) },
);
const faultArb: fc.Arbitrary<Fault> = fc.record({
  commitMs: latencyArb,
  replyMs: latencyArb,
  outcome: fc.oneof(
    { weight: 8, arbitrary: fc.constant<Fault["outcome"]>("ok") },
    { weight: 1, arbitrary: fc.constant<Fault["outcome"]>("lost") },
    { weight: 1, arbitrary: fc.constant<Fault["outcome"]>("error") },
  ),
  stallMs: fc.oneof(
    { weight: 8, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 2_000 }) },
  ),
});

const timingArb: fc.Arbitrary<LeaseTiming> = fc
  .record({
    leaseDurationSeconds: fc.integer({ min: 1, max: 3 }),
    // Tight margins (a deadline just under the lease) are where an off-by-a-little rule shows.
    deadlineFraction: fc.oneof(
      fc.double({ min: 0.1, max: 0.99, noNaN: true }),
      fc.double({ min: 0.9, max: 0.99, noNaN: true }),
    ),
    retryFraction: fc.double({ min: 0.1, max: 0.9, noNaN: true }),
  })
  .map(({ leaseDurationSeconds, deadlineFraction, retryFraction }) => {
    const renewDeadlineMs = Math.max(2, Math.floor(leaseDurationSeconds * 1000 * deadlineFraction));
    return {
      leaseDurationSeconds,
      renewDeadlineMs,
      retryPeriodMs: Math.max(1, Math.floor(renewDeadlineMs * retryFraction)),
    };
  });

describe("lease rules", () => {
  it("the default timing is valid, and a deadline at or past the lease duration is refused", () => {
    expect(checkLeaseTiming(DEFAULT_LEASE_TIMING)).toBeUndefined();
    expect(checkLeaseTiming({ leaseDurationSeconds: 1, renewDeadlineMs: 1000, retryPeriodMs: 100 })).toMatch(
      /below the lease duration/,
    );
    expect(checkLeaseTiming({ leaseDurationSeconds: 1.5, renewDeadlineMs: 500, retryPeriodMs: 100 })).toMatch(
      /whole number/,
    );
    expect(checkLeaseTiming({ leaseDurationSeconds: 2, renewDeadlineMs: 500, retryPeriodMs: 500 })).toMatch(
      /retry period/,
    );
  });

  it("a candidate times a holder from when it first saw the version, not from later reads", () => {
    const record = { holderIdentity: "a", leaseDurationSeconds: 1, leaseTransitions: 0 };
    const first = observe(undefined, "7", record, 100);
    const again = observe(first, "7", record, 900);
    expect(again.observedAtMs).toBe(100);
    expect(decide(again, 1099, "b")).toEqual({ kind: "wait", expiresAtMs: 1100 });
    expect(decide(again, 1100, "b")).toEqual({ kind: "acquire" });
    const renewed = observe(again, "8", record, 1050);
    expect(decide(renewed, 1100, "b").kind).toBe("wait");
  });

  it("create when absent, renew when ours, acquire when released; transitions count changes of holder", () => {
    const absent = observe(undefined, undefined, undefined, 0);
    expect(decide(absent, 0, "a")).toEqual({ kind: "create" });
    const ours = observe(undefined, "1", { holderIdentity: "a", leaseDurationSeconds: 1, leaseTransitions: 3 }, 0);
    expect(decide(ours, 0, "a")).toEqual({ kind: "renew" });
    const released = observe(undefined, "2", { holderIdentity: "", leaseDurationSeconds: 1, leaseTransitions: 3 }, 0);
    expect(decide(released, 0, "b")).toEqual({ kind: "acquire" });
    expect(nextRecord(ours.record, "renew", "a", DEFAULT_LEASE_TIMING).leaseTransitions).toBe(3);
    expect(nextRecord(ours.record, "acquire", "b", DEFAULT_LEASE_TIMING).leaseTransitions).toBe(4);
    expect(nextRecord(released.record, "acquire", "b", DEFAULT_LEASE_TIMING).leaseTransitions).toBe(3);
    expect(nextRecord(undefined, "create", "a", DEFAULT_LEASE_TIMING).leaseTransitions).toBe(0);
  });

  it("never two holders at once: whatever the latencies, lost replies, 500s, stalls and crashes", () => {
    fc.assert(
      fc.property(
        timingArb,
        fc.integer({ min: 2, max: 4 }),
        fc.array(faultArb, { minLength: 1, maxLength: 100 }),
        fc.array(fc.tuple(fc.nat({ max: 3 }), fc.integer({ min: 0, max: 10_000 })), { maxLength: 2 }),
        (timing, candidates, faults, crashes) => {
          const tenures = simulate({
            candidates,
            timing,
            requestTimeoutMs: timing.renewDeadlineMs,
            faults,
            crashAtMs: new Map(crashes),
            untilMs: 15_000,
          });
          expect(overlaps(tenures)).toEqual([]);
          for (const t of tenures) expect(t.endMs).toBeGreaterThan(t.sinceMs);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a crashed holder is replaced within the lease duration plus a few retries and round trips", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 300, max: 3_000 }),
        fc.array(fc.integer({ min: 0, max: 25 }), { minLength: 16, maxLength: 64 }),
        (crashAfterMs, latencies) => {
          // Every request succeeds, within 50 ms.
          const faults = Array.from({ length: latencies.length }, (_, i): Fault => {
            const at = (k: number) => latencies[(i * 2 + k) % latencies.length]!;
            return { commitMs: at(0), replyMs: at(1), outcome: "ok", stallMs: 0 };
          });
          const timing = DEFAULT_LEASE_TIMING;
          const first = simulate({ candidates: 2, timing, requestTimeoutMs: 500, faults, untilMs: crashAfterMs });
          const holder = first[0]!.candidate;
          const crashAtMs = crashAfterMs;
          const tenures = simulate({
            candidates: 2,
            timing,
            requestTimeoutMs: 500,
            faults,
            crashAtMs: new Map([[holder, crashAtMs]]),
            untilMs: crashAtMs + 5_000,
          });
          const successor = tenures.find((t) => t.candidate !== holder && t.sinceMs >= crashAtMs);
          expect(successor).toBeDefined();
          const boundMs = timing.leaseDurationSeconds * 1000 + timing.retryPeriodMs + 6 * 50;
          expect(successor!.sinceMs - crashAtMs).toBeLessThanOrEqual(boundMs);
          expect(overlaps(tenures)).toEqual([]);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("a holder must stop a renew deadline after the send of its last successful renewal", () => {
    fc.assert(
      fc.property(fc.nat({ max: 1e9 }), (sentAtMs) => {
        const t = DEFAULT_LEASE_TIMING;
        expect(holdUntilMs(sentAtMs, t)).toBe(sentAtMs + t.renewDeadlineMs);
        expect(holdUntilMs(sentAtMs, t)).toBeLessThan(sentAtMs + t.leaseDurationSeconds * 1000);
      }),
    );
  });
});
