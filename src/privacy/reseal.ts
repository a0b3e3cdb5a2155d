import type { Model } from "mongoose";
import { MAX_UPDATES_PER_COMMAND } from "../db/limits.js";
import { oneUpdateCommandAtATime } from "../db/update-gate.js";
import type { Sealer } from "./sealer.js";

/** Updates are sent in batches: a rotation may go over every message the bot ever sent. */
const BATCH = MAX_UPDATES_PER_COMMAND;

/**
 * Reseals one sealed string field of a collection with the sealer's current key, skipping values
 * already under it and sealing values an earlier version stored in the clear. Returns how many
 * documents changed. For fields outside a ticket (message texts, names): a ticket's own fields
 * are resealed by the feedback service, which also audits each one.
 */
export async function resealField<T>(model: Model<T>, field: string, sealer: Sealer): Promise<number> {
  let changed = 0;
  let batch: { updateOne: { filter: object; update: object } }[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await oneUpdateCommandAtATime(() => model.bulkWrite(batch as Parameters<Model<T>["bulkWrite"]>[0]));
    changed += batch.length;
    batch = [];
  };
  const cursor = model
    .find({ [field]: { $type: "string" } })
    .select({ [field]: 1 })
    .lean()
    .cursor();
  for await (const doc of cursor as AsyncIterable<Record<string, unknown>>) {
    const sealed = doc[field];
    if (typeof sealed !== "string" || sealed === "") continue;
    const again = sealer.resealed(sealed);
    if (again === undefined) continue;
    // Matching on the old value too: a message sent meanwhile keeps its text, never a stale one.
    batch.push({
      updateOne: {
        filter: { _id: doc._id, [field]: sealed },
        update: { $set: { [field]: again } },
      },
    });
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  return changed;
}
