/**
 * SIGTERM, as Kubernetes sends it before a pod goes (dist/: run `npm run build`
 * first). Three storage nodes and a compute run as real processes under
 * insert load: a storage node gets SIGTERM (exits 0, the writer carries on
 * with the other two, the node comes back and is ready again once complete),
 * then the compute (it drains: running commits get their ack, sessions end
 * with 57P01, exit 0). A new compute then finds every acknowledged row.
 * Also checks /livez and /readyz of both roles.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { findFreePorts } from "../services/local/cluster-file.js";
import { CLI, TEST_PASSWORD, sleep, waitFor } from "./support/local-cluster.js";

interface Proc {
  readonly name: string;
  readonly args: readonly string[];
  readonly metricsPort: number;
  child: ChildProcess;
  exited: Promise<number | null>;
}

const procs: Proc[] = [];
const root = mkdtempSync(join(tmpdir(), "sediment-sigterm-"));

function launch(name: string, args: readonly string[], metricsPort: number): Proc {
  const proc = { name, args, metricsPort } as Proc;
  respawn(proc);
  procs.push(proc);
  return proc;
}

function respawn(proc: Proc): void {
  proc.child = spawn(process.execPath, [CLI, ...proc.args], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, SEDIMENT_LOG_LEVEL: "warn", SEDIMENT_PASSWORD: TEST_PASSWORD },
  });
  proc.exited = new Promise((resolve) => proc.child.once("exit", (code) => resolve(code)));
}

async function sigterm(proc: Proc): Promise<number | null> {
  proc.child.kill("SIGTERM");
  return await Promise.race([proc.exited, sleep(15_000).then(() => "still running" as never)]);
}

async function probe(proc: Proc, path: "/livez" | "/readyz"): Promise<{ status: number; body: string } | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${proc.metricsPort}${path}`);
    return { status: res.status, body: await res.text() };
  } catch {
    return undefined; // not listening (yet, or any more)
  }
}

const ready = (proc: Proc, timeoutMs = 30_000) =>
  waitFor(async () => (await probe(proc, "/readyz"))?.status === 200, timeoutMs, `${proc.name} /readyz`, 50);

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited));
  rmSync(root, { recursive: true, force: true });
});

/**
 * Autocommit inserts from `writers` connections until each connection ends:
 * the ids whose INSERT was acknowledged, and per connection the first error
 * it saw (the FATAL that ended its session arrives either as the answer to
 * its next INSERT or, between two INSERTs, as an error event).
 */
function insertLoad(url: string, writers: number) {
  const acked: number[] = [];
  const firstErrors: string[] = [];
  let next = 0;
  const codeOf = (err: unknown) => (err as { code?: string }).code ?? (err as Error).message;
  const loops = Array.from({ length: writers }, async () => {
    const client = new pg.Client({ connectionString: url });
    let first: string | undefined;
    client.on("error", (err) => {
      first ??= codeOf(err);
    });
    await client.connect();
    for (;;) {
      const id = next++;
      try {
        await client.query("INSERT INTO acked VALUES ($1)", [id]);
        acked.push(id);
      } catch (err) {
        first ??= codeOf(err);
        break;
      }
    }
    firstErrors.push(first!);
    await client.end().catch(() => {});
  });
  return { acked, firstErrors, done: Promise.all(loops) };
}

describe("SIGTERM drains storage and compute", () => {
  it("loses no acknowledged commit, and every process exits 0", async () => {
    const ports = await findFreePorts(8, "127.0.0.1", []);
    const storage: Proc[] = [];
    const addresses: string[] = [];
    for (let id = 0; id < 3; id++) {
      const [port, metricsPort] = [ports[2 * id]!, ports[2 * id + 1]!];
      addresses.push(`127.0.0.1:${port}`);
      const args = ["storage", "--node-id", String(id), "--data-dir", join(root, `storage-${id}`)];
      storage.push(
        launch(`storage-${id}`, [...args, "--port", String(port), "--metrics-port", String(metricsPort)], metricsPort),
      );
    }
    for (const s of storage) await ready(s);
    expect(await probe(storage[0]!, "/livez")).toEqual({ status: 200, body: "ok\n" });

    const [pgPort, computeMetricsPort] = [ports[6]!, ports[7]!];
    const computeArgs = ["compute", "--storage", addresses.join(","), "--port", String(pgPort)];
    const compute = launch(
      "compute",
      [...computeArgs, "--metrics-port", String(computeMetricsPort)],
      computeMetricsPort,
    );
    await ready(compute);
    expect(await probe(compute, "/livez")).toEqual({ status: 200, body: "ok\n" });
    const url = `postgres://postgres:${TEST_PASSWORD}@127.0.0.1:${pgPort}/postgres`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query("CREATE TABLE acked (id int PRIMARY KEY)");
    await admin.end();

    const load = insertLoad(url, 4);
    await waitFor(() => load.acked.length >= 50, 20_000, "50 acknowledged inserts");

    // A storage node under load: drains its streams, closes LevelDB, exits 0; the writer goes on with two.
    const victim = storage[2]!;
    const stopping = performance.now();
    expect(await sigterm(victim)).toBe(0);
    // Its streams ended by themselves: gRPC did not wait out the 5 s grace to cancel them.
    expect(performance.now() - stopping).toBeLessThan(4_000);
    const before = load.acked.length;
    await waitFor(() => load.acked.length >= before + 50, 20_000, "inserts on two storage nodes");
    respawn(victim);
    await ready(victim); // complete again for its groups (any gap repaired)

    // The compute under load: stops accepting, the running commits get their ack, then 57P01; exit 0.
    await waitFor(() => load.acked.length >= before + 100, 20_000, "inserts with the node back");
    expect(await sigterm(compute)).toBe(0);
    await load.done;
    // Every session was ended by the drain's 57P01, none by anything else (a crash, a reset).
    expect(load.firstErrors).toEqual(["57P01", "57P01", "57P01", "57P01"]);

    // A new writer recovers the volume: every acknowledged insert is there.
    respawn(compute);
    await ready(compute);
    const check = new pg.Client({ connectionString: url });
    await check.connect();
    const { rows } = await check.query<{ id: number }>("SELECT id FROM acked");
    await check.end();
    const present = new Set(rows.map((r) => r.id));
    expect(load.acked.filter((id) => !present.has(id))).toEqual([]);

    expect(await sigterm(compute)).toBe(0);
    for (const s of storage) expect(await sigterm(s)).toBe(0);
  }, 120_000);
});
