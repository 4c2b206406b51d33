import { assert } from "../../common/assert.js";
import { type ControlData, encodeControlBody, readControl } from "../../common/control-page.js";
import { pageId } from "../../common/ids.js";
import { PageKind, pageKind } from "../../common/page.js";
import { RecordKind } from "../../common/record.js";
import { pageInitPayload } from "../../common/redo.js";
import type { BufferPool } from "./buffer-pool.js";
import { type LogAppender, Mtr } from "./mtr.js";

/** Fixed relfiles of the volume. */
export const CONTROL_PAGE = pageId(0, 0);
export const CLOG_RELFILE = 1;
/** Relfiles 2–7 are the system catalogs (catalog-relations.ts). */
/** User objects start here, as in PostgreSQL (FirstNormalObjectId). */
export const FIRST_USER_OID = 16384;
export const FIRST_XID = 3;
/** Counters are reserved this many at a time: a restart skips at most one range. */
export const RESERVE_RANGE = 4096;
export const CATALOG_VERSION = 2;

type CounterName = "xid" | "oid";

/**
 * The counters of the control page (design section 6): xids and oids
 * (relfiles use the oid counter) are handed out from ranges reserved on the
 * page, so nothing is written per transaction. A writer starts at the end of
 * the last reserved range. The reservation is an MTR appended before any use
 * of its values, so it is durable before anything that carries them.
 */
export class ControlCounters {
  private next: Record<CounterName, number>;
  private data: ControlData;
  /** The first xid this writer hands out: every lower xid belongs to an earlier writer. */
  readonly firstXid: number;

  private constructor(
    private readonly pool: BufferPool,
    private readonly log: LogAppender,
    data: ControlData,
  ) {
    this.data = data;
    this.next = { xid: data.nextXidReserved, oid: data.nextOidReserved };
    this.firstXid = data.nextXidReserved;
  }

  /** Reads the control page, formatting a fresh volume first. */
  static async open(pool: BufferPool, log: LogAppender): Promise<ControlCounters> {
    const page = await pool.get(CONTROL_PAGE);
    if (pageKind(page) === PageKind.Uninitialized) {
      const initial: ControlData = {
        nextXidReserved: FIRST_XID,
        nextOidReserved: FIRST_USER_OID,
        nextRelfileReserved: FIRST_USER_OID,
        systemId: Date.now(),
        catalogVersion: CATALOG_VERSION,
      };
      new Mtr(pool, log)
        .change(CONTROL_PAGE, RecordKind.PageInit, pageInitPayload(PageKind.Control))
        .change(CONTROL_PAGE, RecordKind.ControlSet, encodeControlBody(initial))
        .commit();
    }
    const data = readControl(pool.peek(CONTROL_PAGE)!);
    assert(data.catalogVersion === CATALOG_VERSION, () => `catalog version ${data.catalogVersion} is not supported`);
    return new ControlCounters(pool, log, data);
  }

  async allocate(name: CounterName): Promise<number> {
    const limit = name === "xid" ? this.data.nextXidReserved : this.data.nextOidReserved;
    if (this.next[name] >= limit) await this.reserve(name);
    return this.next[name]++;
  }

  /** The next value `allocate` would return (snapshots use it as xmax). */
  peek(name: CounterName): number {
    return this.next[name];
  }

  private async reserve(name: CounterName): Promise<void> {
    await this.pool.get(CONTROL_PAGE);
    // Another caller may have reserved while we waited for the page.
    const limit = name === "xid" ? this.data.nextXidReserved : this.data.nextOidReserved;
    if (this.next[name] < limit) return;
    const data: ControlData =
      name === "xid"
        ? { ...this.data, nextXidReserved: this.next.xid + RESERVE_RANGE }
        : { ...this.data, nextOidReserved: this.next.oid + RESERVE_RANGE };
    new Mtr(this.pool, this.log).change(CONTROL_PAGE, RecordKind.ControlSet, encodeControlBody(data)).commit();
    this.data = data;
  }
}
