import pg from "pg";

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
