import { afterAll, beforeAll, describe, it } from "vitest";
import {
  type DifferentialPair,
  type Statement,
  expectSameOutcomes,
  startDifferentialPair,
} from "../../../test/support/sql-differential.js";
import { postgresBinDir } from "../../../test/support/vanilla-postgres.js";

/**
 * Differential, for queries over several relations: joins (inner, outer,
 * cross, LATERAL, USING), subqueries in FROM and in expressions, GROUP BY,
 * HAVING, aggregates, DISTINCT, the catalog functions, and pgbench's
 * partitioning query over user tables shaped like the catalogs. The engine
 * (over the in-memory Database, behind the real wire layer) and a vanilla
 * PostgreSQL must answer each statement identically. Skipped where
 * PostgreSQL is not installed.
 */

const installed = postgresBinDir() !== undefined;
let pair: DifferentialPair;

beforeAll(async () => {
  if (installed) pair = await startDifferentialPair();
}, 60_000);

afterAll(async () => {
  await pair?.stop();
});

const SETUP = [
  "create table a (id int, x text, n bigint)",
  "create table b (id int, a_id int, y text)",
  "create table e (id int)",
  "insert into a values (1, 'one', 10), (2, 'two', null), (3, 'three', 30), (4, null, 40)",
  "insert into b values (1, 1, 'b1'), (2, 1, 'b2'), (3, 3, 'b3'), (4, null, 'b4'), (5, 9, 'b5')",
];

const JOINS = [
  "select * from a, b where a.id = b.a_id order by a.id, b.id",
  "select a.id, b.id from a join b on a.id = b.a_id order by 1, 2",
  "select a.id, b.id from a inner join b on a.id = b.a_id and b.y <> 'b1' order by 1, 2",
  "select a.id, b.y from a left join b on a.id = b.a_id order by a.id, b.y",
  "select a.id, b.y, b.a_id is null from a left outer join b on a.id = b.a_id and b.y <> 'b1' order by 1, 2",
  "select a.id, b.y from a right join b on a.id = b.a_id order by 2",
  "select a.id, b.y from a full join b on a.id = b.a_id order by 1, 2",
  "select count(*) from a cross join b",
  "select count(*) from a, b, e",
  "select * from a join b using (id) order by id",
  "select id, x, y from a natural join b order by id",
  "select * from a natural left join e order by id",
  "select x.id, y.id from a x, a y where x.id < y.id order by 1, 2",
  "select a1.id, a2.x from a a1 join a a2 on a1.id = a2.id + 1 order by 1",
  "select t.p, t.q, n from a as t(p, q) order by 1",
  "select * from a as t(p, q, r, s)",
  "select * from (select id, x from a where id > 1) s order by id",
  "select s.c from (select count(*) as c from b) s",
  "select * from (select id * 2 as d, 'k' as k from a) as s(dd) where dd > 2 order by dd",
  "select a.id, l.m from a cross join lateral (select max(b.id) as m from b where b.a_id = a.id) l order by 1",
  "select a.id, l.m from a left join lateral (select b.id as m from b where b.a_id = a.id) l on true order by 1, 2",
  "select a.id, l.c from a, lateral (select count(*) as c from b where b.a_id = a.id) l order by 1",
  "select * from a join (b join e on e.id = b.id) on a.id = b.a_id",
  "select a.id, b.id from a left join (b join a a2 on a2.id = b.a_id) on a.id = b.id order by 1, 2",
  "select * from e, a where e.id = a.id",
  "select * from e left join a on true",
  "select a.*, b.y from a join b on a.id = b.a_id order by b.id",
  "select public.a.id from a order by 1",
  "select id from a, b",
  "select a.nope from a",
  "select nope from a, b",
  "select c.id from a",
  "select a.id from a x",
  "select * from a, a",
  "select * from a join b on a.id = c.id",
  "select * from a, b join e on a.id = e.id",
  "select * from (select a.id) s, a",
  "select * from a join b using (nope)",
  "select * from a join b on a.id",
  "select * from a join b on count(*) > 1",
  "select b.* from a",
];

const GROUPING = [
  "select a_id, count(*) from b group by a_id order by 1",
  "select a_id, count(*), min(y), max(y), sum(id), count(a_id) from b group by 1 order by 1 nulls first",
  "select a_id as k, count(*) from b group by k order by k",
  "select count(*) from b group by a_id having count(*) > 1",
  "select a_id from b group by a_id having max(id) > 2 order by 1",
  "select a_id + 1, count(*) from b group by a_id + 1 order by 1",
  "select b.a_id, a.x, count(*) from b join a on a.id = b.a_id group by b.a_id, a.x order by 1",
  "select a.x, count(b.id) from a left join b on b.a_id = a.id group by a.x order by 1",
  "select y, count(*) from b group by a_id",
  "select a_id, y from b group by 1",
  "select count(*), sum(id), min(id), max(y), sum(n) from b, a where false",
  "select a_id, count(*) from b where false group by a_id",
  "select count(*) from b having count(*) > 100",
  "select 1 from b having true",
  "select max(id) from e",
  "select count(*) from e group by id",
  "select distinct a_id from b order by 1",
  "select distinct a_id from b order by id",
  "select distinct a.x is null, b.a_id > 1 from a, b order by 1, 2",
  "select a_id, count(*) from b group by 3",
  "select count(*) from b group by count(*)",
  "select min(true) from b",
  "select id, (select count(*) from b where b.a_id = a.id) from a group by id order by 1",
  "select x, (select count(*) from b where b.a_id = a.id) from a group by x",
];

const SUBQUERIES = [
  "select (select max(id) from b), (select count(*) from a)",
  "select id, (select y from b where b.id = a.id) from a order by id",
  "select (select id from b)",
  "select (select id, y from b)",
  "select (select id from e) is null",
  "select id from a where exists (select 1 from b where b.a_id = a.id) order by 1",
  "select id from a where not exists (select 1 from b where b.a_id = a.id) order by 1",
  "select id from a where id in (select a_id from b) order by 1",
  "select id from a where id not in (select a_id from b)",
  "select id from a where id not in (select a_id from b where a_id is not null) order by 1",
  "select id from a where id = any (select a_id from b) order by 1",
  "select id, n > all (select n from a where n is not null) from a order by 1",
  "select id, id in (select a_id from b where a_id <> 3) from a order by 1",
  "select id in (1, 2), x in ('one', null), x not in ('two') from a order by id",
  "select coalesce(x, 'none'), coalesce(n, 0), coalesce(null, 2) from a order by id",
  "select id from a where n = (select max(n) from a)",
  "select id from a where (select count(*) from b where b.a_id = a.id) = 2",
];

const FUNCTIONS = [
  "select current_schemas(true), current_schemas(false), pg_catalog.current_schemas(true)",
  "select current_schema(), current_database(), current_user, session_user, current_schema, current_catalog, user",
  "select array_position(current_schemas(true), 'public'), array_position(current_schemas(true), 'nope')",
  "select pg_catalog.array_position(pg_catalog.current_schemas(true), 'pg_catalog'), array_position(current_schemas(true), 'public', 2)",
  "select current_user = 'postgres', current_schema() < 'q', current_database()::text",
  "select array_position(1, 2)",
  "select current_schemas(1)",
  "select pg_catalog.count(*) from a",
];

const PGBENCH_CATALOGS = [
  "create table cls (oid bigint, relname text, relnamespace bigint)",
  "create table nsp (oid bigint, nspname text)",
  "create table part (partrelid bigint, partstrat text)",
  "create table inh (inhrelid bigint, inhparent bigint)",
  "insert into nsp values (11, 'pg_catalog'), (2200, 'public'), (99, 'other')",
  "insert into cls values (16384, 'pgbench_accounts', 2200), (16390, 'pgbench_branches', 2200), (16400, 'pgbench_accounts', 99), (16500, 'parted', 2200), (16501, 'parted_1', 2200), (16502, 'parted_2', 2200)",
  "insert into part values (16500, 'r')",
  "insert into inh values (16501, 16500), (16502, 16500)",
];

function partitioningQuery(table: string): string {
  return (
    "select o.n, p.partstrat, pg_catalog.count(i.inhparent) from public.cls as c join public.nsp as n on (n.oid = c.relnamespace) " +
    "cross join lateral (select pg_catalog.array_position(pg_catalog.current_schemas(true), n.nspname)) as o(n) " +
    "left join public.part as p on (p.partrelid = c.oid) left join public.inh as i on (c.oid = i.inhparent) " +
    `where c.relname = '${table}' and o.n is not null group by 1, 2 order by 1 asc limit 1`
  );
}

const PGBENCH = [
  ...PGBENCH_CATALOGS,
  partitioningQuery("pgbench_accounts"),
  partitioningQuery("parted"),
  partitioningQuery("nope"),
  "insert into nsp values (12, 'pg_catalog')",
  "insert into cls values (16600, 'pgbench_accounts', 12)",
  partitioningQuery("pgbench_accounts"),
];

const EXTENDED: readonly Statement[] = [
  ["select a.id, b.y from a join b on a.id = b.a_id where a.id = $1 order by 2", [1]],
  ["select a_id, count(*) from b where id > $1 group by a_id order by 1", [1]],
  ["select id from a where id in (select a_id from b where id >= $1) order by 1", [3]],
  ["select (select max(id) from b where a_id = $1)", [1]],
  ["select a.id, l.c from a, lateral (select count(*) + $1 as c from b where b.a_id = a.id) l order by 1", [100]],
];

function compare(script: readonly Statement[]): Promise<void> {
  return expectSameOutcomes(pair, script);
}

describe.skipIf(!installed)("differential against PostgreSQL: several relations", () => {
  it("joins as PostgreSQL does", () => compare([...SETUP, ...JOINS]), 60_000);
  it("groups and aggregates as PostgreSQL does", () => compare(GROUPING), 60_000);
  it("runs subqueries as PostgreSQL does", () => compare(SUBQUERIES), 60_000);
  it("answers the catalog functions as PostgreSQL does", () => compare(FUNCTIONS), 60_000);
  it("runs pgbench's partitioning query over catalog-shaped tables", () => compare(PGBENCH), 60_000);
  it("runs parameterized joins, groups and subqueries (extended protocol)", () => compare(EXTENDED), 60_000);
});
