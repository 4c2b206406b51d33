import { KubeConfig } from "@kubernetes/client-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../services/common/observe/log.js";
import { KubernetesLeaseElection } from "../services/compute/election/lease-election.js";
import { DEFAULT_LEASE_TIMING } from "../services/compute/election/lease-rules.js";
import { FakeKubeApi } from "./support/kube-api-server.js";

const NS = "sediment";
const LEASE = "sediment-writer";
const timing = DEFAULT_LEASE_TIMING;
const leaseMs = timing.leaseDurationSeconds * 1000;
let api: FakeKubeApi;
const electors: KubernetesLeaseElection[] = [];

beforeEach(async () => {
  api = new FakeKubeApi();
  await api.start();
});
afterEach(async () => {
  await Promise.all(electors.splice(0).map((e) => e.release().catch(() => {})));
  await api.stop();
});

function elector(identity: string): {
  election: KubernetesLeaseElection;
  lost: Promise<{ reason: string; atMs: number }>;
} {
  api.addPod(NS, identity);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions(api.kubeConfigOptions(identity));
  const e = new KubernetesLeaseElection({
    kubeConfig,
    lease: { namespace: NS, name: LEASE },
    identity,
    pod: identity,
    timing,
    log: createLogger("election-test", { identity }),
  });
  electors.push(e);
  const lost = new Promise<{ reason: string; atMs: number }>((resolve) =>
    e.onLost((reason) => resolve({ reason, atMs: performance.now() })),
  );
  return { election: e, lost };
}

/** Which of the campaigns resolves first; the others stay pending. */
async function firstWinner(campaigns: Promise<string>[]): Promise<string> {
  return Promise.race(campaigns);
}

const pending = (p: Promise<unknown>, ms: number) =>
  Promise.race([p.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), ms))]);

describe("Kubernetes Lease election", () => {
  it("two electors racing for a missing Lease: exactly one wins, labels itself writer when serving; the other waits", async () => {
    const a = elector("compute-a");
    const b = elector("compute-b");
    const campaigns = [a.election.campaign().then(() => "compute-a"), b.election.campaign().then(() => "compute-b")];
    const winner = await firstWinner(campaigns);
    const loser = winner === "compute-a" ? "compute-b" : "compute-a";
    const loserCampaign = campaigns[winner === "compute-a" ? 1 : 0]!;
    expect(api.lease(NS, LEASE)?.spec.holderIdentity).toBe(winner);
    // The holder renews and keeps it; were the loser to win anyway (a loaded machine delaying the
    // renewals past the deadline), the holder must have stopped first.
    const loserWon = loserCampaign.then(() => performance.now());
    const winnerLost = (winner === "compute-a" ? a : b).lost;
    if (!(await pending(loserWon, 3 * leaseMs))) {
      expect((await winnerLost).atMs).toBeLessThan(await loserWon);
      return;
    }
    expect(api.writes.filter((w) => w.holder === winner).length).toBeGreaterThan(5);
    const winnerElection = winner === "compute-a" ? a.election : b.election;
    await winnerElection.serving({ port: 5432 });
    expect(api.podLabels(NS, winner)).toEqual({ role: "writer" });
    expect(api.podLabels(NS, loser)).toEqual({ role: "standby" });
    expect(api.lease(NS, LEASE)?.spec.holderIdentity).toBe(winner);
    expect(api.lease(NS, LEASE)?.spec.leaseDurationSeconds).toBe(timing.leaseDurationSeconds);
  });

  it("a holder that gets 500s stops (onLost) before the other acquires, which it does after the lease expires", async () => {
    const a = elector("compute-a");
    await a.election.campaign();
    const b = elector("compute-b");
    const bWon = b.election.campaign().then(() => performance.now());
    await new Promise((r) => setTimeout(r, 300));
    const lastRenewal = api.writes.at(-1)!;
    api.partition("compute-a", "error");
    const lost = await a.lost;
    const wonAt = await bWon;
    const acquired = api.writes.find((w) => w.holder === "compute-b")!;
    expect(lost.reason).toMatch(/renew deadline/);
    expect(lost.atMs).toBeLessThan(acquired.atMs);
    // Not before a full lease after the holder's last renewal was written.
    expect(acquired.atMs - lastRenewal.atMs).toBeGreaterThanOrEqual(leaseMs);
    expect(wonAt - lastRenewal.atMs).toBeLessThan(leaseMs + 1_000);
    expect(api.lease(NS, LEASE)?.spec.leaseTransitions).toBe(1);
  });

  it("a holder cut off without answers (hang) stops too, and the other takes over after expiry", async () => {
    const a = elector("compute-a");
    await a.election.campaign();
    const b = elector("compute-b");
    const bWon = b.election.campaign();
    await new Promise((r) => setTimeout(r, 300));
    api.partition("compute-a", "hang");
    const lost = await a.lost;
    await bWon;
    const acquired = api.writes.find((w) => w.holder === "compute-b")!;
    expect(lost.atMs).toBeLessThan(acquired.atMs);
    expect(api.lease(NS, LEASE)?.spec.holderIdentity).toBe("compute-b");
  });

  it("a clean release hands over without waiting out the lease", async () => {
    const a = elector("compute-a");
    await a.election.campaign();
    const b = elector("compute-b");
    const bWon = b.election.campaign().then(() => performance.now());
    await new Promise((r) => setTimeout(r, 200));
    const releasedAt = performance.now();
    await a.election.release();
    expect((await bWon) - releasedAt).toBeLessThan(leaseMs / 2);
  });

  it("a holder whose Lease was taken by someone else loses at its next renewal", async () => {
    const a = elector("compute-a");
    await a.election.campaign();
    api.overwrite(NS, LEASE, "intruder");
    const lost = await a.lost;
    expect(lost.reason).toMatch(/now names intruder/);
  });
});
