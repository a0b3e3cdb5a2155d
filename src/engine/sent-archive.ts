import { Schema, type Model, type Types } from "mongoose";
import { isDuplicateKeyError } from "../db/errors.js";
import { MAX_INSERTS_PER_COMMAND } from "../db/limits.js";
import { present } from "../db/present.js";
import { resealField } from "../privacy/reseal.js";
import type { Sealer } from "../privacy/sealer.js";
import { messageFields, type OutboxDoc } from "./outbox.js";

/**
 * A delivered message's record once it has left the outbox: the outbox document as it was sent,
 * under its dedupe key. The outbox then holds only what is still to be sent and the last hour's
 * deliveries, which is what keeps the dispatcher's look cheap: FerretDB reads every document of a
 * collection for any filter (docs/ferretdb.md), and with every message ever sent kept in the
 * outbox its look, run every second or few, grew with the bot's whole history (0.43 s a look with
 * 5,000 sent messages, `npm run bench -- profile`).
 *
 * The record keeps what the outbox kept it for: its dedupe key, so that a decision taken again
 * (a job run again, a turn replayed) still says nothing twice (`Outbox.enqueueTurn` looks here
 * after each write), the platform's message ids (a reply-to, an old keyboard) and the subject the
 * message was about, beside them: together they are its reply-to link (MessageLinks).
 */
export interface SentRecordDoc extends Omit<OutboxDoc, "_id" | "dedupeKey"> {
  /** The message's dedupe key: unique here as in the outbox, and the cheapest filter there is. */
  _id: string;
  /** Its id in the outbox (the order it was written in). */
  outboxId: Types.ObjectId;
}

export const sentRecordSchema = new Schema<SentRecordDoc>(
  {
    _id: { type: String, required: true },
    outboxId: { type: Schema.Types.ObjectId, required: true },
    ...messageFields(),
  },
  { collection: "outbox_sent" },
);
// A chat's deliveries, newest first: an old keyboard pressed, the reminders of the last two days.
sentRecordSchema.index({ channel: 1, chatId: 1, sentAt: -1 });
// The delivery a reply names (MessageLinks.delivery): one platform id among each record's few.
sentRecordSchema.index({ channel: 1, chatId: 1, platformMessageIds: 1 });

/** Deliveries moved per round: one delete command each, its inserts in commands of 100. */
const MOVE_BATCH = 1_000;

/**
 * Up to this many keys are looked up one `_id` at a time, side by side (FerretDB runs that filter
 * in SQL); more, as one `$in`, which it runs in Go over the whole collection once.
 */
const ONE_BY_ONE = 8;

/** The outbox document a record was, for readers that take either. */
export function asOutboxDoc(record: SentRecordDoc): OutboxDoc {
  const { _id, outboxId, ...rest } = record;
  return { ...rest, _id: outboxId, dedupeKey: _id };
}

export class SentArchive {
  constructor(
    readonly model: Model<SentRecordDoc>,
    private readonly sealer: Sealer,
  ) {}

  /**
   * Moves the deliveries recorded before `sentBefore` out of `outbox`, oldest first, at most
   * `max` of them. Each is written here before it is deleted there, so a dedupe key is never in
   * neither, and an outbox copy is deleted only once its record is read back here: a move cut
   * off half-way, or two instances sweeping at once, meet records already written and still
   * delete only what is kept. Returns how many left the outbox.
   */
  async moveFrom(outbox: Model<OutboxDoc>, sentBefore: Date, max = 20_000): Promise<number> {
    let moved = 0;
    while (moved < max) {
      // A page at a time, read afresh (no cursor stays open over documents being deleted), and
      // oldest first, so whatever a move cut short leaves behind is newer than what it moved.
      const batch = await outbox
        .find({ status: "sent", sentAt: { $lt: sentBefore } })
        .sort({ sentAt: 1, _id: 1 })
        .limit(Math.min(MOVE_BATCH, max - moved))
        .lean<OutboxDoc[]>();
      if (batch.length === 0) break;
      for (let i = 0; i < batch.length; i += MAX_INSERTS_PER_COMMAND) {
        await this.write(batch.slice(i, i + MAX_INSERTS_PER_COMMAND));
      }
      let kept = await this.keptAs(batch.map((doc) => doc.dedupeKey));
      const missing = batch.filter((doc) => !kept.has(doc.dedupeKey));
      if (missing.length > 0) {
        // Refused with the command (one duplicate can refuse it all, on some servers): one by one.
        for (const doc of missing) await this.write([doc]);
        kept = await this.keptAs(batch.map((doc) => doc.dedupeKey));
      }
      const done: Types.ObjectId[] = [];
      for (const doc of batch) {
        const record = kept.get(doc.dedupeKey);
        if (!record) continue;
        // Platform ids the record lacks: a second copy of the key that went out too (the one
        // window no system closes: the platform took it, its record came after another sent it),
        // or a late sender's "sent" on this copy after an earlier move wrote the record. They
        // join it, so a reply to that message is still known.
        const extra = doc.platformMessageIds.filter((id) => !record.includes(id));
        if (extra.length > 0) {
          await this.model.updateOne(
            { _id: doc.dedupeKey },
            { $addToSet: { platformMessageIds: { $each: extra } } },
          );
        }
        done.push(doc._id);
      }
      if (done.length === 0) break;
      // One statement (a list of ids), not one per document: FerretDB hangs on update commands of
      // 100 statements (docs/ferretdb.md) and deletes were not tried that far.
      const { deletedCount } = await outbox.deleteMany({ _id: { $in: done }, status: "sent" });
      moved += deletedCount;
      if (deletedCount === 0) break;
    }
    return moved;
  }

  /**
   * Writes records, their texts under the current key (a rotation's reseal may have read the
   * outbox copy before this one: the record is not left under the key being retired). A record
   * already here is left as it is; which were kept is read back by the caller, since a server may
   * refuse the whole command with a single duplicate-key error.
   */
  private async write(docs: OutboxDoc[]): Promise<void> {
    const records = docs.map(
      ({ _id, dedupeKey, lockedUntil: _u, lockedBy: _b, lastError: _e, decidedAgain: _d, ...rest }) => ({
        ...rest,
        textSealed: this.current(rest.textSealed),
        _id: dedupeKey,
        outboxId: _id,
      }),
    );
    try {
      // Lean: the records are the outbox's documents as they stand, checked when written there.
      await this.model.insertMany(records, { ordered: false, lean: true });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
  }

  /**
   * A text under the current key. One that cannot be opened (its key removed from the list, or
   * damaged) is kept as it is: it must not stop the move, which goes oldest first and would meet
   * it at the head of every sweep.
   */
  private current(sealed: string): string {
    if (typeof sealed !== "string" || sealed === "") return sealed;
    try {
      return this.sealer.resealed(sealed) ?? sealed;
    } catch {
      return sealed;
    }
  }

  /** The platform ids each of these dedupe keys' records hold, for those kept here. */
  private async keptAs(dedupeKeys: readonly string[]): Promise<Map<string, string[]>> {
    const records = await this.model
      .find({ _id: { $in: [...dedupeKeys] } }, { platformMessageIds: 1 })
      .lean<Pick<SentRecordDoc, "_id" | "platformMessageIds">[]>();
    return new Map(records.map((r) => [r._id, r.platformMessageIds ?? []]));
  }

  /**
   * Which of these dedupe keys have a record here: a few by `_id` each, more by one `$in`
   * (ONE_BY_ONE), whichever reads less of the collection on FerretDB.
   */
  async keys(dedupeKeys: readonly string[]): Promise<Set<string>> {
    if (dedupeKeys.length <= ONE_BY_ONE) {
      const here = await Promise.all(dedupeKeys.map((key) => this.has(key)));
      return new Set(dedupeKeys.filter((_, i) => here[i]));
    }
    return present(this.model, "_id", dedupeKeys);
  }

  /** Whether this dedupe key was delivered and moved here: the filter FerretDB answers fastest. */
  async has(dedupeKey: string): Promise<boolean> {
    return (await this.model.exists({ _id: dedupeKey })) !== null;
  }

  /** The records of these dedupe keys, as outbox documents. */
  async find(dedupeKeys: readonly string[]): Promise<OutboxDoc[]> {
    if (dedupeKeys.length === 0) return [];
    const records = await this.model.find({ _id: { $in: [...dedupeKeys] } }).lean<SentRecordDoc[]>();
    return records.map(asOutboxDoc);
  }

  /** The newest delivery to a chat that carried buttons, as an outbox document. */
  async latestKeyboard(channel: string, chatId: string): Promise<OutboxDoc | undefined> {
    const record = await this.model
      .findOne({ channel, chatId, "choices.0": { $exists: true } })
      .sort({ sentAt: -1 })
      .lean<SentRecordDoc>();
    return record ? asOutboxDoc(record) : undefined;
  }

  /** The newest deliveries to a chat, newest first, as outbox documents. */
  async latest(channel: string, chatId: string | undefined, limit: number): Promise<OutboxDoc[]> {
    const records = await this.model
      .find({ channel, ...(chatId === undefined ? {} : { chatId }) })
      .sort({ sentAt: -1 })
      .limit(limit)
      .lean<SentRecordDoc[]>();
    return records.map(asOutboxDoc);
  }

  /** Removes the texts of deliveries made before `olderThan` (the retention period). */
  async forget(olderThan: Date): Promise<number> {
    const result = await this.model.updateMany(
      { createdAt: { $lt: olderThan }, textSealed: { $ne: "" } },
      // An older version's plaintext `text` came along with the record it was in.
      { $set: { textSealed: "" }, $unset: { text: 1 } },
    );
    return result.modifiedCount;
  }

  /** Reseals every text under the current key (npm run keys:rotate). */
  reseal(): Promise<number> {
    return resealField(this.model, "textSealed", this.sealer);
  }
}
