import * as grpc from "@grpc/grpc-js";
import { type PageKey, RELFILE_MAX, pageId, pageKey } from "../common/ids.js";
import type { Lsn } from "../common/lsn.js";
import type { Logger } from "../common/observe/log.js";
import { newZeroPage } from "../common/page.js";
import { StatusError, invalidArgument, statusOf, unavailable, wireInt } from "./errors.js";
import { isUndecodable } from "./grpc-guard.js";
import type { Materializer } from "./materializer.js";
import type { StorageMetrics } from "./metrics.js";
import type { StorageNode } from "./node.js";
import { readPageAt } from "./page-reader.js";
import type { GetPageRequest__Output, GetPageResponse } from "./wire.js";

type PageCall = grpc.ServerDuplexStream<GetPageRequest__Output, GetPageResponse>;

const INFLIGHT_PAUSE = 256;
const INFLIGHT_RESUME = 64;
const EMPTY = new Uint8Array(0);
const SHUTTING_DOWN = "the storage node is shutting down";

/**
 * GetPage stream: many requests in flight, each answered on its own (out of
 * order, matched by id). A request the node cannot serve gets its own code
 * (UNAVAILABLE above SCL: ask another replica); the stream goes on.
 */
export class PageService {
  constructor(
    private readonly node: StorageNode,
    private readonly materializer: Materializer,
    private readonly log: Logger,
    private readonly metrics: StorageMetrics,
    private readonly recordsPerImage: number,
  ) {}

  /** Set by drain: streams end once their requests are answered; new requests get UNAVAILABLE at once. */
  private draining = false;
  /** The drain of each open stream (resolves when that stream has ended). */
  private readonly streams = new Set<() => Promise<void>>();

  readonly handler = (call: PageCall): void => {
    let inflight = 0;
    let halfClosed = false;
    let ended = false;
    let onEnded: (() => void) | undefined;
    const drain = (): Promise<void> => {
      // Read on (a paused call whose input is not consumed never closes) and end when answered.
      call.resume();
      const done = new Promise<void>((resolve) => {
        onEnded = resolve;
      });
      finish();
      return ended ? Promise.resolve() : done;
    };
    const end = (): void => {
      ended = true;
      this.streams.delete(drain);
      onEnded?.();
    };
    const finish = (): void => {
      if (inflight !== 0 || ended) return;
      if (halfClosed) {
        end();
        call.end();
      } else if (this.draining) {
        end();
        call.emit("error", { code: grpc.status.UNAVAILABLE, details: SHUTTING_DOWN });
      }
    };
    this.streams.add(drain);
    call.on("data", (request: GetPageRequest__Output) => {
      if (ended) return;
      if (isUndecodable(request)) {
        end();
        call.emit("error", { code: grpc.status.INVALID_ARGUMENT, details: "undecodable GetPage request" });
        return;
      }
      if (this.draining) {
        call.write({ id: request.id, code: grpc.status.UNAVAILABLE, message: SHUTTING_DOWN, page: EMPTY, pageLsn: 0 });
        return;
      }
      if (++inflight === INFLIGHT_PAUSE) call.pause();
      void this.answer(request).then((response) => {
        if (!ended) call.write(response);
        if (--inflight === INFLIGHT_RESUME) call.resume();
        finish();
      });
    });
    call.on("end", () => {
      halfClosed = true;
      finish();
    });
    call.on("cancelled", end);
    call.on("error", end);
    if (this.draining) void drain();
  };

  /**
   * Shutdown: every stream answers the requests it is reading, then ends with
   * UNAVAILABLE (the compute asks another replica); resolves once all ended.
   */
  async drain(): Promise<void> {
    this.draining = true;
    await Promise.all([...this.streams].map((drain) => drain()));
  }

  /** One request's answer; never rejects (errors become the response's code). */
  private async answer(request: GetPageRequest__Output): Promise<GetPageResponse> {
    const end = this.metrics.getPageSeconds.startTimer();
    try {
      const { page, pageLsn } = await this.read(request);
      return { id: request.id, code: grpc.status.OK, message: "", page, pageLsn };
    } catch (err) {
      const status = err instanceof StatusError ? { code: err.code, details: err.message } : statusOf(this.log, err);
      return { id: request.id, code: status.code, message: status.details, page: EMPTY, pageLsn: 0 };
    } finally {
      end();
    }
  }

  private async read(request: GetPageRequest__Output): Promise<{ page: Uint8Array; pageLsn: Lsn }> {
    const lsn = wireInt(request.lsn, "lsn") as Lsn;
    if (request.relfile > RELFILE_MAX) throw invalidArgument(`relfile ${request.relfile} out of range`);
    const id = pageId(request.relfile, request.block);
    const topology = this.node.topology;
    if (topology === null) throw unavailable("this node has no membership yet");
    if (!this.node.truncationCurrent) throw unavailable("this node has not applied the truncation of its epoch");
    const group = topology.groupOf(id);
    if (!topology.hosts(group)) throw unavailable(`group ${group} is not hosted on node ${this.node.self}`);
    const scl = this.node.scl(group)!;
    if (lsn > scl) throw unavailable(`LSN ${lsn} is above SCL ${scl} of group ${group}`);
    if (lsn === 0) return { page: newZeroPage(), pageLsn: 0 as Lsn };
    const key: PageKey = pageKey(id);
    const generation = this.node.generation;
    const version = await readPageAt(this.node.store, key, lsn);
    if (version.applied >= this.recordsPerImage) {
      void this.node
        .storeImage(key, group, version.pageLsn, version.page, generation)
        .then((stored) => stored && this.materializer.noteImage(key, version.applied))
        .catch((err: unknown) => statusOf(this.log, err));
    }
    return { page: version.page, pageLsn: version.pageLsn };
  }
}
