import type * as http2 from "node:http2";
import * as grpc from "@grpc/grpc-js";
import { CHANNEL_OPTIONS, GRPC_MESSAGE_BYTES_MAX, loadStorageProto } from "../../proto/load.js";
import { nodeId as toNodeId } from "../common/ids.js";
import type { Logger } from "../common/observe/log.js";
import { AppendService } from "./append-service.js";
import { controlHandlers } from "./control-service.js";
import { guardDeserializers } from "./grpc-guard.js";
import { MATERIALIZER_DEFAULTS, Materializer, type MaterializerOptions } from "./materializer.js";
import { storageMetrics } from "./metrics.js";
import { StorageNode } from "./node.js";
import { PageService } from "./page-service.js";
import { REPAIR_DEFAULTS, type RepairOptions, Repairer } from "./repair.js";
import { Store } from "./store.js";
import type { StorageHandlers } from "./wire.js";

export interface StorageServerOptions {
  readonly nodeId: number;
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly materializer?: MaterializerOptions;
  readonly repair?: RepairOptions;
}

/**
 * Server options: the message limit (larger messages get RESOURCE_EXHAUSTED
 * from grpc-js before they are buffered) and the keepalive of CHANNEL_OPTIONS.
 * "grpc-node.flow_control_window" is a client-only option in grpc-js, so the
 * server's receive windows are widened by hand (receiveWindows below).
 */
const SERVER_OPTIONS: grpc.ServerOptions = {
  ...CHANNEL_OPTIONS,
  "grpc.max_receive_message_length": GRPC_MESSAGE_BYTES_MAX,
  "grpc.max_send_message_length": GRPC_MESSAGE_BYTES_MAX,
};
const RECEIVE_WINDOW_BYTES = 4 * 1024 * 1024;
/** SIGTERM: how long running calls get to finish before they are cancelled (well inside Kubernetes' 30 s). */
const SHUTDOWN_GRACE_MS = 5_000;

/**
 * Node's HTTP/2 server starts every stream with a 64 KiB receive window, so a
 * multi-MiB batch from the writer would crawl through ~100 window updates.
 * grpc-js does not expose its http2 servers; reach them defensively and widen
 * the window of each new session (a no-op if grpc-js changes its internals).
 */
function widenReceiveWindows(server: grpc.Server, log: Logger): void {
  const internals = (server as unknown as { http2Servers?: Map<http2.Http2Server, unknown> }).http2Servers;
  if (!(internals instanceof Map)) return;
  for (const http2Server of internals.keys()) {
    http2Server.on("session", (session: http2.ServerHttp2Session) => {
      try {
        session.setLocalWindowSize(RECEIVE_WINDOW_BYTES);
        session.settings({ initialWindowSize: RECEIVE_WINDOW_BYTES });
      } catch (err) {
        log.debug({ err }, "could not widen the HTTP/2 receive window");
      }
    });
  }
}

export class StorageServer {
  private stopping = false;

  private constructor(
    readonly port: number,
    readonly node: StorageNode,
    private readonly server: grpc.Server,
    private readonly materializer: Materializer,
    private readonly repairer: Repairer,
    private readonly appends: AppendService,
    private readonly pages: PageService,
  ) {}

  static async start(options: StorageServerOptions, log: Logger): Promise<StorageServer> {
    const metrics = storageMetrics();
    const store = await Store.open(options.dataDir);
    const node = await StorageNode.open(store, toNodeId(options.nodeId), log, metrics);
    const materializerOptions = options.materializer ?? MATERIALIZER_DEFAULTS;
    const materializer = new Materializer(node, log, metrics, materializerOptions);
    const repairer = new Repairer(node, log, options.repair ?? REPAIR_DEFAULTS);
    const appends = new AppendService(node, log);
    const pages = new PageService(node, materializer, log, metrics, materializerOptions.recordsPerImage);
    node.hooks = {
      recordsStored: (p) => materializer.noteRecords(p),
      gap: (g) => repairer.request(g),
      truncated: (p) => materializer.forget(p),
      fenced: (e) => appends.fence(e),
    };
    const handlers: StorageHandlers = {
      AppendLog: appends.handler,
      GetPage: pages.handler,
      ...controlHandlers(node, log),
    };
    const server = new grpc.Server(SERVER_OPTIONS);
    const service = loadStorageProto().sediment.storage.Storage.service;
    server.addService(guardDeserializers(service), handlers);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${options.host}:${options.port}`, grpc.ServerCredentials.createInsecure(), (err, bound) =>
        err ? reject(err) : resolve(bound),
      ),
    );
    widenReceiveWindows(server, log);
    materializer.start();
    for (const g of node.topology?.hosted ?? []) if (node.gap(g) !== undefined) repairer.request(g);
    return new StorageServer(port, node, server, materializer, repairer, appends, pages);
  }

  /**
   * Why the node should not count as ready (Kubernetes readiness, hence the
   * PodDisruptionBudget), or undefined: it serves, and it is complete for
   * every group it hosts, i.e. no hosted group has a known hole below records
   * it holds (a gap that repair has not filled yet). A node that never had a
   * writer hosts no group and is ready.
   */
  notReadyReason(): string | undefined {
    if (this.stopping) return "shutting down";
    for (const g of this.node.topology?.hosted ?? []) {
      const gap = this.node.gap(g);
      if (gap !== undefined) return `group ${g} misses records in (${gap.after}, ${gap.through}]: repair pending`;
    }
    return undefined;
  }

  /**
   * Graceful stop (SIGTERM): refuse new calls, let the running ones finish —
   * appends already read reach their LevelDB write and their ack, pages being
   * read are answered, then each AppendLog and GetPage stream ends with
   * UNAVAILABLE (the writer's streams are long-lived: they would hold the
   * shutdown until the grace ends) — and cancel whatever still runs after
   * SHUTDOWN_GRACE_MS. Then closes LevelDB cleanly.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
      void this.appends.drain();
      void this.pages.drain();
    });
    this.repairer.stop();
    await this.materializer.stop();
    await this.node.close();
  }
}
