import { type Server, createServer } from "node:http";
import { Registry, collectDefaultMetrics } from "prom-client";
import { type ReadinessGate, readiness as processReadiness } from "./health.js";

/** One prom-client registry per process, served at GET /metrics. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

/**
 * The process's HTTP side port: GET /metrics (Prometheus), /livez (the process
 * answers; Kubernetes liveness), /readyz (200 when `readiness` holds, else 503
 * with the reason; Kubernetes readiness), /healthz (an alias of /livez).
 */
export function serveMetrics(
  port: number,
  host = "127.0.0.1",
  readiness: ReadinessGate = processReadiness,
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (path === "/metrics") {
      registry.metrics().then(
        (body) => {
          res.writeHead(200, { "content-type": registry.contentType });
          res.end(body);
        },
        (err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        },
      );
      return;
    }
    if (path === "/livez" || path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok\n");
      return;
    }
    if (path === "/readyz") {
      const reason = readiness.notReadyReason();
      res.writeHead(reason === undefined ? 200 : 503, { "content-type": "text/plain" });
      res.end(reason === undefined ? "ok\n" : `not ready: ${reason}\n`);
      return;
    }
    res.writeHead(404);
    res.end();
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}
