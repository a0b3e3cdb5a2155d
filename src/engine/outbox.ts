import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Schema, Types, type Model } from "mongoose";
import type { Clock } from "../clock.js";
import type { Claims } from "../db/claims.js";
import { isDatabaseError, isDuplicateKeyError } from "../db/errors.js";
import { present } from "../db/present.js";
import { definedFields, GroupInsert } from "../db/group-insert.js";
import { GroupWrite } from "../db/group-write.js";
import type { Logger } from "../log.js";
import { resealField } from "../privacy/reseal.js";
import type { Sealer } from "../privacy/sealer.js";
import { SendError, type ChannelSender } from "./channel.js";
import type { SentArchive } from "./sent-archive.js";
import type { SendLease } from "./send-lease.js";
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
  /** Outbound.step: the session sequence number the choices' buttons carry. */
  step?: number;
  files: OutboundFile[];
  subject?: Subject;
  status: "pending" | "sending" | "sent" | "dead";
  /** Sends tried; a rate limit or a paused channel does not count. For the record only. */
  attempts: number;
  /** Bumped by each claim; names the claim key, see db/claims.ts. */
  claimSeq: number;
  nextAttemptAt: Date;
  lockedUntil?: Date;
  lockedBy?: string;
  platformMessageIds: string[];
  lastError?: string;
  createdAt: Date;
  /**
   * When the message was first due (its later send time, else its creation; reset by a
   * requeue): its age, and so when it is given up, counts from here. Absent on older records,
   * which count from createdAt.
   */
  dueAt?: Date;
  /**
   * When its sends began to fail: it is given up when still failing maxAgeMs later. Counted from
   * the first failure, not from creation, so a message a job wrote for a past time (a catch-up
   * run, `jobs:run --at`) is not given up at its first 502.
   */
  failingSince?: Date;
  sentAt?: Date;
  /**
   * Written by a run that may decide a key again (a job, a replay: not a turn's first run), whose
   * key may have been delivered long ago and moved to the archive. That run looks there before it
   * hands the message over; a look that finds the message looks again (Dispatcher.dropDelivered),
   * for a writer that died in between.
   */
  decidedAgain?: boolean;
}

/** A given-up message as an operator sees it: where it was going and why it failed, never its text. */
export interface DeadMessage {
  id: string;
  channel: string;
  chatId: string;
  createdAt: Date;
  attempts: number;
  lastError: string;
  /** False once the retention period removed its text. */
  requeueable: boolean;
}

/**
 * How long a delivery's record stays in the outbox before the sweep moves it to the archive
 * (SentArchive): long enough that a decision taken again soon after (a turn replayed after a
 * crash, a job run twice) meets it where its insert does, short enough that the look reads an
 * hour, not months.
 */
export const SENT_KEPT_MS = 3_600_000;

/** A message's fields, which a delivery's record keeps too (SentArchive); a fresh copy each call. */
export const messageFields = () => ({
  channel: { type: String, required: true },
  chatId: { type: String, required: true },
  personId: { type: Schema.Types.ObjectId },
  textSealed: { type: String, required: true },
  choices: [{ _id: false, label: String, value: String }],
  step: { type: Number },
  files: [{ _id: false, kind: String, ref: String, name: String }],
  subject: { type: { _id: false, kind: String, id: String }, default: undefined },
  status: { type: String, required: true },
  attempts: { type: Number, required: true },
  claimSeq: { type: Number, required: true, default: 0 },
  nextAttemptAt: { type: Date, required: true },
  platformMessageIds: { type: [String], default: [] },
  createdAt: { type: Date, required: true },
  dueAt: { type: Date },
  failingSince: { type: Date },
  sentAt: { type: Date },
});

export const outboxSchema = new Schema<OutboxDoc>(
  {
    dedupeKey: { type: String, required: true, unique: true },
    ...messageFields(),
    lockedUntil: { type: Date },
    lockedBy: { type: String },
    lastError: { type: String },
    decidedAgain: { type: Boolean },
  },
  { collection: "outbox" },
);
outboxSchema.index({ channel: 1, status: 1, _id: 1 });
// The newest keyboard sent to a chat, read on every button press (bots/telegram/updates.ts).
outboxSchema.index({ channel: 1, chatId: 1, status: 1, sentAt: -1 });

/**
 * A reply handed over unwritten, as its insert stores it: what the model would make of `fields`
 * (values cast to the schema's types, no field left undefined), made by hand. A turn's replies
 * are written by GroupInsert as they stand (asStored), and the model's making of a document with
 * its buttons, twice a reply, was the larger part of what the model cost a turn. The fields come
 * typed from enqueueTurn; those that come from a platform's JSON or a flow's data are cast here
 * as the model would.
 */
export function storedReply(fields: {
  personId?: string | undefined;
  chatId: string;
  choices: Choice[];
  files: OutboundFile[];
  subject?: Subject | undefined;
}): OutboxDoc {
  const doc: Record<string, unknown> = { _id: new Types.ObjectId(), ...definedFields(fields) };
  doc.chatId = String(fields.chatId);
  if (fields.personId !== undefined && fields.personId !== null)
    doc.personId = new Types.ObjectId(fields.personId);
  else delete doc.personId;
  doc.choices = fields.choices.map(({ label, value }) => strings({ label, value }));
  doc.files = fields.files.map(({ kind, ref, name }) => strings({ kind, ref, name }));
  if (fields.subject) doc.subject = strings({ kind: fields.subject.kind, id: fields.subject.id });
  return doc as unknown as OutboxDoc;
}

/** A subdocument's String paths as the model casts them: a value made a string, a missing one left out. */
function strings(fields: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(fields))
    if (value !== undefined && value !== null) out[key] = String(value);
  return out;
}

export class Outbox {
  /** "Sent" records of deliveries that end together, on any channel, written together. */
  readonly sentMarks: GroupWrite<OutboxDoc>;
  /** Replies handed over unwritten, written as they stand, with those of other turns ending together. */
  private readonly inserts: GroupInsert<OutboxDoc>;

  constructor(
    readonly model: Model<OutboxDoc>,
    private readonly clock: Clock,
    private readonly sealer: Sealer,
    /** Where deliveries go an hour after they were made (moveSent): their dedupe keys live on there. */
    readonly archive: SentArchive,
  ) {
    this.sentMarks = new GroupWrite(model);
    // Made here (storedReply), not by the model: see GroupInsert.
    this.inserts = new GroupInsert(model, { asStored: true });
  }

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
   * Which of these dedupe keys have their message in the outbox, whatever its state: what a job
   * has already decided to say, so that a rerun says it once (chunked, as `$in` lists are).
   */
  async written(dedupeKeys: readonly string[]): Promise<Set<string>> {
    const found = await present(this.model, "dedupeKey", dedupeKeys);
    // Read after the outbox: a message moved between the two reads is in the archive by then.
    const rest = dedupeKeys.filter((key) => !found.has(key));
    for (const key of await this.archive.keys(rest)) found.add(key);
    return found;
  }

  /**
   * Moves the records of deliveries made before `sentBefore` out of the collection, to the
   * archive (SentArchive): what is left is what the dispatcher's look reads. Returns how many.
   */
  moveSent(sentBefore: Date): Promise<number> {
    return this.archive.moveFrom(this.model, sentBefore);
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
    return result.modifiedCount + (await this.archive.forget(olderThan));
  }

  /**
   * The messages given up, oldest first (npm run outbox -- dead). Read without their texts: an
   * operator's listing has no business with what was said to whom.
   */
  async dead(filter: { channel?: string } = {}): Promise<DeadMessage[]> {
    const docs = await this.model
      .find({ status: "dead", ...(filter.channel ? { channel: filter.channel } : {}) })
      .select({ channel: 1, chatId: 1, createdAt: 1, dueAt: 1, attempts: 1, lastError: 1, textSealed: 1 })
      .sort({ _id: 1 })
      .lean();
    return docs.map((doc) => ({
      id: doc._id.toString(),
      channel: doc.channel,
      chatId: doc.chatId,
      createdAt: doc.createdAt,
      attempts: doc.attempts,
      lastError: doc.lastError ?? "",
      // Past the retention period its text is gone: there is nothing left to send.
      requeueable: doc.textSealed !== "",
    }));
  }

  /**
   * Puts dead messages back to be sent (npm run outbox -- requeue): all of them, or those whose
   * ids are given. Each keeps its place (its id), so a chat's requeued messages go in the order
   * they were written; its age starts again now. Returns how many went back.
   */
  async requeue(which: "all" | string[]): Promise<number> {
    const now = this.clock.now();
    const ids = which === "all" ? undefined : which.map((id) => new Types.ObjectId(id));
    const result = await this.model.updateMany(
      { status: "dead", textSealed: { $ne: "" }, ...(ids ? { _id: { $in: ids } } : {}) },
      {
        $set: { status: "pending", attempts: 0, nextAttemptAt: now, dueAt: now },
        $unset: { lastError: 1, lockedUntil: 1, lockedBy: 1, failingSince: 1 },
      },
    );
    return result.modifiedCount;
  }

  /** Reseals every text under the current key (npm run keys:rotate); returns how many changed. */
  async reseal(): Promise<number> {
    return (await resealField(this.model, "textSealed", this.sealer)) + (await this.archive.reseal());
  }

  /**
   * The newest keyboard sent to a chat (its buttons, the platform's ids), wherever its record is.
   * The outbox first, then the archive: moves go oldest first, so one still in the outbox is
   * newer than any moved, and one moved between the two reads is in the archive by the second.
   */
  async latestKeyboard(channel: string, chatId: string): Promise<OutboxDoc | undefined> {
    const here = await this.model
      .findOne({ channel, chatId, status: "sent", "choices.0": { $exists: true } })
      .sort({ sentAt: -1, _id: -1 })
      .lean<OutboxDoc>();
    // One the move would have taken (a move cut off leaves its batch in no order): the archive may
    // hold a newer one.
    const due = this.clock.now().getTime() - SENT_KEPT_MS;
    if (here && (here.sentAt?.getTime() ?? 0) >= due) return here;
    const moved = await this.archive.latestKeyboard(channel, chatId);
    if (!here || !moved) return here ?? moved;
    return (moved.sentAt?.getTime() ?? 0) > (here.sentAt?.getTime() ?? 0) ? moved : here;
  }

  private readonly createdListeners: ((doc: OutboxDoc) => void)[] = [];
  private readonly birthClaimers = new Map<string, BirthClaimer>();
  /** Messages handed over unwritten (enqueueTurn), by id and by dedupe key. */
  private readonly unwrittenById = new Map<string, Unwritten>();
  private readonly unwrittenByKey = new Map<string, Unwritten>();

  /**
   * Lets this process's dispatcher of a channel claim the messages written here as they are
   * written: the insert that writes a message is then its claim too (no other process can hold a
   * key it has just created), which spares the claim's two writes before each send.
   */
  claimAtBirth(channel: string, claimer: BirthClaimer): void {
    this.birthClaimers.set(channel, claimer);
  }

  /**
   * Told of every message this process writes, so its dispatcher can send it without searching
   * the collection (a search a large outbox makes slow). Messages written by other processes are
   * found by the dispatcher's periodic look.
   */
  onCreated(listener: (doc: OutboxDoc) => void): void {
    this.createdListeners.push(listener);
  }

  /** Writes messages; ones whose dedupe key already exists are skipped. Returns how many are new. */
  async enqueue(messages: Outbound[]): Promise<number> {
    return (await this.enqueueTurn(messages)).created;
  }

  /**
   * Writes messages as enqueue does. With `unwritten` (a turn's first run, its update just
   * recorded), a message this process's dispatcher may send at once is not written first: it is
   * handed over in memory, born claimed, and written once, when sent ("sent" with the platform
   * ids) or when it cannot go at once (as it stands, before it waits). Its durability until then
   * is the update's record: the turn is not marked handled before `settled` says every such
   * message stands in the collection, and a crash before that replays the turn, which decides the
   * same messages under the same keys (or, for a turn handled without a record, the platform's
   * redelivery of an update it was not yet answered for: Engine.handle, `platformRetries`). Only
   * a first run may do this: a run again (a replay, a retry) may meet messages an earlier run
   * wrote, which only the insert's unique key tells.
   *
   * `settled`, present when a message went unwritten (or was in hand so from an earlier run),
   * resolves true once every such message stands in the collection, false when one could not be
   * written (the database failed): the turn is then left unmarked, to be replayed.
   */
  async enqueueTurn(
    messages: Outbound[],
    options: { unwritten?: boolean } = {},
  ): Promise<{ created: number; settled?: Promise<boolean> }> {
    let created = 0;
    const waits: Promise<boolean>[] = [];
    /** What a run that is not a turn's first wrote (own) or found unsent, in order, to hand over. */
    const found: { doc: OutboxDoc; own: boolean }[] = [];
    const now = this.clock.now();
    for (const message of messages) {
      // Handed over unwritten by an earlier run of this turn and not written yet: that one is
      // this message, and this run is settled when it is.
      const inHand = this.unwrittenByKey.get(message.dedupeKey);
      if (inHand) {
        waits.push(inHand.settled);
        continue;
      }
      // A message for later is left to the look, which sends it when it is due.
      const later = message.notBefore !== undefined && message.notBefore > now;
      const birth = later ? undefined : this.birthClaimers.get(message.to.channel)?.(message.to.chatId, now);
      const fields = {
        dedupeKey: message.dedupeKey,
        channel: message.to.channel,
        chatId: message.to.chatId,
        personId: message.to.personId,
        textSealed: this.sealer.seal(message.text),
        choices: message.choices ?? [],
        ...(message.step !== undefined && message.choices?.length ? { step: message.step } : {}),
        files: message.files ?? [],
        subject: message.subject,
        ...(birth
          ? { status: "sending" as const, attempts: 1, lockedBy: birth.owner, lockedUntil: birth.until }
          : { status: "pending" as const, attempts: 0 }),
        claimSeq: 0,
        nextAttemptAt: message.notBefore ?? now,
        createdAt: now,
        dueAt: message.notBefore ?? now,
        platformMessageIds: [],
        ...(options.unwritten ? {} : { decidedAgain: true }),
      };
      // A file can take long to send (a report read from the database, then uploaded): written
      // first, it does not hold its turn's record meanwhile.
      if (birth && options.unwritten && !message.files?.length) {
        // The document as its insert stores it, with its id: every write of it is that insert.
        const doc = storedReply(fields);
        let settle: (durable: boolean) => void = () => undefined;
        const settled = new Promise<boolean>((resolve) => (settle = resolve));
        const entry = { doc, settled, settle, bornAt: performance.now() };
        this.unwrittenById.set(doc._id.toHexString(), entry);
        this.unwrittenByKey.set(doc.dedupeKey, entry);
        waits.push(settled);
        created += 1;
        for (const listener of this.createdListeners) listener(doc);
        continue;
      }
      try {
        const written = (await this.model.create(fields)).toObject<OutboxDoc>();
        if (!options.unwritten) {
          found.push({ doc: written, own: true });
          continue;
        }
        created += 1;
        for (const listener of this.createdListeners) listener(written);
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        // Written already: by a replay of the same decision, or by this very call's first try,
        // whose answer a cut connection lost. Still unsent, it is handed over too, in its place,
        // or the message written after it here would be handed over first and overtake it.
        // Born claimed here and never handed over counts as unsent too (its hand-over was lost
        // with the answer); the dispatcher ignores one it has already taken.
        const unsent: Partial<Pick<OutboxDoc, "status" | "attempts" | "claimSeq" | "lockedBy">>[] = [
          { status: "pending", attempts: 0 },
          ...(birth ? [{ status: "sending" as const, attempts: 1, claimSeq: 0, lockedBy: birth.owner }] : []),
        ];
        const existing = await this.model.findOne({ dedupeKey: message.dedupeKey, $or: unsent }).lean();
        if (existing && !options.unwritten) found.push({ doc: existing as OutboxDoc, own: false });
        else if (existing) for (const listener of this.createdListeners) listener(existing as OutboxDoc);
      }
    }
    created += await this.handOverUnlessDelivered(found);
    if (waits.length === 0) return { created };
    return { created, settled: Promise.all(waits).then((durable) => durable.every(Boolean)) };
  }

  /**
   * Hands over what a run that is not a turn's first wrote (or found unsent), unless its key was
   * delivered long ago and its record moved to the archive (moveSent): a decision taken again (a
   * job run twice, a turn replayed) then says nothing. Looked for after the inserts, which a move
   * cannot slip between: a record is archived before its outbox copy is deleted, so an insert
   * that succeeded found the copy gone and its record there to see. A copy found unsent under an
   * archived key is another writer's, between its insert and this same check: left to that
   * writer (or, if it died, to the look, which checks too). A turn's first run decides keys of
   * its own, new by construction, and is spared the read. Returns how many of its own went.
   */
  private async handOverUnlessDelivered(found: { doc: OutboxDoc; own: boolean }[]): Promise<number> {
    if (found.length === 0) return 0;
    const delivered = await this.archive.keys(found.map(({ doc }) => doc.dedupeKey));
    let handed = 0;
    for (const { doc, own } of found) {
      if (delivered.has(doc.dedupeKey)) {
        // Not sent from here; a crash before this delete leaves it to the look.
        if (own) await this.model.deleteOne({ _id: doc._id, status: { $ne: "sent" } });
        continue;
      }
      if (own) handed += 1;
      for (const listener of this.createdListeners) listener(doc);
    }
    return handed;
  }

  /** Whether `doc` was handed over unwritten and is not in the collection yet. */
  isUnwritten(doc: Pick<OutboxDoc, "_id">): boolean {
    return this.unwrittenById.has(doc._id.toHexString());
  }

  /** How long ago (ms) `doc` was handed over unwritten; 0 when it is not unwritten. */
  unwrittenFor(doc: Pick<OutboxDoc, "_id">): number {
    const entry = this.unwrittenById.get(doc._id.toHexString());
    return entry ? performance.now() - entry.bornAt : 0;
  }

  /**
   * Writes a message handed over unwritten, as it stands with `fields` changed: "written" once it
   * is in the collection, "exists" when its key was there already (another process wrote the
   * same decision: a replay of its turn), which makes it that one's to send. Database errors are
   * thrown; the message stays unwritten, for the caller to try again or give up (abandon).
   */
  async write(doc: OutboxDoc, fields: Partial<OutboxDoc> = {}): Promise<"written" | "exists"> {
    const entry = this.unwrittenById.get(doc._id.toHexString());
    if (!entry) return "written";
    let outcome: "written" | "exists" = "written";
    try {
      await this.inserts.insert({ ...doc, ...fields });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      // Under its own id it is this very write, landed on a try whose answer was lost.
      const there = await this.model.findOne({ dedupeKey: doc.dedupeKey }, { _id: 1 }).lean();
      outcome = there?._id.equals(doc._id) ? "written" : "exists";
    }
    Object.assign(doc, fields);
    this.forgetUnwritten(entry, true);
    return outcome;
  }

  /**
   * Gives up writing a message handed over unwritten (the database failed): its turn stays
   * unmarked and is replayed from its record, which decides the message again.
   */
  abandon(doc: Pick<OutboxDoc, "_id">): void {
    const entry = this.unwrittenById.get(doc._id.toHexString());
    if (entry) this.forgetUnwritten(entry, false);
  }

  private forgetUnwritten(entry: Unwritten, durable: boolean): void {
    this.unwrittenById.delete(entry.doc._id.toHexString());
    if (this.unwrittenByKey.get(entry.doc.dedupeKey) === entry)
      this.unwrittenByKey.delete(entry.doc.dedupeKey);
    entry.settle(durable);
  }
}

/** A message handed over unwritten (Outbox.enqueueTurn), until it is written or given up. */
interface Unwritten {
  doc: OutboxDoc;
  settled: Promise<boolean>;
  settle: (durable: boolean) => void;
  /** When it was handed over, on the monotonic clock (a step of the wall clock does not move it). */
  bornAt: number;
}

/**
 * Answers whether a message about to be written to `chatId` may be born claimed by this process's
 * dispatcher, and under which name and lease; undefined leaves it pending for whoever takes it.
 */
export type BirthClaimer = (chatId: string, now: Date) => { owner: string; until: Date } | undefined;

export interface DispatcherOptions {
  /** A claimed message not finished within this time is assumed lost with its worker. */
  lockMs?: number;
  /**
   * A message still failing this long after it was due is given up (`dead`; the operator can
   * requeue it). Age, not a count of attempts: an outage of hours must end in delivery.
   */
  maxAgeMs?: number;
  /** First retry delay; doubles each attempt, capped at maxBackoffMs. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** First probe of a paused channel after it paused; doubles each refusal, capped at maxBackoffMs. */
  pauseProbeMs?: number;
  /** First wait before writing a delivery's record again; doubles up to recordRetryMaxMs. */
  recordRetryMs?: number;
  recordRetryMaxMs?: number;
  /**
   * How often the dispatcher looks in the collection for due messages it was not told of:
   * written by another process, due again after a retry wait, or left by a crash.
   */
  pollMs?: number;
  /**
   * Sends in flight at once, each to a different chat (a chat's messages go one at a time). A
   * delivery whose send is done no longer counts while its record is written.
   */
  concurrency?: number;
  /**
   * How long a message handed over unwritten (Outbox.enqueueTurn) may wait in memory before it is
   * written as it stands (10 s): its turn's record is claimed for a minute (inbox CLAIM_MS), and
   * must not be taken back for a replay while the message lives only here.
   */
  unwrittenMs?: number;
  /** Told the result of every delivery attempt (for metrics). */
  onResult?: (channel: ChannelName, result: DeliveryResult) => void;
  /** Told when the platform says a person blocked the bot, so nothing more is queued for them. */
  onBlocked?: (channel: ChannelName, chatId: string) => Promise<void>;
  /**
   * Told when the platform refuses the bot itself (a revoked token) and the channel pauses.
   * `episode` names the pause the same way in every process (see Dispatcher.pause), so an alert
   * keyed by it is written once.
   */
  onPaused?: (channel: ChannelName, pause: { episode: string; reason: string }) => Promise<void>;
  /**
   * Sends only while this instance holds the channel's send lease (engine/send-lease.ts), so the
   * platform's per-bot limits hold across instances. Without it, this dispatcher sends whenever.
   */
  lease?: SendLease;
}

/** What became of one delivery attempt. */
export type DeliveryResult = "sent" | "retry" | "rate_limited" | "dead" | "paused";

/** The state of a paused channel, as /metrics shows it. */
export interface ChannelPause {
  since: Date;
  reason: string;
}

/** Tries of writing a message handed over unwritten (writeAsTheyStand) before it is given up. */
const MAX_WRITE_TRIES = 20;

/** Messages written here and remembered for sending at most; beyond, they wait for the look. */
const MAX_HINTS = 10_000;
/** How many times pollMs an idle dispatcher, alone on its database, waits between looks at most. */
const IDLE_LOOK_FACTOR = 10;
/** The shortest wait before a dispatcher wakes by itself (a lease about to change hands). */
const MIN_WAKE_MS = 50;

/**
 * A message written to go at a later time (a broadcast spread over minutes, Outbound.notBefore)
 * and not yet due: it holds back nothing of its chat. A reply decided meanwhile goes now, as a
 * reply to someone between a broadcast's messages does across chats; a message told to wait
 * after it was due (a 429, a retry) keeps its place, and its chat's later messages wait for it.
 */
function forLater(doc: OutboxDoc, now: Date): boolean {
  return scheduled(doc) && (doc.dueAt?.getTime() ?? 0) > now.getTime();
}

/**
 * Written for a time after its writing, by its writer's own clock (a reply written by an instance
 * whose clock runs ahead is due at its writing, and is not one), and never tried yet. Such
 * messages keep their order among themselves: a broadcast's copy due sooner does not pass an
 * earlier broadcast's copy for the same person that is due later.
 */
function scheduled(doc: OutboxDoc): boolean {
  const due = doc.dueAt?.getTime() ?? 0;
  return doc.status === "pending" && doc.attempts === 0 && due > doc.createdAt.getTime();
}

/**
 * Delivers one channel's outbox. Several dispatchers (several instances) may run: each message is
 * claimed under a unique key before it is sent, so only one sends it.
 *
 * Two ways find a message. Messages this process writes are handed over as they are written
 * (Outbox.onCreated) and claimed by id, which costs no search of the collection; a periodic look
 * (every pollMs, and whenever drain() is called) finds the rest, oldest first. A chat's messages
 * go one at a time and in the order they were written; different chats go side by side.
 *
 * Sending and recording are apart. Once the platform accepted a message it is never sent again
 * by this process: its record ("sent" with the platform ids, which is also the reply-to link) is
 * written again and again, with a short back-off and the claim's lease extended, while its chat stays
 * busy, until the database takes it. Delivery is at-least-once in one narrow case only: if the
 * process dies after the platform accepted a message and before the record is written, the claim
 * expires and the message is sent again. No platform offers an idempotency key to close that
 * window.
 *
 * Failures: see SendFailureKind. Network failures are retried with capped back-off until the
 * message is maxAgeMs old. A refused token pauses the whole channel (see pauseOn).
 */
export class Dispatcher {
  private readonly workerId = randomUUID();
  private readonly opts: Required<Omit<DispatcherOptions, "onBlocked" | "onResult" | "onPaused" | "lease">> &
    Pick<DispatcherOptions, "onBlocked" | "onResult" | "onPaused" | "lease">;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private wokenDuringRun = false;
  private lastLookAt = 0;
  /** Messages this process wrote and has not sent yet, per chat, in the order written. */
  private readonly hints = new Map<string, OutboxDoc[]>();
  private hintCount = 0;
  /** Chats with a message in hand: one at a time keeps a chat's order. */
  private readonly busy = new Set<string>();
  /** Chats made external (see below) since the current look began, which it must not forget. */
  private readonly deferredDuringLook = new Set<string>();
  private lookTimer: NodeJS.Timeout | undefined;
  private lookTimerAt = Number.POSITIVE_INFINITY;
  /**
   * Chats whose oldest unsent message was not handed over here (written by another process,
   * before a restart, or put back to wait: a retry, a rate limit, a later send time), as the
   * looks saw them: their messages are left to the look, which sends the oldest first, so a
   * message handed over now cannot overtake an older one. Handed-over messages wait until a
   * first full look has been made.
   */
  private external = new Set<string>();
  private looked = false;
  /** Deliveries finished so far: a look that overlapped one may have read a stale state. */
  private finished = 0;
  /** The waits of running passes, each resolved when a delivery frees its slot or its chat. */
  private readonly settleWaiters = new Set<() => void>();
  /** Resolves the wait of a running pass when a new message is handed over. */
  private nudge: (() => void) | undefined;
  /**
   * Ids of messages handed over whose claim this dispatcher already holds (born claimed): they go
   * without claiming again while their lease is fresh.
   */
  private readonly ownClaims = new Set<string>();
  /** Messages the platform told to wait, held here (their chat busy) until their time. */
  private readonly parked = new Map<string, { doc: OutboxDoc; timer: NodeJS.Timeout }>();
  /** Ids of the messages this dispatcher sent and recorded lately (a bounded memory, oldest forgotten). */
  private readonly sentHere = new Set<string>();
  /** Ids of the messages in hand here: being claimed, sent, recorded, or parked. */
  private readonly handling = new Set<string>();
  /** Parked messages whose time has come: they go before anything else of their chat. */
  private readonly returning: OutboxDoc[] = [];
  /**
   * Chats with messages handed over unwritten being written as they stand (writeAsTheyStand), and
   * those writes: until they land the look cannot see them, and must not take the chat as free.
   */
  private readonly writing = new Map<string, number>();
  private readonly writingIds = new Set<string>();
  private staleTimer: NodeJS.Timeout | undefined;
  private readonly writes = new Set<Promise<void>>();
  /** Deliveries under way (sending, or writing their record), each to a chat kept busy until it ends. */
  private readonly delivering = new Set<Promise<void>>();
  /** A message of a chat left to the look was delivered: that chat's next one waits for a look. */
  private lookSoon = false;
  /** Looks in a row that found nothing from elsewhere: an idle dispatcher looks less often. */
  private emptyLooks = 0;
  /**
   * Set while the platform refuses the bot itself: nothing is sent but one probe at `probeAt`
   * (clock time), the message that met the refusal (else the oldest waiting), one at a time.
   */
  private pause:
    | (ChannelPause & {
        probeAt: number;
        probes: number;
        probeId: Types.ObjectId;
        probing: boolean;
        /** The admins were told (onPaused). */
        announced: boolean;
      })
    | undefined;

  constructor(
    private readonly outbox: Outbox,
    private readonly sender: ChannelSender,
    private readonly claims: Claims,
    private readonly clock: Clock,
    private readonly log: Logger,
    options: DispatcherOptions = {},
  ) {
    this.opts = {
      lockMs: options.lockMs ?? 60_000,
      maxAgeMs: options.maxAgeMs ?? 72 * 3_600_000,
      baseBackoffMs: options.baseBackoffMs ?? 2_000,
      maxBackoffMs: options.maxBackoffMs ?? 5 * 60_000,
      pauseProbeMs: options.pauseProbeMs ?? 60_000,
      recordRetryMs: options.recordRetryMs ?? 100,
      recordRetryMaxMs: options.recordRetryMaxMs ?? 5_000,
      pollMs: options.pollMs ?? 1_000,
      concurrency: options.concurrency ?? 8,
      unwrittenMs: options.unwrittenMs ?? 10_000,
      onBlocked: options.onBlocked,
      onResult: options.onResult,
      onPaused: options.onPaused,
      lease: options.lease,
    };
    outbox.onCreated((doc) => this.hint(doc));
    outbox.claimAtBirth(sender.channel, (chatId, now) => this.birthClaim(chatId, now));
  }

  /**
   * Whether a message this process writes now to `chatId` may be born claimed by this dispatcher:
   * only while it is running and may send (not paused, holding the send lease), after its first
   * look, and for a chat whose older messages are not left to the look (it would overtake them).
   */
  private birthClaim(chatId: string, now: Date): { owner: string; until: Date } | undefined {
    if (this.stopped || !this.looked || this.pause || this.hintCount >= MAX_HINTS) return undefined;
    if (this.external.has(chatId)) return undefined;
    if (this.opts.lease && !this.opts.lease.heldAt(now)) return undefined;
    return { owner: this.workerId, until: new Date(now.getTime() + this.opts.lockMs) };
  }

  get channel(): string {
    return this.sender.channel;
  }

  /** Since when, and why, the channel is paused; undefined while it delivers. */
  get paused(): ChannelPause | undefined {
    return this.pause ? { since: this.pause.since, reason: this.pause.reason } : undefined;
  }

  private hint(doc: OutboxDoc): void {
    if (doc.channel !== this.sender.channel) return;
    // A message for later is the look's to send (a broadcast spread over minutes): looks come
    // every pollMs again, not at an idle pace, until none is left (lookEvery).
    if (doc.status === "pending" && doc.nextAttemptAt > this.clock.now()) this.emptyLooks = 0;
    if (this.hintCount >= MAX_HINTS) return;
    const id = doc._id.toHexString();
    // Handed over after the look took it (a decision taken again hands its messages over only
    // once they are checked): the look has it.
    if (this.handling.has(id) || this.sentHere.has(id)) return;
    if (doc.status === "sending" && doc.lockedBy === this.workerId) {
      // Handed over twice (a turn run again wrote it again): once is enough.
      if (this.ownClaims.has(id)) return;
      this.ownClaims.add(id);
    }
    const queue = this.hints.get(doc.chatId);
    if (queue) queue.push(doc);
    else this.hints.set(doc.chatId, [doc]);
    this.hintCount += 1;
    if (this.outbox.isUnwritten(doc)) this.watchUnwritten();
    this.nudge?.();
  }

  /**
   * While messages handed over unwritten wait here, checks every pollMs that none has waited too
   * long (writeStaleHints): a pass waiting on a slow send does not come round to them.
   */
  private watchUnwritten(): void {
    if (this.staleTimer) return;
    this.staleTimer = setTimeout(() => {
      this.staleTimer = undefined;
      this.writeStaleHints();
      if ([...this.hints.values()].some((queue) => this.holdsUnwritten(queue))) this.watchUnwritten();
    }, this.opts.pollMs);
    this.staleTimer.unref();
  }

  private dropHints(chatId: string): Promise<void> {
    // Their claims stay in the database under this dispatcher's name: the look takes them again.
    // Those handed over unwritten are written so first.
    const queue = this.hints.get(chatId) ?? [];
    for (const doc of queue) this.ownClaims.delete(doc._id.toHexString());
    this.hintCount -= queue.length;
    this.hints.delete(chatId);
    return this.writeAsTheyStand(queue);
  }

  /**
   * Writes the messages among `docs` handed over unwritten, as they stand (born claimed here), so
   * that whoever looks finds them: before their chat goes to the look, at a pause, at a stop, and
   * when one has waited too long to go unwritten (writeStaleHints). A write the database refuses
   * is tried again, with back-off, while its chat waits (the look leaves the chat alone, see
   * `writing`): given up, the message would live only in its turn's replay, which drops a
   * question the person has since answered. Given up only at a stop, or for a fault of ours.
   */
  private writeAsTheyStand(docs: OutboxDoc[]): Promise<void> {
    const unwritten = docs.filter(
      (doc) => this.outbox.isUnwritten(doc) && !this.writingIds.has(doc._id.toHexString()),
    );
    if (unwritten.length === 0) return Promise.resolve();
    const one = async (doc: OutboxDoc) => {
      const id = doc._id.toHexString();
      this.writingIds.add(id);
      this.writing.set(doc.chatId, (this.writing.get(doc.chatId) ?? 0) + 1);
      try {
        let wait = this.opts.recordRetryMs;
        for (let tries = 1; ; tries += 1, wait = Math.min(this.opts.recordRetryMaxMs, wait * 2)) {
          try {
            // Written by another process's replay of its turn: that one is the message.
            if ((await this.outbox.write(doc)) === "exists") this.forgetHint(doc);
            return;
          } catch (error) {
            // A refusal that lasts (an error no retry mends) ends as a stop does, after about a
            // minute and a half of tries.
            if (!isDatabaseError(error) || this.stopped || tries >= MAX_WRITE_TRIES) {
              this.log.error(
                { err: error, dedupeKey: doc.dedupeKey },
                "outbox: a reply could not be written; its turn runs again",
              );
              this.forgetHint(doc);
              this.outbox.abandon(doc);
              return;
            }
            this.log.warn(
              { err: error, dedupeKey: doc.dedupeKey, waitMs: wait },
              "outbox: a reply could not be written; writing it again",
            );
            await sleep(wait);
          }
        }
      } finally {
        this.writingIds.delete(id);
        // A look under way may have read past where it landed: it must not take the chat as free.
        this.deferredDuringLook.add(doc.chatId);
        const left = (this.writing.get(doc.chatId) ?? 1) - 1;
        if (left > 0) this.writing.set(doc.chatId, left);
        else this.writing.delete(doc.chatId);
        this.nudge?.();
      }
    };
    const done = Promise.all(unwritten.map(one)).then(() => undefined);
    this.writes.add(done);
    void done.finally(() => this.writes.delete(done));
    return done;
  }

  /**
   * Writes the messages handed over unwritten that have waited too long to go so (their chat
   * busy with an earlier one): the update's record, which keeps them meanwhile, is taken back for
   * a replay when its claim lapses, and a replay must find them written.
   */
  private writeStaleHints(): void {
    const stale: OutboxDoc[] = [];
    for (const queue of this.hints.values()) {
      for (const doc of queue) {
        if (this.outbox.unwrittenFor(doc) >= this.opts.unwrittenMs) stale.push(doc);
      }
    }
    void this.writeAsTheyStand(stale);
  }

  /**
   * Whether `doc` is this dispatcher's own: handed over here, in hand, delivered here, or being
   * written as it stands (`id`: its id as hex). What is neither was written elsewhere (another
   * process, before a restart).
   */
  private mineHere(doc: OutboxDoc, id: string): boolean {
    if (this.handling.has(id) || this.sentHere.has(id) || this.writingIds.has(id)) return true;
    return this.hints.get(doc.chatId)?.some((h) => h._id.equals(doc._id)) ?? false;
  }

  /** Whether a chat's handed-over messages include one handed over unwritten. */
  private holdsUnwritten(queue: OutboxDoc[] | undefined): boolean {
    return queue?.some((doc) => this.outbox.isUnwritten(doc)) ?? false;
  }

  /** Drops a handed-over message that is not this dispatcher's to send after all. */
  private forgetHint(doc: OutboxDoc): void {
    const queue = this.hints.get(doc.chatId);
    const at = queue?.findIndex((d) => d._id.equals(doc._id)) ?? -1;
    if (!queue || at < 0) return;
    queue.splice(at, 1);
    this.hintCount -= 1;
    if (queue.length === 0) this.hints.delete(doc.chatId);
    this.ownClaims.delete(doc._id.toHexString());
  }

  /** A message of this chat waits `waitMs`: the chat goes to the look, and a look is due then. */
  private defer(chatId: string, waitMs: number): void {
    this.external.add(chatId);
    this.deferredDuringLook.add(chatId);
    void this.dropHints(chatId);
    this.lookIn(waitMs);
  }

  /** Makes a look happen in `ms`, or sooner if one is already planned. */
  private lookIn(ms: number): void {
    const at = Date.now() + Math.max(0, ms);
    if (this.stopped || this.lookTimerAt <= at) return;
    clearTimeout(this.lookTimer);
    this.lookTimerAt = at;
    this.lookTimer = setTimeout(() => {
      this.lookTimerAt = Number.POSITIVE_INFINITY;
      this.lastLookAt = 0;
      this.wake();
    }, ms);
  }

  /**
   * Claims a message under its claim key and marks it in hand, its chat busy from the start;
   * undefined (the chat freed) if another has it or the database failed.
   */
  private async take(doc: OutboxDoc, now: Date): Promise<OutboxDoc | undefined> {
    this.busy.add(doc.chatId);
    let claimed: OutboxDoc | undefined;
    try {
      claimed = await this.takeClaim(doc, now);
      return claimed;
    } finally {
      if (!claimed) this.busy.delete(doc.chatId);
    }
  }

  private async takeClaim(doc: OutboxDoc, now: Date): Promise<OutboxDoc | undefined> {
    const prefix = `outbox:${doc._id.toString()}`;
    const seq = await this.claims.takeSeq(prefix, doc.claimSeq, this.workerId, now, this.opts.lockMs);
    if (seq === undefined) return undefined;
    const claimed = {
      status: "sending" as const,
      lockedUntil: new Date(now.getTime() + this.opts.lockMs),
      lockedBy: this.workerId,
      attempts: doc.attempts + 1,
      claimSeq: seq + 1,
    };
    // Only as the message was read: one claimed meanwhile, or marked sent meanwhile (a sender
    // whose record came late writes "sent" without moving the counter), has moved on.
    const marked = await this.outbox.model.updateOne(
      { _id: doc._id, claimSeq: doc.claimSeq, status: doc.status },
      { $set: claimed },
    );
    if (marked.matchedCount === 0) return undefined;
    return { ...doc, ...claimed };
  }

  /** The first message handed over whose chat is free, claimed; undefined when there is none. */
  private async claimHanded(): Promise<OutboxDoc | undefined> {
    // Paused: the handed-over messages wait; the look sends them in order once it resumes.
    if (!this.looked || this.pause) return undefined;
    const now = this.clock.now();
    // Back from a rate-limit wait, claimed and its chat still busy: it goes first, while its lease
    // has time enough left for the send; else (a pause came between) the look claims it again.
    const back = this.returning.shift();
    if (back && (back.lockedUntil?.getTime() ?? 0) - now.getTime() >= this.opts.lockMs / 2) return back;
    if (back) {
      this.busy.delete(back.chatId);
      this.handling.delete(back._id.toHexString());
      this.defer(back.chatId, 0);
    }
    for (const [chatId, queue] of this.hints) {
      // A message of the chat being written (writeAsTheyStand) goes once it stands.
      if (this.busy.has(chatId) || this.writing.has(chatId)) continue;
      if (this.external.has(chatId)) {
        void this.dropHints(chatId);
        continue;
      }
      const head = queue[0];
      // Too old to go unwritten: written as it stands first, its chat skipped meanwhile (the
      // timer, watchUnwritten, does the same for the messages behind it).
      if (head && this.outbox.isUnwritten(head) && this.outbox.unwrittenFor(head) >= this.opts.unwrittenMs) {
        void this.writeAsTheyStand([head]);
        continue;
      }
      const doc = queue.shift();
      this.hintCount -= doc ? 1 : 0;
      if (queue.length === 0) this.hints.delete(chatId);
      if (!doc) continue;
      // Taken by a look, or sent, since it was handed over: not twice.
      if (this.handling.has(doc._id.toHexString()) || this.sentHere.has(doc._id.toHexString())) continue;
      if (this.outbox.isUnwritten(doc)) {
        // Claimed from its birth and due from it, whatever the clock says now.
        const id = doc._id.toHexString();
        this.ownClaims.delete(id);
        this.handling.add(id);
        this.busy.add(chatId);
        return doc;
      }
      if (scheduled(doc)) {
        // The look sends it when it is due, after any earlier one of its chat written for a
        // later time (which this hand-over does not know of); the chat's replies meanwhile go as
        // they come.
        this.lookIn(Math.max(0, (doc.dueAt?.getTime() ?? 0) - now.getTime()));
        continue;
      }
      if (doc.nextAttemptAt > now) {
        this.defer(chatId, doc.nextAttemptAt.getTime() - now.getTime());
        continue;
      }
      // Claimed already, by its own insert or before a wait: it goes while its lease has time
      // enough left for the send; else it is claimed as any other (by then another may have it).
      const id = doc._id.toHexString();
      const own = this.ownClaims.delete(id);
      // In hand from here: handed over again meanwhile (a turn run again), it is not taken twice.
      this.handling.add(id);
      if (own && (doc.lockedUntil?.getTime() ?? 0) - now.getTime() >= this.opts.lockMs / 2) {
        this.busy.add(chatId);
        return doc;
      }
      let claimed: OutboxDoc | undefined;
      try {
        claimed = await this.take(doc, now);
      } catch (error) {
        // The claim failed half-way: this message waits for the look, and so do the chat's later
        // ones, or a later one handed over next would overtake it.
        this.handling.delete(id);
        this.defer(chatId, this.opts.pollMs);
        throw error;
      }
      if (claimed) return claimed;
      this.handling.delete(id);
      // Another dispatcher took it first (or holds it): the chat's later messages follow by the
      // look, which sends the oldest first.
      this.defer(chatId, this.opts.pollMs);
    }
    return undefined;
  }

  /**
   * Looks in the collection for the due messages of free chats, up to `max`, and claims them side
   * by side. Only the oldest unsent message of each chat may go, so an earlier one still waiting
   * (a retry, a later send time) holds the later ones back while other chats go on. Every look
   * reads to the end: it learns which chats have messages it was not handed, and a chat whose
   * backlog is gone goes back to being sent as its messages are written.
   */
  private async claimFound(max: number): Promise<OutboxDoc[]> {
    if (this.pause) {
      const probe = await this.claimProbe();
      return probe ? [probe] : [];
    }
    const now = this.clock.now();
    this.lastLookAt = Date.now();
    this.lookSoon = false;
    const cursor = this.outbox.model
      .find({ channel: this.sender.channel, status: { $in: ["pending", "sending"] } })
      .sort({ _id: 1 })
      .lean()
      .cursor();
    const seen = new Set<string>();
    const external = new Set<string>();
    /** Chats whose oldest unsent message is in hand here: what is behind it is read on. */
    const behindOwn = new Set<string>();
    /** Chats with a message for later read: looks stay at pollMs until it has gone. */
    const laterChats = new Set<string>();
    const due: OutboxDoc[] = [];
    this.deferredDuringLook.clear();
    try {
      for await (const doc of cursor as AsyncIterable<OutboxDoc>) {
        if (seen.has(doc.chatId)) continue;
        const id = doc._id.toHexString();
        // Not due yet: it holds back nothing of its chat but the chat's other messages written
        // for a later time, and looks stay frequent until it goes.
        if (forLater(doc, now) || (laterChats.has(doc.chatId) && scheduled(doc))) {
          laterChats.add(doc.chatId);
          continue;
        }
        if (behindOwn.has(doc.chatId)) {
          // Behind a message in hand here. One of this dispatcher's goes by the hand-over path
          // after it. Anything else was written elsewhere (another process, before a restart,
          // mineHere): the chat goes to the look, which sends it next, or the chat's
          // next reply here, born claimed, would go first (found by holding a send while a
          // look read: test/engine/look-stale-read.test.ts).
          if (this.mineHere(doc, id)) continue;
          seen.add(doc.chatId);
          external.add(doc.chatId);
          continue;
        }
        // Delivered here while the look read (its "sent" landed after the read): it waits for
        // nothing, and the chat's next message in the collection, if any, is its oldest unsent.
        // Asked first: a chat whose next reply was handed over meanwhile, as most are at a busy
        // moment (a look under load reads for a second), went to the look by the rule below,
        // and each of its later replies then waited for a look of its own (npx tsx
        // bench/alone.ts --citizens 100 --think 200: 22 chats so by the end, a message a look).
        if (doc.lockedBy === this.workerId && this.sentHere.has(id)) continue;
        if (this.busy.has(doc.chatId) || this.handling.has(id)) {
          // Its chat in hand here. The message is ours (in hand, handed over, being written as it
          // stands, delivered): a chat left to the look stays so, else what is behind it decides.
          // Or it was written elsewhere, while what is in hand here is a reply not in the
          // collection (handed over unwritten): it goes next, by the look.
          if (this.external.has(doc.chatId) || !this.mineHere(doc, id)) {
            seen.add(doc.chatId);
            external.add(doc.chatId);
          } else behindOwn.add(doc.chatId);
          continue;
        }
        seen.add(doc.chatId);
        // Handed over here: the handed path sends it, and the look need not claim it again.
        const handed = this.hints.get(doc.chatId);
        if (handed?.some((h) => h._id.equals(doc._id))) continue;
        // Messages of the chat handed over unwritten (or being written) were decided before this
        // one and the look cannot see them: they go first, written, by the look. So does one
        // handed over before it and written after the read passed its place (its write as it
        // stands, a message of a job), which the read did not see either. And a chat put back
        // while the look read (defer): its hand-overs were written and dropped, an earlier
        // message of it may wait a retry, and the read saw neither.
        const before = handed?.some((h) => h._id.toHexString() < id) ?? false;
        const putBack = this.deferredDuringLook.has(doc.chatId);
        if (before || putBack || this.writing.has(doc.chatId) || this.holdsUnwritten(handed)) {
          external.add(doc.chatId);
          continue;
        }
        external.add(doc.chatId);
        // "sending" under this dispatcher's own name while its chat is not in hand here: a claim
        // of ours whose mark landed but whose answer was lost, or a message born claimed here
        // whose hand-over was dropped. Nothing was sent; it goes now.
        const ready =
          doc.status === "pending"
            ? doc.nextAttemptAt <= now
            : (doc.lockedUntil ?? now) < now || doc.lockedBy === this.workerId;
        if (ready && due.length < max) due.push(doc);
      }
    } finally {
      await cursor.close();
    }
    // It knows every chat with an unsent message from elsewhere (and those put back while it
    // read, which it may have seen still in hand).
    for (const chatId of this.deferredDuringLook) external.add(chatId);
    for (const chatId of this.writing.keys()) external.add(chatId);
    this.external = external;
    this.looked = true;
    this.emptyLooks = external.size === 0 && laterChats.size === 0 ? this.emptyLooks + 1 : 0;
    // In hand from here, so a hand-over of one of them meanwhile (Dispatcher.hint) is ignored;
    // one another pass marked while this one read is that pass's, and its mark stays its own.
    for (let i = due.length - 1; i >= 0; i -= 1) {
      const doc = due[i];
      if (doc && this.handling.has(doc._id.toHexString())) due.splice(i, 1);
    }
    for (const doc of due) this.handling.add(doc._id.toHexString());
    try {
      await this.dropDelivered(due);
    } catch (error) {
      for (const doc of due) this.handling.delete(doc._id.toHexString());
      throw error;
    }
    // Paused meanwhile: nothing goes but the probe.
    if (this.pause) {
      for (const doc of due) this.handling.delete(doc._id.toHexString());
      return [];
    }
    // A chat taken meanwhile (a hand-over, by another pass) keeps its order: its message waits.
    for (let i = due.length - 1; i >= 0; i -= 1) {
      const doc = due[i];
      if (!doc || !this.busy.has(doc.chatId)) continue;
      due.splice(i, 1);
      this.handling.delete(doc._id.toHexString());
    }
    const claimed = await Promise.allSettled(due.map((doc) => this.take(doc, now)));
    due.forEach((doc, i) => {
      const result = claimed[i];
      if (result?.status !== "fulfilled" || !result.value) this.handling.delete(doc._id.toHexString());
    });
    const taken = claimed.flatMap((c) => (c.status === "fulfilled" && c.value ? [c.value] : []));
    const failed = claimed.find((c): c is PromiseRejectedResult => c.status === "rejected");
    if (failed && taken.length === 0) throw failed.reason;
    return taken;
  }

  /**
   * Takes out of `docs` (and deletes) the messages whose key was delivered and archived already:
   * copies a decision taken twice wrote again, whose writer died before it took its copy back
   * (Outbox.enqueueTurn). Only messages a decision taken again wrote (OutboxDoc.decidedAgain) and
   * never claimed are looked up (one claimed before was looked up then), in one read.
   */
  private async dropDelivered(docs: OutboxDoc[]): Promise<void> {
    const unclaimed = docs.filter((doc) => doc.decidedAgain && doc.claimSeq === 0);
    if (unclaimed.length === 0) return;
    const delivered = await this.outbox.archive.keys(unclaimed.map((doc) => doc.dedupeKey));
    if (delivered.size === 0) return;
    for (let i = docs.length - 1; i >= 0; i -= 1) {
      const doc = docs[i];
      if (!doc || !delivered.has(doc.dedupeKey)) continue;
      docs.splice(i, 1);
      this.handling.delete(doc._id.toHexString());
      await this.outbox.model.deleteOne({ _id: doc._id, status: { $ne: "sent" } });
      this.log.warn(
        { dedupeKey: doc.dedupeKey },
        "outbox: a copy of a message already delivered was not sent",
      );
    }
  }

  private backoff(attempts: number): number {
    return Math.min(this.opts.maxBackoffMs, this.opts.baseBackoffMs * 2 ** Math.max(0, attempts - 1));
  }

  /**
   * While paused: the probe, once it is due and none is out. It is the message that met the
   * refusal, or, if that one went meanwhile (another instance, an operator), the oldest waiting:
   * either is the oldest of its chat, so the probe keeps each chat's order.
   */
  private async claimProbe(): Promise<OutboxDoc | undefined> {
    const pause = this.pause;
    if (!pause || pause.probing) return undefined;
    const now = this.clock.now();
    if (now.getTime() < pause.probeAt) {
      this.lookIn(pause.probeAt - now.getTime());
      return undefined;
    }
    this.lastLookAt = Date.now();
    pause.probing = true;
    let claimed: OutboxDoc | undefined;
    try {
      const channel = this.sender.channel;
      const doc =
        (await this.outbox.model.findOne({ channel, status: "pending", _id: pause.probeId }).lean()) ??
        (await this.outbox.model
          .findOne({ channel, status: { $in: ["pending", "sending"] } })
          .sort({ _id: 1 })
          .lean());
      // The oldest is still in another's hands: the probe waits for it, or the order would break.
      const held = doc?.status === "sending" && (doc.lockedUntil ?? now) >= now;
      if (!doc || held || this.pause !== pause) return undefined;
      // Its chat busy, or the message itself in hand (a look's): not the probe's to take.
      const taken = () => this.busy.has(doc.chatId) || this.handling.has(doc._id.toHexString());
      if (taken()) return undefined;
      const found = [doc];
      await this.dropDelivered(found);
      // Looked again after that read, as before it: the chat taken, the pause over or another.
      if (found.length === 0 || taken() || this.pause !== pause) return undefined;
      claimed = await this.take(doc, now);
      if (claimed) pause.probeId = doc._id;
      return claimed;
    } finally {
      if (!claimed) pause.probing = false;
    }
  }

  /**
   * The platform refused the bot itself (a revoked or wrong token): no message is at fault, so
   * none spends an attempt. The channel stops sending and probes with one message now and then
   * (pauseProbeMs, doubling up to maxBackoffMs); the first send the platform takes resumes it.
   *
   * The episode is named by the oldest message waiting on the channel: nothing is sent during a
   * pause, so every instance (and this one after a restart) that pauses on the same outage
   * names it the same, and the admins' alert keyed by it is written once.
   */
  private async pauseOn(doc: OutboxDoc, reason: string): Promise<void> {
    const now = this.clock.now();
    this.pause ??= {
      since: now,
      reason,
      probeAt: now.getTime() + this.opts.pauseProbeMs,
      probes: 0,
      probeId: doc._id,
      probing: false,
      announced: false,
    };
    const pause = this.pause;
    pause.reason = reason;
    // Messages handed over unwritten wait in the collection, for the look after the pause.
    for (const [chatId, queue] of [...this.hints]) {
      if (!this.holdsUnwritten(queue)) continue;
      this.external.add(chatId);
      void this.dropHints(chatId);
    }
    this.lookIn(Math.max(0, pause.probeAt - now.getTime()));
    // Told once per pause; if the database failed at it, the next refusal tells again.
    if (pause.announced) return;
    pause.announced = true;
    try {
      const oldest = await this.outbox.model
        .findOne({ channel: this.sender.channel, status: { $in: ["pending", "sending"] } })
        .sort({ _id: 1 })
        .select({ _id: 1 })
        .lean();
      const episode = `${this.sender.channel}:${(oldest?._id ?? doc._id).toString()}`;
      this.log.error(
        { channel: this.sender.channel, reason, episode },
        "outbox: the platform refuses the bot's token; channel paused",
      );
      await this.opts.onPaused?.(this.sender.channel, { episode, reason });
    } catch (error) {
      pause.announced = false;
      throw error;
    }
  }

  /** A probe met the refusal again (or no answer): the next one waits longer, up to the cap. */
  private probeLater(): void {
    const pause = this.pause;
    if (!pause) return;
    pause.probing = false;
    pause.probes += 1;
    const wait = Math.min(this.opts.maxBackoffMs, this.opts.pauseProbeMs * 2 ** pause.probes);
    pause.probeAt = this.clock.now().getTime() + wait;
    this.lookIn(wait);
  }

  /** The platform took a send (or answered about the message, not the bot): the channel goes on. */
  private resume(): void {
    if (!this.pause) return;
    this.log.info(
      { channel: this.sender.channel, since: this.pause.since },
      "outbox: the platform takes the bot's token again; channel resumed",
    );
    this.pause = undefined;
    // What waited goes now, by the look, oldest first.
    this.looked = false;
    this.lookIn(0);
  }

  /** Delivers one message if one is due; false when there was nothing to do. */
  async dispatchOne(): Promise<boolean> {
    const doc = (await this.claimHanded()) ?? (await this.claimFound(1))[0];
    if (!doc) return false;
    await this.deliver(doc);
    return true;
  }

  /**
   * Sends a claimed message and records the outcome; frees its chat. Never throws. `sendDone` is
   * called once the platform has taken the message: the pass may start another delivery then,
   * while this one's record is written (its chat stays busy until it stands, so nothing later in
   * the chat overtakes it).
   */
  private async deliver(doc: OutboxDoc, sendDone?: () => void): Promise<void> {
    const probe = this.pause?.probing === true && this.pause.probeId.equals(doc._id);
    const id = doc._id.toHexString();
    this.handling.add(id);
    let parked = false;
    try {
      let messageIds: string[];
      try {
        ({ messageIds } = await this.sender.send({
          chatId: doc.chatId,
          text: this.outbox.textOf(doc),
          choices: doc.choices,
          ...(doc.step !== undefined && doc.step !== null ? { step: doc.step } : {}),
          files: doc.files,
        }));
      } catch (error) {
        // The slot is kept through the failure's handling: a refusal of the bot itself pauses the
        // channel there, before other sends would meet the same refusal.
        parked = await this.handleFailure(doc, error, probe);
        return;
      }
      sendDone?.();
      // Accepted by the platform: from here on the message must not be sent again.
      if (probe || this.pause) this.resume();
      // Only a recorded send counts as sent here: one whose record failed stands "sending", and
      // the look must not take it for a send of ours it read before its "sent".
      if (await this.record(doc, messageIds)) {
        this.sentHere.add(id);
        if (this.sentHere.size > MAX_HINTS) {
          const [oldest] = this.sentHere;
          if (oldest) this.sentHere.delete(oldest);
        }
      }
      this.opts.onResult?.(this.sender.channel, "sent");
    } catch (error) {
      // The database failed while recording a failure: the message is still claimed here, so the
      // look takes it again; the chat's later messages wait for that look, or they would go first.
      this.log.error({ err: error, dedupeKey: doc.dedupeKey }, "outbox: could not record a failed send");
      // Unwritten still (its write as it stands failed): back at the head of its chat, which goes
      // to the look, so it is written first (writeAsTheyStand, tried again while it fails).
      if (this.outbox.isUnwritten(doc)) {
        const queue = this.hints.get(doc.chatId);
        if (queue) queue.unshift(doc);
        else this.hints.set(doc.chatId, [doc]);
        this.hintCount += 1;
      }
      this.defer(doc.chatId, this.opts.pollMs);
      if (probe) this.probeLater();
    } finally {
      // A message told to wait keeps its chat: nothing later in it may go first.
      if (!parked) {
        this.busy.delete(doc.chatId);
        this.handling.delete(id);
      }
      if (this.external.has(doc.chatId)) this.lookSoon = true;
      this.finished += 1;
    }
  }

  /**
   * Holds a message the platform told to wait, in memory under its claim, its chat busy, and
   * hands it over again when its time comes: no write to put it back and no look to find it. The
   * claim's lease is lengthened first if the wait would outlast it.
   */
  private async park(doc: OutboxDoc, waitMs: number, now: Date): Promise<void> {
    const needed = now.getTime() + waitMs + this.opts.lockMs / 2;
    if ((doc.lockedUntil?.getTime() ?? 0) < needed) {
      const lockedUntil = new Date(now.getTime() + waitMs + this.opts.lockMs);
      // By id alone (FerretDB scans any other filter): the claim is this dispatcher's, in hand.
      await this.outbox.model.updateOne({ _id: doc._id }, { $set: { lockedUntil } });
      doc.lockedUntil = lockedUntil;
    }
    const id = doc._id.toHexString();
    const timer = setTimeout(() => {
      // Stopping: left parked, for stop() to give back.
      if (this.stopped) return;
      this.parked.delete(id);
      // Its chat stays busy, and it goes before anything else (claimHanded).
      this.returning.push(doc);
      this.nudge?.();
      this.wake();
    }, waitMs);
    this.parked.set(id, { doc, timer });
  }

  /**
   * Gives back the claims this dispatcher holds on messages not in hand (parked, or handed over
   * born claimed), so that whoever sends next takes them at once instead of after their lease:
   * at a stop, and when another instance holds the send lease. Their chats go to the look.
   */
  private async releaseOwn(): Promise<void> {
    const ids: Types.ObjectId[] = [];
    const held = [...[...this.parked.values()].map((p) => p.doc), ...this.returning.splice(0)];
    for (const { timer } of this.parked.values()) clearTimeout(timer);
    this.parked.clear();
    for (const doc of held) {
      this.busy.delete(doc.chatId);
      this.handling.delete(doc._id.toHexString());
      this.external.add(doc.chatId);
      ids.push(doc._id);
    }
    const written: Promise<void>[] = [];
    for (const [chatId, queue] of [...this.hints]) {
      if (!queue.some((doc) => this.ownClaims.has(doc._id.toHexString()))) continue;
      for (const doc of queue) if (this.ownClaims.has(doc._id.toHexString())) ids.push(doc._id);
      this.external.add(chatId);
      written.push(this.dropHints(chatId));
    }
    // Those handed over unwritten are in the collection before they are given back.
    await Promise.all([...written, ...this.writes]);
    if (ids.length === 0) return;
    try {
      await this.outbox.model.updateMany(
        { _id: { $in: ids }, lockedBy: this.workerId, status: "sending" },
        { $set: { status: "pending" }, $unset: { lockedUntil: 1, lockedBy: 1 } },
      );
    } catch (error) {
      // Their leases lapse on their own; only later than they might.
      this.log.warn({ err: error, channel: this.channel }, "outbox: could not give back claims");
    }
  }

  /**
   * Writes what a delivery did: "sent" with the platform's ids, one write, which is also the
   * reply-to link (the message's subject is on its record: MessageLinks reads it there), so an
   * official's reply to a reminder finds its task whenever "sent" stands. A failed write is tried
   * again, with a short back-off and the claim's lease extended so no other dispatcher sends the
   * message again, until the database takes it; the chat stays busy meanwhile, so nothing later
   * in it overtakes. The write is idempotent.
   */
  /** False when it could not be written (a fault of ours, not the database's). */
  private async record(doc: OutboxDoc, messageIds: string[]): Promise<boolean> {
    let wait = this.opts.recordRetryMs;
    /** Its insert met a copy a replay of its turn wrote elsewhere: every later try marks that copy. */
    let replayCopy = false;
    for (let tries = 1; ; tries += 1) {
      try {
        const now = this.clock.now();
        // The ids join those the record holds: a message that went twice (its lease lapsed while
        // its record waited, or a replay's copy went elsewhere) keeps both copies' ids, so a
        // reply to either finds its subject, whichever record is written last.
        const sent = {
          $set: { status: "sent" as const, sentAt: now },
          $addToSet: { platformMessageIds: { $each: messageIds } },
          $unset: { lockedUntil: 1, lockedBy: 1, lastError: 1 },
        };
        if (!replayCopy && this.outbox.isUnwritten(doc)) {
          // Handed over unwritten: its one write is this one, the message as sent.
          const { lockedUntil: _until, lockedBy: _by, ...rest } = doc;
          const outcome = await this.outbox.write(rest, {
            status: "sent",
            sentAt: now,
            platformMessageIds: messageIds,
          });
          if (outcome === "written") return true;
          // Written meanwhile by a replay of its turn elsewhere (the send outlived the update's
          // claim): that copy is this message, sent. No longer unwritten, so a retry after a
          // failure below comes back here rather than to the write by `_id`, which is this copy's.
          replayCopy = true;
        }
        if (replayCopy) {
          await this.markReplayCopy(doc, messageIds, sent);
          return true;
        }
        // By id alone: the message was sent, whoever holds its claim now, so the record stands
        // (a repeat of a write whose answer was lost matches too). FerretDB filters on `_id`
        // alone in SQL and on anything else in Go, several times slower (docs/ferretdb.md): with
        // a week of sent messages, `{_id, claimSeq}` took 0.5 s a message. With the records of
        // deliveries ending at the same time, as one command (GroupWrite).
        await this.outbox.sentMarks.update({ filter: { _id: doc._id }, update: sent });
        if (doc.lockedUntil && now > doc.lockedUntil) {
          this.log.warn(
            { dedupeKey: doc.dedupeKey, tries },
            "outbox: a delivery's record came after its lease; another dispatcher may send it again",
          );
        } else if (tries > 1) {
          this.log.info({ dedupeKey: doc.dedupeKey, tries }, "outbox: delivery recorded after retries");
        }
        return true;
      } catch (error) {
        if (!isDatabaseError(error)) {
          // Not the database being away but a fault of ours: writing again cannot help, and the
          // chat would stay busy for good. The claim lapses and the message may go once more.
          this.log.error(
            { err: error, dedupeKey: doc.dedupeKey },
            "outbox: sent, but the record cannot be written",
          );
          this.outbox.abandon(doc);
          return false;
        }
        this.log.error(
          { err: error, dedupeKey: doc.dedupeKey, tries, waitMs: wait },
          "outbox: sent, but the record failed; writing it again",
        );
        // A replay's copy is another's claim: this copy never stood, and has no lease to keep.
        if (!replayCopy) await this.extendLease(doc);
        await sleep(wait);
        wait = Math.min(this.opts.recordRetryMaxMs, wait * 2);
      }
    }
  }

  /**
   * The record of a message handed over unwritten whose insert met the copy a replay of its turn
   * wrote elsewhere: that copy is marked sent while it waits (one already in another's hands may
   * go twice), and this send's ids join it in any case, or join its record in the archive once it
   * moved, so a reply to this copy finds its subject.
   */
  private async markReplayCopy(
    doc: OutboxDoc,
    messageIds: string[],
    sent: { $set: object; $addToSet: object; $unset: object },
  ): Promise<void> {
    // Given up there ("dead") but delivered here: sent, and not for a requeue to send again.
    const { modifiedCount } = await this.outbox.model.updateOne(
      { dedupeKey: doc.dedupeKey, status: { $in: ["pending", "sending", "dead"] } },
      sent,
    );
    let idsTo = modifiedCount > 0 ? "outbox" : "nowhere";
    if (modifiedCount === 0) {
      const ids = { $addToSet: { platformMessageIds: { $each: messageIds } } };
      const { matchedCount } = await this.outbox.model.updateOne({ dedupeKey: doc.dedupeKey }, ids);
      if (matchedCount > 0) idsTo = "outbox";
      else if ((await this.outbox.archive.model.updateOne({ _id: doc.dedupeKey }, ids)).matchedCount > 0)
        idsTo = "archive";
    }
    this.log.warn(
      { dedupeKey: doc.dedupeKey, marked: modifiedCount, idsTo },
      "outbox: a reply sent here was also written by a replay of its turn elsewhere",
    );
  }

  /** Keeps a sent message's claim while its record is retried; a failure here changes nothing. */
  private async extendLease(doc: OutboxDoc): Promise<void> {
    // Unwritten: nothing stands to extend; the record's next try writes it whole.
    if (this.outbox.isUnwritten(doc)) return;
    try {
      const lockedUntil = new Date(this.clock.now().getTime() + this.opts.lockMs);
      const { matchedCount } = await this.outbox.model.updateOne(
        { _id: doc._id, claimSeq: doc.claimSeq, status: "sending" },
        { $set: { lockedUntil } },
      );
      if (matchedCount > 0) doc.lockedUntil = lockedUntil;
    } catch {
      // The database is still failing; the record's next try extends it.
    }
  }

  /** Records a failed send; true when the message was parked here (its chat stays busy). */
  private async handleFailure(doc: OutboxDoc, error: unknown, probe: boolean): Promise<boolean> {
    // Handed over unwritten: written as it stands (claimed here) before anything records the
    // failure, which then goes as for any message. Written meanwhile by another process's
    // replay of its turn: that one is the message, and this one is dropped.
    if (this.outbox.isUnwritten(doc) && (await this.outbox.write(doc)) === "exists") {
      // The copy waits in the collection: the chat's later messages go after it, by the look.
      this.defer(doc.chatId, 0);
      return false;
    }
    const now = this.clock.now();
    const failure = error instanceof SendError ? error : new SendError("network", String(error));
    const mine = { _id: doc._id, lockedBy: this.workerId, status: "sending" as const };
    const context = {
      dedupeKey: doc.dedupeKey,
      channel: doc.channel,
      chatId: doc.chatId,
      attempts: doc.attempts,
    };
    // Any answer about the message itself means the platform took the bot's token again.
    if (failure.kind !== "unauthorized" && failure.kind !== "network") this.resume();
    else if (probe && failure.kind === "network") this.probeLater();
    const giveUp = async (reason: string) => {
      await this.outbox.model.updateOne(mine, {
        $set: { status: "dead", lastError: reason },
        $unset: { lockedUntil: 1, lockedBy: 1 },
      });
      this.log.warn({ ...context, reason }, "outbox: message given up");
      this.opts.onResult?.(this.sender.channel, "dead");
    };
    const failingSince = doc.failingSince ?? now;
    const ageMs = now.getTime() - failingSince.getTime();
    const tooOld = ageMs >= this.opts.maxAgeMs;
    const expired = (what: string) =>
      giveUp(`expired after ${Math.round(ageMs / 3_600_000)} h: ${what}: ${failure.message}`);
    const waitAgain = async (wait: number, attempts: number, failing = true) => {
      await this.outbox.model.updateOne(mine, {
        $set: {
          status: "pending",
          nextAttemptAt: new Date(now.getTime() + wait),
          lastError: failure.message,
          attempts,
          // A pause is the channel's, not this message's: it does not start its age.
          ...(failing ? { failingSince } : {}),
        },
        $unset: { lockedUntil: 1, lockedBy: 1 },
      });
      this.defer(doc.chatId, wait);
    };
    switch (failure.kind) {
      case "rate_limited": {
        if (tooOld) {
          await expired("rate limited");
          return false;
        }
        // The platform told us when to come back; waiting is not a failed attempt.
        const wait = failure.retryAfterMs ?? this.backoff(1);
        this.log.info({ ...context, waitMs: wait }, "outbox: rate limited");
        this.opts.onResult?.(this.sender.channel, "rate_limited");
        // A running dispatcher holds a short wait in memory; a long one (or a drain's) is written.
        const leased = (doc.lockedUntil?.getTime() ?? 0) > now.getTime();
        if (!this.stopped && leased && wait <= this.opts.lockMs) {
          doc.failingSince = failingSince;
          await this.park(doc, wait, now);
          return true;
        }
        await waitAgain(wait, doc.attempts - 1);
        return false;
      }
      case "unauthorized": {
        // Not the message's fault: it waits at the head of its chat, its attempt not counted.
        await waitAgain(0, doc.attempts - 1, false);
        if (probe) this.probeLater();
        await this.pauseOn(doc, failure.message);
        this.opts.onResult?.(this.sender.channel, "paused");
        return false;
      }
      case "blocked":
        await giveUp(`blocked: ${failure.message}`);
        await this.opts.onBlocked?.(this.sender.channel, doc.chatId);
        return false;
      case "bad_request":
        await giveUp(`bad request: ${failure.message}`);
        return false;
      case "network": {
        if (tooOld) {
          await expired(`network, ${doc.attempts} attempts`);
          return false;
        }
        const wait = this.backoff(doc.attempts);
        await waitAgain(wait, doc.attempts);
        this.log.warn(
          { ...context, waitMs: wait, error: failure.message },
          "outbox: send failed, will retry",
        );
        this.opts.onResult?.(this.sender.channel, "retry");
        return false;
      }
    }
  }

  /**
   * Delivers everything due now, or until `deadline` (a wall-clock time in ms) passes; returns how
   * many messages were attempted.
   */
  drain(deadline = Number.POSITIVE_INFINITY): Promise<number> {
    return this.pass({ look: true, deadline, background: false });
  }

  /**
   * Claims and delivers messages, up to `concurrency` at once: those handed over, then (with
   * `look`) those found in the collection, until none is left. A background pass stops taking
   * new ones once the dispatcher is stopped.
   */
  private async pass(options: { look: boolean; deadline: number; background: boolean }): Promise<number> {
    let count = 0;
    const inHand = new Set<Promise<void>>();
    let looked = false;
    for (;;) {
      // Registered before this round's work, so a delivery ending during it ends the wait below at
      // once. (Racing the deliveries' own promises added a handler to each at every wait, kept by
      // one pending long: a record written again and again through an outage.)
      let settled: () => void = () => undefined;
      const oneSettled = new Promise<void>((resolve) => (settled = resolve));
      this.settleWaiters.add(settled);
      let timer: NodeJS.Timeout | undefined;
      try {
        // Deliveries writing their records count too, up to twice the sends: sent and not yet
        // recorded, a message goes again after a crash, and a slow database must not let many pile up.
        while (
          inHand.size < this.opts.concurrency &&
          this.delivering.size < 2 * this.opts.concurrency &&
          Date.now() < options.deadline
        ) {
          if (options.background && this.stopped) break;
          const finishedBefore = this.finished;
          let docs: OutboxDoc[] = [];
          try {
            // Another instance sends this channel now: take nothing (a message taken only to be
            // put back would wait a whole window); its look sends what was written here, the
            // messages born claimed here too, given back for it.
            const lease = this.opts.lease;
            if (lease && !(await lease.holds(this.clock.now()))) {
              this.lookIn(lease.waitMs(this.clock.now()));
              await this.releaseOwn();
              break;
            }
            const handed = await this.claimHanded();
            if (handed) docs = [handed];
            else if (this.lookDue(options, looked)) {
              looked = true;
              docs = await this.claimFound(this.opts.concurrency - inHand.size);
              // After a look, what was handed over may go (the first full look allows it).
              const after = docs.length === 0 ? await this.claimHanded() : undefined;
              if (after) docs = [after];
            }
          } catch (error) {
            // The database failed while looking: the messages in hand still finish (a sent one
            // keeps writing its record), and the next look tries again.
            this.log.error({ err: error, channel: this.channel }, "outbox: could not look for messages");
            options = { ...options, deadline: 0 };
            break;
          }
          // Nothing found, but a delivery finished meanwhile and freed its chat: look again.
          if (docs.length === 0 && this.finished !== finishedBefore) continue;
          if (docs.length === 0) break;
          for (const doc of docs) {
            count += 1;
            this.begin(doc, inHand);
          }
        }
        // Records still being written hold their chats: the pass waits for them, since each frees a
        // chat whose next message may be waiting (and a drain ends with every record written).
        if (inHand.size === 0 && this.delivering.size === 0) return count;
        // Go round again when a send ends (its slot is free), a delivery frees its chat, or a new
        // message is handed over; a background pass also when a look or the lease's renewal falls
        // due. Without that, one slow send (a file upload, a platform answering only at the call's
        // 20 s timeout) held every look off until it ended: the other instance's messages, a
        // retry's due time and the lease's next window all waited on one chat's send.
        const wait = this.dueInMs(options, inHand.size);
        await Promise.race([
          oneSettled,
          new Promise<void>((resolve) => (this.nudge = resolve)),
          ...(wait === undefined
            ? []
            : [new Promise<void>((resolve) => (timer = setTimeout(resolve, wait)))]),
        ]);
        this.nudge = undefined;
      } finally {
        this.settleWaiters.delete(settled);
        clearTimeout(timer);
      }
    }
  }

  /**
   * Milliseconds until a look is due (lookDue) or the lease is to be asked again, counted from the
   * last look; undefined when a background pass could do neither now: every slot taken (a send
   * ending wakes it anyway), stopped, paused (the probe has its own time), cut short by a failed
   * look, or another instance holding the lease (its window's end is a look planned, lookIn).
   */
  private dueInMs(options: { deadline: number; background: boolean }, inHand: number): number | undefined {
    const lease = this.opts.lease;
    const now = this.clock.now();
    if (!options.background || this.stopped || this.pause || Date.now() >= options.deadline) return undefined;
    if (inHand >= this.opts.concurrency || this.delivering.size >= 2 * this.opts.concurrency)
      return undefined;
    if (lease && !lease.heldAt(now)) return undefined;
    const renew = lease ? lease.renewInMs(now) : Number.POSITIVE_INFINITY;
    const every = this.lookSoon ? 0 : this.lookEvery();
    const look = this.lastLookAt + every - Date.now();
    const planned = this.lookTimerAt - Date.now();
    return Math.max(MIN_WAKE_MS, Math.min(look, renew, planned));
  }

  /** Wakes the passes waiting for a delivery to free its slot or its chat. */
  private settledOne(): void {
    for (const wake of this.settleWaiters) wake();
  }

  /**
   * Starts one delivery: it holds a slot of `inHand` (concurrency) until the platform has answered
   * its send, and stays in `delivering` until its record is written and its chat free. A record
   * written under load takes longer than a send; holding the slot through it kept the dispatcher
   * below the platform's rate with every slot waiting on the database.
   */
  private begin(doc: OutboxDoc, inHand: Set<Promise<void>>): void {
    let freeSlot: () => void = () => undefined;
    const slot: Promise<void> = new Promise<void>((resolve) => (freeSlot = resolve)).finally(() => {
      inHand.delete(slot);
      this.settledOne();
    });
    inHand.add(slot);
    const whole: Promise<void> = this.deliver(doc, freeSlot).finally(() => {
      freeSlot();
      this.delivering.delete(whole);
      this.settledOne();
    });
    this.delivering.add(whole);
  }

  /**
   * Whether this round of a pass looks in the collection. A drain looks whenever nothing handed
   * over is left. A background pass looks at its start if asked, when a message of a chat left
   * to the look was delivered (that chat's next one waits for it), and whenever a look is due:
   * a pass kept busy by messages handed over still looks on time.
   */
  private lookDue(options: { look: boolean; background: boolean }, looked: boolean): boolean {
    if (!options.background) return options.look;
    return (options.look && !looked) || this.lookSoon || Date.now() - this.lastLookAt >= this.lookEvery();
  }

  /**
   * How often to look: every pollMs while looks find messages from elsewhere, up to ten times
   * less often while they find none. Alone on its database, this process hands its own messages
   * over itself; a look finds only what another process wrote (a job run from the command line,
   * a requeue), a message for later, or one whose sender died, none of which a few seconds harm.
   * An idle bot's looks were a database command a second, and on FerretDB each reads the whole
   * outbox; at four times, still 0.4 of a citizen's step's commands (`npm run bench -- profile`).
   */
  private lookEvery(): number {
    // Other instances are writing (they asked for the send lease lately): what they write is
    // found on time, for it goes out by this look alone, and a message of this one's for the
    // same chat would overtake theirs.
    if (this.opts.lease?.othersLately(this.clock.now())) return this.opts.pollMs;
    // Doubling, so that a dispatcher woken by a message for later is back at the idle pace after
    // four empty looks rather than nine.
    return this.opts.pollMs * Math.min(IDLE_LOOK_FACTOR, 2 ** Math.min(this.emptyLooks, 8));
  }

  /**
   * When to wake next when nothing calls: for the next look, or, holding the send lease, in time
   * to ask for the next window before this one ends (an idle pass between looks asks for it and
   * looks at nothing), so the messages written at the change are still born claimed.
   */
  private nextWakeMs(): number {
    const lease = this.opts.lease;
    const renew = lease ? lease.renewInMs(this.clock.now()) : Number.POSITIVE_INFINITY;
    // A chat's next message waits for a look (lookSoon): that look is not put off.
    const look = this.lookSoon ? this.opts.pollMs : this.lookEvery();
    return Math.max(MIN_WAKE_MS, Math.min(look, renew));
  }

  /** Keeps delivering until stop(); wake() shortens the wait after something was enqueued. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.lastLookAt = 0;
    this.wake();
  }

  /** Sends what was handed over now, and looks in the collection if a look is due. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      // A message enqueued while a pass is running may have been missed by it: go round again.
      this.wokenDuringRun = true;
      return;
    }
    clearTimeout(this.timer);
    // Under steady traffic wake() comes before every poll would: the look still happens on time.
    const look = Date.now() - this.lastLookAt >= this.lookEvery();
    this.running = this.loop(look).finally(() => {
      this.running = undefined;
      if (this.stopped) return;
      if (this.wokenDuringRun) {
        this.wokenDuringRun = false;
        this.wake();
      } else {
        this.timer = setTimeout(() => this.wake(), this.nextWakeMs());
      }
    });
  }

  private async loop(look: boolean): Promise<void> {
    try {
      await this.pass({ look, deadline: Number.POSITIVE_INFINITY, background: true });
    } catch (error) {
      this.log.error({ err: error, channel: this.channel }, "outbox: dispatch loop error");
    }
  }

  /** Stops after the messages in hand; waits for them. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.staleTimer);
    this.staleTimer = undefined;
    clearTimeout(this.lookTimer);
    this.lookTimerAt = Number.POSITIVE_INFINITY;
    this.nudge?.();
    await this.running;
    await this.releaseOwn();
    await Promise.all(this.writes);
  }
}
