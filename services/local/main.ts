import { createLogger } from "../common/observe/log.js";
import { banner } from "./banner.js";
import { startLocalCluster } from "./supervisor.js";

const READY_TIMEOUT_MS = 30_000;
/** Exit even if stopping hangs: children get SIGKILL after their 5 s grace, so this is only a backstop. */
const STOP_DEADLINE_MS = 15_000;

/**
 * `sediment local`: runs the local cluster in the foreground until SIGINT,
 * SIGTERM or SIGHUP. pino JSON events go to stdout like every Sediment
 * process; the banner and one-line notices go to stderr. Never reads stdin,
 * so it runs fine without a terminal (`setsid ... &`).
 */
export async function runLocal(opts: {
  dataDir: string;
  port: number;
  compute: boolean;
  computes?: number;
}): Promise<void> {
  // Whoever reads our output may go away (`| head`, a closed terminal): keep supervising regardless.
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});
  const say = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  const log = createLogger("local");
  let cluster: Awaited<ReturnType<typeof startLocalCluster>>;
  try {
    cluster = await startLocalCluster({
      dataDir: opts.dataDir,
      port: opts.port,
      compute: opts.compute,
      computes: opts.computes,
      log,
      say,
    });
  } catch (err) {
    say(`sediment local: ${(err as Error).message}`);
    process.exit(1);
  }

  const stopAndExit = (code: number): void => {
    setTimeout(() => process.exit(code), STOP_DEADLINE_MS).unref();
    cluster.stop().then(
      () => process.exit(code),
      (err: unknown) => {
        tryLog(() => log.error({ err }, "stop failed"));
        process.exit(1);
      },
    );
  };

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      say(`${signal} again: killing every child now`);
      cluster.kill();
      return;
    }
    say(`${signal}: stopping the local cluster`);
    tryLog(() => log.info({ signal }, "stopping"));
    stopAndExit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, onSignal);
  // A supervisor bug must not leave orphans: stop every child (SIGTERM, then SIGKILL), then exit 1.
  let fatal = false;
  const onFatal = (err: unknown): void => {
    if (fatal) return;
    fatal = true;
    cluster.kill("SIGTERM");
    tryLog(() => log.fatal({ err }, "supervisor crashed; stopping every child"));
    stopAndExit(1);
  };
  process.on("uncaughtException", onFatal);
  process.on("unhandledRejection", onFatal);

  say(banner(cluster));
  const ready = await cluster.waitReady(READY_TIMEOUT_MS);
  if (signals > 0 || fatal) return;
  if (ready) say("ready: every node accepts connections");
  else say(`not ready after ${READY_TIMEOUT_MS / 1000} s: see the logs in ${cluster.dataDir}/logs`);
}

function tryLog(write: () => void): void {
  try {
    write();
  } catch {
    // logging must never stop the supervisor from stopping its children
  }
}
