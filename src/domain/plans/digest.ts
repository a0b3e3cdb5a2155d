import { createHash } from "node:crypto";
import { Schema, type Connection, type Model, type Types } from "mongoose";
import { isDuplicateKeyError } from "../../db/errors.js";
import { CAPABILITIES } from "../../engine/capabilities.js";
import type { ChannelName, Subject } from "../../engine/message.js";
import type { Outbox } from "../../engine/outbox.js";

/** One numbered line of a digest: task `taskKey` for unit `unitKey`, under its reminder's key. */
export interface DigestItem {
  /** What this line reminded of, e.g. `remind:<task>:<period>:<unit>:<person>:<step>`: never twice. */
  itemKey: string;
  taskKey: string;
  unitKey: string;
}

/**
 * A numbered list of tasks sent to one chat in one message (a reminder run, an escalation). Kept
 * so that "1 xong, 2 được 50%" in answer to it lands on its tasks, after a restart too: the
 * number is the item's place in `items`, plus one.
 */
export interface DigestDoc {
  _id: Types.ObjectId;
  key: string;
  channel: string;
  chatId: string;
  personId?: string;
  items: DigestItem[];
  /**
   * The outbox key of the message that carries it. A digest is recorded before its message is
   * written (a reply must find it the moment the message is sent), so it counts as sent only once
   * that message is in the outbox. Digests recorded before this field existed were recorded after
   * their message, and count as sent.
   */
  messageKey?: string;
  createdAt: Date;
}

const digestSchema = new Schema<DigestDoc>(
  {
    key: { type: String, required: true, unique: true },
    channel: { type: String, required: true },
    chatId: { type: String, required: true },
    personId: { type: String },
    items: [{ _id: false, itemKey: String, taskKey: String, unitKey: String }],
    messageKey: { type: String },
    createdAt: { type: Date, required: true },
  },
  { collection: "reminder_digests" },
);
digestSchema.index({ channel: 1, chatId: 1, createdAt: -1 });
digestSchema.index({ "items.itemKey": 1 });

/**
 * The subject a digest's message carries, so that a reply comes back to it. Where the platform
 * says which message a reply answers (Telegram, the console), it names this very digest. Where it
 * does not (Zalo), every digest to a chat carries the same subject, "the latest digest": the
 * engine then sees one recent subject, not one per day, and hands an answer to it without asking
 * which reminder it answers (an answer belongs to the list the person last received).
 */
export function digestSubject(channel: ChannelName, key: string): Subject {
  return { kind: "task", id: CAPABILITIES[channel].replyTo ? `${DIGEST}${key}` : LATEST };
}

const DIGEST = "digest:";
const LATEST = "digest:latest";

/** Whether a task subject's id names a digest rather than one task. */
export function isDigestSubject(id: string): boolean {
  return id.startsWith(DIGEST);
}

/** A short key for a digest: who it is for and what it lists, whatever the order. */
export function digestKey(recipient: string, itemKeys: string[]): string {
  return createHash("sha256")
    .update([recipient, ...[...itemKeys].sort()].join("\n"))
    .digest("hex")
    .slice(0, 16);
}

/** A Telegram button's value for "task `n` of digest `key` is done": "dg:<key>:<n>", 20-odd bytes. */
export const doneValue = (key: string, n: number) => `dg:${key}:${n}`;

export function readDoneValue(value: string): { key: string; n: number } | undefined {
  const match = /^dg:([0-9a-f]{16}):(\d{1,3})$/.exec(value);
  return match ? { key: match[1] ?? "", n: Number(match[2]) } : undefined;
}

export class ReminderDigests {
  readonly model: Model<DigestDoc>;

  constructor(
    connection: Connection,
    /** Where a digest's message is written: a digest counts as sent once its message is there. */
    private readonly outbox: Pick<Outbox, "written">,
  ) {
    this.model =
      (connection.models.ReminderDigest as Model<DigestDoc> | undefined) ??
      connection.model<DigestDoc>("ReminderDigest", digestSchema);
  }

  async ensureIndexes(): Promise<void> {
    await this.model.createCollection().catch(() => undefined);
    await this.model.createIndexes();
  }

  /** Records a digest once (a rerun after a crash writes the same key). */
  async record(digest: Omit<DigestDoc, "_id">): Promise<void> {
    try {
      await this.model.create(digest);
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
  }

  /**
   * The item keys among `itemKeys` that some digest already listed in a message written to the
   * outbox. A digest whose message a crash kept from the outbox lists nothing: its items go out
   * again in the next run's digest.
   */
  async listed(itemKeys: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    const wanted = new Set(itemKeys);
    for (let i = 0; i < itemKeys.length; i += 500) {
      const chunk = itemKeys.slice(i, i + 500);
      const docs = await this.model
        .find({ "items.itemKey": { $in: chunk } }, { items: 1, messageKey: 1 })
        .lean();
      const written = await this.outbox.written(
        docs.flatMap((doc) => (doc.messageKey ? [doc.messageKey] : [])),
      );
      for (const doc of docs) {
        if (doc.messageKey && !written.has(doc.messageKey)) continue;
        for (const item of doc.items) if (wanted.has(item.itemKey)) found.add(item.itemKey);
      }
    }
    return found;
  }

  /**
   * The digest a subject names, if it was sent to this chat: the very one, or the chat's latest
   * (since `since`) for "the latest digest". A key from another chat finds nothing.
   */
  async find(
    subjectId: string,
    channel: string,
    chatId: string,
    since?: Date,
  ): Promise<DigestDoc | undefined> {
    if (subjectId === LATEST) return this.latest(channel, chatId, since);
    return this.byKey(subjectId.slice(DIGEST.length), channel, chatId);
  }

  async byKey(key: string, channel: string, chatId: string): Promise<DigestDoc | undefined> {
    return (await this.model.findOne({ key, channel, chatId }).lean()) ?? undefined;
  }

  /** The chat's latest digest whose message was written (one a crash kept unsent is not "latest"). */
  async latest(channel: string, chatId: string, since?: Date): Promise<DigestDoc | undefined> {
    const docs = await this.model
      .find({ channel, chatId, ...(since ? { createdAt: { $gte: since } } : {}) })
      .sort({ createdAt: -1, _id: -1 })
      .limit(3)
      .lean();
    const written = await this.outbox.written(
      docs.flatMap((doc) => (doc.messageKey ? [doc.messageKey] : [])),
    );
    return docs.find((doc) => !doc.messageKey || written.has(doc.messageKey));
  }
}
