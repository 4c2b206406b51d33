import { type ChildProcess, spawn } from "node:child_process";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, type LocalCluster, TEST_PASSWORD, startLocalCluster, waitFor } from "./support/local-cluster.js";
import { findFreePort } from "./support/ports.js";

/**
 * Fencing end to end: compute X (under the supervisor) serves; compute Y is
 * started on the same storage. X's next COMMIT fails, and nothing X wrote
 * after Y started is visible through Y.
 */
let cluster: LocalCluster;
let y: ChildProcess | undefined;

beforeAll(async () => {
  cluster = await startLocalCluster({ compute: true });
});
afterAll(async () => {
  y?.kill("SIGKILL");
  await cluster?.stop();
});

describe("two computes on one volume", () => {
  it("the older writer's commit fails once a newer writer fenced it", async () => {
    const x = new pg.Client({ connectionString: cluster.url });
    x.on("error", () => {});
    await x.connect();
    await x.query("create table f (id int4 not null)");
    await x.query("insert into f values (1)");
    await x.query("begin");
    await x.query("insert into f values (2)");

    const port = await findFreePort();
    y = spawn(
      process.execPath,
      [CLI, "compute", "--storage", cluster.storage.map((s) => s.address).join(","), "--port", String(port)],
      {
        stdio: ["ignore", "ignore", "inherit"],
        env: { ...process.env, SEDIMENT_PASSWORD: TEST_PASSWORD, SEDIMENT_LOG_LEVEL: "warn" },
      },
    );
    const yUrl = `postgres://postgres:${TEST_PASSWORD}@127.0.0.1:${port}/postgres`;
    let yClient: pg.Client | undefined;
    await waitFor(
      async () => {
        try {
          const c = new pg.Client({ connectionString: yUrl });
          await c.connect();
          yClient = c;
          return true;
        } catch {
          return false;
        }
      },
      15_000,
      "compute Y",
      50,
    );

    let code: string | undefined;
    try {
      await x.query("commit");
    } catch (error) {
      code = (error as { code?: string }).code ?? "08006"; // a dropped connection has no SQLSTATE
    }
    expect(["57P01", "08006"]).toContain(code);
    const rows = (await yClient!.query("select id from f order by id")).rows.map((r) => r.id);
    expect(rows).toEqual([1]);
    await yClient!.end();
    await x.end().catch(() => {});
  });
});
