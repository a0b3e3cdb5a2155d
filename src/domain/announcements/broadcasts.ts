import { Types, type Model } from "mongoose";
import type { Clock } from "../../clock.js";
import { isDuplicateKeyError } from "../../db/errors.js";
import type { Outbound, OutboundFile } from "../../engine/message.js";
import type { Outbox, OutboxDoc } from "../../engine/outbox.js";
import type { Logger } from "../../log.js";
import { t } from "../../text/vi.js";
import { OFFICIALS } from "../people/roles.js";
import type { ChannelAccountDoc, PersonDoc } from "../people/schema.js";
import { randomCode } from "../people/service.js";
import type { Audience, BroadcastDoc } from "./schema.js";
import type { SubscriptionService } from "./subscriptions.js";

export interface BroadcastModels {
  Broadcast: Model<BroadcastDoc>;
  Person: Model<PersonDoc>;
  ChannelAccount: Model<ChannelAccountDoc>;
  Outbox: Model<OutboxDoc>;
}

export interface BroadcastInput {
  /** The confirming turn's idempotency key. */
  idempotencyKey: string;
  text: string;
  files: OutboundFile[];
  /** Where the files were sent from; see BroadcastDoc.filesChannel. */
  filesChannel: string;
  org: string;
  audience: Audience;
  unitKeys: string[];
  by: { personId: string; name: string };
  now: Date;
}

export interface BroadcastOptions {
  /** Recipients put into the outbox per database round; progress is saved after each batch. */
  batchSize?: number;
  /**
   * Messages per second a broadcast is spread over from its creation (their `notBefore`). The
   * dispatcher sends in `nextAttemptAt` order, so a reply to someone's message, due now, goes out
   * between the broadcast's messages instead of after all of them.
   */
  perSecond?: number;
}

export interface BroadcastProgress {
  total: number;
  sent: number;
  dead: number;
  /** In the outbox, not yet delivered, plus recipients not yet put into the outbox. */
  remaining: number;
  /** Not in the outbox and never will be: no reachable account, unsubscribed, or left. */
  skipped: number;
  finished: boolean;
}

const isUrl = (ref: string) => /^https?:\/\//i.test(ref);

/** The dedupe key of one recipient's message: the same broadcast reaches a person once. */
export function broadcastKey(
  broadcastId: Types.ObjectId | string,
  personId: Types.ObjectId | string,
): string {
  return `broadcast:${broadcastId.toString()}:${personId.toString()}`;
}

/**
 * Announcements from the Office to officials or subscribers. A broadcast is saved with its
 * resolved recipients first, then put into the outbox in batches, one message per recipient under
 * `broadcast:<id>:<personId>`; a crash half-way is finished by `resume()`, and the keys make
 * anything written twice harmless.
 */
export class BroadcastService {
  private readonly batchSize: number;
  private readonly perSecond: number;

  constructor(
    private readonly models: BroadcastModels,
    private readonly outbox: Outbox,
    private readonly subscriptions: SubscriptionService,
    private readonly clock: Clock,
    private readonly log: Logger,
    options: BroadcastOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 200;
    this.perSecond = options.perSecond ?? 20;
  }

  /**
   * The people an audience means now. Citizens only ever through their subscription: a
   * deactivated official becomes a citizen, and must not keep receiving the staff's news.
   */
  async recipients(audience: Audience, unitKeys: readonly string[]): Promise<Types.ObjectId[]> {
    const filter = {
      officials: () => ({ role: { $in: OFFICIALS } }),
      unit_heads: () => ({ role: "unit_head" as const }),
      units: () => ({ role: { $in: OFFICIALS }, unitId: { $in: unitKeys } }),
      subscribers: async () => ({ _id: { $in: await this.subscriptions.activeIds() } }),
    }[audience];
    const people: Pick<PersonDoc, "_id" | "role">[] = await this.models.Person.find(
      { active: true, ...(await filter()) },
      { role: 1 },
    )
      .sort({ _id: 1 })
      .lean();
    const subscribed = await this.subscriptions.activeAmong(
      people.filter((p) => p.role === "citizen").map((p) => p._id),
    );
    return people.filter((p) => p.role !== "citizen" || subscribed.has(p._id.toString())).map((p) => p._id);
  }

  /**
   * Saves the broadcast with its recipients ("queued"), or returns the one this confirmation
   * already created.
   */
  async create(input: BroadcastInput): Promise<BroadcastDoc> {
    const { Broadcast } = this.models;
    const existing = await Broadcast.findOne({ idempotencyKey: input.idempotencyKey }).lean();
    if (existing) return existing;
    const recipients = await this.recipients(input.audience, input.unitKeys);
    for (let attempt = 0; ; attempt += 1) {
      try {
        const doc = await Broadcast.create({
          code: `TB-${randomCode(6)}`,
          idempotencyKey: input.idempotencyKey,
          text: input.text,
          files: input.files,
          filesChannel: input.filesChannel,
          org: input.org,
          audience: input.audience,
          unitKeys: input.audience === "units" ? input.unitKeys : [],
          recipients,
          enqueued: 0,
          status: recipients.length > 0 ? "queued" : "done",
          createdBy: new Types.ObjectId(input.by.personId),
          createdByName: input.by.name,
          createdAt: input.now,
          ...(recipients.length > 0 ? {} : { finishedAt: input.now }),
        });
        return doc.toObject();
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        // Either the same confirmation raced us (then take its broadcast) or the code collided.
        const raced = await Broadcast.findOne({ idempotencyKey: input.idempotencyKey }).lean();
        if (raced) return raced;
        if (attempt >= 5) throw error;
      }
    }
  }

  /** Puts every remaining recipient into the outbox, batch by batch; returns the finished document. */
  async send(broadcast: BroadcastDoc): Promise<BroadcastDoc> {
    let current = broadcast;
    while (current.status !== "done") current = await this.sendBatch(current);
    return current;
  }

  /** Puts the next batch of recipients into the outbox and records how far it got. */
  async sendBatch(broadcast: BroadcastDoc): Promise<BroadcastDoc> {
    if (broadcast.status === "done") return broadcast;
    const from = broadcast.enqueued;
    const batch = broadcast.recipients.slice(from, from + this.batchSize);
    await this.outbox.enqueue(await this.messages(broadcast, batch, from));
    const enqueued = from + batch.length;
    const done = enqueued >= broadcast.recipients.length;
    const now = this.clock.now();
    const changes = {
      enqueued,
      status: done ? "done" : "sending",
      ...(done ? { finishedAt: now } : {}),
    } as const;
    // Monotonic: a second worker on the same broadcast never moves the cursor back.
    await this.models.Broadcast.updateOne(
      { _id: broadcast._id, enqueued: { $lt: enqueued } },
      { $set: changes },
    );
    return { ...broadcast, ...changes };
  }

  /**
   * Finishes broadcasts a crash left "queued" or "sending". Call it at start (and now and then):
   * re-enqueueing a recipient already in the outbox writes nothing.
   */
  async resume(): Promise<number> {
    const unfinished = await this.models.Broadcast.find({ status: { $in: ["queued", "sending"] } })
      .sort({ createdAt: 1 })
      .lean();
    for (const broadcast of unfinished) {
      this.log.warn(
        { broadcast: broadcast.code, enqueued: broadcast.enqueued, total: broadcast.recipients.length },
        "broadcast: resuming one cut off by a restart",
      );
      await this.send(broadcast);
    }
    return unfinished.length;
  }

  /** One outbox message per recipient still allowed to receive it, at their current address. */
  private async messages(
    broadcast: BroadcastDoc,
    batch: Types.ObjectId[],
    from: number,
  ): Promise<Outbound[]> {
    if (batch.length === 0) return [];
    const [people, accounts, subscribed] = await Promise.all([
      this.models.Person.find({ _id: { $in: batch }, active: true }, { role: 1 }).lean(),
      this.models.ChannelAccount.find({ personId: { $in: batch }, blockedAt: { $exists: false } })
        .sort({ lastSeenAt: -1 })
        .lean(),
      this.subscriptions.activeAmong(batch),
    ]);
    const roles = new Map(people.map((p) => [p._id.toString(), p.role]));
    // Like PeopleService.contactOf, for a whole batch in one query: the most recent unblocked account.
    const contact = new Map<string, ChannelAccountDoc>();
    for (const account of accounts) {
      const key = account.personId.toString();
      if (!contact.has(key)) contact.set(key, account);
    }
    const toSubscribers = broadcast.audience === "subscribers";
    const messages: Outbound[] = [];
    batch.forEach((personId, i) => {
      const id = personId.toString();
      const role = roles.get(id);
      const account = contact.get(id);
      if (!role || !account) return;
      // Checked again at sending time: someone who unsubscribed since the Office confirmed is spared.
      const citizen = role === "citizen";
      if ((toSubscribers || citizen) && !subscribed.has(id)) return;
      // A file is a platform's handle (a Telegram file_id): it travels to the channel it came from,
      // or anywhere when it is a web address; elsewhere the message says a file was left out.
      const files = broadcast.files.filter((f) => account.channel === broadcast.filesChannel || isUrl(f.ref));
      const missing = broadcast.files.length - files.length;
      const text = [
        t.announcements.message(broadcast.org, broadcast.text),
        ...(missing > 0 ? [t.announcements.filesNotHere(missing)] : []),
        ...(toSubscribers || citizen ? [t.announcements.unsubscribeFooter] : []),
      ].join("\n\n");
      messages.push({
        to: { channel: account.channel, chatId: account.chatId, personId: id },
        text,
        files,
        dedupeKey: broadcastKey(broadcast._id, personId),
        notBefore: new Date(broadcast.createdAt.getTime() + Math.floor((from + i) / this.perSecond) * 1000),
      });
    });
    return messages;
  }

  /**
   * Sent / failed / remaining, read by the broadcast's key prefix from the outbox and from the
   * deliveries moved out of it (an hour after they were made).
   */
  async progress(broadcast: BroadcastDoc): Promise<BroadcastProgress> {
    const prefix = { $regex: `^broadcast:${broadcast._id.toHexString()}:` };
    const { Outbox } = this.models;
    const [inOutbox, sentHere, dead] = await Promise.all([
      Outbox.countDocuments({ dedupeKey: prefix }),
      Outbox.countDocuments({ dedupeKey: prefix, status: "sent" }),
      Outbox.countDocuments({ dedupeKey: prefix, status: "dead" }),
    ]);
    // After the outbox: a message moved meanwhile may count twice, never not at all.
    const moved = await this.outbox.archive.model.countDocuments({ _id: prefix });
    const total = broadcast.recipients.length;
    const sent = Math.min(sentHere + moved, total);
    const done = broadcast.status === "done";
    const notQueued = done ? 0 : total - broadcast.enqueued;
    const pending = inOutbox - sentHere - dead;
    return {
      total,
      sent,
      dead,
      remaining: pending + notQueued,
      skipped: done ? Math.max(0, total - inOutbox - moved) : 0,
      finished: done && pending === 0,
    };
  }

  async byCode(code: string): Promise<BroadcastDoc | undefined> {
    return (await this.models.Broadcast.findOne({ code: code.trim().toUpperCase() }).lean()) ?? undefined;
  }

  async recent(limit: number): Promise<BroadcastDoc[]> {
    return this.models.Broadcast.find().sort({ createdAt: -1, _id: -1 }).limit(limit).lean();
  }
}
