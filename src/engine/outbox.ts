import { randomUUID } from "node:crypto";
import { Schema, type Model, type Types } from "mongoose";
import type { Clock } from "../clock.js";
import type { Claims } from "../db/claims.js";
import { isDuplicateKeyError } from "../db/errors.js";
import type { Logger } from "../log.js";
import { resealField } from "../privacy/reseal.js";
import type { Sealer } from "../privacy/sealer.js";
import { SendError, type ChannelSender } from "./channel.js";
import type { MessageLinks } from "./links.js";
import type { ChannelName, Choice, Outbound, OutboundFile, Subject } from "./message.js";

/**
 * Everything the bot says leaves through this collection. A decision writes a document under a
 * unique dedupe key (the same decision taken twice writes one); a dispatcher per channel claims
 * due documents, delivers them and records the platform's message ids.
 */
export interface OutboxDoc {
  _id: Types.ObjectId;
  dedupeKey: string;
  channel: string;
  chatId: string;
  personId?: Types.ObjectId;
  /**
   * What is said, sealed with the data key (src/privacy/sealer.ts): replies repeat what citizens
   * typed (the /gopy summary, a ticket opened by the Office), so no copy sits here in plaintext.
   * Read it with Outbox.textOf. Empty once the retention period is over (Outbox.forget).
   */
  textSealed: string;
  choices: Choice[];
  files: OutboundFile[];
  subject?: Subject;
  status: "pending" | "sending" | "sent" | "dead";
  attempts: number;
  /** Bumped by each claim; names the claim key, see db/claims.ts. */
  claimSeq: number;
  nextAttemptAt: Date;
  lockedUntil?: Date;
  lockedBy?: string;
  platformMessageIds: string[];
  lastError?: string;
  createdAt: Date;
  sentAt?: Date;
}

export const outboxSchema = new Schema<OutboxDoc>(
  {
    dedupeKey: { type: String, required: true, unique: true },
    channel: { type: String, required: true },
    chatId: { type: String, required: true },
    personId: { type: Schema.Types.ObjectId },
    textSealed: { type: String, required: true },
    choices: [{ _id: false, label: String, value: String }],
    files: [{ _id: false, kind: String, ref: String, name: String }],
    subject: { type: { _id: false, kind: String, id: String }, default: undefined },
    status: { type: String, required: true },
    attempts: { type: Number, required: true },
    claimSeq: { type: Number, required: true, default: 0 },
    nextAttemptAt: { type: Date, required: true },
    lockedUntil: { type: Date },
    lockedBy: { type: String },
    platformMessageIds: { type: [String], default: [] },
    lastError: { type: String },
    createdAt: { type: Date, required: true },
    sentAt: { type: Date },
  },
  { collection: "outbox" },
);
outboxSchema.index({ channel: 1, status: 1, _id: 1 });

export class Outbox {
  constructor(
    readonly model: Model<OutboxDoc>,
    private readonly clock: Clock,
    private readonly sealer: Sealer,
  ) {}

  /**
   * The text of a message as it is (or was) said. Messages queued by a version that kept texts
   * in plaintext (field `text`) are still read, so an upgrade loses nothing pending.
   */
  textOf(doc: Pick<OutboxDoc, "textSealed">): string {
    // Empty once the retention period removed it (forget).
    if (doc.textSealed === "") return "";
    if (typeof doc.textSealed === "string") return this.sealer.open(doc.textSealed);
    const legacy = (doc as { text?: unknown }).text;
    return typeof legacy === "string" ? legacy : "";
  }

  /**
   * Removes the texts of messages sent (or given up) before `olderThan`. The record itself stays:
   * its dedupe key keeps a job that looks again from deciding the same message twice.
   */
  async forget(olderThan: Date): Promise<number> {
    const result = await this.model.updateMany(
      { status: { $in: ["sent", "dead"] }, createdAt: { $lt: olderThan }, textSealed: { $ne: "" } },
      { $set: { textSealed: "" }, $unset: { text: 1 } },
    );
    return result.modifiedCount;
  }

  /** Reseals every text under the current key (npm run keys:rotate); returns how many changed. */
  reseal(): Promise<number> {
    return resealField(this.model, "textSealed", this.sealer);
  }

  /** Writes messages; ones whose dedupe key already exists are skipped. Returns how many are new. */
  async enqueue(messages: Outbound[]): Promise<number> {
    let created = 0;
    const now = this.clock.now();
    for (const message of messages) {
      try {
        await this.model.create({
          dedupeKey: message.dedupeKey,
          channel: message.to.channel,
          chatId: message.to.chatId,
          personId: message.to.personId,
          textSealed: this.sealer.seal(message.text),
          choices: message.choices ?? [],
          files: message.files ?? [],
          subject: message.subject,
          status: "pending",
          attempts: 0,
          claimSeq: 0,
          nextAttemptAt: message.notBefore ?? now,
          createdAt: now,
          platformMessageIds: [],
        });
        created += 1;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
    }
    return created;
  }
}

export interface DispatcherOptions {
  /** A claimed message not finished within this time is assumed lost with its worker. */
  lockMs?: number;
  /** Attempts for network and unknown failures before the message is given up. */
  maxAttempts?: number;
  /** First retry delay; doubles each attempt, capped at maxBackoffMs. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** How often an idle dispatcher looks for due messages. */
  pollMs?: number;
  /** Told the result of every delivery attempt (for metrics). */
  onResult?: (channel: ChannelName, result: "sent" | "retry" | "rate_limited" | "dead") => void;
  /** Told when the platform says a person blocked the bot, so nothing more is queued for them. */
  onBlocked?: (channel: ChannelName, chatId: string) => Promise<void>;
}

/**
 * Delivers one channel's outbox. Several dispatchers (several instances) may run: each message is
 * claimed with an atomic update before it is sent, so only one sends it.
 *
 * Delivery is at-least-once in one narrow case: if the process dies after the platform accepted
 * a message and before "sent" is written, the claim expires and the message is sent again. No
 * platform offers an idempotency key to close that window; every other path sends exactly once.
 */
export class Dispatcher {
  private readonly workerId = randomUUID();
  private readonly opts: Required<Omit<DispatcherOptions, "onBlocked" | "onResult">> &
    Pick<DispatcherOptions, "onBlocked" | "onResult">;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly outbox: Outbox,
    private readonly sender: ChannelSender,
    private readonly links: MessageLinks,
    private readonly claims: Claims,
    private readonly clock: Clock,
    private readonly log: Logger,
    options: DispatcherOptions = {},
  ) {
    this.opts = {
      lockMs: options.lockMs ?? 60_000,
      maxAttempts: options.maxAttempts ?? 8,
      baseBackoffMs: options.baseBackoffMs ?? 2_000,
      maxBackoffMs: options.maxBackoffMs ?? 15 * 60_000,
      pollMs: options.pollMs ?? 500,
      onBlocked: options.onBlocked,
      onResult: options.onResult,
    };
  }

  get channel(): string {
    return this.sender.channel;
  }

  /**
   * Claims the next due message of this channel, or nothing. Messages to one chat leave in the
   * order they were decided: only the oldest unsent message of each chat may go, so an earlier
   * one still waiting (a retry after a network error, a rate limit) holds the later ones back
   * while other chats go on. The claim key makes sure that of several dispatchers looking at the
   * same message, one sends it.
   */
  private async claim(): Promise<OutboxDoc | undefined> {
    const now = this.clock.now();
    const cursor = this.outbox.model
      .find({ channel: this.sender.channel, status: { $in: ["pending", "sending"] } })
      .sort({ _id: 1 })
      .lean()
      .cursor();
    const seen = new Set<string>();
    try {
      for await (const doc of cursor as AsyncIterable<OutboxDoc>) {
        if (seen.has(doc.chatId)) continue;
        seen.add(doc.chatId);
        const due = doc.status === "pending" ? doc.nextAttemptAt <= now : (doc.lockedUntil ?? now) < now;
        if (!due) continue;
        if (!(await this.claims.take(`outbox:${doc._id.toString()}:${doc.claimSeq}`, this.workerId, now)))
          continue;
        const claimed = {
          status: "sending" as const,
          lockedUntil: new Date(now.getTime() + this.opts.lockMs),
          lockedBy: this.workerId,
          attempts: doc.attempts + 1,
          claimSeq: doc.claimSeq + 1,
        };
        await this.outbox.model.updateOne({ _id: doc._id }, { $set: claimed });
        return { ...doc, ...claimed };
      }
      return undefined;
    } finally {
      await cursor.close();
    }
  }

  private backoff(attempts: number): number {
    return Math.min(this.opts.maxBackoffMs, this.opts.baseBackoffMs * 2 ** Math.max(0, attempts - 1));
  }

  /** Delivers one message if one is due; false when there was nothing to do. */
  async dispatchOne(): Promise<boolean> {
    const doc = await this.claim();
    if (!doc) return false;
    const mine = { _id: doc._id, lockedBy: this.workerId, status: "sending" as const };
    try {
      const { messageIds } = await this.sender.send({
        chatId: doc.chatId,
        text: this.outbox.textOf(doc),
        choices: doc.choices,
        files: doc.files,
      });
      const now = this.clock.now();
      await this.outbox.model.updateOne(mine, {
        $set: { status: "sent", sentAt: now, platformMessageIds: messageIds },
        $unset: { lockedUntil: 1, lockedBy: 1, lastError: 1 },
      });
      this.opts.onResult?.(this.sender.channel, "sent");
      if (doc.subject) {
        for (const platformMessageId of messageIds) {
          await this.links.record({
            channel: doc.channel,
            chatId: doc.chatId,
            platformMessageId,
            subject: doc.subject,
            personId: doc.personId,
            outboxKey: doc.dedupeKey,
            sentAt: now,
          });
        }
      }
    } catch (error) {
      await this.handleFailure(doc, error);
    }
    return true;
  }

  private async handleFailure(doc: OutboxDoc, error: unknown): Promise<void> {
    const now = this.clock.now();
    const failure = error instanceof SendError ? error : new SendError("network", String(error));
    const mine = { _id: doc._id, lockedBy: this.workerId, status: "sending" as const };
    const context = {
      dedupeKey: doc.dedupeKey,
      channel: doc.channel,
      chatId: doc.chatId,
      attempts: doc.attempts,
    };
    const giveUp = async (reason: string) => {
      await this.outbox.model.updateOne(mine, {
        $set: { status: "dead", lastError: reason },
        $unset: { lockedUntil: 1, lockedBy: 1 },
      });
      this.log.warn({ ...context, reason }, "outbox: message given up");
      this.opts.onResult?.(this.sender.channel, "dead");
    };
    switch (failure.kind) {
      case "rate_limited": {
        // The platform told us when to come back; waiting is not a failed attempt.
        const wait = failure.retryAfterMs ?? this.backoff(1);
        await this.outbox.model.updateOne(mine, {
          $set: {
            status: "pending",
            nextAttemptAt: new Date(now.getTime() + wait),
            lastError: failure.message,
            attempts: doc.attempts - 1,
          },
          $unset: { lockedUntil: 1, lockedBy: 1 },
        });
        this.log.info({ ...context, waitMs: wait }, "outbox: rate limited");
        this.opts.onResult?.(this.sender.channel, "rate_limited");
        return;
      }
      case "blocked":
        await giveUp(`blocked: ${failure.message}`);
        await this.opts.onBlocked?.(this.sender.channel, doc.chatId);
        return;
      case "bad_request":
        await giveUp(`bad request: ${failure.message}`);
        return;
      case "network": {
        if (doc.attempts >= this.opts.maxAttempts) {
          await giveUp(`network, ${doc.attempts} attempts: ${failure.message}`);
          return;
        }
        const wait = this.backoff(doc.attempts);
        await this.outbox.model.updateOne(mine, {
          $set: {
            status: "pending",
            nextAttemptAt: new Date(now.getTime() + wait),
            lastError: failure.message,
          },
          $unset: { lockedUntil: 1, lockedBy: 1 },
        });
        this.log.warn(
          { ...context, waitMs: wait, error: failure.message },
          "outbox: send failed, will retry",
        );
        this.opts.onResult?.(this.sender.channel, "retry");
      }
    }
  }

  /**
   * Delivers everything due now, or until `deadline` (a wall-clock time in ms) passes; returns how
   * many messages were attempted.
   */
  async drain(deadline = Number.POSITIVE_INFINITY): Promise<number> {
    let count = 0;
    while (Date.now() < deadline && (await this.dispatchOne())) count += 1;
    return count;
  }

  /** Keeps delivering until stop(); wake() shortens the wait after something was enqueued. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.wake();
  }

  /** Looks for due messages now instead of at the next poll. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      // A message enqueued while a pass is running may have been missed by it: go round again.
      this.wokenDuringRun = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = this.loop().finally(() => {
      this.running = undefined;
      if (this.stopped) return;
      if (this.wokenDuringRun) {
        this.wokenDuringRun = false;
        this.wake();
      } else {
        this.timer = setTimeout(() => this.wake(), this.opts.pollMs);
      }
    });
  }

  private wokenDuringRun = false;

  private async loop(): Promise<void> {
    try {
      await this.drain();
    } catch (error) {
      this.log.error({ err: error, channel: this.channel }, "outbox: dispatch loop error");
    }
  }

  /** Stops after the message in hand; waits for it. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
