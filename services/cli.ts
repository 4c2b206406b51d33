#!/usr/bin/env node
import { Command, InvalidArgumentError } from "commander";

/** `sediment`: one binary, one subcommand per deployable role. */
function int(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`not a non-negative integer: ${value}`);
  return n;
}

const program = new Command("sediment").description("Sediment: a PostgreSQL-compatible database on a replicated log");

program
  .command("storage")
  .description("run one storage node")
  .requiredOption("--node-id <n>", "this node's ordinal", int)
  .requiredOption("--data-dir <dir>", "LevelDB data directory")
  .requiredOption("--port <port>", "gRPC port", int)
  .option("--host <host>", "address to listen on", "127.0.0.1")
  .option("--metrics-port <port>", "HTTP port for /metrics (0: none)", int, 0)
  .action(async (opts: { nodeId: number; dataDir: string; port: number; host: string; metricsPort: number }) => {
    const { runStorageNode } = await import("./storage/main.js");
    await runStorageNode(opts);
  });

await program.parseAsync(process.argv);
