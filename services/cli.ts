#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from "commander";

/** `sediment`: one binary, one subcommand per deployable role. */
function int(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`not a non-negative integer: ${value}`);
  return n;
}

function tcpPort(value: string): number {
  const n = int(value);
  if (n > 65_535) throw new InvalidArgumentError(`not a TCP port: ${value}`);
  return n;
}

const program = new Command("sediment").description("Sediment: a PostgreSQL-compatible database on a replicated log");

program
  .command("storage")
  .description("run one storage node")
  .option("--node-id <n>", "this node's ordinal", int)
  .option("--node-id-from-hostname", "take the node id from the host name's ordinal (StatefulSet pod <name>-<n>)")
  .requiredOption("--data-dir <dir>", "LevelDB data directory")
  .requiredOption("--port <port>", "gRPC port", int)
  .option("--host <host>", "address to listen on", "127.0.0.1")
  .option("--metrics-port <port>", "HTTP port for /metrics, /livez, /readyz (0: none)", int, 0)
  .action(
    async (
      opts: {
        nodeId?: number;
        nodeIdFromHostname?: boolean;
        dataDir: string;
        port: number;
        host: string;
        metricsPort: number;
      },
      command: Command,
    ) => {
      if ((opts.nodeId === undefined) === (opts.nodeIdFromHostname !== true)) {
        command.error("error: give exactly one of --node-id and --node-id-from-hostname");
      }
      const { runStorageNode } = await import("./storage/main.js");
      const { nodeIdFromHostname } = await import("./storage/ordinal.js");
      const { hostname } = await import("node:os");
      let nodeId = opts.nodeId;
      try {
        nodeId ??= nodeIdFromHostname(hostname());
      } catch (err) {
        command.error(`error: ${(err as Error).message}`);
      }
      await runStorageNode({ ...opts, nodeId });
    },
  );

program
  .command("compute")
  .description(
    "run the compute node: the volume's writer, serving PostgreSQL clients (password from SEDIMENT_PASSWORD)",
  )
  .requiredOption("--storage <list>", "storage nodes, host:port,host:port,... (node ids in order)")
  .option("--port <port>", "PostgreSQL port", int, 5432)
  .option("--host <host>", "address to listen on", "127.0.0.1")
  .option("--metrics-port <port>", "HTTP port for /metrics, /livez, /readyz (0: none)", int, 0)
  .addOption(
    new Option("--election <kind>", "how the writer is chosen among compute processes (none: this one, at once)")
      .choices(["none", "lock", "kubernetes"])
      .default("none"),
  )
  .option("--lock-port <port>", "--election lock: the loopback port only the writer binds", tcpPort)
  .option("--lease-name <name>", "--election kubernetes: the coordination.k8s.io Lease", "sediment-writer")
  .option("--lease-duration <s>", "--election kubernetes: leaseDurationSeconds (default 1)", int)
  .option("--lease-renew-deadline <ms>", "--election kubernetes: stop unless renewed within (default 600)", int)
  .option("--lease-retry-period <ms>", "--election kubernetes: renew and poll period (default 150)", int)
  .action(
    async (opts: {
      storage: string;
      port: number;
      host: string;
      metricsPort: number;
      election: "none" | "lock" | "kubernetes";
      lockPort?: number;
      leaseName: string;
      leaseDuration?: number;
      leaseRenewDeadline?: number;
      leaseRetryPeriod?: number;
    }) => {
      const { runCompute } = await import("./compute/main.js");
      const { leaseDuration, leaseRenewDeadline, leaseRetryPeriod, ...rest } = opts;
      await runCompute({
        ...rest,
        leaseTiming: {
          ...(leaseDuration !== undefined ? { leaseDurationSeconds: leaseDuration } : {}),
          ...(leaseRenewDeadline !== undefined ? { renewDeadlineMs: leaseRenewDeadline } : {}),
          ...(leaseRetryPeriod !== undefined ? { retryPeriodMs: leaseRetryPeriod } : {}),
        },
      });
    },
  );

program
  .command("local")
  .description("run a local cluster: 3 storage nodes (+ compute once built) as supervised child processes")
  .option("--data-dir <dir>", "where the cluster keeps its data, logs and pid files", "./.sediment")
  .option("--port <port>", "compute's PostgreSQL port (0: any free port)", tcpPort, 55432)
  .option("--no-compute", "storage nodes only, even when compute is built (for a caller that is the writer itself)")
  .option("--computes <n>", "compute processes: 1, or more for hot standbys (a writer lock decides)", int, 1)
  .action(async (opts: { dataDir: string; port: number; compute: boolean; computes: number }) => {
    const { runLocal } = await import("./local/main.js");
    await runLocal(opts);
  });

program
  .command("status")
  .description("show the storage nodes of a local cluster (GetStatus on each)")
  .option("--data-dir <dir>", "the local cluster's data directory", "./.sediment")
  .action(async (opts: { dataDir: string }) => {
    // `sediment status | head` closes our stdout early: that is the reader's choice, not an error.
    process.stdout.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") process.exit(0);
      throw err;
    });
    const { runStatus } = await import("./local/status.js");
    process.exitCode = await runStatus(opts);
  });

await program.parseAsync(process.argv);
