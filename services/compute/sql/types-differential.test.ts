import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DifferentialPair, startDifferentialPair } from "../../../test/support/sql-differential.js";
import { postgresBinDir } from "../../../test/support/vanilla-postgres.js";

/**
 * Differential, for the column types beyond int/bigint/text/boolean:
 * character(n), varchar(n), timestamp, timestamptz, double precision, date.
 * The same script runs through node-postgres against the SQL engine (behind
 * the real wire layer) and a vanilla PostgreSQL 15; column names, type oids,
 * sizes and modifiers, rows as text (and, for binary results, bytes),
 * command tags, notices and errors must match. Statements whose result
 * depends on the clock compare only what is stable.
 */

const installed = postgresBinDir() !== undefined;
let pair: DifferentialPair;

beforeAll(async () => {
  if (installed) pair = await startDifferentialPair({ TimeZone: "UTC" });
}, 60_000);

afterAll(async () => {
  await pair?.stop();
});

type Statement = string | readonly [string, readonly unknown[]];

async function runScript(config: pg.ClientConfig, script: readonly Statement[], binary = false): Promise<unknown[]> {
  const client = new pg.Client({ ...config, types: { getTypeParser: () => (v: unknown) => v } });
  const notices: string[] = [];
  client.on("notice", (n) => notices.push(`${n.severity} ${n.code} ${n.message}`));
  await client.connect();
  const out: unknown[] = [];
  try {
    for (const statement of script) {
      notices.length = 0;
      const [text, values] = typeof statement === "string" ? [statement, undefined] : statement;
      try {
        const config: pg.QueryArrayConfig = { text, values: values as unknown[] | undefined, rowMode: "array" };
        // node-postgres sends Bind with all results in binary when the config says so (not in its types).
        const r = await client.query(binary ? ({ ...config, binary } as pg.QueryArrayConfig) : config);
        const results = ([r].flat() as pg.QueryResult[]).map((x) => ({
          command: x.command,
          rowCount: x.rowCount,
          fields: x.fields.map((f) => `${f.name}:${f.dataTypeID}:${f.dataTypeSize}:${f.dataTypeModifier}`),
          rows: x.rows.map((row: unknown[]) => row.map((v) => (Buffer.isBuffer(v) ? v.toString("hex") : v))),
        }));
        out.push({ results, notices: [...notices] });
      } catch (err) {
        const e = err as { code?: string; message: string; position?: string; detail?: string; hint?: string };
        out.push({ error: [e.code, e.message, e.position, e.detail, e.hint], notices: [...notices] });
      }
    }
  } finally {
    await client.end();
  }
  return out;
}

const PGBENCH = [
  "create table pgbench_history(tid int,bid int,aid int,delta int,mtime timestamp,filler char(22))",
  "create table pgbench_tellers(tid int not null,bid int,tbalance int,filler char(84)) with (fillfactor=100)",
  "create table pgbench_accounts(aid int not null,bid int,abalance int,filler char(84)) with (fillfactor=100)",
  "create table pgbench_branches(bid int not null,bbalance int,filler char(88)) with (fillfactor=100)",
  "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 2, 3, -100, CURRENT_TIMESTAMP);",
  "insert into pgbench_tellers(tid,bid,tbalance) values (1, 1, 0)",
  "select tid, bid, aid, delta, mtime is not null, mtime <= now(), filler from pgbench_history",
  "select * from pgbench_tellers",
  "select filler, filler is null from pgbench_tellers",
  "drop table pgbench_history, pgbench_tellers, pgbench_accounts, pgbench_branches",
];

const CHARACTER = [
  "create table c (a char(3), b varchar(3), c char, d character varying, e bpchar, f character(5))",
  "insert into c values ('abcd')",
  "insert into c (b) values ('abcd')",
  "insert into c (c) values ('xy')",
  "insert into c values ('ab   ', 'ab    ', 'x', 'y', 'z  ', 'q')",
  "insert into c values ('a', 'a', 'a', 'a', 'a', 'a'), ('b ', 'b ', 'b', 'b ', 'b ', 'b '), (null, null, null, null, null, null)",
  "insert into c values (12, 34, 5, 6.5, true, 12345)",
  "insert into c (f) values (123456)",
  "select * from c order by a, b",
  "select a::text, b::text, e::text, f::varchar, a::varchar(1) from c order by f desc",
  "select length(a), length(b), length(e), length(f), length('ab  ') from c order by a",
  "select a = 'ab', a = 'ab ', b = 'ab', b = 'ab ', a < 'b', f > 'a' from c order by a",
  "select a from c where a = b order by a",
  "select 'abcdef'::char(3), 'abcdef'::varchar(3), 'ab'::char(5), 'ab'::char(5)::text, 'ab '::char(5)::varchar(5), cast('x' as character(2))",
  "select 'abcdef'::character varying, 'a'::char, 'abc'::bpchar, 12::char(5), true::varchar, 1.5::char(3)",
  "select '12 '::char(3)::int, ' 1.5 '::varchar::float8",
  "update c set a = 'zz' where a = 'a'",
  "update c set b = 'toolong' where a = 'zz'",
  "select a, b from c where a = 'zz'",
  "select 'a'::char(0)",
  "create table c2 (a varchar(0))",
  "create table c2 (a int(3))",
  "drop table c",
];

const TIMESTAMP = [
  "create table ts (id int, a timestamp, b timestamptz, c date, d timestamp(3), e timestamptz(0))",
  "insert into ts values (1, '2026-11-26 12:34:56.123456', '2026-11-26 12:34:56.123456+02', '2026-11-26', '2026-11-26 12:34:56.123456', '2026-11-26 12:34:56.5')",
  "insert into ts values (2, '2026-11-26', '2026-11-26T01:02:03Z', '2026-01-01 12:00', '2026-11-26 00:00:00.0005', '2026-11-26 00:00:00.4')",
  "insert into ts values (3, 'infinity', '-infinity', 'infinity', '-infinity', 'infinity')",
  "insert into ts values (4, '0001-01-01 00:00:00 BC', '2000-01-01 00:00:00-05:30', '0044-03-15 BC', '1999-12-31 23:59:59.9999', '2026-11-26 12:00 +0530')",
  "insert into ts values (5, '2026-01-01 24:00', 'epoch', 'epoch', '2026-02-28 23:59:60', '11-26-2026')",
  "insert into ts values (6, null, null, null, null, null)",
  "insert into ts (id, a) values (7, 'foo')",
  "insert into ts (id, b) values (7, 'foo')",
  "insert into ts (id, c) values (7, 'foo')",
  "insert into ts (id, a) values (7, '2026-13-01')",
  "insert into ts (id, a) values (7, '2026-02-30')",
  "insert into ts (id, a) values (7, '2026-01-01 25:00')",
  "insert into ts (id, a) values (7, '2026-01-01 12:60')",
  "insert into ts (id, b) values (7, '2026-01-01 12:00+16')",
  "insert into ts (id, a) values (7, '294277-01-01')",
  "insert into ts (id, a) values (7, 1)",
  "insert into ts (id, a) values (7, now())",
  "insert into ts (id, a, b, c) values (8, current_timestamp, localtimestamp, current_date)",
  "select id, a, b, c, d, e from ts where id < 7 order by id",
  "select id from ts order by a, id",
  "select id from ts order by b desc, id",
  "select id from ts order by c nulls first, id",
  "select id, a < '2026-11-26 12:00', b >= '2026-11-26', c = '2026-11-26', a = c, b > a from ts where id < 7 order by id",
  "select id, a::date, b::timestamp, c::timestamp, c::timestamptz, a::timestamptz, b::date from ts where id < 7 order by id",
  "select id, a::text, b::varchar, c::char(12), d::timestamp(0), e::timestamptz(6) from ts where id < 7 order by id",
  "select '2026-11-26 12:34:56.123456'::timestamp(2), '2026-11-26 12:34:56.5'::timestamptz(0), '2026-11-26 12:34:56.1234567'::timestamp",
  "select ' 2026-01-01 '::timestamp, '2026-1-2 3:4:5'::timestamp, '2026-01-01 12:00+02'::timestamp, '2026-01-01 12:00:00 utc'::timestamptz",
  "select '2026-01-01 12:00:00-05:30:10'::timestamptz, '2026-01-01 12:00:00.999999999'::timestamp, '2026-12-31'::date",
  "select '4714-11-24 BC'::timestamp, '4714-11-23 BC'::timestamp",
  "select '5874897-12-31'::date, '2026-01-01 BC'::date",
  "select now() = current_timestamp, now() = transaction_timestamp(), localtimestamp = now()::timestamp, current_date = now()::date",
  "select now() <= clock_timestamp(), statement_timestamp() >= now()",
  "select now(1)",
  "select current_timestamp is not null, localtimestamp(2) is not null, current_date is not null",
  "select current_timestamp(2) > '2000-01-01', current_date, localtimestamp(3) from ts where false",
  "select a + 1 from ts",
  "select 1 from ts where a = 1",
  "drop table ts",
];

const FLOAT = [
  "create table f (id int, x float8, y double precision, z float)",
  "insert into f values (1, 0.1, 1e100, 1.5), (2, 'Infinity', '-inf', 'NaN'), (3, -0.0, '-0', 0), (4, 1, 2, 3), (5, 2.5, -2.5, 1e-5)",
  "insert into f values (6, 123456789012345678, 1e15, 1e14), (7, 9.999999999999999e14, 0.0001, 5e-324), (8, 1.7976931348623157e308, null, 1)",
  "insert into f (id, x) values (9, 'abc')",
  "insert into f (id, x) values (9, '1e400')",
  "insert into f (id, x) values (9, '1e-400')",
  "insert into f (id, x) values (9, '')",
  "insert into f (id, x) values (9, true)",
  "select * from f order by id",
  "select id from f order by x, id",
  "select id from f order by z desc, id",
  "select id, x + y, x - y, x * z, x / z, -x from f where id = 1 or id = 4 or id = 5 order by id",
  "select id, x = 1, x < y, z = 'NaN', z > 'Infinity', x = 0 from f order by id",
  "select 0.1::float8 + 0.2::float8, 1.5::float8 + 1, 1::int8 + 1.5::float8, 1.5 + 1.5::float8, 3 / 2::float8",
  "select x::int, x::bigint, x::text, x::varchar(4) from f where id = 5",
  "select 1::float8 / 0",
  "select 1e308::float8 * 10",
  "select 1e-300::float8 * 1e-300::float8",
  "select 1::float8 % 2",
  "select 'nan'::float8::int",
  "select 1e19::float8::bigint",
  "select 1.5, 2.50, -1.5, 1e5, 1.5e-3, .5, 5., 0.000, -0.0",
  "select 1.5::int, 2.5::int, (-2.5)::int, 2.5::bigint, 1.5::text",
  "select 2.5::float8::int, 1.5::float8::int, (-2.5)::float8::int",
  "select sum(x), sum(z), count(x) from f where id > 2",
  "select sum(x) from f where id < 3",
  "select sum(x) from f where id = 8 or id = 6",
  "select sum(x::char(3)) from f",
  "update f set x = x * 2 where id = 4",
  "update f set y = 1 / 0 where id = 4",
  "select x from f where id = 4",
  "drop table f",
];

const OPTIONS = [
  "create table o1 (a int) with (fillfactor=100)",
  "create table o2 (a int) with (fillfactor=10, autovacuum_enabled=false)",
  "create table o3 (a int) with (fillfactor=5)",
  "create table o3 (a int) with (fillfactor=101)",
  "create table o3 (a int) with (foo=1)",
  "create table o3 (a int) with (fillfactor='x')",
  "create table o3 (a int) with (fillfactor)",
  "create table o3 (a int) with (fillfactor=50.5)",
  "drop table o1, o2, o3",
];

/** Parameters (text and binary) and binary results. */
const EXTENDED: readonly Statement[] = [
  "create table e (a char(4), b varchar(4), c timestamp, d timestamptz, f float8, g date)",
  [
    "insert into e values ($1, $2, $3, $4, $5, $6)",
    ["ab", "cd", "2026-11-26 12:34:56.5", "2026-11-26 12:00+01", 0.5, "2026-11-26"],
  ],
  ["insert into e values ($1, $2, $3, $4, $5, $6)", ["abcde", null, null, null, null, null]],
  ["insert into e (c) values ($1)", ["junk"]],
  ["insert into e (f) values ($1)", ["junk"]],
  ["select * from e where a = $1", ["ab"]],
  ["select * from e where c < $1 and f > $2", ["2027-01-01", 0.25]],
  ["select $1::timestamptz, $2::float8, $3::char(3)", ["2026-01-01 00:00:00+00", "1e100", "x"]],
  "drop table e",
];

describe.skipIf(!installed)("differential against PostgreSQL: column types", () => {
  it.each([
    ["pgbench", PGBENCH],
    ["character", CHARACTER],
    ["timestamp", TIMESTAMP],
    ["float8", FLOAT],
    ["storage parameters", OPTIONS],
    ["extended", EXTENDED],
  ] as const)(
    "%s statements behave as in PostgreSQL",
    async (_name, script) => {
      const ours = await runScript(pair.ours, script);
      const theirs = await runScript(pair.theirs, script);
      const differing = script.flatMap((sql, i) =>
        JSON.stringify(ours[i]) === JSON.stringify(theirs[i]) ? [] : [{ sql, ours: ours[i], theirs: theirs[i] }],
      );
      expect(differing.map((d) => ({ sql: d.sql, ...(d.ours as object) }))).toEqual(
        differing.map((d) => ({ sql: d.sql, ...(d.theirs as object) })),
      );
    },
    60_000,
  );

  it("sends binary results as PostgreSQL does", async () => {
    const script: Statement[] = [
      [
        "select '2026-11-26 12:34:56.5'::timestamp, '2026-11-26 12:00+01'::timestamptz, 1.5::float8, 'ab'::char(4), 'cd'::varchar(3), '2026-11-26'::date, '-infinity'::timestamp, 'NaN'::float8",
        [],
      ],
    ];
    const ours = await runScript(pair.ours, script, true);
    const theirs = await runScript(pair.theirs, script, true);
    expect(ours).toEqual(theirs);
  }, 60_000);
});
