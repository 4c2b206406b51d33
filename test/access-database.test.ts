import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../services/common/observe/log.js";
import type { Database, Datum, Table, Transaction } from "../services/compute/access/database.js";
import { SedimentDatabase } from "../services/compute/access/sediment-database.js";
import { databaseLog } from "../services/compute/access/volume-log.js";
import { type Volume, openVolume } from "../services/compute/log/open-log.js";
import { type LocalCluster, startLocalCluster } from "./support/local-cluster.js";

/** The access layer (transactions, catalog, heap, buffer pool) on real storage processes. */
const logger = createLogger("test");
logger.level = "warn";
let cluster: LocalCluster;
const volumes: Volume[] = [];

async function openDb(): Promise<SedimentDatabase> {
  const volume = await openVolume({ storage: cluster.storage }, logger);
  volumes.push(volume);
  return SedimentDatabase.open(volume.pages, databaseLog(volume));
}

async function rows(db: Database, tx: Transaction, table: Table): Promise<Datum[][]> {
  tx.startCommand();
  const out: Datum[][] = [];
  for await (const batch of db.scan(tx, table)) for (const r of batch) out.push([...r.values]);
  return out.sort((a, b) => Number(a[0]) - Number(b[0]));
}

beforeAll(async () => {
  cluster = await startLocalCluster();
});
afterAll(async () => {
  for (const v of volumes) v.close();
  await cluster?.stop();
});

describe("SedimentDatabase on 3 storage processes", () => {
  it("creates, inserts, updates, deletes with MVCC; survives a writer change; aborts what was unfinished", async () => {
    const db = await openDb();
    const t1 = db.begin();
    t1.startCommand();
    const table = await db.createTable(t1, "accounts", [
      { name: "id", type: "int4", typmod: -1, notNull: true },
      { name: "balance", type: "int8", typmod: -1, notNull: false },
      { name: "owner", type: "text", typmod: -1, notNull: false },
    ]);
    for (let i = 1; i <= 500; i++) await db.insert(t1, table, [i, BigInt(i * 10), `owner ${i}`]);
    // Not visible to others before commit.
    const other = db.begin();
    other.startCommand();
    expect(await db.lookupTable(other, "accounts")).toBeUndefined();
    await db.commit(t1);

    const t2 = db.begin();
    t2.startCommand();
    const t = (await db.lookupTable(t2, "accounts"))!;
    expect((await rows(db, t2, t)).length).toBe(500);

    // Update row 1, delete row 2, in one transaction; a concurrent reader keeps its snapshot.
    const reader = db.begin("repeatable read");
    reader.startCommand();
    const t3 = db.begin();
    t3.startCommand();
    for await (const batch of db.scan(t3, t)) {
      for (const r of batch) {
        if (r.values[0] === 1) expect(await db.update(t3, t, r.tid, [1, 999n, "changed"])).toBe("ok");
        if (r.values[0] === 2) expect(await db.delete(t3, t, r.tid)).toBe("ok");
      }
    }
    await db.commit(t3);
    const after = await rows(db, db.begin(), t);
    expect(after.length).toBe(499);
    expect(after[0]).toEqual([1, 999n, "changed"]);
    expect((await rows(db, reader, t)).length).toBe(500);

    // A transaction left open across a writer change is aborted.
    const open = db.begin();
    open.startCommand();
    await db.insert(open, t, [10_000, 1n, "uncommitted"]);
    volumes[0]!.close();

    const db2 = await openDb();
    const t4 = db2.begin();
    t4.startCommand();
    const t2nd = (await db2.lookupTable(t4, "accounts"))!;
    const recovered = await rows(db2, t4, t2nd);
    expect(recovered.length).toBe(499);
    expect(recovered.find((r) => r[0] === 10_000)).toBeUndefined();
    expect(recovered[0]).toEqual([1, 999n, "changed"]);
    // And it can write after the change.
    await db2.insert(t4, t2nd, [20_000, 2n, null]);
    await db2.commit(t4);
    expect((await rows(db2, db2.begin(), t2nd)).length).toBe(500);
  });
});
