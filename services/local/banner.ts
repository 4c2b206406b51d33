import { join } from "node:path";
import type { LocalCluster } from "./supervisor.js";

/** The few lines printed when the local cluster starts. */
export function banner(cluster: LocalCluster): string {
  const lines = [
    "Sediment local cluster",
    `  data dir    ${cluster.dataDir}  (logs in ${join(cluster.dataDir, "logs")})`,
  ];
  for (const role of cluster.roles) {
    const address = `${role.host}:${role.port}`;
    if (role.kind === "storage") {
      lines.push(
        `  ${role.name.padEnd(10)}  gRPC ${address.padEnd(21)} metrics http://${role.host}:${role.metricsPort}/metrics  pid ${cluster.pid(role.name) ?? "-"}`,
      );
    } else if (role.unavailable !== undefined) {
      lines.push(`  ${role.name.padEnd(10)}  ${role.unavailable}; nothing listens on ${address}`);
    } else {
      const password =
        cluster.passwordFile !== undefined ? `password in ${cluster.passwordFile}` : "password $SEDIMENT_PASSWORD";
      lines.push(
        `  ${role.name.padEnd(10)}  postgresql://postgres@${address}/  (${password})  metrics http://${role.host}:${role.metricsPort}/metrics  pid ${cluster.pid(role.name) ?? "-"}`,
      );
    }
  }
  const computes = cluster.roles.filter((r) => r.kind === "compute" && r.unavailable === undefined);
  if (computes.length > 1) {
    lines.push(
      `  writer      the compute holding lock port ${cluster.cluster.compute.lockPort} listens on ${computes[0]!.host}:${computes[0]!.port}; ` +
        "the others wait as hot standbys (`sediment status` says which is which)",
    );
  }
  lines.push(
    `  stop with Ctrl-C or \`kill ${process.pid}\`; \`sediment status --data-dir ${cluster.dataDir}\` for health`,
  );
  return lines.join("\n");
}
