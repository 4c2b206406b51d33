import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Column, Database, Datum, Row, Table, Transaction } from "../services/compute/access/database.js";
import { SedimentDatabase } from "../services/compute/access/sediment-database.js";
import { MemoryDatabase } from "../services/compute/sql/testing/memory-database.js";
import { MemoryVolume } from "./support/memory-volume.js";

/**
 * Model-based test of MVCC under READ COMMITTED and REPEATABLE READ: random
 * interleavings of three sessions' statements run against the real access
 * layer (heap pages, CLOG, snapshots, over an in-memory volume) and against
 * the SQL layer's in-memory model of the same seam (plain version lists and
 * snapshots, written independently). Every read must see exactly the same
 * rows in both. Writes only touch rows no other open transaction holds, so
 * no step waits (lock waits have their own tests).
 */

const COLUMNS: readonly Column[] = [
  { name: "id", type: "int4", typmod: -1, notNull: true },
  { name: "v", type: "int4", typmod: -1, notNull: true },
];

type Op =
  | { readonly kind: "begin"; readonly s: number; readonly repeatable: boolean }
  | { readonly kind: "read"; readonly s: number }
  | { readonly kind: "insert"; readonly s: number; readonly id: number; readonly v: number }
  | { readonly kind: "update"; readonly s: number; readonly id: number; readonly v: number }
  | { readonly kind: "delete"; readonly s: number; readonly id: number }
  | { readonly kind: "commit"; readonly s: number }
  | { readonly kind: "rollback"; readonly s: number };

const SESSIONS = 3;
const session = fc.integer({ min: 0, max: SESSIONS - 1 });
const id = fc.integer({ min: 1, max: 6 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("begin" as const), s: session, repeatable: fc.boolean() }),
  fc.record({ kind: fc.constant("read" as const), s: session }),
  fc.record({ kind: fc.constant("insert" as const), s: session, id, v: fc.integer({ min: 0, max: 99 }) }),
  fc.record({ kind: fc.constant("update" as const), s: session, id, v: fc.integer({ min: 0, max: 99 }) }),
  fc.record({ kind: fc.constant("delete" as const), s: session, id }),
  fc.record({ kind: fc.constant("commit" as const), s: session }),
  fc.record({ kind: fc.constant("rollback" as const), s: session }),
);

async function openSediment(): Promise<Database> {
  const volume = new MemoryVolume(7);
  return SedimentDatabase.open(volume, {
    append: (drafts) => volume.append(drafts),
    get lastLsn() {
      return volume.lastLsn;
    },
    vdl: () => volume.vdl(),
    scl: (node, group) => volume.scl(node, group),
    waitForVdl: async () => {},
    whenCanAppend: async () => {},
  });
}

/** One database and its sessions' open transactions; `holders` is shared by both sides (same decisions). */
class Side {
  readonly tx: (Transaction | undefined)[] = Array.from({ length: SESSIONS }, () => undefined);
  constructor(
    readonly db: Database,
    readonly table: Table,
  ) {}

  /** The statement's transaction: the open block, or a fresh one that the caller ends. */
  statement(s: number): { tx: Transaction; implicit: boolean } {
    const open = this.tx[s];
    const tx = open ?? this.db.begin();
    tx.startCommand();
    return { tx, implicit: open === undefined };
  }

  async visible(tx: Transaction): Promise<Row[]> {
    const rows: Row[] = [];
    for await (const page of this.db.scan(tx, this.table)) rows.push(...page);
    return rows;
  }
}

const show = (rows: readonly Row[]) =>
  rows.map((r) => (r.values as Datum[]).join(":")).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

async function setUp(db: Database): Promise<Side> {
  const tx = db.begin();
  tx.startCommand();
  const table = await db.createTable(tx, "t", COLUMNS);
  for (let i = 1; i <= 3; i++) await db.insert(tx, table, [i, 0]);
  await db.commit(tx);
  return new Side(db, table);
}

describe("MVCC: the access layer agrees with the in-memory model", () => {
  it("every read sees the same rows under random interleavings of three sessions", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 60 }), async (ops) => {
        const sides = [await setUp(await openSediment()), await setUp(new MemoryDatabase())];
        /** Row ids written by each session's open block: others must not touch them (no waits). */
        const held: Set<number>[] = Array.from({ length: SESSIONS }, () => new Set());
        const heldByOther = (s: number, rowId: number) => held.some((h, i) => i !== s && h.has(rowId));
        for (const o of ops) {
          if (o.kind === "begin") {
            if (sides[0]!.tx[o.s] !== undefined) continue;
            for (const side of sides) side.tx[o.s] = side.db.begin(o.repeatable ? "repeatable read" : "read committed");
            continue;
          }
          if (o.kind === "commit" || o.kind === "rollback") {
            if (sides[0]!.tx[o.s] === undefined) continue;
            for (const side of sides) {
              const tx = side.tx[o.s]!;
              side.tx[o.s] = undefined;
              await (o.kind === "commit" ? side.db.commit(tx) : side.db.rollback(tx));
            }
            held[o.s]!.clear();
            continue;
          }
          if (o.kind !== "read" && heldByOther(o.s, o.id)) continue;
          const seen: string[][] = [];
          const outcomes: string[][] = [];
          for (const side of sides) {
            const { tx, implicit } = side.statement(o.s);
            const rows = await side.visible(tx);
            const results: string[] = [];
            if (o.kind === "read") seen.push(show(rows));
            else if (o.kind === "insert") await side.db.insert(tx, side.table, [o.id, o.v]);
            else {
              // Every visible version of the row id (several when it was inserted twice).
              for (const row of rows.filter((r) => r.values[0] === o.id)) {
                const write =
                  o.kind === "update"
                    ? side.db.update(tx, side.table, row.tid, [o.id, o.v])
                    : side.db.delete(tx, side.table, row.tid);
                // A row changed by a transaction that committed after a REPEATABLE READ snapshot:
                // the access layer fails with 40001, the model answers "gone" (the SQL layer's 40001).
                const outcome = await write.catch((e: { sqlState?: string }) => e.sqlState ?? "error");
                results.push(outcome === "gone" || outcome === "40001" ? "conflict" : outcome);
              }
            }
            outcomes.push(results);
            if (implicit) await side.db.commit(tx);
          }
          expect(outcomes[0]).toEqual(outcomes[1]);
          if (seen.length === 2) expect(seen[0]).toEqual(seen[1]);
          if (outcomes[0]!.includes("conflict")) {
            // The statement failed: its transaction block is rolled back, as the SQL layer would.
            for (const side of sides) {
              const tx = side.tx[o.s];
              side.tx[o.s] = undefined;
              if (tx !== undefined) await side.db.rollback(tx);
            }
            held[o.s]!.clear();
          } else if (o.kind !== "read" && sides[0]!.tx[o.s] !== undefined) {
            held[o.s]!.add(o.id);
          }
        }
        // At the end, after every session ends, a fresh reader sees the same table on both sides.
        for (const side of sides) {
          for (let s = 0; s < SESSIONS; s++) {
            const tx = side.tx[s];
            side.tx[s] = undefined;
            if (tx !== undefined) await side.db.rollback(tx);
          }
        }
        const finals = [];
        for (const side of sides) {
          const { tx } = side.statement(0);
          finals.push(show(await side.visible(tx)));
          await side.db.commit(tx);
        }
        expect(finals[0]).toEqual(finals[1]);
      }),
      { numRuns: 300 },
    );
  });
});
