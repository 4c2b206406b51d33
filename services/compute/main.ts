import { type Logger, createLogger } from "../common/observe/log.js";
import { serveMetrics } from "../common/observe/metrics.js";
import { SedimentDatabase } from "./access/sediment-database.js";
import { databaseLog } from "./access/volume-log.js";
import { type ElectionOptions, createElection } from "./election/create-election.js";
import { type Volume, openVolume } from "./log/open-log.js";
import { setAcceptingSql } from "./readiness.js";
import { createSqlSessionFactory } from "./sql/session-factory.js";
import { parseStorageList } from "./storage/cluster.js";
import { WireServer, passwordFromEnv } from "./wire/server.js";

export interface ComputeOptions extends ElectionOptions {
  readonly storage: string;
  readonly host: string;
  readonly port: number;
  readonly metricsPort: number;
  readonly groupCount?: number;
}

const OPEN_RETRY_MS = 100;
/**
 * SIGTERM: how long running statements and open transactions get to finish
 * (WireServer.close); with the sockets' own close grace this stays inside the
 * local supervisor's 5 s before SIGKILL (Kubernetes gives 30 s).
 */
const DRAIN_GRACE_MS = 3_000;
const OPEN_GIVE_UP_MS = 60_000;

/** Storage may still be starting (or a node down): retry the writer change until a quorum answers. */
async function openVolumeRetrying(options: ComputeOptions, log: Logger): Promise<Volume> {
  const storage = parseStorageList(options.storage);
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await openVolume({ storage, groupCount: options.groupCount }, log);
    } catch (error) {
      if (Date.now() - started > OPEN_GIVE_UP_MS) throw error;
      if (attempt === 1 || attempt % 50 === 0) {
        log.warn({ attempt, err: (error as Error).message }, "cannot become the writer yet; retrying");
      }
      await new Promise((resolve) => setTimeout(resolve, OPEN_RETRY_MS));
    }
  }
}

/** Exit code when a newer writer fenced this one: it must not serve again by itself. */
export const EXIT_FENCED = 75;
const FENCED_EXIT_DELAY_MS = 50;
/** Exit code when this process lost the writer election: it stops at once, and may come back as a standby. */
export const EXIT_LOST_ELECTION = 76;

/**
 * `sediment compute`: waits until the writer election picks it (at once with
 * `--election none`), becomes the volume's writer (design section 7: fence,
 * read, choose, truncate, resume), opens the database from its pages, then
 * accepts PostgreSQL connections. Keeps nothing on local disk.
 */
export async function runCompute(options: ComputeOptions): Promise<void> {
  const log = createLogger("compute");
  const password = passwordFromEnv();
  // First, so that /livez answers (and /readyz says why not) while this process waits as a standby and recovers.
  setAcceptingSql("standby: waiting to become the writer");
  if (options.metricsPort > 0) await serveMetrics(options.metricsPort, options.host);
  const election = await createElection(options, log);
  election.onLost((reason) => {
    // No grace period: the margin between our renew deadline and the lease is what keeps us apart from the next writer.
    log.error({ reason }, "lost the writer election: stopping now");
    process.exit(EXIT_LOST_ELECTION);
  });
  await election.campaign();
  setAcceptingSql("starting: becoming the writer");
  const started = performance.now();
  const volume = await openVolumeRetrying(options, log);
  const db = await SedimentDatabase.open(volume.pages, databaseLog(volume));
  const recoveryMs = Math.round((performance.now() - started) * 10) / 10;
  log.info(
    { epoch: volume.change.epoch, truncateLsn: volume.change.plan.truncateLsn, recoveryMs },
    "volume open: writer change done",
  );
  const wire = await WireServer.start({
    host: options.host,
    port: options.port,
    password,
    factory: createSqlSessionFactory(db),
    log,
  });
  void election.serving({ port: wire.port });
  volume.log.onFenced(() => {
    log.error("fenced by a newer writer: stopping");
    // A moment for the failed commits' errors to reach their clients.
    setTimeout(() => process.exit(EXIT_FENCED), FENCED_EXIT_DELAY_MS);
  });
  setAcceptingSql(undefined);
  const stop = async (signal: string) => {
    log.info({ signal }, "stopping");
    setAcceptingSql("shutting down");
    await wire.close({ graceMs: DRAIN_GRACE_MS });
    volume.close();
    await election.release();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
  log.info({ port: wire.port, recoveryMs, election: election.kind }, "compute ready");
}
