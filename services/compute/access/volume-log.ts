import type { Volume } from "../log/open-log.js";
import type { DatabaseLog } from "./sediment-database.js";

/**
 * A statement that writes without ever waiting for I/O (a COPY of cached
 * pages, an UPDATE of many rows) runs on microtasks alone; it lets the event
 * loop turn at least this often, so gRPC keepalives, acks and other sessions
 * are not starved.
 */
const YIELD_EVERY_MS = 20;
const resolved = Promise.resolve();

/** The log as the access layer sees it: a thin view of the writer's volume. */
export function databaseLog(volume: Volume): DatabaseLog {
  const log = volume.log;
  let lastYield = performance.now();
  return {
    append: (drafts) => log.append(drafts),
    get lastLsn() {
      return log.writer.lastLsn;
    },
    vdl: () => log.vdl(),
    scl: (node, group) => log.writer.scl(node, group),
    waitForVdl: (lsn) => log.waitForVdl(lsn),
    whenCanAppend: () => {
      if (!log.writer.canAppend()) return log.whenCanAppend();
      const now = performance.now();
      if (now - lastYield < YIELD_EVERY_MS) return resolved;
      lastYield = now;
      return new Promise((resolve) => setImmediate(resolve));
    },
  };
}
