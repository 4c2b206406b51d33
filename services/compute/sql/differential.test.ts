import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WireServer } from "../wire/server.js";
import { createSqlSessionFactory } from "./session-factory.js";
import { MemoryDatabase } from "./testing/memory-database.js";

/**
 * Differential: one script through node-postgres against the SQL engine (over
 * the in-memory Database, behind the real wire layer) and against a vanilla
 * PostgreSQL of the same run. Column names and type oids, rows as text,
 * command tags, notices, and errors (SQLSTATE, message, position) must match.
 * Skipped where PostgreSQL is not installed.
 */

const PASSWORD = "differential";
let server: WireServer;
let vanilla: { url: string; stop(): void };

function postgresBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, "bin", "pg_ctl")));
  versions.sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], "bin");
}

const bin = postgresBinDir();
const installed = bin !== undefined;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

/** PostgreSQL under pg_ctl (as the postgres user when we are root: it refuses root), C locale, UTF8. */
async function startPostgres(): Promise<{ url: string; stop(): void }> {
  const dir = mkdtempSync(join(tmpdir(), "sediment-sql-diff-"));
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  const run = (command: string, args: string[]): void => {
    const [cmd, cmdArgs] = asRoot ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args];
    execFileSync(cmd, cmdArgs, { stdio: "ignore" });
  };
  if (asRoot) {
    const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"]).toString().trim());
    chownSync(dir, id("-u"), id("-g"));
  }
  run(join(bin!, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"]);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`;
  run(join(bin!, "pg_ctl"), ["-D", data, "-o", options, "-l", join(dir, "log"), "-w", "start"]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop() {
      run(join(bin!, "pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

beforeAll(async () => {
  if (!installed) return;
  [server, vanilla] = await Promise.all([
    WireServer.start({
      port: 0,
      password: PASSWORD,
      log: pino({ level: "silent" }),
      factory: createSqlSessionFactory(new MemoryDatabase()),
    }),
    startPostgres(),
  ]);
}, 60_000);

afterAll(async () => {
  vanilla?.stop();
  await server?.close();
});

type Outcome = { results: unknown[]; notices: string[] } | { error: unknown; notices: string[] };

type Statement = string | readonly [string, readonly unknown[]];

async function runScript(config: pg.ClientConfig, script: readonly Statement[]): Promise<Outcome[]> {
  const client = new pg.Client({ ...config, types: { getTypeParser: () => (v: string) => v } });
  const notices: string[] = [];
  client.on("notice", (n) => notices.push(`${n.severity} ${n.code} ${n.message}`));
  await client.connect();
  const out: Outcome[] = [];
  try {
    for (const statement of script) {
      notices.length = 0;
      const [text, values] = typeof statement === "string" ? [statement, undefined] : statement;
      try {
        const r = await client.query({ text, values: values as unknown[] | undefined, rowMode: "array" });
        const results = ([r].flat() as pg.QueryResult[]).map((x) => ({
          command: x.command,
          rowCount: x.rowCount,
          fields: x.fields.map((f) => `${f.name}:${f.dataTypeID}`),
          rows: x.rows,
        }));
        out.push({ results, notices: [...notices] });
      } catch (err) {
        const e = err as { code?: string; message: string; position?: string; detail?: string };
        out.push({ error: [e.code, e.message, e.position, e.detail], notices: [...notices] });
      }
    }
  } finally {
    await client.end();
  }
  return out;
}

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
  it("runs parameterized statements (extended protocol) as PostgreSQL does", async () => {
    const ours = await runScript(
      { host: "127.0.0.1", port: server.port, user: "postgres", password: PASSWORD, database: "postgres" },
      EXTENDED,
    );
    const theirs = await runScript({ connectionString: vanilla.url }, EXTENDED);
    for (let i = 0; i < EXTENDED.length; i++) {
      expect({ statement: EXTENDED[i], ...ours[i] }).toEqual({ statement: EXTENDED[i], ...theirs[i] });
    }
  }, 60_000);

  it("prints, tags and fails every statement of the script as PostgreSQL does", async () => {
    const ours = await runScript(
      { host: "127.0.0.1", port: server.port, user: "postgres", password: PASSWORD, database: "postgres" },
      SCRIPT,
    );
    const theirs = await runScript({ connectionString: vanilla.url }, SCRIPT);
    for (let i = 0; i < SCRIPT.length; i++) {
      expect({ sql: SCRIPT[i], ...ours[i] }).toEqual({ sql: SCRIPT[i], ...theirs[i] });
    }
  }, 60_000);
});
