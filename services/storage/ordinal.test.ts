import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nodeIdFromHostname } from "./ordinal.js";

describe("nodeIdFromHostname", () => {
  it("takes the StatefulSet ordinal after the last dash of the first label", () => {
    expect(nodeIdFromHostname("sediment-storage-0")).toBe(0);
    expect(nodeIdFromHostname("sediment-storage-5")).toBe(5);
    expect(nodeIdFromHostname("sediment-storage-12.sediment-storage.sediment.svc.cluster.local")).toBe(12);
  });

  it("refuses a host name without an ordinal, or with a padded one", () => {
    for (const bad of ["sediment-storage", "storage", "", "sediment-storage-01", "sediment-storage-", "host.x-3"]) {
      expect(() => nodeIdFromHostname(bad)).toThrow(/cannot take a node id/);
    }
  });

  it("round-trips every ordinal", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z]([a-z0-9-]{0,20}[a-z0-9])?$/), fc.nat(99_999), (name, ordinal) => {
        expect(nodeIdFromHostname(`${name}-${ordinal}`)).toBe(ordinal);
      }),
    );
  });
});
