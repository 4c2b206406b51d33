import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serialize } from "pg-protocol";
import type { BackendMessage } from "pg-protocol/dist/messages.js";
import { Parser } from "pg-protocol/dist/parser.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCluster, TEST_PASSWORD, startLocalCluster } from "./support/local-cluster.js";
import { type VanillaPostgres, startVanillaPostgres } from "./support/vanilla-postgres.js";

/**
 * Differential: COPY through psql (the client users run, reading scripts
 * with inline COPY data, as `psql -f` and `\copy` do) against Sediment (3
 * storage processes + compute) and a vanilla PostgreSQL: psql's whole output
 * (rows, COPY tags, errors with SQLSTATE, DETAIL, HINT and CONTEXT line
 * numbers) and the loaded rows, dumped by COPY TO STDOUT, must be identical
 * byte for byte. Then a loader that speaks the protocol as pgbench -i does.
 */

let cluster: LocalCluster;
let vanilla: VanillaPostgres;
const dir = mkdtempSync(join(tmpdir(), "sediment-copy-"));

beforeAll(async () => {
  [cluster, vanilla] = await Promise.all([startLocalCluster({ compute: true }), startVanillaPostgres()]);
}, 60_000);
afterAll(async () => {
  await Promise.all([cluster?.stop(), vanilla?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

function psql(port: number, script: string): Promise<string> {
  const file = join(dir, `script-${port}.sql`);
  writeFileSync(file, script, "latin1"); // the script is bytes: latin1 keeps every byte as written
  return new Promise((resolve) => {
    execFile(
      "psql",
      ["-X", "-q", "-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", "postgres", "-f", file],
      { env: { ...process.env, PGPASSWORD: TEST_PASSWORD, PGAPPNAME: "copy-test" } },
      (_err, stdout, stderr) =>
        resolve(
          `${stdout}\n--- stderr ---\n${stderr}`
            .replaceAll(file, "script.sql")
            .split("\n")
            .filter((l) => !l.startsWith("LOCATION:")) // PostgreSQL's source file and line
            .join("\n"),
        ),
    );
  });
}

const sasl = createRequire(import.meta.url)("pg/lib/crypto/sasl.js") as {
  startSession(mechanisms: string[]): { response: string; mechanism: string };
  continueSession(session: { response: string }, password: string, serverData: string): Promise<void>;
};

const TABLE = "drop table if exists t;\ncreate table t (a int not null, b text, c bool, d bigint);\n";
const DUMP = "copy t to stdout;\nselect count(*) from t;\n";

/** [name, script]: each starts from an empty table t, runs its COPY, then dumps t. */
const CASES: readonly (readonly [string, string])[] = [
  [
    "text: NULLs and every escape",
    "copy t from stdin;\n1\tx\tt\t10\n2\t\\N\tf\t\\N\n3\tab\\\\c\\t\\101\\x41\\303\\251\\n\\r\\b\\f\\v\\q\tf\t-5\n4\t\\\\N\t\\N\t\\N\n\\.\n",
  ],
  ["text: column list, missing columns NULL", "copy t (d, a) from stdin;\n7\t1\n8\t2\n\\.\n"],
  [
    "text: delimiter and null string",
    "copy t from stdin with (delimiter '|', null 'NULL');\n1|a b|true|NULL\n2|NULL|no|3\n\\.\n",
  ],
  ["text: a bad value on line 3 loads nothing", "copy t from stdin;\n1\tx\tt\t1\n2\ty\tf\t2\nthree\tz\tt\t3\n\\.\n"],
  [
    "text: bad boolean and bigint",
    "copy t from stdin;\n1\tx\tmaybe\t1\n\\.\ncopy t from stdin;\n1\tx\tt\t99999999999999999999\n\\.\n",
  ],
  ["text: extra data", "copy t from stdin;\n1\tx\tt\t1\textra\n\\.\n"],
  ["text: missing data", "copy t from stdin;\n1\tx\n\\.\n"],
  ["text: NOT NULL", "copy t from stdin;\n1\tx\tt\t1\n\\N\tx\tt\t1\n\\.\n"],
  ["text: NOT NULL of a column not listed", "copy t (b) from stdin;\nx\n\\.\n"],
  ["text: end marker after data on its line", "copy t from stdin;\n1\tx\tt\t1\n2\ty\tf\t2\\.\nignored\n\\.\n"],
  ["text: \\r\\n line ends", "copy t from stdin;\r\n1\tx\tt\t1\r\n2\ty\tf\t2\r\n\\.\r\n"],
  ["text: a carriage return in data", "copy t from stdin;\n1\tx\rz\tt\t1\n\\.\n"],
  ["text: invalid UTF-8 on line 2", "copy t from stdin;\n1\tx\tt\t1\n2\ty\xff\tf\t2\n\\.\n"],
  ["text: octal NUL", "copy t from stdin;\n1\tx\\000y\tt\t1\n\\.\n"],
  [
    "text: header true and match",
    "copy t from stdin (header);\nwhatever\n1\tx\tt\t1\n\\.\ncopy t from stdin (header match);\na\tb\tc\td\n2\ty\tf\t2\n\\.\n",
  ],
  ["text: header mismatch", "copy t from stdin (header match);\na\tb\tX\td\n\\.\n"],
  [
    "csv: quotes, doubled quotes, empty vs NULL, newline in quotes",
    'copy t from stdin (format csv);\n1,"a,""b""",t,\n2,"",f,5\n3,,t,6\n4,"line\nbreak",t,7\n"5",x"y"z,true,8\n\\.\n',
  ],
  ["csv: old syntax with HEADER", "copy t from stdin csv header;\na,b,c,d\n1,x,t,1\n\\.\n"],
  ["csv: error after a quoted newline names the right line", 'copy t from stdin csv;\n1,"x\ny",t,1\nq,b,t,1\n\\.\n'],
  ["csv: unterminated quote", 'copy t from stdin csv;\n1,"abc,t,1\n\\.\n'],
  [
    "csv: force_not_null and force_null",
    'copy t from stdin (format csv, force_not_null (b), force_null (d));\n1,,t,""\n\\.\n',
  ],
  ["csv: quote and escape options", "copy t from stdin (format csv, quote '''', escape '\\');\n1,'a\\'b',t,1\n\\.\n"],
  ["csv: \\. as data and as the end", 'copy t from stdin csv;\n1,\\.,t,1\n"\\.",\n\\.\n'],
  [
    "options: errors",
    [
      "copy t from stdin (format xml);",
      "copy t from stdin (delimiter 'ab');",
      "copy t from stdin (delimiter 'x');",
      "copy t from stdin (quote '\"');",
      "copy t from stdin (format csv, delimiter ',', quote ',');",
      "copy t from stdin (freeze, freeze false);",
      "copy t from stdin (bogus 1);",
      "copy t from stdin (header 'sometimes');",
      "copy t to stdout (header match);",
      "copy t from stdin (format csv, force_quote (a));",
      "copy t from stdin (null 'a\tb');",
      "copy t (a, a) from stdin;",
      "copy t (zz) from stdin;",
      "copy nope from stdin;",
      "copy t from stdin (format csv, force_not_null (zz));",
      "",
    ].join("\n"),
  ],
  [
    "transactions: COPY FREEZE in the block that made the table, then a failing COPY fails the block",
    "begin;\ndrop table t;\ncreate table t (a int not null, b text, c bool, d bigint);\ncopy t from stdin with (freeze on);\n1\tx\tt\t1\n\\.\nselect count(*) from t;\ncommit;\nbegin;\ncopy t from stdin;\n2\tx\tt\t1\nbad\n\\.\nselect 1;\nrollback;\n",
  ],
  [
    "a duplicate key on line 3 of a COPY into a table with a primary key loads nothing",
    "alter table t add primary key (a);\ncopy t from stdin;\n1\tx\tt\t1\n2\ty\tf\t2\n1\tz\tt\t3\n4\tw\tt\t4\n\\.\n",
  ],
  [
    "COPY TO: text, csv, header, force quote, query form",
    'copy t from stdin;\n1\ta\\tb\\\\c\\nd\tt\t10\n2\t\\N\tf\t\\N\n3\t\tt\t-1\n4\tq"u,o\tf\t0\n\\.\n' +
      "copy t to stdout with (format csv, header);\n" +
      "copy t (d, b) to stdout with (format csv, force_quote (b), null 'N');\n" +
      "copy t to stdout with (delimiter ',', null '', header);\n" +
      "copy (select a, b from t where a > 1 order by a desc) to stdout csv force quote *;\n" +
      "copy (select count(*) from t) to stdout;\n" +
      "copy t to stdout with (format csv, delimiter '|', quote '''', escape '\\');\n",
  ],
];

describe("COPY through psql, compared with PostgreSQL", () => {
  it.each(CASES)(
    "%s",
    async (_name, script) => {
      const full = `${TABLE}${script}${DUMP}`;
      const [ours, theirs] = await Promise.all([psql(cluster.computePort, full), psql(vanilla.port, full)]);
      expect(ours).toEqual(theirs);
    },
    60_000,
  );
});

/** A client that speaks COPY as pgbench -i does: one CopyData per row, `\.`, CopyDone. */
async function pgbenchStyleLoad(port: number, password: string | undefined, rows: number): Promise<string[]> {
  const socket = connect(port, "127.0.0.1");
  const parser = new Parser();
  const seen: string[] = [];
  let waiter: (() => void) | undefined;
  let session: { response: string; mechanism: string } | undefined;
  socket.on("data", (chunk) =>
    parser.parse(chunk, async (m: BackendMessage) => {
      const msg = m as BackendMessage & { mechanisms?: string[]; data?: string; text?: string; message?: string };
      if (m.name === "authenticationSASL") {
        session = sasl.startSession(msg.mechanisms!);
        socket.write(serialize.sendSASLInitialResponseMessage(session!.mechanism, session!.response));
      } else if (m.name === "authenticationSASLContinue") {
        await sasl.continueSession(session!, password!, msg.data!);
        socket.write(serialize.sendSCRAMClientFinalMessage(session!.response));
      } else if (m.name === "commandComplete") seen.push(msg.text!);
      else if (m.name === "error") seen.push(`ERROR ${msg.message}`);
      else if (m.name === "copyInResponse") seen.push("copyIn");
      if (m.name === "readyForQuery" || m.name === "copyInResponse") waiter?.();
    }),
  );
  const next = () => new Promise<void>((resolve) => (waiter = resolve));
  socket.write(serialize.startup({ user: "postgres", database: "postgres" }));
  await next();
  const query = async (sql: string) => {
    socket.write(serialize.query(sql));
    await next();
  };
  // pgbench truncates in the loading transaction, which FREEZE requires; without TRUNCATE, re-create.
  await query("begin");
  await query("drop table if exists pgbench_accounts");
  await query("create table pgbench_accounts (aid int not null, bid int, abalance int, filler text)");
  await query("copy pgbench_accounts from stdin with (freeze on)");
  const messages: Buffer[] = [];
  for (let i = 1; i <= rows; i++) messages.push(serialize.copyData(Buffer.from(`${i}\t${Math.ceil(i / 1000)}\t0\t\n`)));
  messages.push(serialize.copyData(Buffer.from("\\.\n")), serialize.copyDone());
  socket.write(Buffer.concat(messages));
  await next();
  await query("commit");
  await query("select 1"); // the tag list ends with SELECT 1
  socket.end();
  return seen;
}

describe("COPY as pgbench -i sends it", () => {
  it("loads rows sent one CopyData each, ended by \\. and CopyDone, like PostgreSQL", async () => {
    const rows = 5_000;
    const [ours, theirs] = await Promise.all([
      pgbenchStyleLoad(cluster.computePort, TEST_PASSWORD, rows),
      pgbenchStyleLoad(vanilla.port, undefined, rows),
    ]);
    expect(ours).toEqual(theirs);
    expect(ours).toContain(`COPY ${rows}`);
    const check =
      "select count(*), sum(aid), sum(bid) from pgbench_accounts;\ncopy (select * from pgbench_accounts where aid % 997 = 0) to stdout;\n";
    const [a, b] = await Promise.all([psql(cluster.computePort, check), psql(vanilla.port, check)]);
    expect(a).toEqual(b);
  }, 120_000);
});
