import { Schema, type Model, type Types } from "mongoose";
import { isDuplicateKeyError } from "../db/errors.js";
import { GroupInsert } from "../db/group-insert.js";
import type { Subject } from "./message.js";
import type { Outbox } from "./outbox.js";

/**
 * Which platform message was about what. When an official replies to a reminder, the platform
 * tells us the id of the message replied to; this collection turns that id back into the task.
 */
export interface MessageLinkDoc {
  _id: Types.ObjectId;
  channel: string;
  chatId: string;
  platformMessageId: string;
  subject: Subject;
  personId?: Types.ObjectId;
  outboxKey: string;
  sentAt: Date;
}

export const messageLinkSchema = new Schema<MessageLinkDoc>(
  {
    channel: { type: String, required: true },
    chatId: { type: String, required: true },
    platformMessageId: { type: String, required: true },
    subject: {
      kind: { type: String, required: true },
      id: { type: String, required: true },
    },
    personId: { type: Schema.Types.ObjectId },
    outboxKey: { type: String, required: true },
    sentAt: { type: Date, required: true },
  },
  { collection: "message_links" },
);
messageLinkSchema.index({ channel: 1, chatId: 1, platformMessageId: 1 }, { unique: true });
messageLinkSchema.index({ channel: 1, chatId: 1, sentAt: -1 });

export class MessageLinks {
  /**
   * Links of deliveries made at about the same time share a command: thirty citizens confirming
   * together (each confirmation names its ticket) write one insertMany, not thirty inserts.
   */
  private readonly inserts: GroupInsert<MessageLinkDoc>;

  constructor(
    private readonly model: Model<MessageLinkDoc>,
    /** Read for the labels of recent subjects. */
    private readonly outbox: Outbox,
  ) {
    this.inserts = new GroupInsert(model);
  }

  async record(link: Omit<MessageLinkDoc, "_id">): Promise<void> {
    try {
      await this.inserts.insert(link);
    } catch (error) {
      // Recording the same delivery twice (a retried dispatch) is harmless.
      if (!isDuplicateKeyError(error)) throw error;
    }
  }

  /** The subject of the message `platformMessageId` in that chat, if the bot sent it about one. */
  async subjectOf(channel: string, chatId: string, platformMessageId: string): Promise<Subject | undefined> {
    const link = await this.model.findOne({ channel, chatId, platformMessageId }).lean();
    return link ? { kind: link.subject.kind, id: link.subject.id } : undefined;
  }

  /**
   * The subjects of a kind sent to a chat since `since`, newest first, each once, with the first
   * line of the message that carried it as a label — for platforms without reply-to, where an
   * answer shortly after a reminder belongs to that reminder.
   */
  async recent(
    channel: string,
    chatId: string,
    kind: Subject["kind"],
    since: Date,
  ): Promise<{ subject: Subject; label: string }[]> {
    const links = await this.model
      .find({ channel, chatId, "subject.kind": kind, sentAt: { $gte: since } })
      .sort({ sentAt: -1 })
      .limit(50)
      .lean();
    const seen = new Map<string, string>();
    for (const link of links) if (!seen.has(link.subject.id)) seen.set(link.subject.id, link.outboxKey);
    const keys = [...seen.values()];
    const here = await this.outbox.model.find({ dedupeKey: { $in: keys } }).lean();
    // Reminders older than an hour have their records among the deliveries moved out.
    const moved = await this.outbox.archive.find(
      keys.filter((key) => !here.some((o) => o.dedupeKey === key)),
    );
    const texts = new Map([...here, ...moved].map((o) => [o.dedupeKey, this.outbox.textOf(o)]));
    return [...seen].map(([id, outboxKey]) => ({
      subject: { kind, id },
      label: (texts.get(outboxKey)?.split("\n")[0] ?? id).slice(0, 60),
    }));
  }
}
