import type { Model } from "mongoose";
import { MAX_UPDATES_PER_COMMAND } from "./limits.js";

/** One update of one document, by a filter on `_id` (or, for older records, another unique key). */
export interface GroupedUpdate {
  filter: Record<string, unknown>;
  update: Record<string, unknown>;
}

/**
 * Writes that many callers make at about the same time, sent as one `bulkWrite`: each caller
 * waits for the batch that carries its write, as it waited for its own write before. Nothing is
 * held back for company: a batch leaves at once when none is on the way, and the writes that
 * came meanwhile leave together as soon as it is back. Under load, thirty turns marking their
 * updates handled cost a handful of database commands instead of thirty; alone, one write costs
 * one command, as before.
 *
 * A batch that fails fails every caller in it (they retry as they would their own write: the
 * writes given here are idempotent updates by `_id`, the filter FerretDB runs fastest).
 */
export class GroupWrite<T> {
  private queued: { op: GroupedUpdate; done: (error?: unknown) => void }[] = [];
  private flushing = false;

  constructor(private readonly model: Model<T>) {}

  update(op: GroupedUpdate): Promise<void> {
    return this.updateAll([op])[0] as Promise<void>;
  }

  /**
   * Several writes handed over together (marks held back to be written at once): queued before
   * any leaves, so they go in as few batches as MAX_UPDATES_PER_COMMAND allows. One promise each.
   */
  updateAll(ops: GroupedUpdate[]): Promise<void>[] {
    const written = ops.map(
      (op) =>
        new Promise<void>((resolve, reject) => {
          this.queued.push({ op, done: (error) => (error === undefined ? resolve() : reject(error)) });
        }),
    );
    if (!this.flushing) void this.flush();
    return written;
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queued.length > 0) {
        const batch = this.queued.splice(0, MAX_UPDATES_PER_COMMAND);
        try {
          await this.model.bulkWrite(
            batch.map(({ op }) => ({ updateOne: { filter: op.filter, update: op.update } })),
            { ordered: false },
          );
          for (const b of batch) b.done();
        } catch (error) {
          for (const b of batch) b.done(error);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
