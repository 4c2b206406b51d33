/**
 * Serializes every mutation of a storage node (one queue per node), so two
 * streams never interleave their batches and a truncation never races an
 * append. Consecutive appends are committed together ("group commit"): while
 * one synced write is in progress, newer appends queue up and share the next
 * synced write, each still getting its own outcome.
 */
export type Outcome<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: unknown };

interface GroupTask<A, R> {
  readonly kind: "group";
  readonly item: A;
  readonly weight: number;
  readonly resolve: (value: R) => void;
  readonly reject: (error: unknown) => void;
}

interface SoloTask {
  readonly kind: "solo";
  readonly run: () => Promise<void>;
}

export class WriteQueue<A, R> {
  private readonly tasks: (GroupTask<A, R> | SoloTask)[] = [];
  private running = false;

  /**
   * `commitGroup` commits appends together and returns one outcome per item;
   * if it throws, every item of the group fails with that error.
   * A group holds at most `groupWeightMax` (at least one item).
   */
  constructor(
    private readonly commitGroup: (items: A[]) => Promise<Outcome<R>[]>,
    private readonly groupWeightMax: number,
  ) {}

  get length(): number {
    return this.tasks.length;
  }

  /** Queues one append; resolves with its outcome once its group's write is done. */
  append(item: A, weight: number): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.tasks.push({ kind: "group", item, weight, resolve, reject });
      this.pump();
    });
  }

  /** Runs `run` alone, after everything queued before it. */
  exclusive<T>(run: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.tasks.push({ kind: "solo", run: () => run().then(resolve, reject) });
      this.pump();
    });
  }

  /** Resolves once everything queued so far has run. */
  drain(): Promise<void> {
    return this.exclusive(async () => {});
  }

  private pump(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    try {
      for (let head = this.tasks[0]; head !== undefined; head = this.tasks[0]) {
        if (head.kind === "solo") {
          this.tasks.shift();
          await head.run();
          continue;
        }
        await this.runGroup(this.takeGroup());
      }
    } finally {
      this.running = false;
    }
  }

  private takeGroup(): GroupTask<A, R>[] {
    const group: GroupTask<A, R>[] = [];
    let weight = 0;
    for (let t = this.tasks[0]; t !== undefined && t.kind === "group"; t = this.tasks[0]) {
      if (group.length > 0 && weight + t.weight > this.groupWeightMax) break;
      weight += t.weight;
      group.push(t);
      this.tasks.shift();
    }
    return group;
  }

  private async runGroup(group: GroupTask<A, R>[]): Promise<void> {
    let outcomes: Outcome<R>[];
    try {
      outcomes = await this.commitGroup(group.map((t) => t.item));
    } catch (error) {
      for (const t of group) t.reject(error);
      return;
    }
    group.forEach((t, i) => {
      const o = outcomes[i]!;
      if (o.ok) t.resolve(o.value);
      else t.reject(o.error);
    });
  }
}
