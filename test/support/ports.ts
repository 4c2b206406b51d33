import { findFreePorts } from "../../services/local/cluster-file.js";

/** A TCP port free right now on 127.0.0.1 (the supervisor's own port finder). */
export async function findFreePort(): Promise<number> {
  return (await findFreePorts(1, "127.0.0.1", []))[0]!;
}
