import { describe, expect, it } from "vitest";
import { RestartBackoff } from "./backoff.js";

describe("RestartBackoff", () => {
  const policy = { initialMs: 100, maxMs: 1000, resetAfterMs: 10_000 };

  it("restarts at once, then doubles up to the cap", () => {
    const b = new RestartBackoff(policy);
    const delays = Array.from({ length: 7 }, () => b.nextDelayMs(50));
    expect(delays).toEqual([0, 100, 200, 400, 800, 1000, 1000]);
  });

  it("starts over after a run of resetAfterMs", () => {
    const b = new RestartBackoff(policy);
    b.nextDelayMs(50);
    b.nextDelayMs(50);
    expect(b.nextDelayMs(50)).toBe(200);
    expect(b.nextDelayMs(10_000)).toBe(0);
    expect(b.nextDelayMs(50)).toBe(100);
  });
});
