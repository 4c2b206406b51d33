import type { VersionFate } from "../../common/heap-chain.js";
import type { HeapTupleHeader } from "../../common/heap-page.js";
import type { PruneOracle } from "./heap.js";
import type { TransactionManager } from "./xact.js";

/**
 * A prune's view of transactions, with one global xmin for the whole
 * prune (a version dead below it stays dead). Unknown commit status counts
 * as "live": a prune never removes what it cannot prove dead.
 */
export function pruneOracle(txm: TransactionManager): PruneOracle {
  const globalXmin = txm.globalXmin();
  return {
    load: (xids) => txm.loadStatus(xids),
    fate: (h) => versionFate(txm, h, globalXmin),
  };
}

function versionFate(txm: TransactionManager, h: HeapTupleHeader, globalXmin: number): VersionFate {
  if (!txm.isRunning(h.xmin)) {
    const inserted = txm.committedIfKnown(h.xmin);
    if (inserted === undefined) return "live";
    if (!inserted) return "dead";
  }
  if (h.xmax === 0) return "live";
  if (txm.isRunning(h.xmax)) return "recentlyDead";
  if (txm.committedIfKnown(h.xmax) !== true) return "live"; // its deleter aborted (or not known)
  return h.xmax < globalXmin ? "dead" : "recentlyDead";
}
