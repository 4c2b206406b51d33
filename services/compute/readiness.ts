import { readiness } from "../common/observe/health.js";

/**
 * Compute's `/readyz` (design section 9): ready while it accepts SQL as the
 * volume's writer, so that Kubernetes routes `sediment-rw` / `sediment-ro`
 * only to it. Two conditions of the process's ReadinessGate, each set by the
 * code that knows.
 */

/** main.ts: undefined once the wire server accepts connections; why not (starting, shutting down) otherwise. */
export function setAcceptingSql(notReason: string | undefined): void {
  readiness.set("sql", notReason);
}

/**
 * The writer election: true while this process holds the writer's lease,
 * false as a standby. Never called without an election: the only compute is
 * the writer, so the condition does not exist and holds.
 */
export function setWriter(isWriter: boolean): void {
  readiness.set("writer", isWriter ? undefined : "standby: another compute is the writer");
}
