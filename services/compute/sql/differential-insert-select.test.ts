import { afterAll, beforeAll, describe, it } from "vitest";
import {
  type DifferentialPair,
  type Statement,
  expectSameOutcomes,
  startDifferentialPair,
} from "../../../test/support/sql-differential.js";
import { postgresBinDir } from "../../../test/support/vanilla-postgres.js";

/**
 * Differential, for INSERT … SELECT and generate_series in FROM: column
 * lists, assignment casts and their errors, a SELECT that reads the target
 * table, ORDER BY/LIMIT and joins under INSERT; series with steps, empty
 * ranges, int8 bounds, NULLs, aliases, joins and LIMIT; and the statement
 * shape of pgbench's server-side data generation (-I G). The engine (over the
 * in-memory Database, behind the real wire layer) and a vanilla PostgreSQL
 * must answer each statement identically. Skipped where PostgreSQL is not
 * installed.
 */

const installed = postgresBinDir() !== undefined;
let pair: DifferentialPair;

beforeAll(async () => {
  if (installed) pair = await startDifferentialPair();
}, 60_000);

afterAll(async () => {
  await pair?.stop();
});

const SERIES = [
  "select * from generate_series(1, 3)",
  "select * from generate_series(1, 10, 3)",
  "select g from generate_series(1, 10, 3) as g",
  "select x.g from generate_series(1, 3) as x(g)",
  "select generate_series.generate_series + 1 from generate_series(1, 2)",
  "select * from generate_series(10, 1, -4)",
  "select * from generate_series(5, 1)",
  "select * from generate_series(1, 5, -1)",
  "select * from generate_series(3, 3)",
  "select * from generate_series(1, 3, 0)",
  "select * from generate_series(1, null)",
  "select * from generate_series(null, 3, 1)",
  "select * from generate_series(1, 3, null)",
  "select * from generate_series(null, null)",
  "select * from generate_series(1)",
  "select * from generate_series(1, 2, 3, 4)",
  "select g, g + 1 from generate_series(1, 3::int8) g",
  "select g from generate_series(2::int8, 4) g",
  "select * from generate_series(9223372036854775805, 9223372036854775807)",
  "select * from generate_series(-9223372036854775807, -9223372036854775808, -1)",
  "select * from generate_series(2147483646, 2147483647)",
  "select * from generate_series(-2147483647, -2147483648, -1)",
  "select * from generate_series(1, 4000000000, 1000000000)",
  "select * from generate_series('2', 4)",
  "select * from generate_series(1, 10000000) limit 5",
  "select g from generate_series(1, 10000000) g where g % 1000 = 0 limit 3",
  "select count(*), sum(g), min(g), max(g) from generate_series(1, 1000) g",
  "select * from generate_series(1, 2) as x(a, b)",
  "select g * 2 as d from generate_series(1, 6) g where g > 2 order by d desc",
  "select a.g, b.g from generate_series(1, 3) a, generate_series(1, 2) b order by 1, 2",
  "select t.a, g from generate_series(1, 3) g join t on t.a = g order by 1",
  "select t.a, g from t left join generate_series(2, 3) g on t.a = g order by 1",
  "select t.a, g from t, generate_series(1, t.a) g order by 1, 2",
  "select t.a, g from t cross join lateral generate_series(t.a, 2) g order by 1, 2",
  "select (select count(*) from generate_series(1, t.a)) from t order by 1",
  "select * from generate_series(1, (select max(a) from t))",
  "select * from generate_series(1, 3) g, generate_series(1, 3) g",
  "select nope from generate_series(1, 3) g",
  "select generate_series from generate_series(1, 2) g",
  "select * from pg_catalog.generate_series(1, 2)",
];

const INSERT_SELECT = [
  "create table d (a int not null, b text, c char(3), n bigint)",
  "insert into d select a, b, b, a from t",
  "select * from d order by a",
  "insert into d (n, a) select a * 10, a + 100 from t where a > 1",
  "select * from d order by a",
  "insert into d select * from d",
  "select count(*), sum(a) from d",
  "insert into d (a, c) select g, 'x' from generate_series(1, 3) g order by g desc limit 2",
  "select * from d where c = 'x' order by a",
  "insert into d (a, b) select t.a, u.b from t join t u on u.a = t.a + 1",
  "select * from d where b is not null and c is null order by a",
  "insert into d select true",
  "insert into d select 1, 'x', 'y', 4, 5",
  "insert into d (a) select 1, 2",
  "insert into d (a, b) select 1",
  "insert into d (a, b) select * from t",
  "insert into d select null",
  "insert into d (c) select 'toolong'",
  "insert into d (a, c) select 1, b from t",
  "insert into d (a) select '12'",
  "insert into d (a) select 'zz'",
  "insert into d (a) select 2.6::float8",
  "insert into d (a) select n from d where a = 2",
  "insert into d (a) select n from d where n > 3000000000",
  "insert into d (n, a) select 3000000000, 1",
  "insert into d (a) select 3000000000::int8",
  "insert into d (nope) select 1",
  "insert into nope select 1",
  "insert into d select count(*), max(b) from t group by b having count(*) > 0 order by 2",
  "insert into d (a) select a from t where false",
  "insert into d (a, b) select (select max(a) from t), 'sub'",
  "select * from d where b = 'sub' or a > 100 order by a",
  "insert into d (a, b) select u.a, t.b from t left join t u on u.a = t.a + 1 order by t.a",
  "begin",
  "insert into d (a, b) select g, 'tx' from generate_series(1, 2) g",
  "insert into d (a, b) select a + 1000, b from d where b = 'tx'",
  "select a, b from d where b = 'tx' order by a",
  "rollback",
  "select count(*) from d",
];

const PGBENCH_GENERATE = [
  "create table pgbench_accounts (aid int not null, bid int, abalance int, filler char(84))",
  "insert into pgbench_accounts(aid,bid,abalance,filler) select aid, (aid - 1) / 100 + 1, 0, '' from generate_series(1, 1000) as aid",
  "create table pgbench_branches (bid int not null, bbalance int, filler char(88))",
  "insert into pgbench_branches(bid,bbalance) select bid, 0 from generate_series(1, 3) as bid",
  "create table pgbench_tellers (tid int not null, bid int, tbalance int, filler char(84))",
  "insert into pgbench_tellers(tid,bid,tbalance) select tid, (tid - 1) / 10 + 1, 0 from generate_series(1, 30) as tid",
  "select count(*), sum(abalance), min(aid), max(aid), min(filler), max(length(filler)) from pgbench_accounts",
  "select bid, count(*) from pgbench_accounts group by bid order by bid",
  "select * from pgbench_branches order by bid",
  "select * from pgbench_tellers where tid in (1, 10, 11, 30) order by tid",
  "select aid, bid, abalance, filler from pgbench_accounts order by aid limit 2",
];

const EXTENDED: readonly Statement[] = [
  ["select * from generate_series($1::int, $2::int)", [2, 4]],
  ["select * from generate_series(1, $1)", [3]],
  ["insert into d (a, b) select g, $1 from generate_series(1, $2) g", ["p", 2]],
  ["select a, b from d where b = $1 order by a", ["p"]],
];

const SETUP = ["create table t (a int, b text)", "insert into t values (1, 'one'), (2, 'two'), (3, null)"];

function compare(script: readonly Statement[]): Promise<void> {
  return expectSameOutcomes(pair, script);
}

describe.skipIf(!installed)("differential against PostgreSQL: INSERT … SELECT and generate_series", () => {
  it("generates series as PostgreSQL does", () => compare([...SETUP, ...SERIES]), 60_000);
  it("inserts what a SELECT yields as PostgreSQL does", () => compare([...SETUP, ...INSERT_SELECT]), 60_000);
  it("runs pgbench's server-side data generation", () => compare(PGBENCH_GENERATE), 60_000);
  it(
    "takes parameters (extended protocol)",
    () => compare([...SETUP, ...INSERT_SELECT.slice(0, 1), ...EXTENDED]),
    60_000,
  );
});
