/**
 * In-process mutexes by name: the unique check of a key and the insert of its
 * index entry run under the key's lock, so two inserts of one key (which
 * await pages in between) cannot both pass the check. Compute is the only
 * writer, so a lock in its memory is enough.
 */
export class KeyLocks {
  private readonly tails = new Map<string, Promise<void>>();

  async with<T>(name: string, body: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(name) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.tails.set(name, tail);
    await previous;
    try {
      return await body();
    } finally {
      release();
      if (this.tails.get(name) === tail) this.tails.delete(name);
    }
  }
}
