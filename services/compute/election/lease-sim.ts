import {
  type LeaseRecord,
  type LeaseTiming,
  type Observation,
  decide,
  holdUntilMs,
  nextRecord,
  observe,
} from "./lease-rules.js";

/**
 * A discrete-event model of Lease electors sharing one API server, for the
 * property tests: the candidates run exactly the rules of lease-rules.ts; the
 * server is linearizable with resourceVersion compare-and-swap; every request
 * takes its time from the fault script (commit point, reply delay, a reply
 * that is lost or a 500, a stall before the reply is handled), which repeats
 * until `untilMs`. Pure: the
 * script is the only input, so fast-check shrinks a failing run to its core.
 */
export interface Fault {
  /** From the send to the server's linearization point. */
  readonly commitMs: number;
  /** From the linearization point to the reply being received. */
  readonly replyMs: number;
  readonly outcome: "ok" | "lost" | "error";
  /** The candidate's event loop is blocked this long before it handles the reply. */
  readonly stallMs: number;
}

export interface Tenure {
  readonly candidate: number;
  readonly sinceMs: number;
  endMs: number;
}

export interface SimOptions {
  readonly candidates: number;
  readonly timing: LeaseTiming;
  /** A request whose reply is lost is given up after this long. */
  readonly requestTimeoutMs: number;
  readonly faults: readonly Fault[];
  /** Candidate index → time it crashes (stops doing anything). */
  readonly crashAtMs?: ReadonlyMap<number, number>;
  readonly untilMs: number;
}

interface Candidate {
  readonly id: string;
  observation: Observation | undefined;
  tenure: Tenure | undefined;
}

type NewEvent = { atMs: number; kind: "tick"; c: number } | { atMs: number; kind: "run"; c: number; run: () => void };
type Event = NewEvent & { seq: number };

export function simulate(options: SimOptions): Tenure[] {
  const { timing } = options;
  const store: { version: number; record: LeaseRecord | undefined } = { version: 0, record: undefined };
  const candidates: Candidate[] = Array.from({ length: options.candidates }, (_, i) => ({
    id: `c${i}`,
    observation: undefined,
    tenure: undefined,
  }));
  const tenures: Tenure[] = [];
  const queue: Event[] = [];
  let seq = 0;
  let faultIndex = 0;
  const push = (event: NewEvent): void => {
    queue.push({ ...event, seq: seq++ });
  };
  const nextFault = (): Fault | undefined => options.faults[faultIndex++ % options.faults.length];
  const crashed = (c: number, atMs: number): boolean => atMs >= (options.crashAtMs?.get(c) ?? Number.POSITIVE_INFINITY);
  const expire = (cand: Candidate, nowMs: number): void => {
    if (cand.tenure !== undefined && nowMs >= cand.tenure.endMs) lose(cand, cand.tenure.endMs);
  };
  const lose = (cand: Candidate, atMs: number): void => {
    if (cand.tenure === undefined) return;
    cand.tenure.endMs = Math.min(cand.tenure.endMs, atMs);
    cand.tenure = undefined;
    cand.observation = undefined; // the process exits; its restart starts over
  };

  /** One request: `commit` runs at the linearization point, `reply` when the reply is handled. */
  const request = <T>(
    c: number,
    sentMs: number,
    commit: () => T,
    reply: (result: T | "error", atMs: number) => void,
  ): boolean => {
    const fault = nextFault();
    if (fault === undefined) return false;
    const commitAt = sentMs + fault.commitMs;
    push({
      atMs: commitAt,
      kind: "run",
      c,
      run: () => {
        const result = fault.outcome === "error" ? "error" : commit();
        if (fault.outcome === "lost") {
          push({ atMs: sentMs + options.requestTimeoutMs, kind: "tick", c });
          return;
        }
        const at = commitAt + fault.replyMs + fault.stallMs;
        push({ atMs: at, kind: "run", c, run: () => reply(result, at) });
      },
    });
    return true;
  };

  const tick = (c: number, nowMs: number): void => {
    const cand = candidates[c]!;
    expire(cand, nowMs);
    request(
      c,
      nowMs,
      () => ({ version: store.version, record: store.record }),
      (read, atMs) => {
        expire(cand, atMs);
        if (read === "error") {
          push({ atMs: atMs + timing.retryPeriodMs, kind: "tick", c });
          return;
        }
        const version = read.record === undefined ? undefined : String(read.version);
        cand.observation = observe(cand.observation, version, read.record, atMs);
        act(c, cand.observation, atMs);
      },
    );
  };

  const act = (c: number, observation: Observation, nowMs: number): void => {
    const cand = candidates[c]!;
    const decision = decide(observation, nowMs, cand.id);
    if (decision.kind === "wait") {
      push({ atMs: Math.min(nowMs + timing.retryPeriodMs, decision.expiresAtMs), kind: "tick", c });
      return;
    }
    const sentMs = nowMs;
    const record = nextRecord(observation.record, decision.kind, cand.id, timing);
    request(
      c,
      sentMs,
      () => {
        const expected = observation.resourceVersion;
        const current = store.record === undefined ? undefined : String(store.version);
        if (expected !== current) return "conflict" as const;
        store.version++;
        store.record = record;
        return String(store.version);
      },
      (result, atMs) => {
        expire(cand, atMs);
        if (result === "error") {
          push({ atMs: atMs + timing.retryPeriodMs, kind: "tick", c });
          return;
        }
        if (result === "conflict") {
          lose(cand, atMs);
          push({ atMs, kind: "tick", c });
          return;
        }
        const until = holdUntilMs(sentMs, timing);
        if (cand.tenure !== undefined) {
          cand.tenure.endMs = Math.max(cand.tenure.endMs, until);
        } else if (atMs < until) {
          cand.tenure = { candidate: c, sinceMs: atMs, endMs: until };
          tenures.push(cand.tenure);
        }
        cand.observation = observe(cand.observation, result, record, atMs);
        push({ atMs: atMs + timing.retryPeriodMs, kind: "tick", c });
      },
    );
  };

  for (let c = 0; c < options.candidates; c++) push({ atMs: 0, kind: "tick", c });
  while (queue.length > 0) {
    queue.sort((a, b) => a.atMs - b.atMs || a.seq - b.seq);
    const event = queue.shift()!;
    if (event.atMs > options.untilMs) break;
    if (crashed(event.c, event.atMs)) continue;
    if (event.kind === "tick") tick(event.c, event.atMs);
    else event.run();
  }
  return tenures;
}

/** Pairs of tenures of different candidates that overlap in time (the property: none). */
export function overlaps(tenures: readonly Tenure[]): [Tenure, Tenure][] {
  const out: [Tenure, Tenure][] = [];
  for (let i = 0; i < tenures.length; i++) {
    for (let j = i + 1; j < tenures.length; j++) {
      const a = tenures[i]!;
      const b = tenures[j]!;
      if (a.sinceMs < b.endMs && b.sinceMs < a.endMs) out.push([a, b]);
    }
  }
  return out;
}
