import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "../../common/observe/log.js";
import { type WriterElection, sleep } from "./election.js";
import { LeaseApi, type LeaseRef, ROLE_STANDBY, ROLE_WRITER, describe } from "./lease-api.js";
import {
  type LeaseRecord,
  type LeaseTiming,
  type Observation,
  checkLeaseTiming,
  decide,
  holdUntilMs,
  nextRecord,
  observe,
} from "./lease-rules.js";

export interface LeaseElectionOptions {
  readonly kubeConfig: KubeConfig;
  readonly lease: LeaseRef;
  /** holderIdentity: the pod name (POD_NAME), unique among the candidates. */
  readonly identity: string;
  readonly timing: LeaseTiming;
  readonly log: Logger;
  /** Our pod, whose `role` label `sediment-rw` selects; undefined: no labels (tests, or outside a pod). */
  readonly pod?: string;
  /** The monotonic clock in ms (performance.now by default). */
  readonly now?: () => number;
}

/**
 * `--election kubernetes`: the writer holds a `coordination.k8s.io/v1` Lease,
 * following the rules of lease-rules.ts (why they are safe is written there).
 * A standby polls every retry period and takes the Lease once the holder's
 * version has stood unchanged for `leaseDurationSeconds`; the holder renews
 * every retry period and, if no renewal sent within the renew deadline has
 * succeeded, reports the loss (the compute exits) before anyone can take over.
 *
 * Routing: the writer labels its own pod `role=writer` once it serves; every
 * candidate first labels itself `role=standby`, because pod labels outlive a
 * container restart and a writer that lost its Lease comes back as a standby
 * in the same pod. A pod that died or is exiting keeps a stale `role=writer`
 * until then, which is harmless: it is not Ready (nothing accepts SQL on it),
 * so `sediment-rw` has no endpoint there; the new writer never edits other
 * pods (its RBAC allows patching only pods, and it needs no more).
 */
export class KubernetesLeaseElection implements WriterElection {
  readonly kind = "kubernetes";
  private readonly api: LeaseApi;
  private readonly now: () => number;
  private observation: Observation | undefined;
  /** The version we last wrote, the record in it, and until when we may write. */
  private held: { resourceVersion: string; record: LeaseRecord; untilMs: number } | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private readonly lostListeners: ((reason: string) => void)[] = [];
  private done = false;
  private readonly stopped = new AbortController();

  constructor(private readonly options: LeaseElectionOptions) {
    const problem = checkLeaseTiming(options.timing);
    if (problem !== undefined) throw new Error(`lease timing: ${problem}`);
    this.api = new LeaseApi(options.kubeConfig, options.lease);
    this.now = options.now ?? (() => performance.now());
  }

  async campaign(outer?: AbortSignal): Promise<void> {
    const { identity, timing, log, lease } = this.options;
    const signal = outer === undefined ? this.stopped.signal : AbortSignal.any([outer, this.stopped.signal]);
    // Best effort, and not in the way of the campaign: a stale `writer` label only matters once we are Ready.
    await this.label(ROLE_STANDBY, 3);
    let waitingLogged = false;
    for (;;) {
      signal.throwIfAborted();
      let read: Awaited<ReturnType<LeaseApi["read"]>>;
      try {
        read = await this.api.read(timing.renewDeadlineMs);
      } catch (err) {
        log.warn({ err: describe(err), lease: lease.name }, "cannot read the writer Lease; retrying");
        await sleep(timing.retryPeriodMs, signal);
        continue;
      }
      signal.throwIfAborted();
      const now = this.now();
      this.observation = observe(this.observation, read.resourceVersion, read.record, now);
      const decision = decide(this.observation, now, identity);
      if (decision.kind === "wait") {
        if (!waitingLogged) log.info({ holder: read.record?.holderIdentity, lease: lease.name }, "standby: waiting");
        waitingLogged = true;
        await sleep(Math.max(1, Math.min(timing.retryPeriodMs, decision.expiresAtMs - now)), signal);
        continue;
      }
      // A record naming us that we do not hold: our previous container held it; take it back as an acquire.
      const record = nextRecord(read.record, decision.kind, identity, timing);
      const sentAtMs = this.now();
      const result = await this.api.write(record, read.resourceVersion, timing.renewDeadlineMs);
      signal.throwIfAborted();
      if (result.ok && this.now() < holdUntilMs(sentAtMs, timing)) {
        this.hold(result.resourceVersion, record, holdUntilMs(sentAtMs, timing));
        log.info({ lease: lease.name, transitions: record.leaseTransitions }, "won the writer Lease");
        return;
      }
      if (!result.ok && !result.conflict) {
        log.warn({ err: result.error, lease: lease.name }, "cannot write the writer Lease; retrying");
        await sleep(timing.retryPeriodMs, signal);
      }
      // A conflict (another candidate wrote first), or a win that came back too late to use: read again.
    }
  }

  onLost(listener: (reason: string) => void): void {
    this.lostListeners.push(listener);
  }

  /** Labels our pod `role=writer`; retried until it succeeds (or we stop), since `sediment-rw` needs it. */
  async serving(_info?: { readonly port: number }): Promise<void> {
    await this.label(ROLE_WRITER, Number.POSITIVE_INFINITY);
  }

  async release(): Promise<void> {
    const held = this.held;
    this.stop();
    if (held === undefined) return;
    const released: LeaseRecord = { ...held.record, holderIdentity: "" };
    const result = await this.api.write(released, held.resourceVersion, this.options.timing.renewDeadlineMs);
    if (!result.ok) this.options.log.warn({ err: result.error }, "could not release the writer Lease");
  }

  private hold(resourceVersion: string, record: LeaseRecord, untilMs: number): void {
    this.held = { resourceVersion, record, untilMs };
    this.armDeadline();
    this.scheduleRenew();
  }

  /** Fires the loss at the hold deadline unless a renewal pushes it back first. */
  private armDeadline(): void {
    clearTimeout(this.deadlineTimer);
    const held = this.held;
    if (held === undefined) return;
    this.deadlineTimer = setTimeout(
      () => {
        if (this.held !== undefined && this.now() >= this.held.untilMs) {
          this.lose(`not renewed within the renew deadline (${this.options.timing.renewDeadlineMs} ms)`);
        } else this.armDeadline();
      },
      Math.max(0, held.untilMs - this.now()),
    );
  }

  private scheduleRenew(delayMs = this.options.timing.retryPeriodMs): void {
    if (this.done) return;
    this.renewTimer = setTimeout(() => void this.renew(), delayMs);
  }

  private async renew(): Promise<void> {
    const held = this.held;
    if (held === undefined || this.done) return;
    const { timing, identity, log } = this.options;
    const sentAtMs = this.now();
    const record = nextRecord(held.record, "renew", identity, timing);
    const result = await this.api.write(record, held.resourceVersion, Math.max(1, held.untilMs - sentAtMs));
    if (this.done || this.held === undefined) return;
    if (result.ok) {
      this.held = {
        resourceVersion: result.resourceVersion,
        record,
        untilMs: Math.max(this.held.untilMs, holdUntilMs(sentAtMs, timing)),
      };
      this.armDeadline();
      this.scheduleRenew();
      return;
    }
    if (result.conflict) {
      // Someone wrote the Lease: ours still only if it still names us (e.g. a label edit); else we lost.
      try {
        const read = await this.api.read(Math.max(1, this.held.untilMs - this.now()));
        if (this.done) return;
        if (read.record?.holderIdentity === identity && read.resourceVersion !== undefined) {
          this.held = { ...this.held, resourceVersion: read.resourceVersion };
          this.scheduleRenew(0);
          return;
        }
        this.lose(`the Lease now names ${read.record?.holderIdentity || "nobody"}`);
      } catch (err) {
        log.warn({ err: describe(err) }, "cannot read the writer Lease after a conflict");
        this.scheduleRenew();
      }
      return;
    }
    log.warn({ err: result.error }, "cannot renew the writer Lease; retrying until the renew deadline");
    this.scheduleRenew();
  }

  private async label(role: string, attempts: number): Promise<void> {
    const { pod, log, timing } = this.options;
    if (pod === undefined) return;
    for (let attempt = 1; attempt <= attempts && !this.done; attempt++) {
      try {
        await this.api.labelPod(pod, role, timing.leaseDurationSeconds * 1000);
        return;
      } catch (err) {
        log.warn({ err: describe(err), pod, role, attempt }, "cannot label our pod");
        await sleep(Math.min(5_000, timing.retryPeriodMs * 2 ** Math.min(attempt, 5)));
      }
    }
  }

  private stop(): void {
    this.done = true;
    this.stopped.abort(new Error("election stopped"));
    clearTimeout(this.deadlineTimer);
    clearTimeout(this.renewTimer);
  }

  private lose(reason: string): void {
    if (this.done) return;
    this.stop();
    this.held = undefined;
    this.options.log.error({ reason, lease: this.options.lease.name }, "lost the writer Lease: stopping");
    for (const listener of this.lostListeners) listener(reason);
  }
}
