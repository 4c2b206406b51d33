import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SetEpochResponse__Output } from "../proto/gen/sediment/storage/SetEpochResponse.js";
import { unary } from "../proto/rpc.js";
import type { NodeId } from "../services/common/ids.js";
import type { Lsn } from "../services/common/lsn.js";
import { createLogger } from "../services/common/observe/log.js";
import { FencedError } from "../services/compute/log/log-service.js";
import { openVolume } from "../services/compute/log/open-log.js";
import { driveLog } from "./support/drive-log.js";
import { type LocalCluster, sleep, startLocalCluster } from "./support/local-cluster.js";
import { PageWorkload } from "./support/page-workload.js";

const logger = createLogger("test");
logger.level = "warn";
let cluster: LocalCluster;

beforeAll(async () => {
  cluster = await startLocalCluster();
});
afterAll(async () => {
  await cluster?.stop();
});

describe("fencing", () => {
  it("after SetEpoch(e+1) on a quorum, the writer at e cannot advance VDL; the next writer keeps every acknowledged record", async () => {
    const a = await openVolume({ storage: cluster.storage }, logger);
    const workload = new PageWorkload(4, 3);
    await driveLog(a.log, workload, { writers: 4, recordsTarget: 2_000 });
    const acknowledged = a.log.vdl();
    const durablePages = workload.snapshot();

    // Another writer fences a quorum (storage-0 and storage-1) at a higher epoch.
    const e = a.change.epoch;
    for (const node of [0, 1] as NodeId[]) {
      const client = a.cluster.client(node);
      await unary<SetEpochResponse__Output>((o, cb) => client.SetEpoch({ epoch: e + 1 }, o, cb), 2_000);
    }
    // A's next MTR never becomes durable: its wait fails with FencedError.
    await sleep(50);
    let failure: unknown;
    try {
      await a.log.whenCanAppend();
      const records = a.log.append(workload.nextMtr());
      await a.log.waitForVdl(records[records.length - 1]!.lsn);
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(FencedError);
    expect(a.log.vdl()).toBe(acknowledged);
    a.close();

    // The next writer recovers every acknowledged record. (The fenced MTR may
    // survive whole if storage-2 took it: it was never acknowledged, and an
    // unacknowledged MTR may be kept or dropped, never split.)
    const b = await openVolume({ storage: cluster.storage }, logger);
    expect(b.change.epoch).toBeGreaterThan(e + 1);
    expect(b.change.plan.truncateLsn).toBeGreaterThanOrEqual(acknowledged);
    for (const [key, expected] of durablePages) {
      const image = await b.pages.getPage(PageWorkload.pageIdOf(key), acknowledged, (n, g) => b.log.writer.scl(n, g));
      expect(Buffer.compare(Buffer.from(image.page), Buffer.from(expected)), `page ${key}`).toBe(0);
    }
    expect(b.change.plan.truncateLsn as Lsn).toBeLessThanOrEqual(b.log.vdl());
    // B can write.
    const more = await driveLog(b.log, workload, { writers: 2, recordsTarget: 200 });
    expect(more.records).toBeGreaterThanOrEqual(200);
    b.close();
  });
});
