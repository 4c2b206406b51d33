import type * as grpc from "@grpc/grpc-js";
import { Histogram } from "prom-client";
import type { GetPageRequest } from "../../../proto/gen/sediment/storage/GetPageRequest.js";
import type { GetPageResponse__Output } from "../../../proto/gen/sediment/storage/GetPageResponse.js";
import type { GroupId, NodeId, PageId } from "../../common/ids.js";
import type { Lsn } from "../../common/lsn.js";
import { registry } from "../../common/observe/metrics.js";
import { PAGE_SIZE_BYTES } from "../../common/page.js";
import { groupOf } from "../../common/placement.js";
import type { StorageCluster } from "./cluster.js";

export interface PageImage {
  readonly page: Uint8Array;
  readonly pageLsn: Lsn;
}

export class PageReadError extends Error {
  override name = "PageReadError";
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

const getPageSeconds = new Histogram({
  name: "sediment_compute_getpage_seconds",
  help: "GetPage round trip seen by compute",
  buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25],
  registers: [registry],
});

const REQUEST_TIMEOUT_MS = 5_000;

interface Pending {
  readonly resolve: (image: PageImage) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** One GetPage bidi stream to one node, many requests in flight matched by id. */
class PageStream {
  private call: grpc.ClientDuplexStream<GetPageRequest, GetPageResponse__Output> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly open: () => grpc.ClientDuplexStream<GetPageRequest, GetPageResponse__Output>) {}

  request(page: PageId, lsn: Lsn): Promise<PageImage> {
    const call = this.ensure();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new PageReadError(`GetPage ${page.relfile}/${page.block} timed out`, 4));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      call.write({ id, relfile: page.relfile, block: page.block, lsn });
    });
  }

  private ensure(): grpc.ClientDuplexStream<GetPageRequest, GetPageResponse__Output> {
    if (this.call !== undefined) return this.call;
    const call = this.open();
    this.call = call;
    call.on("data", (res: GetPageResponse__Output) => {
      const p = this.pending.get(res.id);
      if (p === undefined) return;
      this.pending.delete(res.id);
      clearTimeout(p.timer);
      if (res.code !== 0) p.reject(new PageReadError(res.message, res.code));
      else if (res.page.length !== PAGE_SIZE_BYTES) p.reject(new PageReadError("GetPage returned a bad page", 13));
      else p.resolve({ page: new Uint8Array(res.page), pageLsn: res.pageLsn as Lsn });
    });
    const fail = (error: Error) => {
      if (this.call !== call) return;
      this.call = undefined;
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new PageReadError(error.message, (error as grpc.ServiceError).code ?? 14));
      }
      this.pending.clear();
    };
    call.on("error", fail);
    call.on("end", () => fail(new Error("GetPage stream ended")));
    return call;
  }

  close(): void {
    this.call?.cancel();
    this.call = undefined;
  }
}

/** Passes over the replicas before a page read fails. */
const READ_ROUNDS = 3;

/**
 * Reads pages at an LSN from a replica that holds them (invariant 6: no
 * quorum read): the caller says which replicas' SCLs cover the read point.
 */
export class PageClient {
  private readonly streams = new Map<NodeId, PageStream>();

  constructor(private readonly cluster: StorageCluster) {
    for (const { node } of cluster.nodes) {
      const client = cluster.client(node);
      this.streams.set(node, new PageStream(() => client.GetPage()));
    }
  }

  /**
   * `sclOf(node, group)` is what the writer knows of each replica's SCL; a
   * replica below `lsn` is tried last (it may have caught up since).
   */
  async getPage(page: PageId, lsn: Lsn, sclOf: (node: NodeId, group: GroupId) => Lsn): Promise<PageImage> {
    const group = groupOf(page, this.cluster.placement.config.groupCount);
    const replicas = [...this.cluster.placement.replicas[group]!].sort(
      (a, b) => Number(sclOf(b, group) >= lsn) - Number(sclOf(a, group) >= lsn),
    );
    const started = performance.now();
    let lastError: Error | undefined;
    // Every replica's stream can drop at once (the connection was reset):
    // the streams reopen, so a few rounds with a pause cover it.
    for (let round = 0; round < READ_ROUNDS; round++) {
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
      for (const node of replicas) {
        try {
          const image = await this.streams.get(node)!.request(page, lsn);
          getPageSeconds.observe((performance.now() - started) / 1000);
          return image;
        } catch (error) {
          lastError = error as Error;
        }
      }
    }
    throw lastError ?? new PageReadError("no replica", 14);
  }

  close(): void {
    for (const s of this.streams.values()) s.close();
  }
}
