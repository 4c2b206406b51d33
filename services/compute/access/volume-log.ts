import type { Volume } from "../log/open-log.js";
import type { DatabaseLog } from "./sediment-database.js";

/** The log as the access layer sees it: a thin view of the writer's volume. */
export function databaseLog(volume: Volume): DatabaseLog {
  const log = volume.log;
  return {
    append: (drafts) => log.append(drafts),
    get lastLsn() {
      return log.writer.lastLsn;
    },
    vdl: () => log.vdl(),
    scl: (node, group) => log.writer.scl(node, group),
    waitForVdl: (lsn) => log.waitForVdl(lsn),
  };
}
