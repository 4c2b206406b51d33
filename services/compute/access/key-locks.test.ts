import { describe, expect, it } from "vitest";
import { KeyLocks } from "./key-locks.js";

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("KeyLocks", () => {
  it("runs bodies of one name one at a time, in arrival order", async () => {
    const locks = new KeyLocks();
    const log: string[] = [];
    const body = (id: string) => async () => {
      log.push(`${id} in`);
      await tick();
      await tick();
      log.push(`${id} out`);
    };
    await Promise.all([locks.with("k", body("a")), locks.with("k", body("b")), locks.with("k", body("c"))]);
    expect(log).toEqual(["a in", "a out", "b in", "b out", "c in", "c out"]);
  });

  it("lets different names overlap and releases after a failure", async () => {
    const locks = new KeyLocks();
    const log: string[] = [];
    const failing = locks.with("x", async () => {
      log.push("x in");
      await tick();
      throw new Error("boom");
    });
    const other = locks.with("y", async () => {
      log.push("y in");
    });
    await expect(failing).rejects.toThrow("boom");
    await other;
    expect(log.slice(0, 2)).toEqual(["x in", "y in"]);
    await expect(locks.with("x", async () => 42)).resolves.toBe(42);
  });
});
