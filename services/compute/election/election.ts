/**
 * Who may be the volume's writer. Several compute processes may run (a
 * writer and hot standbys); the election picks one, and the one it picks runs
 * the writer change (design section 7: fence, read, choose, truncate) before
 * it accepts SQL. The election is about liveness and routing: the epoch fence
 * on storage is what makes a second writer harmless (its appends are refused),
 * so an election only has to make that rare and short, never impossible.
 *
 * - `none`: this process is the writer at once (a single compute; today's
 *   behaviour, and what a restart by a supervisor relies on).
 * - `lock`: a TCP port on loopback that only the writer binds
 *   (lock-election.ts): the kernel frees it the instant the writer dies.
 * - `kubernetes`: a `coordination.k8s.io/v1` Lease (lease-election.ts).
 */
export type ElectionKind = "none" | "lock" | "kubernetes";

export const ELECTION_KINDS: readonly ElectionKind[] = ["none", "lock", "kubernetes"];

export interface WriterElection {
  readonly kind: ElectionKind;
  /**
   * Resolves once this process has won and may become the writer; until
   * then it waits as a standby. Rejects only when `signal` aborts.
   */
  campaign(signal?: AbortSignal): Promise<void>;
  /**
   * `listener` is called once, synchronously, when this process has lost the
   * role it won (a Lease it could not renew in time, another holder): it
   * must stop writing at once, i.e. exit, before a new writer can start.
   */
  onLost(listener: (reason: string) => void): void;
  /** The writer has recovered and accepts SQL on `port`: tell the router (pod label, lock answer). */
  serving(info: { readonly port: number }): Promise<void>;
  /** Gives the role up on a clean stop, so a standby takes over without waiting out a lease. */
  release(): Promise<void>;
}

/** `--election none`: there is no one else; this process is the writer. */
export class NoElection implements WriterElection {
  readonly kind = "none";
  async campaign(): Promise<void> {}
  onLost(): void {}
  async serving(): Promise<void> {}
  async release(): Promise<void> {}
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
