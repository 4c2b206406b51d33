import { createLogger } from "../common/observe/log.js";
import { banner } from "./banner.js";
import { startLocalCluster } from "./supervisor.js";

const READY_TIMEOUT_MS = 30_000;

/**
 * `sediment local`: runs the local cluster in the foreground until SIGINT,
 * SIGTERM or SIGHUP. pino JSON events go to stdout like every Sediment
 * process; the banner and one-line notices go to stderr. Never reads stdin,
 * so it runs fine without a terminal (`setsid ... &`).
 */
export async function runLocal(opts: { dataDir: string; port: number }): Promise<void> {
  const say = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  const log = createLogger("local");
  let cluster: Awaited<ReturnType<typeof startLocalCluster>>;
  try {
    cluster = await startLocalCluster({ dataDir: opts.dataDir, port: opts.port, log, say });
  } catch (err) {
    say(`sediment local: ${(err as Error).message}`);
    process.exit(1);
  }

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      say(`${signal} again: killing every child now`);
      cluster.kill();
      return;
    }
    say(`${signal}: stopping the local cluster`);
    log.info({ signal }, "stopping");
    cluster.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, "stop failed");
        process.exit(1);
      },
    );
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, onSignal);
  // A supervisor bug must not leave orphans: children get SIGTERM and shut down on their own.
  const onFatal = (err: unknown): void => {
    log.fatal({ err }, "supervisor crashed; sending SIGTERM to every child");
    cluster.kill("SIGTERM");
    process.exit(1);
  };
  process.on("uncaughtException", onFatal);
  process.on("unhandledRejection", onFatal);

  say(banner(cluster));
  const ready = await cluster.waitReady(READY_TIMEOUT_MS);
  if (signals > 0) return;
  if (ready) say("ready: every node accepts connections");
  else say(`not ready after ${READY_TIMEOUT_MS / 1000} s: see the logs in ${cluster.dataDir}/logs`);
}
