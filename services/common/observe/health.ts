/**
 * Readiness for the `/readyz` endpoint (Kubernetes readiness probes, and the
 * PodDisruptionBudget that counts ready pods). A process is ready when every
 * one of its named conditions holds; each condition either is set by the code
 * that knows (compute: "accepting SQL", "writer") or is computed at each
 * probe (storage: "no gap in a hosted group"). `/livez` only says the event
 * loop answers, so a process that is alive but not ready is left running.
 */

/** Why a condition does not hold, or undefined when it holds. */
export type ReadinessProbe = () => string | undefined;

export class ReadinessGate {
  private readonly conditions = new Map<string, ReadinessProbe>();

  /** A condition that holds (`reason` undefined) or not (why not), until set again. */
  set(name: string, reason: string | undefined): void {
    this.conditions.set(name, () => reason);
  }

  /** A condition computed at each probe. */
  watch(name: string, probe: ReadinessProbe): void {
    this.conditions.set(name, probe);
  }

  /** Undefined when ready; else "name: reason" of every failing condition, in the order they were added. */
  notReadyReason(): string | undefined {
    const failing: string[] = [];
    for (const [name, probe] of this.conditions) {
      let reason: string | undefined;
      try {
        reason = probe();
      } catch (err) {
        reason = `probe failed: ${(err as Error).message}`;
      }
      if (reason !== undefined) failing.push(`${name}: ${reason}`);
    }
    return failing.length === 0 ? undefined : failing.join("; ");
  }
}

/** The process's gate: what `serveMetrics` answers at `/readyz` unless given another. */
export const readiness = new ReadinessGate();
