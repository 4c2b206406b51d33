import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ReadinessGate } from "./health.js";
import { serveMetrics } from "./metrics.js";

describe("ReadinessGate", () => {
  it("is ready exactly when every condition holds, and names each failing one", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.string({ minLength: 1 }), fc.option(fc.string(), { nil: undefined })), {
          selector: ([name]) => name,
        }),
        (conditions) => {
          const gate = new ReadinessGate();
          for (const [name, reason] of conditions) gate.set(name, reason);
          const failing = conditions.filter(([, reason]) => reason !== undefined);
          const why = gate.notReadyReason();
          if (failing.length === 0) expect(why).toBeUndefined();
          else expect(why).toBe(failing.map(([name, reason]) => `${name}: ${reason}`).join("; "));
        },
      ),
    );
  });

  it("re-evaluates watched conditions at each probe, and a later set replaces a condition", () => {
    const gate = new ReadinessGate();
    let gap: string | undefined = "group 3 has a gap";
    gate.watch("complete", () => gap);
    gate.set("serving", undefined);
    expect(gate.notReadyReason()).toBe("complete: group 3 has a gap");
    gap = undefined;
    expect(gate.notReadyReason()).toBeUndefined();
    gate.set("serving", "shutting down");
    expect(gate.notReadyReason()).toBe("serving: shutting down");
    gate.watch("complete", () => {
      throw new Error("boom");
    });
    expect(gate.notReadyReason()).toBe("complete: probe failed: boom; serving: shutting down");
  });
});

describe("serveMetrics health endpoints", () => {
  it("answers /livez always, /readyz 200 or 503 with the reason, /metrics, and 404 otherwise", async () => {
    const gate = new ReadinessGate();
    gate.set("writer", "standby");
    const server = await serveMetrics(0, "127.0.0.1", gate);
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const get = async (path: string) => {
        const res = await fetch(base + path);
        return { status: res.status, body: await res.text() };
      };
      expect(await get("/livez")).toEqual({ status: 200, body: "ok\n" });
      expect(await get("/healthz")).toEqual({ status: 200, body: "ok\n" });
      expect(await get("/readyz")).toEqual({ status: 503, body: "not ready: writer: standby\n" });
      gate.set("writer", undefined);
      expect(await get("/readyz?verbose")).toEqual({ status: 200, body: "ok\n" });
      const metrics = await get("/metrics");
      expect(metrics.status).toBe(200);
      expect(metrics.body).toContain("process_cpu_user_seconds_total");
      expect((await get("/nope")).status).toBe(404);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
