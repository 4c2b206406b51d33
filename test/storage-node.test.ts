/**
 * Storage node processes (dist/services/cli.js storage, so run `npm run build`
 * first) driven over raw gRPC: appends and acks, GetPage against pages
 * computed locally with redo, restart, fencing, truncation, ReadLog, bad
 * input, and gap repair between two nodes.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Ack__Output } from "../proto/gen/sediment/storage/Ack.js";
import type { AppendRequest } from "../proto/gen/sediment/storage/AppendRequest.js";
import type { AppendResponse__Output } from "../proto/gen/sediment/storage/AppendResponse.js";
import type { GetPageResponse__Output } from "../proto/gen/sediment/storage/GetPageResponse.js";
import type { GetStateResponse__Output } from "../proto/gen/sediment/storage/GetStateResponse.js";
import type { GetStatusResponse__Output } from "../proto/gen/sediment/storage/GetStatusResponse.js";
import type { Membership } from "../proto/gen/sediment/storage/Membership.js";
import type { ReadLogResponse__Output } from "../proto/gen/sediment/storage/ReadLogResponse.js";
import type { SetEpochResponse__Output } from "../proto/gen/sediment/storage/SetEpochResponse.js";
import type { StorageClient } from "../proto/gen/sediment/storage/Storage.js";
import type { TruncateResponse__Output } from "../proto/gen/sediment/storage/TruncateResponse.js";
import { CHANNEL_OPTIONS, loadStorageProto } from "../proto/load.js";
import { encodeHeapTuple } from "../services/common/heap-page.js";
import { type PageId, pageId, pageKey } from "../services/common/ids.js";
import { PageKind, newZeroPage } from "../services/common/page.js";
import { groupOf } from "../services/common/placement.js";
import { type LogRecord, RecordKind, encodeRecords } from "../services/common/record.js";
import { heapInsertPayload, pageInitPayload, redo } from "../services/common/redo.js";

const CLI = join(import.meta.dirname, "..", "dist", "services", "cli.js");
const GROUPS = 4;

// ---------------------------------------------------------------- processes

interface NodeProcess {
  readonly id: number;
  readonly dir: string;
  readonly port: number;
  /** The /metrics, /livez, /readyz port, if the node was started with one. */
  readonly metricsPort?: number;
  child: ChildProcess;
  output: string;
}

const processes: NodeProcess[] = [];
const dirs: string[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

function launch(node: NodeProcess): Promise<void> {
  const args = [CLI, "storage", "--node-id", String(node.id), "--data-dir", node.dir, "--port", String(node.port)];
  if (node.metricsPort !== undefined) args.push("--metrics-port", String(node.metricsPort));
  node.child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  node.output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node ${node.id} did not start:\n${node.output}`)), 10_000);
    const onData = (chunk: Buffer): void => {
      node.output += chunk.toString();
      if (node.output.includes('"msg":"storage node listening"')) {
        clearTimeout(timer);
        resolve();
      }
    };
    node.child.stdout!.on("data", onData);
    node.child.stderr!.on("data", onData);
    node.child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`node ${node.id} exited with ${code}:\n${node.output}`));
    });
  });
}

async function startNode(id: number, options: { metrics?: boolean } = {}): Promise<NodeProcess> {
  const dir = mkdtempSync(join(tmpdir(), `sediment-storage-${id}-`));
  dirs.push(dir);
  const node: NodeProcess = {
    id,
    dir,
    port: await freePort(),
    metricsPort: options.metrics ? await freePort() : undefined,
    child: undefined as unknown as ChildProcess,
    output: "",
  };
  processes.push(node);
  await launch(node);
  return node;
}

function kill(node: NodeProcess, signal: NodeJS.Signals): Promise<number | null> {
  return new Promise((resolve) => {
    if (node.child.exitCode !== null) resolve(node.child.exitCode);
    node.child.removeAllListeners("exit");
    node.child.once("exit", (code) => resolve(code));
    node.child.kill(signal);
  });
}

afterAll(async () => {
  for (const p of processes) if (process.env.SHOW_NODE_OUTPUT) console.log(p.output);
  for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) await kill(p, "SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// ---------------------------------------------------------------- gRPC helpers

const Storage = loadStorageProto().sediment.storage.Storage;

function connect(node: NodeProcess, options: grpc.ChannelOptions = CHANNEL_OPTIONS): StorageClient {
  return new Storage(`127.0.0.1:${node.port}`, grpc.credentials.createInsecure(), options);
}

function unary<Res>(start: (options: grpc.CallOptions, callback: grpc.requestCallback<Res>) => unknown): Promise<Res> {
  return new Promise((resolve, reject) =>
    start({ deadline: Date.now() + 10_000 }, (err, res) => (err ? reject(err) : resolve(res!))),
  );
}

const status = (c: StorageClient) => unary<GetStatusResponse__Output>((o, cb) => c.GetStatus({}, o, cb));
const setEpoch = (c: StorageClient, epoch: number) =>
  unary<SetEpochResponse__Output>((o, cb) => c.SetEpoch({ epoch }, o, cb));
const getState = (c: StorageClient, epoch: number) =>
  unary<GetStateResponse__Output>((o, cb) => c.GetState({ epoch }, o, cb));
const truncate = (c: StorageClient, epoch: number, truncateLsn: number) =>
  unary<TruncateResponse__Output>((o, cb) => c.Truncate({ epoch, truncateLsn }, o, cb));
const readLog = (c: StorageClient, epoch: number, group: number, afterLsn: number, throughLsn: number, maxBytes = 0) =>
  unary<ReadLogResponse__Output>((o, cb) => c.ReadLog({ epoch, group, afterLsn, throughLsn, maxBytes }, o, cb));

async function expectCode(promise: Promise<unknown>, code: grpc.status): Promise<void> {
  await expect(promise).rejects.toMatchObject({ code });
}

/** One AppendLog stream: send Hello/Batches, await acks in order, or the status that ended it. */
class AppendStream {
  private readonly call: grpc.ClientDuplexStream<AppendRequest, AppendResponse__Output>;
  private readonly acks: Ack__Output[] = [];
  private readonly waiters: { resolve: (a: Ack__Output) => void; reject: (e: unknown) => void }[] = [];
  private failure: grpc.ServiceError | undefined;

  constructor(client: StorageClient) {
    this.call = client.AppendLog();
    this.call.on("data", (r: AppendResponse__Output) => {
      const w = this.waiters.shift();
      if (w) w.resolve(r.ack!);
      else this.acks.push(r.ack!);
    });
    this.call.on("error", (err: grpc.ServiceError) => {
      this.failure = err;
      for (const w of this.waiters.splice(0)) w.reject(err);
    });
  }

  hello(epoch: number, truncateLsn: number, membership: Membership): this {
    this.call.write({ hello: { epoch, truncateLsn, membership, writerId: 1 } });
    return this;
  }

  batch(epoch: number, from: number, to: number, records: Uint8Array, vdl = to): this {
    this.call.write({ batch: { epoch, prevThroughLsn: from, throughLsn: to, vdl, records } });
    return this;
  }

  raw(request: AppendRequest): this {
    this.call.write(request);
    return this;
  }

  next(): Promise<Ack__Output> {
    const ack = this.acks.shift();
    if (ack) return Promise.resolve(ack);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** The status that ends the stream (acks still queued are skipped). */
  async failed(): Promise<grpc.ServiceError> {
    for (;;) {
      try {
        await this.next();
      } catch (err) {
        return err as grpc.ServiceError;
      }
    }
  }

  close(): void {
    this.call.end();
  }
}

function getPages(
  client: StorageClient,
  requests: { page: PageId; lsn: number }[],
): Promise<GetPageResponse__Output[]> {
  return new Promise((resolve, reject) => {
    const stream = client.GetPage();
    const out: GetPageResponse__Output[] = [];
    stream.on("data", (r: GetPageResponse__Output) => out.push(r));
    stream.on("error", reject);
    stream.on("end", () => resolve(out.sort((a, b) => a.id - b.id)));
    requests.forEach((r, id) => {
      stream.write({ id, relfile: r.page.relfile, block: r.page.block, lsn: r.lsn });
    });
    stream.end();
  });
}

function sclsOf(ack: { groups: number[]; scls: number[] }): Map<number, number> {
  return new Map(ack.groups.map((g, i) => [g, ack.scls[i]!]));
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---------------------------------------------------------------- a writer's log, computed locally

/** Builds records the way the writer does (LSNs, back-links) and keeps every page version by redo. */
class LogBuilder {
  lsn = 0;
  readonly records: LogRecord[] = [];
  private readonly lastOfGroup = new Map<number, number>();
  private readonly versions = new Map<number, { lsn: number; page: Uint8Array }[]>();

  private current(page: PageId): { lsn: number; page: Uint8Array } | undefined {
    const v = this.versions.get(pageKey(page));
    return v?.[v.length - 1];
  }

  add(page: PageId, kind: RecordKind, payload: Uint8Array): LogRecord {
    const group = groupOf(page, GROUPS);
    const cur = this.current(page);
    this.lsn += 1 + (this.records.length % 3); // LSNs with holes, like a writer spreading over nodes
    const record: LogRecord = {
      lsn: this.lsn as LogRecord["lsn"],
      pageId: page,
      prevLsnOfPage: (cur?.lsn ?? 0) as LogRecord["lsn"],
      prevLsnOfGroup: (this.lastOfGroup.get(group) ?? 0) as LogRecord["lsn"],
      kind,
      endsMtr: true,
      payload,
    };
    this.lastOfGroup.set(group, record.lsn);
    this.records.push(record);
    const versions = this.versions.get(pageKey(page)) ?? [];
    versions.push({ lsn: record.lsn, page: redo(cur?.page ?? null, record) });
    this.versions.set(pageKey(page), versions);
    return record;
  }

  init(page: PageId): LogRecord {
    return this.add(page, RecordKind.PageInit, pageInitPayload(PageKind.Heap));
  }

  insert(page: PageId, text: string): LogRecord {
    const slot = this.slots(page);
    const tuple = encodeHeapTuple(
      { xmin: 1 as never, xmax: 0 as never, cid: 0, infomask: 0, natts: 1 },
      Buffer.from(text),
    );
    return this.add(page, RecordKind.HeapInsert, heapInsertPayload(slot, tuple));
  }

  private slots(page: PageId): number {
    return this.records.filter((r) => pageKey(r.pageId) === pageKey(page) && r.kind === RecordKind.HeapInsert).length;
  }

  /** Encoded records in (from, to], optionally only one group's. */
  encoded(from: number, to: number, group?: number): Uint8Array {
    return encodeRecords(
      this.records.filter(
        (r) => r.lsn > from && r.lsn <= to && (group === undefined || groupOf(r.pageId, GROUPS) === group),
      ),
    );
  }

  pageAt(page: PageId, lsn: number): { page: Uint8Array; lsn: number } {
    const versions = (this.versions.get(pageKey(page)) ?? []).filter((v) => v.lsn <= lsn);
    const v = versions[versions.length - 1];
    return v === undefined ? { page: newZeroPage(), lsn: 0 } : v;
  }

  /** A writer change truncated at t: forget everything above it (LSNs are never reused). */
  truncate(t: number): void {
    this.records.splice(this.records.findIndex((r) => r.lsn > t) >>> 0);
    this.lastOfGroup.clear();
    for (const r of this.records) this.lastOfGroup.set(groupOf(r.pageId, GROUPS), r.lsn);
    for (const [k, v] of this.versions) {
      this.versions.set(
        k,
        v.filter((x) => x.lsn <= t),
      );
    }
  }
}

function membershipOf(nodes: NodeProcess[]): Membership {
  return {
    nodes: nodes.map((n) => ({ nodeId: n.id, address: `127.0.0.1:${n.port}` })),
    groupCount: GROUPS,
    replicaCount: nodes.length,
    writeQuorum: Math.floor(nodes.length / 2) + 1,
  };
}

async function expectPages(client: StorageClient, log: LogBuilder, pages: PageId[], lsns: number[]): Promise<void> {
  const requests = pages.flatMap((page) => lsns.map((lsn) => ({ page, lsn })));
  const responses = await getPages(client, requests);
  expect(responses).toHaveLength(requests.length);
  responses.forEach((r, i) => {
    const { page, lsn } = requests[i]!;
    const want = log.pageAt(page, lsn);
    expect({ code: r.code, message: r.message, pageLsn: r.pageLsn }).toEqual({
      code: 0,
      message: "",
      pageLsn: want.lsn,
    });
    expect(Buffer.from(r.page).equals(Buffer.from(want.page)), `page ${page.relfile}/${page.block} at ${lsn}`).toBe(
      true,
    );
  });
}

// ---------------------------------------------------------------- one node

describe("storage node", () => {
  let node: NodeProcess;
  let client: StorageClient;
  const log = new LogBuilder();
  const pages = [0, 1, 2, 3, 4, 5].map((i) => pageId(5000 + i, i));
  const hot = pages[0]!;
  let membership: Membership;
  let t1 = 0;
  let t2 = 0;

  beforeAll(async () => {
    node = await startNode(0);
    client = connect(node);
    membership = membershipOf([node]);
  });

  it("acknowledges a Hello with its SCLs, then batches with SCLs at T", async () => {
    const s = new AppendStream(client).hello(1, 0, membership);
    const hello = await s.next();
    expect(hello.throughLsn).toBe(0);
    expect([...hello.groups].sort()).toEqual([0, 1, 2, 3]);
    expect(hello.scls).toEqual([0, 0, 0, 0]);
    for (const p of pages) log.init(p);
    for (let i = 0; i < 40; i++) log.insert(hot, `hot row ${i}`);
    for (const p of pages.slice(1)) for (let i = 0; i < 3; i++) log.insert(p, `row ${i} of ${p.relfile}`);
    t1 = log.lsn + 2; // an idle tail: SCLs move to T all the same
    s.batch(1, 0, t1, log.encoded(0, t1));
    const ack = await s.next();
    expect(ack.throughLsn).toBe(t1);
    expect([...sclsOf(ack).values()]).toEqual([t1, t1, t1, t1]);
    log.lsn = t1; // the writer's next LSN is above every T it sent
    // Pipelined batches: acks come back in order (group commit on the node).
    const cuts: number[] = [];
    for (let i = 0; i < 20; i++) {
      const from = cuts[cuts.length - 1] ?? t1;
      log.insert(pages[1 + (i % 5)]!, `late ${i}`);
      cuts.push(log.lsn);
      s.batch(1, from, log.lsn, log.encoded(from, log.lsn));
    }
    for (const cut of cuts) expect((await s.next()).throughLsn).toBe(cut);
    t2 = log.lsn;
    s.close();
  });

  it("serves every page at several LSNs exactly as redo computes it", async () => {
    const lsns = [0, 1, 3, 10, 25, 40, t1 - 3, t1, Math.floor((t1 + t2) / 2), t2];
    await expectPages(client, log, pages, lsns);
    await expectPages(client, log, [pageId(77, 7)], [t2]); // never written: zeros at LSN 0
    // Above SCL: that request alone is UNAVAILABLE.
    const [above, fine] = await getPages(client, [
      { page: hot, lsn: t2 + 1 },
      { page: hot, lsn: t2 },
    ]);
    expect(above!.code).toBe(grpc.status.UNAVAILABLE);
    expect(fine!.code).toBe(0);
  });

  it("materializes images in the background without changing what is served", async () => {
    await waitFor("an image", async () => (await status(client)).imagesStored > 0);
    await expectPages(client, log, [hot], [5, 20, 30, t1, t2]);
  });

  it("skips resent records and reports them in ReadLog and GetState", async () => {
    const before = await status(client);
    const s = new AppendStream(client).hello(1, 0, membership);
    await s.next();
    s.batch(1, 0, t2, log.encoded(0, t2), t1);
    expect((await s.next()).throughLsn).toBe(t2);
    s.close();
    const after = await status(client);
    expect(after.recordsStored).toBe(before.recordsStored);
    expect(after.vdlHint).toBe(t2);
    for (let g = 0; g < GROUPS; g++) {
      const r = await readLog(client, 1, g, 0, t2, 0);
      expect(Buffer.from(r.records).equals(Buffer.from(log.encoded(0, t2, g))), `group ${g}`).toBe(true);
      expect(r.more).toBe(false);
      expect(r.scl).toBe(t2);
    }
    const g0 = groupOf(hot, GROUPS);
    const page1 = await readLog(client, 1, g0, 0, t2, 500);
    expect(page1.more).toBe(true);
    expect(page1.records.length).toBeLessThanOrEqual(500);
  });

  it("refuses malformed input with INVALID_ARGUMENT and keeps serving", async () => {
    const garbage = new AppendStream(client).hello(1, 0, membership);
    await garbage.next();
    garbage.batch(1, t2, t2 + 5, Buffer.from("definitely not a record, just some bytes here!"));
    expect((await garbage.failed()).code).toBe(grpc.status.INVALID_ARGUMENT);
    const outOfRange = new AppendStream(client).hello(1, 0, membership);
    await outOfRange.next();
    outOfRange.batch(1, t2 + 10, t2 + 20, log.encoded(0, 10));
    expect((await outOfRange.failed()).code).toBe(grpc.status.INVALID_ARGUMENT);
    const noHello = new AppendStream(client).batch(1, 0, 1, new Uint8Array());
    expect((await noHello.failed()).code).toBe(grpc.status.FAILED_PRECONDITION);
    const badMembership = new AppendStream(client).hello(1, 0, { ...membership, writeQuorum: 0 });
    expect((await badMembership.failed()).code).toBe(grpc.status.INVALID_ARGUMENT);
    const raw = await new Promise<grpc.ServiceError | null>((resolve) =>
      client.makeUnaryRequest(
        "/sediment.storage.Storage/SetEpoch",
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from([0xff, 0xff, 0xff]),
        (err) => resolve(err),
      ),
    );
    expect(raw?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect((await status(client)).epoch).toBe(1);
  });

  it("refuses a message over 8 MiB with RESOURCE_EXHAUSTED and keeps serving", async () => {
    const big = connect(node, { ...CHANNEL_OPTIONS, "grpc.max_send_message_length": 32 * 1024 * 1024 });
    const s = new AppendStream(big).hello(1, 0, membership);
    await s.next();
    s.batch(1, t2, t2 + 1, new Uint8Array(9 * 1024 * 1024));
    expect((await s.failed()).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    big.close();
    // A large answer (~1 MiB) goes the other way fine.
    const s2 = new AppendStream(client).hello(1, 0, membership);
    await s2.next();
    const from = log.lsn;
    const wide = pageId(6000, 0);
    log.init(wide);
    for (let i = 0; i < 60; i++) log.insert(wide, `${i}:${"x".repeat(40)}`);
    for (let b = 1; b < 130; b++) {
      const p = pageId(6000, b);
      log.init(p);
      log.insert(p, "y".repeat(7500));
    }
    s2.batch(1, t2, log.lsn, log.encoded(t2, log.lsn));
    expect((await s2.next()).throughLsn).toBe(log.lsn);
    s2.close();
    t2 = log.lsn;
    const g = groupOf(wide, GROUPS);
    const r = await readLog(client, 1, g, from, t2, 0);
    expect(r.records.length).toBeGreaterThan(900_000);
    expect(Buffer.from(r.records).equals(Buffer.from(log.encoded(from, t2, g)))).toBe(true);
    await expectPages(client, log, [wide, pageId(6000, 64)], [t2]);
  });

  it("keeps everything acknowledged across a SIGKILL", async () => {
    const before = await status(client);
    await kill(node, "SIGKILL");
    client.close();
    await launch(node);
    client = connect(node);
    const after = await status(client);
    expect({ ...after, imagesStored: 0 }).toEqual({ ...before, imagesStored: 0 });
    await expectPages(client, log, pages, [t1, t2]);
  });

  it("fences older writers, truncates above T, and takes a new writer's appends", async () => {
    const old = new AppendStream(client).hello(1, 0, membership);
    await old.next();
    const t = log.records[30]!.lsn; // inside the hot page's history: its images above t must go
    await setEpoch(client, 2);
    expect((await old.failed()).code).toBe(grpc.status.FAILED_PRECONDITION);
    await expectCode(setEpoch(client, 2), grpc.status.FAILED_PRECONDITION);
    const stale = new AppendStream(client).hello(1, 0, membership);
    expect((await stale.failed()).code).toBe(grpc.status.FAILED_PRECONDITION);
    const state = await getState(client, 2);
    expect(state).toMatchObject({ epoch: 2, truncateEpoch: 1, maxLsnSeen: t2, vdlHint: t2 });
    // Fenced but not truncated: pages are not served, a peer of an older epoch gets UNAVAILABLE.
    expect((await getPages(client, [{ page: hot, lsn: t1 }]))[0]!.code).toBe(grpc.status.UNAVAILABLE);
    await expectCode(readLog(client, 1, 0, 0, t2, 0), grpc.status.UNAVAILABLE);
    await expectCode(truncate(client, 3, t), grpc.status.FAILED_PRECONDITION);
    const imagesBefore = (await status(client)).imagesStored;
    await truncate(client, 2, t);
    await truncate(client, 2, t); // idempotent
    log.truncate(t);
    const after = await status(client);
    expect(after.scls).toEqual([t, t, t, t]);
    expect(after.imagesStored).toBeLessThan(imagesBefore); // the hot page's images above t are gone
    for (let g = 0; g < GROUPS; g++) {
      const r = await readLog(client, 2, g, 0, t2, 0);
      expect(Buffer.from(r.records).equals(Buffer.from(log.encoded(0, t2, g)))).toBe(true);
    }
    // The new writer resumes above every LSN ever seen, linked to what survived.
    log.lsn = t2 + 10;
    for (let i = 0; i < 20; i++) log.insert(hot, `epoch 2 row ${i}`);
    const s = new AppendStream(client).hello(2, t, membership);
    expect(sclsOf(await s.next()).get(groupOf(hot, GROUPS))).toBe(t);
    s.batch(2, t, log.lsn, log.encoded(t, log.lsn), t);
    expect((await s.next()).throughLsn).toBe(log.lsn);
    const g = groupOf(hot, GROUPS);
    const view = (await getState(client, 2)).groups.find((x) => x.group === g)!;
    const ofGroup = log.records.filter((r) => groupOf(r.pageId, GROUPS) === g);
    expect(view.above.map((h) => h.lsn)).toEqual(ofGroup.filter((r) => r.lsn > t).map((r) => r.lsn));
    expect(view.above[0]).toMatchObject({ prevLsnOfGroup: view.lastLsnAtOrBelowHint, endsMtr: true });
    expect(view.lastLsnAtOrBelowHint).toBe(ofGroup.filter((r) => r.lsn <= t).pop()!.lsn);
    s.batch(1, log.lsn, log.lsn + 1, new Uint8Array());
    expect((await s.failed()).code).toBe(grpc.status.FAILED_PRECONDITION);
    await expectPages(client, log, [hot], [t, log.lsn]);
    await kill(node, "SIGKILL");
    client.close();
    await launch(node);
    client = connect(node);
    expect(await getState(client, 2)).toMatchObject({ epoch: 2, truncateEpoch: 2, truncateLsn: t });
    await expectPages(client, log, [hot, ...pages.slice(1)], [t, log.lsn]);
  });

  it("exits 0 on SIGTERM", async () => {
    client.close();
    expect(await kill(node, "SIGTERM")).toBe(0);
  });
});

// ---------------------------------------------------------------- two nodes: gap repair

describe("gap repair between storage nodes", () => {
  it("fills a batch a node missed from its peer with ReadLog", async () => {
    const a = await startNode(0);
    const b = await startNode(1);
    const membership = membershipOf([a, b]);
    const [ca, cb] = [connect(a), connect(b)];
    const log = new LogBuilder();
    const pages = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => pageId(7000 + i, 0));
    for (const p of pages) log.init(p);
    const t1 = log.lsn;
    for (const p of pages) log.insert(p, "missed by a");
    const t2 = log.lsn;
    for (const p of pages) log.insert(p, "after the gap");
    const t3 = log.lsn;
    const sa = new AppendStream(ca).hello(1, 0, membership);
    const sb = new AppendStream(cb).hello(1, 0, membership);
    await Promise.all([sa.next(), sb.next()]);
    sa.batch(1, 0, t1, log.encoded(0, t1));
    sb.batch(1, 0, t1, log.encoded(0, t1)).batch(1, t1, t2, log.encoded(t1, t2));
    await sa.next();
    await sb.next();
    expect((await sb.next()).throughLsn).toBe(t2);
    sa.close();
    // A reconnects from T2: it never got (T1, T2].
    const sa2 = new AppendStream(ca).hello(1, 0, membership);
    await sa2.next();
    sa2.batch(1, t2, t3, log.encoded(t2, t3));
    const ack = await sa2.next();
    expect(Math.min(...ack.scls)).toBeLessThan(t3);
    await waitFor("A to repair its gap", async () => (await status(ca)).scls.every((scl) => scl === t3));
    await expectPages(ca, log, pages, [t1, t2, t3]);
    for (let g = 0; g < GROUPS; g++) {
      const r = await readLog(ca, 1, g, 0, t3, 0);
      expect(Buffer.from(r.records).equals(Buffer.from(log.encoded(0, t3, g)))).toBe(true);
    }
    sa2.close();
    sb.close();
    // B was away during a writer change: the new writer's Hello brings the epoch and T, applied first.
    const sb2 = new AppendStream(cb).hello(2, t1, membership);
    expect((await sb2.next()).scls).toEqual([t1, t1, t1, t1]);
    expect(await getState(cb, 2)).toMatchObject({ epoch: 2, truncateEpoch: 2, truncateLsn: t1 });
    for (let g = 0; g < GROUPS; g++) {
      const r = await readLog(cb, 2, g, 0, t3);
      expect(Buffer.from(r.records).equals(Buffer.from(log.encoded(0, t1, g)))).toBe(true);
      const older = await readLog(cb, 1, g, 0, t3); // an older caller learns the epoch and T with the answer
      expect(older).toMatchObject({ epoch: 2, truncateEpoch: 2, truncateLsn: t1 });
    }
    await expectCode(readLog(ca, 2, 0, 0, t3), grpc.status.FAILED_PRECONDITION); // A is still at epoch 1
    sb2.close();
    ca.close();
    cb.close();
  });

  it("is not ready (/readyz 503) while a gap waits for repair, and ready once it is filled", async () => {
    const a = await startNode(0, { metrics: true });
    // Its only peer does not run: the gap cannot be repaired from it.
    const absent: NodeProcess = { id: 1, dir: "", port: await freePort(), child: a.child, output: "" };
    const membership = membershipOf([a, absent]);
    const readyz = async () => {
      const res = await fetch(`http://127.0.0.1:${a.metricsPort}/readyz`);
      return { status: res.status, body: await res.text() };
    };
    expect(await readyz()).toEqual({ status: 200, body: "ok\n" }); // no writer yet: no group, nothing missing
    const ca = connect(a);
    const log = new LogBuilder();
    const pages = [0, 1, 2, 3].map((i) => pageId(7100 + i, 0));
    for (const p of pages) log.init(p);
    const t1 = log.lsn;
    for (const p of pages) log.insert(p, "missed");
    const t2 = log.lsn;
    for (const p of pages) log.insert(p, "after the gap");
    const t3 = log.lsn;
    const s1 = new AppendStream(ca).hello(1, 0, membership);
    await s1.next();
    s1.batch(1, 0, t1, log.encoded(0, t1));
    await s1.next();
    s1.close();
    const s2 = new AppendStream(ca).hello(1, 0, membership);
    await s2.next();
    s2.batch(1, t2, t3, log.encoded(t2, t3));
    await s2.next();
    const notReady = await readyz();
    expect(notReady.status).toBe(503);
    expect(notReady.body).toMatch(/^not ready: complete: group \d+ misses records in \(\d+, \d+\]: repair pending\n$/);
    s2.close();
    // The writer resends what the node missed: complete again, ready again.
    const s3 = new AppendStream(ca).hello(1, 0, membership);
    await s3.next();
    s3.batch(1, t1, t2, log.encoded(t1, t2));
    await s3.next();
    await waitFor("/readyz 200", async () => (await readyz()).status === 200);
    s3.close();
    ca.close();
  });
});
