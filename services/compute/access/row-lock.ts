import type { Xid } from "../../common/ids.js";
import { AccessFailure } from "./access-error.js";
import type { TupleId, WriteOutcome } from "./database.js";
import type { HeapStore } from "./heap.js";
import { type TransactionManager, type TransactionState, versionKey } from "./xact.js";

/**
 * Marks a tuple version deleted by `tx` (xmax), the row lock of an UPDATE or
 * DELETE. A version held by a running transaction is waited for; one deleted
 * by a transaction that committed meanwhile is "gone" under READ COMMITTED
 * (the caller skips it) and a serialization failure under REPEATABLE READ.
 * The decision and the xmax record happen in one synchronous step.
 */
export async function deleteVersion(
  heap: HeapStore,
  txm: TransactionManager,
  tx: TransactionState,
  relfile: number,
  tid: TupleId,
): Promise<WriteOutcome> {
  const xid = await txm.assignXid(tx);
  for (;;) {
    await heap.pin(relfile, tid);
    const h = heap.peekHeader(relfile, tid);
    if (h === undefined) continue; // evicted between the read and now
    if (h === null) return "gone"; // pruned by VACUUM: its deleter committed long ago
    if (h.xmax === xid) return "gone";
    if (h.xmax !== 0 && txm.isRunning(h.xmax)) {
      await txm.waitForHolder(tx, h.xmax);
      continue;
    }
    const committed = h.xmax === 0 ? false : txm.committedIfKnown(h.xmax);
    if (committed === undefined) {
      await txm.loadStatus([h.xmax]);
      continue;
    }
    if (committed) {
      if (tx.isolation === "repeatable read") {
        throw new AccessFailure("40001", "could not serialize access due to concurrent update");
      }
      return "gone";
    }
    heap.setXmax(relfile, tid, xid as Xid);
    tx.cmax.set(versionKey(relfile, tid), tx.cid);
    return "ok";
  }
}
