import { describe, expect, it } from "vitest";
import { type Outcome, WriteQueue } from "./write-queue.js";

describe("WriteQueue", () => {
  it("commits queued appends together, in order, and keeps exclusive tasks apart", async () => {
    const groups: number[][] = [];
    const events: string[] = [];
    let release: () => void = () => {};
    const queue = new WriteQueue<number, number>(async (items) => {
      groups.push(items);
      if (groups.length === 1) await new Promise<void>((r) => (release = r)); // a slow synced write
      return items.map(
        (i): Outcome<number> => (i === 4 ? { ok: false, error: new Error("no") } : { ok: true, value: i * 10 }),
      );
    }, 100);
    const results = [1, 2, 3].map((i) => queue.append(i, 1));
    await Promise.resolve();
    const more = [4, 5].map((i) => queue.append(i, 1));
    const solo = queue.exclusive(async () => events.push("solo"));
    const last = queue.append(6, 1);
    release();
    expect(await Promise.all(results)).toEqual([10, 20, 30]);
    await expect(more[0]).rejects.toThrow("no");
    expect(await more[1]).toBe(50);
    await solo;
    expect(await last).toBe(60);
    expect(groups).toEqual([[1], [2, 3, 4, 5], [6]]);
    expect(events).toEqual(["solo"]);
  });

  it("caps a group's weight and fails a whole group when its commit throws", async () => {
    const groups: number[][] = [];
    const queue = new WriteQueue<number, number>(async (items) => {
      groups.push(items);
      if (items.includes(3)) throw new Error("disk");
      return items.map((i) => ({ ok: true, value: i }));
    }, 10);
    const all = [1, 2, 3, 4].map((i) => queue.append(i, 6).then(String, (e: Error) => e.message));
    expect(await Promise.all(all)).toEqual(["1", "2", "disk", "4"]);
    expect(groups).toEqual([[1], [2], [3], [4]]);
  });
});
