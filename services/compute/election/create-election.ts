import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import type { Logger } from "../../common/observe/log.js";
import { type ElectionKind, NoElection, type WriterElection } from "./election.js";
import { DEFAULT_LEASE_TIMING, type LeaseTiming } from "./lease-rules.js";
import { LockPortElection } from "./lock-election.js";

export interface ElectionOptions {
  readonly election?: ElectionKind;
  /** `lock`: the port the writer binds (on `host`). */
  readonly lockPort?: number;
  readonly host: string;
  /** `kubernetes`: the Lease's name, in the pod's namespace. */
  readonly leaseName?: string;
  readonly leaseTiming?: Partial<LeaseTiming>;
}

export const DEFAULT_LEASE_NAME = "sediment-writer";
const SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/**
 * The election `sediment compute --election` asks for. The Kubernetes one is
 * imported only when chosen: @kubernetes/client-node is large, and a compute
 * outside Kubernetes has no use for it.
 */
export async function createElection(options: ElectionOptions, log: Logger): Promise<WriterElection> {
  switch (options.election ?? "none") {
    case "none":
      return new NoElection();
    case "lock":
      if (options.lockPort === undefined || options.lockPort === 0) {
        throw new Error("--election lock needs --lock-port");
      }
      return new LockPortElection({ host: options.host, port: options.lockPort, log });
    case "kubernetes": {
      const [{ KubeConfig }, { KubernetesLeaseElection }] = await Promise.all([
        import("@kubernetes/client-node"),
        import("./lease-election.js"),
      ]);
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromDefault(); // KUBECONFIG, ~/.kube/config, else the pod's service account
      const pod = process.env.POD_NAME;
      return new KubernetesLeaseElection({
        kubeConfig,
        lease: { namespace: podNamespace(), name: options.leaseName ?? DEFAULT_LEASE_NAME },
        identity: pod ?? hostname(),
        pod,
        timing: { ...DEFAULT_LEASE_TIMING, ...options.leaseTiming },
        log,
      });
    }
  }
}

/** POD_NAMESPACE (the downward API), else the service account's namespace, else `default`. */
function podNamespace(): string {
  const fromEnv = process.env.POD_NAMESPACE;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  if (existsSync(SERVICE_ACCOUNT_NAMESPACE)) return readFileSync(SERVICE_ACCOUNT_NAMESPACE, "utf8").trim();
  return "default";
}
