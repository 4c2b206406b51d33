import { connect } from "node:net";
import { z } from "zod";

/**
 * Who holds a local cluster's writer lock: the compute that bound the lock
 * port answers any connection with one JSON line and closes (see
 * services/compute/election/lock-election.ts, `LockHolderInfo`; local does
 * not import compute, so the shape is repeated here and checked).
 */
export const LockHolderSchema = z.object({
  pid: z.number().int().positive(),
  state: z.enum(["recovering", "serving"]),
  port: z.number().int().nullable(),
  since: z.string(),
});

export type LockHolder = z.infer<typeof LockHolderSchema>;

const ANSWER_BYTES_MAX = 4096;

/** The holder's answer, or undefined when nobody holds the lock (or it does not answer in time). */
export function readLockHolder(host: string, port: number, timeoutMs = 1_000): Promise<LockHolder | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let text = "";
    const done = (holder: LockHolder | undefined): void => {
      socket.destroy();
      resolve(holder);
    };
    socket.setTimeout(timeoutMs, () => done(undefined));
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
      if (text.length > ANSWER_BYTES_MAX) done(undefined);
    });
    socket.once("end", () => {
      try {
        const parsed = LockHolderSchema.safeParse(JSON.parse(text));
        done(parsed.success ? parsed.data : undefined);
      } catch {
        done(undefined);
      }
    });
    socket.once("error", () => done(undefined));
  });
}
