/**
 * Restart delays for a crashed child, as the kubelet's CrashLoopBackOff: the
 * first restart is immediate, then the delay doubles from `initialMs` up to
 * `maxMs`; a child that stayed up `resetAfterMs` starts over from zero. Pure.
 */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 10_000, resetAfterMs: 10_000 };

export class RestartBackoff {
  private failures = 0;

  constructor(private readonly policy: BackoffPolicy = DEFAULT_BACKOFF) {}

  /** Delay before restarting a child that exited after running `uptimeMs`. */
  nextDelayMs(uptimeMs: number): number {
    if (uptimeMs >= this.policy.resetAfterMs) this.failures = 0;
    const delay =
      this.failures === 0 ? 0 : Math.min(this.policy.maxMs, this.policy.initialMs * 2 ** (this.failures - 1));
    this.failures++;
    return delay;
  }

  /** Consecutive crashes without a long enough run in between. */
  get consecutiveFailures(): number {
    return this.failures;
  }
}
