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

  readonly handler = (call: PageCall): void => {
    let inflight = 0;
    let halfClosed = false;
    let ended = false;
    const finish = (): void => {
      if (halfClosed && inflight === 0 && !ended) {
        ended = true;
        call.end();
      }
    };
    call.on("data", (request: GetPageRequest__Output) => {
      if (ended) return;
      if (isUndecodable(request)) {
        ended = true;
        call.emit("error", { code: grpc.status.INVALID_ARGUMENT, details: "undecodable GetPage request" });
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
    call.on("cancelled", () => {
      ended = true;
    });
    call.on("error", () => {
      ended = true;
    });
  };

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
