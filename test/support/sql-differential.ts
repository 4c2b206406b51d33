import { appendFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import pg from "pg";
import { pino } from "pino";
import { expect } from "vitest";
import { createSqlSessionFactory } from "../../services/compute/sql/session-factory.js";
import { MemoryDatabase } from "../../services/compute/sql/testing/memory-database.js";
import { WireServer } from "../../services/compute/wire/server.js";
import { startVanillaPostgres } from "./vanilla-postgres.js";

/**
 * Differential SQL tests: runs one script through node-postgres and records what a
 * client sees of each statement (command tags, column names and type oids,
 * rows as text, notices, errors with SQLSTATE, message, position, detail),
 * so the same script against the SQL engine and against a vanilla
 * PostgreSQL can be compared. Used by differential tests only.
 */

export type Outcome = { results: unknown[]; notices: string[] } | { error: unknown; notices: string[] };

export type Statement = string | readonly [string, readonly unknown[]];

export async function runScript(config: pg.ClientConfig, script: readonly Statement[]): Promise<Outcome[]> {
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

/**
 * The SQL engine over an in-memory Database behind the real wire layer, and
 * a vanilla PostgreSQL of the same run: what the differential tests of the
 * SQL layer compare. `settings` go to PostgreSQL (e.g. its TimeZone).
 */
export interface DifferentialPair {
  /** node-postgres config for our engine. */
  readonly ours: pg.ClientConfig;
  /** node-postgres config for vanilla PostgreSQL. */
  readonly theirs: pg.ClientConfig;
  stop(): Promise<void>;
}

const PAIR_PASSWORD = "differential";

export async function startDifferentialPair(settings: Record<string, string> = {}): Promise<DifferentialPair> {
  const [server, vanilla] = await Promise.all([
    WireServer.start({
      port: 0,
      password: PAIR_PASSWORD,
      log: pino({ level: "silent" }),
      factory: createSqlSessionFactory(new MemoryDatabase()),
    }),
    startVanillaPostgres(settings),
  ]);
  return {
    ours: { host: "127.0.0.1", port: server.port, user: "postgres", password: PAIR_PASSWORD, database: "postgres" },
    theirs: { connectionString: vanilla.url },
    async stop() {
      await vanilla.stop();
      await server.close();
    },
  };
}

/**
 * Runs `script` against both and expects every statement's outcome to match,
 * listing every difference at once, not only the first (and appending them to
 * the file $DIFF_OUT, when set, one JSON line each).
 */
export async function expectSameOutcomes(pair: DifferentialPair, script: readonly Statement[]): Promise<void> {
  const ours = await runScript(pair.ours, script);
  const theirs = await runScript(pair.theirs, script);
  const differences = script.flatMap((sql, i) =>
    isDeepStrictEqual(ours[i], theirs[i]) ? [] : [{ sql, ours: ours[i], theirs: theirs[i] }],
  );
  if (process.env.DIFF_OUT !== undefined && differences.length > 0) {
    appendFileSync(process.env.DIFF_OUT, `${differences.map((d) => JSON.stringify(d)).join("\n")}\n`);
  }
  expect(differences).toEqual([]);
}
