import { pageId } from "../../common/ids.js";
import { PageKind, pageKind } from "../../common/page.js";
import type { BufferPool } from "./buffer-pool.js";

/**
 * Block counts of relations, found once and tracked in memory (design
 * section 6: sizes are not stored; blocks are formatted in order, so the
 * first block storage returns unformatted is the end). HeapStore and
 * BtreeStore each keep one (a relfile is a heap or an index, never both).
 */
export class RelationSizes {
  private readonly nblocks = new Map<number, number>();
  private readonly probing = new Map<number, Promise<number>>();

  constructor(private readonly pool: BufferPool) {}

  /** The tracked count, for synchronous code that awaited `count` before. */
  known(relfile: number): number | undefined {
    return this.nblocks.get(relfile);
  }

  set(relfile: number, blocks: number): void {
    this.nblocks.set(relfile, blocks);
  }

  async count(relfile: number): Promise<number> {
    const known = this.nblocks.get(relfile);
    if (known !== undefined) return known;
    let probe = this.probing.get(relfile);
    if (probe === undefined) {
      probe = this.probe(relfile).finally(() => this.probing.delete(relfile));
      this.probing.set(relfile, probe);
    }
    const found = await probe;
    if (!this.nblocks.has(relfile)) this.nblocks.set(relfile, found);
    return this.nblocks.get(relfile)!;
  }

  private async formatted(relfile: number, block: number): Promise<boolean> {
    return pageKind(await this.pool.get(pageId(relfile, block))) !== PageKind.Uninitialized;
  }

  private async probe(relfile: number): Promise<number> {
    if (!(await this.formatted(relfile, 0))) return 0;
    let high = 1;
    while (await this.formatted(relfile, high)) high *= 2;
    let low = high / 2; // formatted; high is not
    while (high - low > 1) {
      const mid = Math.floor((low + high) / 2);
      if (await this.formatted(relfile, mid)) low = mid;
      else high = mid;
    }
    return high;
  }
}
