import type { Collection } from "mongoose";
import { asOutboxDoc, type SentRecordDoc } from "./sent-archive.js";
import type { Subject } from "./message.js";
import type { Outbox, OutboxDoc } from "./outbox.js";

/** What the bot knows of a platform message it sent: the subject it was about, if any. */
export interface Delivered {
  subject?: Subject;
}

/** A link as versions before this one wrote it into `message_links`, the fields read here. */
interface LegacyLink {
  subject?: Subject;
}

/**
 * Which platform message was about what. When an official replies to a reminder, the platform
 * tells us the id of the message replied to; this turns that id back into the task.
 *
 * Read from the deliveries' own records, the outbox's and then the archive's (`outbox_sent`),
 * which keep each message's subject beside the platform's ids from its one "sent" write: a link
 * is not a write of its own (the one-commit design of ARCHITECTURE.md), so "sent" never stands
 * without it. The archive keeps its records for good (only their texts are forgotten).
 *
 * Versions before this one wrote each link into `message_links` as well, before "sent"; a few of
 * those name a message no record has the ids of (a process killed between the link and "sent",
 * or a copy that went twice, whose ids the other copy's record replaced). That collection is no
 * longer written, and is read only when neither record knows the message.
 */
export class MessageLinks {
  constructor(
    private readonly outbox: Outbox,
    /** `message_links`, as earlier versions left it (read only). */
    private readonly legacy: Collection,
  ) {}

  /** Whether `message_links` held no link when first looked at (see legacyLink). */
  private legacyEmpty: boolean | undefined;

  /**
   * The delivery of the platform message `platformMessageId` in that chat, undefined when the
   * bot has no record of sending it. The outbox first, then the archive: moves go oldest first
   * and write the archive's record before deleting the outbox's, so one moved between the two
   * reads is in the archive by the second. Then an earlier version's link, if neither knows it.
   */
  async delivery(channel: string, chatId: string, platformMessageId: string): Promise<Delivered | undefined> {
    const filter = { channel, chatId, platformMessageIds: platformMessageId };
    const found =
      (await this.outbox.model.findOne(filter, { subject: 1 }).lean<Pick<OutboxDoc, "subject">>()) ??
      (await this.outbox.archive.model
        .findOne(filter, { subject: 1 })
        .lean<Pick<SentRecordDoc, "subject">>()) ??
      (await this.legacyLink(channel, chatId, platformMessageId));
    if (!found) return undefined;
    return found.subject ? { subject: { kind: found.subject.kind, id: found.subject.id } } : {};
  }

  /**
   * An earlier version's link, read only where that version left any: no longer written, the
   * collection never gains one, so an empty one (a fresh install) is counted once and then never
   * read again, and a miss (a reply to a message of the person's own) costs no third read there.
   */
  private async legacyLink(
    channel: string,
    chatId: string,
    platformMessageId: string,
  ): Promise<LegacyLink | null> {
    if (this.legacyEmpty === undefined) {
      const count = await this.legacy.estimatedDocumentCount();
      this.legacyEmpty = count === 0;
    }
    if (this.legacyEmpty) return null;
    return this.legacy.findOne<LegacyLink>(
      { channel, chatId, platformMessageId },
      { projection: { subject: 1 } },
    );
  }

  /** The subject of the message `platformMessageId` in that chat, if the bot sent it about one. */
  async subjectOf(channel: string, chatId: string, platformMessageId: string): Promise<Subject | undefined> {
    return (await this.delivery(channel, chatId, platformMessageId))?.subject;
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
    const filter = { channel, chatId, "subject.kind": kind, sentAt: { $gte: since } };
    const here = await this.outbox.model
      .find({ ...filter, status: "sent" })
      .sort({ sentAt: -1 })
      .limit(50)
      .lean<OutboxDoc[]>();
    // After the outbox, as in delivery(). A message being moved may be in both: it counts once.
    const moved = await this.outbox.archive.model
      .find(filter)
      .sort({ sentAt: -1 })
      .limit(50)
      .lean<SentRecordDoc[]>();
    const sent = [...here, ...moved.map(asOutboxDoc)].sort(
      (a, b) => (b.sentAt?.getTime() ?? 0) - (a.sentAt?.getTime() ?? 0),
    );
    const seen = new Map<string, string>();
    for (const doc of sent) {
      if (!doc.subject || seen.has(doc.subject.id)) continue;
      seen.set(doc.subject.id, (this.outbox.textOf(doc).split("\n")[0] || doc.subject.id).slice(0, 60));
    }
    return [...seen].map(([id, label]) => ({ subject: { kind, id }, label }));
  }
}
