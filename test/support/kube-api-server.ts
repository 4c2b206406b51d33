import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";

/**
 * The slice of the Kubernetes API that the writer election uses, in process,
 * with the API server's contract: Leases (coordination.k8s.io/v1) with
 * resourceVersion optimistic concurrency — GET (404 NotFound when missing),
 * POST (409 AlreadyExists when it exists), PUT (409 Conflict when the body's
 * resourceVersion is not the current one) — and merge patches of pod labels.
 * Errors are `Status` objects as the real server sends them. Each client is
 * told apart by its bearer token, so one can be cut off (`partition`) while
 * the others go on. Every successful Lease write is logged with the time it
 * took effect, for tests that check who held what when.
 */
export interface LeaseWrite {
  readonly atMs: number;
  readonly holder: string;
  readonly resourceVersion: string;
}

interface StoredLease {
  metadata: Record<string, unknown> & { name: string; namespace: string; resourceVersion: string };
  spec: Record<string, unknown>;
}

const LEASE_PATH = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/?]+))?(?:\?.*)?$/;
const POD_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/?]+)(?:\?.*)?$/;

export class FakeKubeApi {
  private readonly leases = new Map<string, StoredLease>();
  private readonly pods = new Map<string, { labels: Record<string, string> }>();
  private readonly cutOff = new Map<string, "error" | "hang">();
  private version = 100;
  readonly writes: LeaseWrite[] = [];
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", () => resolve()));
    const address = this.server.address();
    if (address === null || typeof address === "string") throw new Error("unexpected address");
    this.port = address.port;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** `KubeConfig.loadFromOptions` input for one client, as kubectl would have it: the URL and a bearer token naming the client. */
  kubeConfigOptions(client: string): unknown {
    return {
      clusters: [{ name: "fake", server: `http://127.0.0.1:${this.port}`, skipTLSVerify: true }],
      users: [{ name: client, token: client }],
      contexts: [{ name: client, cluster: "fake", user: client, namespace: "sediment" }],
      currentContext: client,
    };
  }

  /** From now on `client`'s requests get 500 ("error") or no answer ("hang"); undefined heals it. */
  partition(client: string, how: "error" | "hang" | undefined): void {
    if (how === undefined) this.cutOff.delete(client);
    else this.cutOff.set(client, how);
  }

  addPod(namespace: string, name: string): void {
    this.pods.set(`${namespace}/${name}`, { labels: {} });
  }

  podLabels(namespace: string, name: string): Record<string, string> | undefined {
    return this.pods.get(`${namespace}/${name}`)?.labels;
  }

  lease(namespace: string, name: string): StoredLease | undefined {
    return this.leases.get(`${namespace}/${name}`);
  }

  /** Another party (kubectl, a misconfigured candidate) writes the Lease directly. */
  overwrite(namespace: string, name: string, holder: string): void {
    const stored = this.leases.get(`${namespace}/${name}`);
    this.store(namespace, name, { spec: { ...(stored?.spec ?? {}), holderIdentity: holder } });
  }

  /** False when it leaves the request unanswered (a "hang" partition). */
  private async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const client = (req.headers.authorization ?? "").replace(/^Bearer /, "");
    const body = await readBody(req);
    const cut = this.cutOff.get(client);
    if (cut === "hang") return false; // never answered: the client's own timeout must save it
    if (cut === "error") return status(res, 500, "InternalError", "etcdserver: request timed out");
    const url = req.url ?? "";
    const lease = LEASE_PATH.exec(url);
    if (lease !== null) return this.handleLease(req.method ?? "", lease[1]!, lease[2], body, res);
    const pod = POD_PATH.exec(url);
    if (pod !== null && req.method === "PATCH") return this.patchPod(req, pod[1]!, pod[2]!, body, res);
    return status(res, 404, "NotFound", `the server could not find the requested resource (${req.method} ${url})`);
  }

  private handleLease(
    method: string,
    namespace: string,
    name: string | undefined,
    body: unknown,
    res: ServerResponse,
  ): true {
    const key = (n: string) => `${namespace}/${n}`;
    if (method === "GET" && name !== undefined) {
      const stored = this.leases.get(key(name));
      if (stored === undefined) return status(res, 404, "NotFound", `leases.coordination.k8s.io "${name}" not found`);
      return json(res, 200, toLease(stored));
    }
    const lease = body as { metadata?: { name?: string; resourceVersion?: string }; spec?: Record<string, unknown> };
    if (method === "POST" && name === undefined) {
      const newName = lease.metadata?.name ?? "";
      if (this.leases.has(key(newName))) {
        return status(res, 409, "AlreadyExists", `leases.coordination.k8s.io "${newName}" already exists`);
      }
      return json(res, 201, toLease(this.store(namespace, newName, lease)));
    }
    if (method === "PUT" && name !== undefined) {
      const stored = this.leases.get(key(name));
      if (stored === undefined) return status(res, 404, "NotFound", `leases.coordination.k8s.io "${name}" not found`);
      if (lease.metadata?.resourceVersion !== stored.metadata.resourceVersion) {
        return status(
          res,
          409,
          "Conflict",
          `Operation cannot be fulfilled on leases.coordination.k8s.io "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        );
      }
      return json(res, 200, toLease(this.store(namespace, name, lease)));
    }
    return status(res, 405, "MethodNotAllowed", `${method} is not supported here`);
  }

  private store(namespace: string, name: string, lease: { spec?: Record<string, unknown> }): StoredLease {
    const resourceVersion = String(++this.version);
    const stored: StoredLease = { metadata: { name, namespace, resourceVersion }, spec: { ...(lease.spec ?? {}) } };
    this.leases.set(`${namespace}/${name}`, stored);
    this.writes.push({ atMs: performance.now(), holder: String(stored.spec.holderIdentity ?? ""), resourceVersion });
    return stored;
  }

  private patchPod(req: IncomingMessage, namespace: string, name: string, body: unknown, res: ServerResponse): true {
    const type = req.headers["content-type"] ?? "";
    if (
      !type.startsWith("application/merge-patch+json") &&
      !type.startsWith("application/strategic-merge-patch+json")
    ) {
      return status(res, 415, "UnsupportedMediaType", `the body of the request was in an unknown format: ${type}`);
    }
    const pod = this.pods.get(`${namespace}/${name}`);
    if (pod === undefined) return status(res, 404, "NotFound", `pods "${name}" not found`);
    const labels = (body as { metadata?: { labels?: Record<string, string | null> } }).metadata?.labels ?? {};
    for (const [k, v] of Object.entries(labels)) {
      if (v === null) delete pod.labels[k];
      else pod.labels[k] = v;
    }
    return json(res, 200, { apiVersion: "v1", kind: "Pod", metadata: { name, namespace, labels: pod.labels } });
  }
}

function toLease(stored: StoredLease): unknown {
  return { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: stored.metadata, spec: stored.spec };
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text.length > 0 ? JSON.parse(text) : undefined;
}

/** Answers; true, so a handler can `return json(...)`. */
function json(res: ServerResponse, code: number, body: unknown): true {
  res.writeHead(code, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
  return true;
}

function status(res: ServerResponse, code: number, reason: string, message: string): true {
  return json(res, code, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code });
}
