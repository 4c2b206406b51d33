import { Counter, Gauge } from "prom-client";
import { assert } from "../../common/assert.js";
import { type GroupId, type NodeId, type PageId, type PageKey, pageKey } from "../../common/ids.js";
import type { Lsn } from "../../common/lsn.js";
import { registry } from "../../common/observe/metrics.js";
import { pageLsn } from "../../common/page.js";
import type { PageImage } from "../storage/page-client.js";

/** Reads a page at an LSN from storage (PageClient in production). */
export interface PageSource {
  getPage(page: PageId, lsn: Lsn, sclOf: (node: NodeId, group: GroupId) => Lsn): Promise<PageImage>;
}

/** What the pool needs of the log: the durable point and each replica's SCL. */
export interface DurableView {
  vdl(): Lsn;
  scl(node: NodeId, group: GroupId): Lsn;
}

/** Hits and misses since the last scrape: counted in plain numbers (a prom-client inc per page read shows in profiles). */
const unreported = { hits: 0, misses: 0 };

const metrics = {
  hits: new Counter({
    name: "sediment_buffer_hits_total",
    help: "Buffer pool hits",
    registers: [registry],
    collect() {
      this.inc(unreported.hits);
      unreported.hits = 0;
    },
  }),
  misses: new Counter({
    name: "sediment_buffer_misses_total",
    help: "Buffer pool misses",
    registers: [registry],
    collect() {
      this.inc(unreported.misses);
      unreported.misses = 0;
    },
  }),
  pages: new Gauge({ name: "sediment_buffer_pages", help: "Pages in the buffer pool", registers: [registry] }),
};

/** A cached page and its CLOCK reference bit. */
interface Frame {
  readonly image: Uint8Array;
  /** Read since the eviction sweep last passed it. */
  referenced: boolean;
}

/**
 * The compute's page cache. A miss reads the page at the current VDL from a
 * replica whose SCL covers it (invariant 6); a page is evicted only when its
 * LSN ≤ VDL (invariant 4), so storage can always give it back as it was.
 * Pages are changed only through MTRs (mtr.ts), never directly.
 *
 * Replacement is CLOCK (second chance), as PostgreSQL's: a hit only sets the
 * frame's reference bit; the sweep, in insertion order, gives a referenced
 * page one more round (clears the bit, moves it to the end) and evicts the
 * others. A hit that reordered the Map (delete + set, true LRU) cost more
 * than the rest of a cached page read.
 */
export class BufferPool {
  private readonly pages = new Map<PageKey, Frame>(); // insertion order = the clock's order
  private readonly loading = new Map<PageKey, Promise<Uint8Array>>();

  constructor(
    private readonly source: PageSource,
    private readonly durable: DurableView,
    readonly capacityPages: number,
  ) {
    assert(capacityPages >= 64, "buffer pool too small");
  }

  /** The cached page, or undefined: for synchronous code that pinned it first. */
  peek(page: PageId): Uint8Array | undefined {
    const frame = this.pages.get(pageKey(page));
    if (frame === undefined) return undefined;
    frame.referenced = true;
    return frame.image;
  }

  /** `peek` by relfile and block, without a PageId (hot read paths). */
  peekBlock(relfile: number, block: number): Uint8Array | undefined {
    const frame = this.pages.get((relfile * 0x1_0000_0000 + block) as PageKey);
    if (frame === undefined) return undefined;
    frame.referenced = true;
    unreported.hits++;
    return frame.image;
  }

  /** The page, read from storage on a miss. The returned buffer is the pool's own: do not modify it. */
  async get(page: PageId): Promise<Uint8Array> {
    const key = pageKey(page);
    const cached = this.pages.get(key);
    if (cached !== undefined) {
      unreported.hits++;
      cached.referenced = true;
      return cached.image;
    }
    const inflight = this.loading.get(key);
    if (inflight !== undefined) return inflight;
    unreported.misses++;
    const load = this.source
      .getPage(page, this.durable.vdl(), (n, g) => this.durable.scl(n, g))
      .then((image) => {
        this.loading.delete(key);
        // An MTR may have formatted the page while it was loading: keep that one.
        const raced = this.pages.get(key);
        if (raced !== undefined) return raced.image;
        this.insert(key, image.page);
        return image.page;
      })
      .catch((error: unknown) => {
        this.loading.delete(key);
        throw error;
      });
    this.loading.set(key, load);
    return load;
  }

  /** Makes sure every page is cached (for an MTR, which must run without awaiting). */
  async pin(pages: readonly PageId[]): Promise<void> {
    await Promise.all(pages.map((p) => this.get(p)));
  }

  /**
   * Adds a page that has no version in storage yet (a new block). Evicts
   * nothing: the MTR adopting it has other pages it has not applied its
   * records to yet, and calls `trim` once it has.
   */
  adoptNew(page: PageId, image: Uint8Array): void {
    const key = pageKey(page);
    assert(!this.pages.has(key), "adopting a page that is cached");
    this.pages.set(key, { image, referenced: true });
  }

  /** Evicts down to capacity (after an MTR that adopted new pages). */
  trim(): void {
    if (this.pages.size > this.capacityPages) this.evict();
    metrics.pages.set(this.pages.size);
  }

  private insert(key: PageKey, image: Uint8Array): void {
    this.pages.set(key, { image, referenced: true });
    if (this.pages.size > this.capacityPages) this.evict();
    metrics.pages.set(this.pages.size);
  }

  /**
   * The clock sweep, down to capacity: a referenced page loses its bit and
   * goes to the end (the loop meets it again, after the others); an
   * unreferenced one is evicted if its LSN ≤ VDL. Ends after at most two
   * passes: the second finds every bit cleared.
   */
  private evict(): void {
    const vdl = this.durable.vdl();
    for (const [key, frame] of this.pages) {
      if (this.pages.size <= this.capacityPages) return;
      if (frame.referenced) {
        frame.referenced = false;
        this.pages.delete(key);
        this.pages.set(key, frame);
      } else if (pageLsn(frame.image) <= vdl) {
        this.pages.delete(key);
      }
    }
  }
}
