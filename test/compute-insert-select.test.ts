import { afterAll, beforeAll, describe, it } from "vitest";
import { sameAsPostgres as compare } from "./support/compare-postgres.js";
import { type LocalCluster, startLocalCluster } from "./support/local-cluster.js";
import { type VanillaPostgres, startVanillaPostgres } from "./support/vanilla-postgres.js";

/**
 * INSERT … SELECT and generate_series through the whole stack (the in-memory
 * Database of the differential tests enforces no unique index and keeps no
 * pages), compared with a vanilla PostgreSQL: unique violations raised while
 * the SELECT streams, a SELECT over the target table spanning many pages
 * that must not see the rows being inserted, and pgbench's server-side
 * data generation followed by its primary keys.
 */
let cluster: LocalCluster;
let vanilla: VanillaPostgres;

beforeAll(async () => {
  [cluster, vanilla] = await Promise.all([startLocalCluster({ compute: true }), startVanillaPostgres()]);
});
afterAll(async () => {
  await Promise.all([cluster?.stop(), vanilla?.stop()]);
});

const sameAsPostgres = (script: readonly string[]) => compare(cluster.url, vanilla.url, script);

describe("INSERT … SELECT and generate_series compared with PostgreSQL", () => {
  it("unique violations, self-insert over many pages, transactions", async () => {
    await sameAsPostgres([
      "create table s (a int4 primary key, b text)",
      "insert into s select g, g::text from generate_series(1, 3000) g",
      "insert into s select a + 3000, b from s",
      "select count(*), min(a), max(a), sum(a), min(b), max(b) from s",
      "insert into s select a + 6000, b from s where a % 2 = 0",
      "select count(*), max(a) from s",
      "insert into s select 5, 'dup'",
      "insert into s (a) select g from generate_series(100000, 100003) g, generate_series(1, 2) h",
      "insert into s (a, b) select g + 200000, null from generate_series(1, 2) g",
      "select count(*) from s where a > 99999",
      "begin",
      "insert into s select a + 300000, 'tx' from s where a <= 10",
      "insert into s select a + 300000, 'tx' from s where a <= 10",
      "rollback",
      "select count(*) from s where a > 300000",
      "drop table s",
    ]);
  }, 120_000);

  it("pgbench's server-side data generation, then its primary keys", async () => {
    await sameAsPostgres([
      "create table pgbench_accounts (aid int not null, bid int, abalance int, filler char(84)) with (fillfactor=100)",
      "insert into pgbench_accounts(aid,bid,abalance,filler) select aid, (aid - 1) / 100000 + 1, 0, '' from generate_series(1, 5000) as aid",
      "alter table pgbench_accounts add primary key (aid)",
      "select count(*), sum(bid), sum(aid), max(filler) = '' from pgbench_accounts",
      "select aid, bid, abalance from pgbench_accounts where aid = 4242",
      "select * from generate_series(1, 100000000) limit 3",
      "drop table pgbench_accounts",
    ]);
  }, 120_000);
});
