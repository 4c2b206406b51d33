import { epoch as toEpoch } from "../common/ids.js";
import type { Lsn } from "../common/lsn.js";
import type { Logger } from "../common/observe/log.js";
import { wireInt } from "./errors.js";
import { unary } from "./grpc-guard.js";
import { getState, readLog } from "./log-reader.js";
import type { StorageNode } from "./node.js";
import type {
  GetStateRequest__Output,
  GetStateResponse,
  GetStatusRequest__Output,
  GetStatusResponse,
  ReadLogRequest__Output,
  ReadLogResponse,
  SetEpochRequest__Output,
  SetEpochResponse,
  TruncateRequest__Output,
  TruncateResponse,
} from "./wire.js";

/** The unary calls of the writer change (design section 7), peer repair and `sediment status`. */
export function controlHandlers(node: StorageNode, log: Logger) {
  return {
    SetEpoch: unary<SetEpochRequest__Output, SetEpochResponse>(log, async (request) => {
      const epoch = toEpoch(wireInt(request.epoch, "epoch"));
      await node.setEpoch(epoch);
      return { epoch };
    }),
    GetState: unary<GetStateRequest__Output, GetStateResponse>(log, (request) =>
      getState(node, wireInt(request.epoch, "epoch")),
    ),
    Truncate: unary<TruncateRequest__Output, TruncateResponse>(log, async (request) => {
      const epoch = toEpoch(wireInt(request.epoch, "epoch"));
      await node.truncate(epoch, wireInt(request.truncateLsn, "truncate_lsn") as Lsn);
      log.info({ node: node.self, epoch, lsn: request.truncateLsn }, "truncate");
      return { epoch };
    }),
    ReadLog: unary<ReadLogRequest__Output, ReadLogResponse>(log, (request) => readLog(node, request)),
    GetStatus: unary<GetStatusRequest__Output, GetStatusResponse>(log, async () => {
      const groups = node.topology?.hosted ?? [];
      return {
        nodeId: node.self,
        epoch: node.meta.epoch,
        vdlHint: node.vdlHint,
        maxLsnSeen: node.maxLsnSeen,
        groups: [...groups],
        scls: groups.map((g) => node.scl(g) ?? 0),
        recordsStored: node.recordsStored,
        imagesStored: node.imagesStored,
      };
    }),
  };
}
