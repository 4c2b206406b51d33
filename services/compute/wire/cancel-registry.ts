import { randomBytes } from "node:crypto";

/**
 * The sessions of one server by BackendKeyData: a CancelRequest arrives on a
 * new connection with (processId, secretKey), and reaches the session only if
 * both match. The registry also counts sessions for the connection limit.
 */

export interface BackendKey {
  readonly processId: number;
  readonly secretKey: number;
}

const PROCESS_ID_MAX = 0x7fff_ffff;

export class CancelRegistry {
  private readonly sessions = new Map<number, { readonly secretKey: number; readonly cancel: () => void }>();
  private lastProcessId = 0;

  constructor(private readonly random: (bytes: number) => Uint8Array = randomBytes) {}

  get size(): number {
    return this.sessions.size;
  }

  /** A fresh key for a session whose `cancel` runs when a matching CancelRequest arrives. */
  register(cancel: () => void): BackendKey {
    let processId = this.lastProcessId;
    do processId = processId >= PROCESS_ID_MAX ? 1 : processId + 1;
    while (this.sessions.has(processId));
    this.lastProcessId = processId;
    const r = this.random(4);
    const secretKey = (r[0]! << 24) | (r[1]! << 16) | (r[2]! << 8) | r[3]! | 0;
    this.sessions.set(processId, { secretKey, cancel });
    return { processId, secretKey };
  }

  unregister(key: BackendKey): void {
    const entry = this.sessions.get(key.processId);
    if (entry !== undefined && entry.secretKey === key.secretKey) this.sessions.delete(key.processId);
  }

  /** True when the key matched a live session (its cancel hook has run). */
  cancel(processId: number, secretKey: number): boolean {
    const entry = this.sessions.get(processId);
    if (entry === undefined || entry.secretKey !== secretKey) return false;
    entry.cancel();
    return true;
  }
}
