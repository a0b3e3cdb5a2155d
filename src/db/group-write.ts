import type { Model } from "mongoose";
import { Batcher } from "./batcher.js";
import { MAX_UPDATES_PER_COMMAND } from "./limits.js";
import { oneUpdateCommandAtATime } from "./update-gate.js";

/** One update of one document, by a filter on `_id` (or, for older records, another unique key). */
export interface GroupedUpdate {
  filter: Record<string, unknown>;
  update: Record<string, unknown>;
}

/**
 * Writes that many callers make at about the same time, sent as one `bulkWrite` (batched as
 * Batcher does): each caller waits for the batch that carries its write, as it waited for its own
 * write before. Under load, thirty turns marking their updates handled cost a handful of database
 * commands instead of thirty; alone, one write costs one command, as before.
 *
 * A batch that fails fails every caller in it (they retry as they would their own write: the
 * writes given here are idempotent updates by `_id`, the filter FerretDB runs fastest).
 */
export class GroupWrite<T> {
  private readonly batcher: Batcher<GroupedUpdate>;

  constructor(private readonly model: Model<T>) {
    this.batcher = new Batcher(MAX_UPDATES_PER_COMMAND, async (ops) => {
      await oneUpdateCommandAtATime(() =>
        this.model.bulkWrite(
          ops.map((op) => ({ updateOne: { filter: op.filter, update: op.update } })),
          { ordered: false },
        ),
      );
      return ops.map(() => undefined);
    });
  }

  update(op: GroupedUpdate): Promise<void> {
    return this.batcher.add(op);
  }

  /**
   * Several writes handed over together (marks held back to be written at once): queued before
   * any leaves, so they go in as few batches as MAX_UPDATES_PER_COMMAND allows. One promise each.
   */
  updateAll(ops: GroupedUpdate[]): Promise<void>[] {
    return this.batcher.addAll(ops);
  }
}
