/**
 * Work that many callers hand over at about the same time, done in batches: each caller waits for
 * the batch that carries its item and hears its own outcome. Nothing is held back for company: a
 * batch leaves at once when none is on the way, and what came meanwhile leaves together, up to
 * `max` at a time, as soon as it is back. Alone, an item goes by itself, as it would without any
 * batching. GroupWrite and GroupInsert batch database writes with it.
 */
export class Batcher<T> {
  private queued: { item: T; done: (error?: unknown) => void }[] = [];
  private flushing = false;

  /**
   * `run` does one batch and gives each item's outcome in order (undefined: done; else its
   * error); when it throws, every item of the batch fails with that error.
   */
  constructor(
    private readonly max: number,
    private readonly run: (items: T[]) => Promise<unknown[]>,
  ) {}

  add(item: T): Promise<void> {
    return this.addAll([item])[0] as Promise<void>;
  }

  /** Several items handed over together: queued before any leaves, so they share batches. */
  addAll(items: T[]): Promise<void>[] {
    const done = items.map(
      (item) =>
        new Promise<void>((resolve, reject) => {
          this.queued.push({ item, done: (error) => (error === undefined ? resolve() : reject(error)) });
        }),
    );
    if (!this.flushing) void this.flush();
    return done;
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queued.length > 0) {
        const batch = this.queued.splice(0, this.max);
        // Whatever happens, every caller of the batch hears an outcome: none waits for good.
        const outcomes = await this.run(batch.map((b) => b.item)).catch((error: unknown) =>
          batch.map(() => error ?? new Error("batch failed")),
        );
        batch.forEach((b, i) => b.done(outcomes[i]));
      }
    } finally {
      this.flushing = false;
    }
  }
}
