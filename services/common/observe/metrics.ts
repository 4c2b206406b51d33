import { type Server, createServer } from "node:http";
import { Registry, collectDefaultMetrics } from "prom-client";

/** One prom-client registry per process, served at GET /metrics. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export function serveMetrics(port: number, host = "127.0.0.1"): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === "/metrics") {
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
    if (req.url === "/healthz") {
      res.writeHead(200);
      res.end("ok\n");
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
