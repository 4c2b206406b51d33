import type { QueryEngine } from "../../wire/query-engine.js";
import { createSqlSessionFactory } from "../session-factory.js";
import { MemoryDatabase } from "./memory-database.js";

/** TEST HELPER: SQL sessions over one in-memory Database (unit tests only). */
export async function openSessions(
  count: number,
  db = new MemoryDatabase(),
): Promise<{ db: MemoryDatabase; engines: QueryEngine[] }> {
  const factory = createSqlSessionFactory(db);
  const engines: QueryEngine[] = [];
  for (let i = 0; i < count; i++) {
    engines.push(await factory({ user: "test", database: "test", parameters: new Map(), processId: i + 1 }));
  }
  return { db, engines };
}

export async function openSession(db = new MemoryDatabase()): Promise<{ db: MemoryDatabase; engine: QueryEngine }> {
  const { engines } = await openSessions(1, db);
  return { db, engine: engines[0]! };
}
