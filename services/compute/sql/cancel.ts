import { canceled } from "./errors.js";

export type CancelReason = "user request" | "statement timeout";

/** setTimeout's longest delay; longer sleeps wait in steps. */
const TIMER_MS_MAX = 2 ** 31 - 1;

/**
 * Cancellation of the running statement (a wire CancelRequest, or the
 * connection closing). Statements check it between batches; a sleep wakes
 * at once. Every statement gets a fresh one, so a cancel never outlives it.
 */
export class Cancellation {
  private cancelled = false;
  private reason: CancelReason = "user request";
  private readonly wakers = new Set<() => void>();

  cancel(reason: CancelReason = "user request"): void {
    if (!this.cancelled) this.reason = reason;
    this.cancelled = true;
    for (const wake of this.wakers) wake();
    this.wakers.clear();
  }

  get isCancelled(): boolean {
    return this.cancelled;
  }

  /** Throws 57014 once cancelled. */
  check(): void {
    if (this.cancelled) throw canceled(this.reason);
  }

  /** Resolves after `ms`, or rejects with 57014 as soon as the statement is cancelled. */
  async sleep(ms: number): Promise<void> {
    let remainingMs = ms;
    while (remainingMs > 0) {
      this.check();
      const stepMs = Math.min(remainingMs, TIMER_MS_MAX);
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.wakers.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, stepMs);
        this.wakers.add(wake);
      });
      remainingMs -= stepMs;
    }
    this.check();
  }
}
