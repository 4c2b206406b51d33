import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pageId } from "../services/common/ids.js";
import { encodeIndexKey } from "../services/common/index-key.js";
import { createLogger } from "../services/common/observe/log.js";
import { BtreeStore, type IndexEntry } from "../services/compute/access/btree.js";
import { BufferPool } from "../services/compute/access/buffer-pool.js";
import { databaseLog } from "../services/compute/access/volume-log.js";
import { type Volume, openVolume } from "../services/compute/log/open-log.js";
import { type LocalCluster, startLocalCluster } from "./support/local-cluster.js";
import { samePage } from "./support/memory-volume.js";

/** B-tree records through real storage processes: storage's redo makes compute's pages, byte for byte. */
const logger = createLogger("test");
logger.level = "warn";
let cluster: LocalCluster;
let volume: Volume;

beforeAll(async () => {
  cluster = await startLocalCluster();
  volume = await openVolume({ storage: cluster.storage }, logger);
});
afterAll(async () => {
  volume?.close();
  await cluster?.stop();
});

const entry = (i: number, text: string): IndexEntry => ({
  key: encodeIndexKey(["int4", "text"], [i % 97, text]),
  tid: { block: i, slot: i % 7 },
});

describe("B-tree on 3 storage processes", () => {
  it("inserts with splits and a bottom-up build read back identically from storage", async () => {
    const log = databaseLog(volume);
    const pool = new BufferPool(volume.pages, log, 4096);
    const store = new BtreeStore(pool, log);
    await store.create(30_001);
    for (let i = 0; i < 3000; i += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, j) => store.insert(30_001, entry(i + j, "x".repeat((i + j) % 300)))),
      );
    }
    const built = Array.from({ length: 20_000 }, (_, i) => ({
      key: encodeIndexKey(["int4"], [i]),
      tid: { block: i, slot: 0 },
    }));
    await store.build(30_002, built);
    await log.waitForVdl(log.lastLsn);

    const fresh = new BufferPool(volume.pages, log, 4096);
    for (const relfile of [30_001, 30_002]) {
      for (let block = 0; ; block++) {
        const mine = pool.peek(pageId(relfile, block));
        const stored = await fresh.get(pageId(relfile, block));
        if (mine === undefined) {
          expect(
            stored.every((b) => b === 0),
            `block ${block} past the end`,
          ).toBe(true);
          break;
        }
        expect(samePage(mine, stored), `relfile ${relfile} block ${block}`).toBe(true);
      }
    }
    const reader = new BtreeStore(fresh, log);
    const got: IndexEntry[] = [];
    for await (const batch of reader.scan(30_001)) got.push(...batch);
    expect(got.length).toBe(3000);
    let count = 0;
    for await (const batch of reader.scan(30_002, { key: encodeIndexKey(["int4"], [100]), inclusive: true }))
      count += batch.length;
    expect(count).toBe(19_900);
  });
});
