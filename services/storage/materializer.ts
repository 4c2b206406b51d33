import { type PageKey, pageIdOfKey } from "../common/ids.js";
import type { Logger } from "../common/observe/log.js";
import { statusOf } from "./errors.js";
import type { StorageMetrics } from "./metrics.js";
import type { StorageNode } from "./node.js";
import { readPageAt } from "./page-reader.js";

export interface MaterializerOptions {
  /** A page gets a new image once it has this many records after its last one. */
  readonly recordsPerImage: number;
  /** Pages materialized per tick (bounded work off the hot path). */
  readonly pagesPerTick: number;
  /** Pause between ticks when nothing is due. */
  readonly idleMs: number;
}

export const MATERIALIZER_DEFAULTS: MaterializerOptions = { recordsPerImage: 16, pagesPerTick: 32, idleMs: 50 };

/**
 * Background settling of the log into page images (design section 5): a page
 * with K records since its last image gets an image at its newest record at
 * or below its group's SCL, so the common GetPage is one image lookup plus a
 * few records. Counts live in memory (fed by the node's appends) and start
 * from zero after a restart; GetPage also stores an image when it had to
 * redo K records, so a restarted node catches up as pages are read.
 */
export class Materializer {
  private readonly counts = new Map<PageKey, number>();
  private readonly due = new Set<PageKey>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly node: StorageNode,
    private readonly log: Logger,
    private readonly metrics: StorageMetrics,
    private readonly options: MaterializerOptions = MATERIALIZER_DEFAULTS,
  ) {}

  get backlog(): number {
    return this.due.size;
  }

  noteRecords(pages: readonly PageKey[]): void {
    for (const page of pages) {
      const count = (this.counts.get(page) ?? 0) + 1;
      this.counts.set(page, count);
      if (count >= this.options.recordsPerImage) this.due.add(page);
    }
    this.metrics.materializerBacklog.set(this.due.size);
  }

  /** `applied` records were settled into an image of `page` (by a read or by a tick). */
  noteImage(page: PageKey, applied: number): void {
    const count = Math.max(0, (this.counts.get(page) ?? 0) - applied);
    if (count === 0) this.counts.delete(page);
    else this.counts.set(page, count);
    if (count < this.options.recordsPerImage) this.due.delete(page);
    this.metrics.materializerBacklog.set(this.due.size);
  }

  /** A truncation dropped records of these pages: their counts are meaningless now. */
  forget(pages: ReadonlySet<PageKey>): void {
    for (const page of pages) {
      this.counts.delete(page);
      this.due.delete(page);
    }
    this.metrics.materializerBacklog.set(this.due.size);
  }

  start(): void {
    this.schedule(this.options.idleMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = undefined;
        this.schedule(this.due.size > 0 ? 0 : this.options.idleMs);
      });
    }, ms);
  }

  private async tick(): Promise<void> {
    const batch = [...this.due].slice(0, this.options.pagesPerTick);
    for (const page of batch) {
      if (this.stopped) return;
      try {
        await this.materialize(page);
      } catch (err) {
        statusOf(this.log, err); // crashes on an InvariantError, logs anything else
        this.due.delete(page);
      }
    }
  }

  private async materialize(page: PageKey): Promise<void> {
    const topology = this.node.topology;
    const group = topology?.groupOf(pageIdOfKey(page));
    const scl = group === undefined ? undefined : this.node.scl(group);
    if (group === undefined || scl === undefined) {
      this.forget(new Set([page]));
      return;
    }
    const generation = this.node.generation;
    const version = await readPageAt(this.node.store, page, scl);
    if (version.applied === 0) {
      this.due.delete(page); // what is left lies above SCL: wait for more records
      return;
    }
    await this.node.storeImage(page, group, version.pageLsn, version.page, generation);
    this.noteImage(page, version.applied);
  }
}
