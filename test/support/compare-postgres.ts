import pg from "pg";
import { expect } from "vitest";

/**
 * Full-stack comparisons with PostgreSQL: the same statements through
 * node-postgres against Sediment and against a vanilla PostgreSQL; command
 * tags, rows (as text), SQLSTATEs, messages and DETAIL lines must match.
 */

type Outcome = { command: string | null; rows: unknown[][] } | { error: string; message: string; detail?: string };

/** A client that returns every value as PostgreSQL's text. */
export async function connectText(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, types: { getTypeParser: () => (v: string) => v } });
  await client.connect();
  return client;
}

async function runAll(url: string, statements: readonly string[]): Promise<Outcome[]> {
  const client = await connectText(url);
  const out: Outcome[] = [];
  try {
    for (const sql of statements) {
      try {
        const r = await client.query({ text: sql, rowMode: "array" });
        out.push({ command: r.command, rows: r.rows as unknown[][] });
      } catch (error) {
        const e = error as { code?: string; message: string; detail?: string };
        out.push({ error: e.code ?? "?", message: e.message, ...(e.detail !== undefined && { detail: e.detail }) });
      }
    }
  } finally {
    await client.end();
  }
  return out;
}

export async function sameAsPostgres(ours: string, theirs: string, script: readonly string[]): Promise<void> {
  const [a, b] = await Promise.all([runAll(ours, script), runAll(theirs, script)]);
  for (let i = 0; i < script.length; i++) {
    expect({ sql: script[i], outcome: a[i] }).toEqual({ sql: script[i], outcome: b[i] });
  }
}
