import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCluster, sleep, startLocalCluster, waitFor } from "./support/local-cluster.js";

/**
 * kill -9 of the compute at random points while clients move money between
 * accounts. After every restart: the total never changes (no half
 * transaction survives), and every transfer whose COMMIT was acknowledged is
 * in the ledger (no acknowledged commit is lost). The seed is printed.
 */
const ACCOUNTS = 10;
const CLIENTS = 4;
let cluster: LocalCluster;

beforeAll(async () => {
  cluster = await startLocalCluster({ compute: true });
});
afterAll(async () => {
  await cluster?.stop();
});

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x1_0000_0000;
  };
}

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: cluster.url });
  client.on("error", () => {});
  await client.connect();
  return client;
}

async function connectWhenUp(): Promise<pg.Client> {
  let client: pg.Client | undefined;
  await waitFor(
    async () => {
      try {
        client = await connect();
        return true;
      } catch {
        return false;
      }
    },
    15_000,
    "compute to serve again",
    20,
  );
  return client!;
}

interface Transfers {
  readonly acknowledged: { client: number; seq: number }[];
  stop(): Promise<void>;
}

/** CLIENTS workers moving money between accounts until stopped; acknowledged transfers are recorded. */
async function startTransfers(random: () => number, table: string): Promise<Transfers> {
  const setup = await connect();
  await setup.query(`create table ${table} (id int4 not null, balance int8 not null)`);
  await setup.query(`create table ${table}_ledger (client int4 not null, seq int4 not null, amount int8 not null)`);
  const values = Array.from({ length: ACCOUNTS }, (_, i) => `(${i}, 1000)`).join(", ");
  await setup.query(`insert into ${table} values ${values}`);
  await setup.end();
  const acknowledged: { client: number; seq: number }[] = [];
  let running = true;
  const worker = async (id: number) => {
    let seq = 0;
    let client = await connect();
    while (running) {
      const a = Math.floor(random() * ACCOUNTS);
      const b = (a + 1 + Math.floor(random() * (ACCOUNTS - 1))) % ACCOUNTS;
      const amount = 1 + Math.floor(random() * 50);
      const [low, high] = a < b ? [a, b] : [b, a]; // lock in id order: no deadlocks
      const [dLow, dHigh] = a < b ? [-amount, amount] : [amount, -amount];
      const mySeq = seq++;
      try {
        await client.query("begin");
        await client.query(`update ${table} set balance = balance + ${dLow} where id = ${low}`);
        await client.query(`update ${table} set balance = balance + ${dHigh} where id = ${high}`);
        await client.query(`insert into ${table}_ledger values (${id}, ${mySeq}, ${amount})`);
        await client.query("commit");
        acknowledged.push({ client: id, seq: mySeq });
      } catch {
        await client.end().catch(() => {});
        if (!running) return;
        client = await connectWhenUp();
      }
    }
    await client.end().catch(() => {});
  };
  const workers = Array.from({ length: CLIENTS }, (_, i) => worker(i));
  return {
    acknowledged,
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

/** The invariants: the total is unchanged and no acknowledged transfer is missing. */
async function checkInvariants(table: string, transfers: Transfers, when: string): Promise<void> {
  const check = await connectWhenUp();
  const ackedBefore = transfers.acknowledged.slice(); // later acks may postdate the ledger read
  const total = (await check.query(`select sum(balance) as total from ${table}`)).rows[0].total;
  expect(total, `total ${when}`).toBe(String(ACCOUNTS * 1000));
  const ledger = new Set(
    (await check.query(`select client, seq from ${table}_ledger`)).rows.map((r) => `${r.client}:${r.seq}`),
  );
  const lost = ackedBefore.filter((t) => !ledger.has(`${t.client}:${t.seq}`));
  expect(lost, `acknowledged transfers missing ${when}`).toEqual([]);
  await check.end();
}

function seeded(): () => number {
  const seed = Number(process.env.SEDIMENT_CHAOS_SEED ?? Date.now() % 1_000_000);
  console.log(`chaos seed ${seed} (SEDIMENT_CHAOS_SEED fixes the random draws; thread timing still varies)`);
  return rng(seed);
}

describe("kill -9 at random points during transfers", () => {
  it("of the compute: keeps every acknowledged transfer and never half of one", async () => {
    const random = seeded();
    const transfers = await startTransfers(random, "accounts");
    for (let round = 1; round <= 3; round++) {
      await sleep(300 + Math.floor(random() * 1200));
      const pid = cluster.kill9("compute");
      await cluster.waitRestarted("compute", pid);
      await checkInvariants("accounts", transfers, `after compute kill ${round}`);
    }
    await transfers.stop();
    expect(transfers.acknowledged.length).toBeGreaterThan(20);
  }, 120_000);

  it("of storage nodes, one at a time: writes go on and nothing acknowledged is lost", async () => {
    const random = seeded();
    const transfers = await startTransfers(random, "vault");
    for (let round = 1; round <= 4; round++) {
      await sleep(300 + Math.floor(random() * 1200));
      const name = `storage-${Math.floor(random() * 3)}`;
      const pid = cluster.kill9(name);
      const before = transfers.acknowledged.length;
      await waitFor(() => transfers.acknowledged.length > before + 5, 10_000, `transfers to go on without ${name}`);
      await cluster.waitRestarted(name, pid);
      await checkInvariants("vault", transfers, `after ${name} kill (round ${round})`);
    }
    await transfers.stop();
  }, 120_000);
});
