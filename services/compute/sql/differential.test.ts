import { afterAll, beforeAll, describe, it } from "vitest";
import {
  type DifferentialPair,
  type Statement,
  expectSameOutcomes,
  startDifferentialPair,
} from "../../../test/support/sql-differential.js";
import { postgresBinDir } from "../../../test/support/vanilla-postgres.js";

/**
 * Differential: one script through node-postgres against the SQL engine (over
 * the in-memory Database, behind the real wire layer) and against a vanilla
 * PostgreSQL of the same run. Column names and type oids, rows as text,
 * command tags, notices, and errors (SQLSTATE, message, position) must match.
 * Skipped where PostgreSQL is not installed.
 */

const installed = postgresBinDir() !== undefined;
let pair: DifferentialPair;

beforeAll(async () => {
  if (installed) pair = await startDifferentialPair();
}, 60_000);

afterAll(async () => {
  await pair?.stop();
});

const SCRIPT = [
  "create table t (a int not null, b bigint, c text, d boolean)",
  "create table t (x int)",
  "create table if not exists t (x int)",
  "insert into t values (1, 10, 'b', true), (2, null, 'a', false), (3, 30, null, null), (4, 40, 'c', true)",
  "insert into t (c, a) values ('zz', 5), ('yy', 6)",
  "insert into t (a, c) values (7, 8)",
  "insert into t (b) values (1)",
  "insert into t (a) values ('x')",
  "insert into t (a) values (true)",
  "insert into t (a) values (2147483648)",
  "insert into t values (1, 2, 'x', true, 5)",
  "insert into t (a, b) values (1)",
  "insert into t (z) values (1)",
  "insert into t (a, a) values (1, 2)",
  "insert into nope values (1)",
  "select * from t order by a",
  "select a, b from t order by b, a",
  "select a, b from t order by b desc, a",
  "select a, b from t order by b nulls first, a desc",
  "select a as x, c from t order by 2, 1",
  "select a from t order by -a limit 3 offset 1",
  "select a from t order by d, a desc",
  "select a from t order by c desc nulls last",
  "select count(*), count(b), count(c), sum(a), sum(b), sum(a) + 1 from t",
  "select count(*), sum(a), sum(b) from t where a > 100",
  "select a, a + 1, a * b, -a, b / 3, b % 7, a = 1 or d from t where a < 5 order by a",
  "select a, b from t where b >= 30 and (d or d is null) order by a",
  "select c, c < 'b', c = 'a' from t where c is not null order by c",
  "select 1, true, false, null, 'a', -2147483648, 2147483648, 12345678901234567890",
  "select '1'::int, 1::int8 as big, 1::bool, 0::bool, true::text, 1::text, cast('yes' as boolean), ' -5 '::int",
  "select -7/2, -7%2, 7 % -2, - -1, 1+'2', 1 + 2::int8, -(-2147483648)",
  "select 1 = 1 and null, null or true, not null, null and false, null is null, null = null",
  "select count(*)",
  "select pg_sleep(0.001)",
  "select 2147483647 + 1",
  "select 9223372036854775807 + 1",
  "select 1/0",
  "select 'abc'::int",
  "select '99999999999'::int",
  "select 'x'::bool",
  "select -'1'",
  "select '1' + '2'",
  "select 1 + true",
  "select 1::int8::bool",
  "select not 1",
  "selec 1",
  "select * from",
  "select 'é', nope from t",
  "select * from nope",
  "select zz from t",
  "select t.zz from t",
  "select y.a from t",
  "select t.a from t x",
  "select x.a, a from t x where x.a = 1",
  "select *",
  "select 1 from t where a",
  "select 1 from t where c = 1",
  "select a as x, b as x from t order by x",
  "select a from t order by 9",
  "select a from t order by 'x'",
  "select count(*), a from t",
  "select a from t where count(*) > 1",
  "select count(count(*)) from t",
  "select sum(c) from t",
  "select sum('1')",
  "select a from t limit -1",
  "select a from t offset -1",
  "update t set a = b, b = a where b is not null",
  "select a, b from t order by a",
  "update t set c = c where a > 100",
  "update t set z = 1",
  "update t set a = 1, a = 2",
  "update t set a = null",
  "update t set b = b * 9223372036854775807",
  "delete from t where b > 15 or b is null",
  "select * from t order by a",
  "delete from t",
  "insert into t values (1, 2, 'x', true); select 1/0",
  "select count(*) from t",
  "insert into t values (1, 2, 'x', true); commit; select 1/0",
  "select count(*) from t",
  "begin; insert into t values (2, 3, 'y', false); commit; insert into t values (3, 4, 'z', true); select 1/0",
  "select a from t order by a",
  "commit",
  "rollback",
  "begin",
  "begin",
  "insert into t values (9, 9, 'q', true)",
  "select 1/0",
  "select 1",
  "commit",
  "select a from t order by a",
  "begin isolation level repeatable read",
  "select count(*) from t",
  "end",
  "start transaction read only",
  "insert into t values (1, 1, 'r', true)",
  "abort",
  "drop table t",
  "drop table t",
  "drop table if exists t, u",
  "create table t (a int, a int)",
  "select $1",
  "",
];

/** Parameterized: node-postgres sends Parse (untyped $n) / Bind (text) / Describe / Execute / Sync. */
const EXTENDED: readonly Statement[] = [
  "create table p (a int not null, b bigint, c text, d boolean)",
  ["insert into p values ($1, $2, $3, $4), ($5, $6, $7, $8)", [1, 10, "x", true, 2, null, null, false]],
  ["insert into p (a, c) values ($1, $2)", [3, "zz"]],
  ["insert into p (a) values ($1)", ["x"]],
  ["insert into p (a) values ($1)", [null]],
  ["insert into p (a) values ($1)", ["2147483648"]],
  ["select a, b, c, d from p where a >= $1 order by a", [1]],
  ["select $1, $2::int8", ["text", 5]],
  ["select a + $1, b * $2, c = $3 from p order by a", [1, 2, "x"]],
  ["select count(*), sum(a), sum(b) from p where b > $1 or b is null", [0]],
  ["update p set b = b + $1 where a = $2", [5, 1]],
  ["update p set d = $1 where c = $2", ["yes", "zz"]],
  ["select * from p order by a limit $1 offset $2", [2, 1]],
  ["select * from p limit $1", [-1]],
  ["delete from p where a = $1", [2]],
  ["select a from p where a = $1", ["1.5"]],
  ["select * from p order by a", []],
  ["select 1/$1", [0]],
  ["begin", []],
  ["select 1/$1", [0]],
  ["select $1::int", [1]],
  ["rollback", []],
  ["select pg_sleep($1)", [0]],
];

describe.skipIf(!installed)("differential against PostgreSQL", () => {
  it(
    "runs parameterized statements (extended protocol) as PostgreSQL does",
    () => expectSameOutcomes(pair, EXTENDED),
    60_000,
  );

  it(
    "prints, tags and fails every statement of the script as PostgreSQL does",
    () => expectSameOutcomes(pair, SCRIPT),
    60_000,
  );
});
