import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Schema, Types, type Model } from "mongoose";
import type { Claims } from "../db/claims.js";
import { GroupInsert } from "../db/group-insert.js";
import { GroupWrite, type GroupedUpdate } from "../db/group-write.js";
import { MAX_INSERTS_PER_COMMAND, MAX_UPDATES_PER_COMMAND } from "../db/limits.js";
import { isDatabaseError, isDuplicateKeyError } from "../db/errors.js";
import { resealField } from "../privacy/reseal.js";
import type { Sealer } from "../privacy/sealer.js";
import type { Inbound } from "./message.js";
import type { SessionState } from "./session.js";

/**
 * Every inbound update is written here, under its unique dedupe key, before anything acts on it,
 * but a step of a flow (or a command that only opens one) from a platform that delivers it again
 * until answered (Engine.handle, `platformRetries`), which is written once handled
 * (noteHandledSoon). A redelivered update hits the unique index and stops. An update whose
 * handling was cut off by a crash stays "received" with an expired claim, and recovery handles it
 * again.
 */
export interface InboundRecordDoc {
  _id: Types.ObjectId;
  dedupeKey: string;
  channel: string;
  chatId: string;
  senderId: string;
  /**
   * The whole update, with the chat's flow state when it arrived, as JSON sealed with the data
   * key: people type their name, address and phone into /gopy, and this copy is only needed to
   * handle the update again after a crash. It is removed once the update is handled; a failed
   * update keeps it for the operator.
   */
  sealed?: string;
  status: "received" | "handled" | "failed";
  claimedUntil: Date;
  attempts: number;
  /** Bumped by each recovery claim; names the claim key, see db/claims.ts. */
  claimSeq: number;
  error?: string;
  /** Names the write that recorded it (see Inbox.record). */
  writtenBy?: string;
  /**
   * The flow state kept with it came from the recording process's memory and was not checked
   * yet (RecordedUpdate.unchecked); removed when the turn runs again on a state it read
   * (rerecord). A check that passed is noted apart (stateChecked).
   */
  unchecked?: boolean;
  receivedAt: Date;
  handledAt?: Date;
}

export const inboundRecordSchema = new Schema<InboundRecordDoc>(
  {
    dedupeKey: { type: String, required: true, unique: true },
    channel: { type: String, required: true },
    chatId: { type: String, required: true },
    senderId: { type: String, required: true },
    sealed: { type: String },
    status: { type: String, required: true },
    claimedUntil: { type: Date, required: true },
    attempts: { type: Number, required: true },
    claimSeq: { type: Number, required: true, default: 0 },
    error: { type: String },
    writtenBy: { type: String },
    unchecked: { type: Boolean },
    receivedAt: { type: Date, required: true },
    handledAt: { type: Date },
  },
  { collection: "inbound", minimize: false },
);
inboundRecordSchema.index({ status: 1, claimedUntil: 1 });

/** An update taken back for handling after a crash. */
export interface RecordedUpdate {
  inbound: Inbound;
  /** The record's id: records written later have greater ones. */
  recordId: Types.ObjectId;
  /** The flow state its turn started from: null for none, absent when an older record did not keep it. */
  session?: SessionState | null;
  /** The chat's session sequence number that state was read at; absent in older records. */
  seq?: number;
  /** The session document that state was read from (see LoadedSession.stateId). */
  stateId?: string;
  /**
   * That state was taken from the recording process's memory (LoadedSession.unchecked): the chat
   * may have moved on before the update came, rather than after (see recoverAbandoned).
   */
  unchecked?: true;
  /** Tried MAX_ATTEMPTS times already (crashes, or the database failing each time): give it up. */
  exhausted?: boolean;
}

/** How long one handling may take before another worker may assume it crashed. */
export const CLAIM_MS = 60_000;
/** After this many cut-off attempts an update is given up, so a poison message cannot loop forever. */
export const MAX_ATTEMPTS = 3;
/**
 * How long the "handled" mark of a turn that wrote its state is held back, to be written with the
 * others of that time as one command. Such a turn's state carries the messages it decided
 * (Sessions.committed), and recovery of it sends them, which collide with those written, instead
 * of running it again: a mark lost with the process costs a resend, never a message or a second
 * effect. Held well inside the record's claim (CLAIM_MS), which keeps recovery off the update
 * meanwhile.
 */
export const MARK_HOLD_MS = 5_000;
/** Marks held at once, past which they are written without waiting for the hold to end. */
const MARKS_AT_ONCE = MAX_UPDATES_PER_COMMAND;
/**
 * How long the records of updates handled without one are held (Inbox.noteHandledSoon), and how
 * many at most. They matter only to a redelivery that comes after the sweep removed the state
 * its turn wrote (kept 10 minutes once written over): a minute's hold costs nothing there, and
 * one insert for a minute of a person's steps instead of one for every few.
 */
const LEDGER_HOLD_MS = 60_000;
const LEDGER_AT_ONCE = MAX_INSERTS_PER_COMMAND;
/** Tries of the record's insert again after a cut or refused write, before the caller hears. */
const RECORD_RETRIES = 3;

/** The record of an update first recorded when it was done with (handled or failed, at `now`). */
function closedRecord(
  inbound: Inbound,
  status: "handled" | "failed",
  now: Date,
): Omit<InboundRecordDoc, "_id"> {
  const { dedupeKey, channel, chatId, senderId, receivedAt } = inbound;
  return {
    dedupeKey,
    channel,
    chatId,
    senderId,
    status,
    claimedUntil: now,
    attempts: 1,
    claimSeq: 0,
    receivedAt,
    handledAt: now,
  };
}

export class Inbox {
  /**
   * The ids of the records this process wrote or took back and has not marked yet: marked by id,
   * because FerretDB filters on `_id` alone in SQL and on anything else in Go, several times
   * slower over a week of updates (docs/ferretdb.md).
   */
  private readonly ids = new Map<string, Types.ObjectId>();
  /** "Handled" marks of turns that end together, written together. */
  private readonly marks: GroupWrite<InboundRecordDoc>;
  /** Records of updates arriving together, written together. */
  private readonly inserts: GroupInsert<InboundRecordDoc>;
  /**
   * Marks held back (markHandledSoon), by dedupe key: when each turn ended (the clock's time, for
   * the record) and when it was held (the monotonic clock's, for how long).
   */
  private readonly held = new Map<string, { at: Date; since: number }>();
  /**
   * Records of updates handled without one (noteHandledSoon), by dedupe key, held back like the
   * marks and written with them.
   */
  private readonly ledger = new Map<string, { doc: Record<string, unknown>; since: number }>();
  private heldTimer: NodeJS.Timeout | undefined;
  private ledgerTimer: NodeJS.Timeout | undefined;
  /** The last write of held marks (settled or not): the next waits for it. */
  private writingHeld: Promise<void> = Promise.resolve();

  constructor(
    private readonly model: Model<InboundRecordDoc>,
    private readonly claims: Claims,
    private readonly sealer: Sealer,
  ) {
    this.marks = new GroupWrite(model);
    this.inserts = new GroupInsert(model);
  }

  /**
   * Deletes the records of updates handled before `handledBefore` and of those given up before
   * `failedBefore`. A handled record is a bare dedupe key (its update went with the mark) and is
   * kept only while a platform may deliver that update again; every search of the collection on
   * FerretDB (recovery's, every 30 s) reads all of it, so it holds days, not months. A failed one
   * keeps its update for the operator, for the retention period.
   */
  async sweep(handledBefore: Date, failedBefore: Date = handledBefore): Promise<number> {
    // Held marks first, so that a handled update is swept as handled (a refusal leaves it for the next sweep).
    await this.writeHeld().catch(() => undefined);
    const result = await this.model.deleteMany({
      $or: [
        { status: "handled", receivedAt: { $lt: handledBefore } },
        { status: "failed", receivedAt: { $lt: failedBefore } },
      ],
    });
    return result.deletedCount;
  }

  /** Reseals updates not yet handled under the current key (npm run keys:rotate). */
  reseal(): Promise<number> {
    return resealField(this.model, "sealed", this.sealer);
  }

  /**
   * Records the update with the flow state its turn starts from (null: no flow); false when it
   * was seen before (a redelivery). A replay after a crash starts from that same state, whether
   * or not the cut-off turn had saved its new one. `unchecked`: that state came from memory
   * (RecordedUpdate.unchecked).
   */
  async record(
    inbound: Inbound,
    now: Date,
    session: SessionState | null = null,
    seq = 0,
    stateId?: string,
    unchecked?: true,
  ): Promise<boolean> {
    // Names this write, so that a retry after a connection cut can tell its own landed insert
    // from a redelivery recorded by someone else.
    const writtenBy = randomUUID();
    // One id for every try: a try whose answer a cut lost has landed under it.
    const _id = new Types.ObjectId();
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.inserts.insert({
          _id,
          dedupeKey: inbound.dedupeKey,
          channel: inbound.channel,
          chatId: inbound.chatId,
          senderId: inbound.senderId,
          sealed: this.sealer.seal(JSON.stringify({ inbound, session, seq, stateId })),
          ...(unchecked ? { unchecked } : {}),
          status: "received",
          claimedUntil: new Date(now.getTime() + CLAIM_MS),
          attempts: 1,
          claimSeq: 0,
          receivedAt: now,
          writtenBy,
        });
        this.remember(inbound.dedupeKey, _id);
        return true;
      } catch (error) {
        if (isDuplicateKeyError(error)) {
          const there =
            attempt === 0
              ? undefined
              : await this.model.findOne({ dedupeKey: inbound.dedupeKey }, { writtenBy: 1 }).lean();
          if (there?.writtenBy !== writtenBy) return false;
          this.remember(inbound.dedupeKey, _id);
          return true;
        }
        // A cut or refused write: tried again here, since the platform's redelivery would meet
        // a landed insert as a duplicate and leave the update to recovery, a lease later.
        if (!isDatabaseError(error) || attempt >= RECORD_RETRIES) throw error;
        await sleep(100 * 2 ** attempt);
      }
    }
  }

  /**
   * Records again the state a turn starts from, when it is run again on a newer one (another
   * instance moved the chat on under it): a replay after a crash must start from that one.
   */
  async rerecord(
    inbound: Inbound,
    session: SessionState | null,
    seq: number,
    stateId?: string,
  ): Promise<void> {
    await this.model.updateOne(this.whereIs(inbound.dedupeKey), {
      $set: { sealed: this.sealer.seal(JSON.stringify({ inbound, session, seq, stateId })) },
      $unset: { unchecked: "" },
    });
  }

  /**
   * The state recorded with the update, taken from memory, was checked to be the chat's newest:
   * recovery then judges the update as any other (see Engine.recoverAbandoned). Written beside
   * the turn's effects and before its commit. A note in the claims (an insert, grouped with the
   * others of that moment) rather than an update of the record: thirty flows ending at once held
   * the default load's p99 back by about 90 ms as updates (npm run bench -- peer).
   */
  async stateChecked(dedupeKey: string, now: Date): Promise<void> {
    await this.claims.note(`checked:${dedupeKey}`, "inbox", now);
  }

  /** Whether stateChecked was written for the update (kept as long as claims are: a day). */
  async wasChecked(dedupeKey: string): Promise<boolean> {
    return this.claims.exists(`checked:${dedupeKey}`);
  }

  /** Whether the update was ever recorded (handled or not). */
  async isRecorded(dedupeKey: string): Promise<boolean> {
    if (this.ledger.has(dedupeKey)) return true;
    return (await this.model.exists({ dedupeKey })) !== null;
  }

  /** Whether the update is recorded and still waits to be handled. */
  async isPending(dedupeKey: string): Promise<boolean> {
    if (this.held.has(dedupeKey) || this.ledger.has(dedupeKey)) return false;
    return (await this.model.exists({ dedupeKey, status: "received" })) !== null;
  }

  private remember(dedupeKey: string, id: Types.ObjectId): void {
    // Records left unmarked here (recovered by another instance) must not pile up: past this, the
    // marks fall back to the dedupe key, slower but as right.
    if (this.ids.size >= 10_000) this.ids.clear();
    this.ids.set(dedupeKey, id);
  }

  /** Where to find a record: by its id if this process knows it (see `ids`). */
  private whereIs(dedupeKey: string): { _id: Types.ObjectId } | { dedupeKey: string } {
    const _id = this.ids.get(dedupeKey);
    return _id ? { _id } : { dedupeKey };
  }

  async markHandled(dedupeKey: string, now: Date): Promise<void> {
    this.held.delete(dedupeKey);
    await this.marks.update(this.handledMark(dedupeKey, now));
    this.ids.delete(dedupeKey);
  }

  /** The "handled" mark of a record, which forgets what the update said. */
  private handledMark(dedupeKey: string, at: Date): GroupedUpdate {
    return {
      filter: this.whereIs(dedupeKey),
      update: { $set: { status: "handled", handledAt: at }, $unset: { sealed: 1, inbound: 1 } },
    };
  }

  /**
   * Marks the update handled with the marks of the next few seconds (MARK_HOLD_MS), in one
   * command: only for a turn whose state stands with its messages (see MARK_HOLD_MS). Until then
   * it reads as handled here (isPending).
   */
  markHandledSoon(dedupeKey: string, now: Date): void {
    this.held.set(dedupeKey, { at: now, since: performance.now() });
    if (this.held.size >= MARKS_AT_ONCE) void this.writeHeld().catch(() => undefined);
    else this.writeHeldLater();
  }

  /**
   * Records, as handled, an update that was handled without a record written first (see
   * Engine.handle, `platformRetries`), with the marks of the next few seconds: its turn's state
   * stands with its messages, and the platform was answered only once they stood. The record is
   * the dedupe key a redelivery meets when the state it wrote has been swept; lost with the
   * process, it is not needed (the platform had its answer, or the state is still there).
   */
  noteHandledSoon(inbound: Inbound, now: Date): void {
    const doc = closedRecord(inbound, "handled", now);
    this.ledger.set(inbound.dedupeKey, { doc, since: performance.now() });
    if (this.ledger.size >= LEDGER_AT_ONCE) void this.writeHeld("ledger").catch(() => undefined);
    else this.writeLedgerLater();
  }

  /**
   * Records an update that failed in our own code, as failed, for the operator: one handled
   * without a record (see noteHandledSoon) has none to mark. A record there already is marked.
   */
  async recordFailed(inbound: Inbound, error: string, now: Date): Promise<void> {
    this.ledger.delete(inbound.dedupeKey);
    try {
      await this.inserts.insert({
        ...closedRecord(inbound, "failed", now),
        sealed: this.sealer.seal(JSON.stringify({ inbound })),
        error: error.slice(0, 2000),
      });
    } catch (insertError) {
      if (!isDuplicateKeyError(insertError)) throw insertError;
      await this.markFailed(inbound.dedupeKey, error, now);
    }
  }

  /**
   * Writes the marks and records held back now (at a stop, or for a test that reads the records);
   * `only` one kind (their own timers). A refused write keeps them held, for the next try; it
   * throws to the caller.
   */
  async writeHeld(only?: "marks" | "ledger"): Promise<void> {
    if (only !== "ledger") {
      clearTimeout(this.heldTimer);
      this.heldTimer = undefined;
    }
    if (only !== "marks") {
      clearTimeout(this.ledgerTimer);
      this.ledgerTimer = undefined;
    }
    // One writer at a time: a mark put back after a refused write is never in two writes at once.
    const run = this.writingHeld.then(async () => {
      // Each kind written whatever became of the other (each re-arms its own timer if refused).
      const [ledger, marks] = await Promise.allSettled([
        only !== "marks" ? this.writeLedger() : undefined,
        only !== "ledger" ? this.writeMarks() : undefined,
      ]);
      if (ledger.status === "rejected") throw ledger.reason;
      if (marks.status === "rejected") throw marks.reason;
    });
    this.writingHeld = run.catch(() => undefined);
    return run;
  }

  private async writeMarks(): Promise<void> {
    while (this.held.size > 0) {
      const batch = [...this.held];
      this.held.clear();
      const written = await Promise.allSettled(
        this.marks.updateAll(batch.map(([dedupeKey, { at }]) => this.handledMark(dedupeKey, at))),
      );
      // Refused ones are held again, unless their claims are near lapsing: recovery then takes the
      // updates back and sends what they decided again, so holding them longer would only cost memory.
      const keepAfter = performance.now() - CLAIM_MS / 2;
      let refused: { reason: unknown } | undefined;
      for (const [index, [dedupeKey, mark]] of batch.entries()) {
        const result = written[index];
        if (result?.status === "fulfilled") {
          this.ids.delete(dedupeKey);
          continue;
        }
        refused = { reason: result?.reason };
        if (mark.since > keepAfter && !this.held.has(dedupeKey)) this.held.set(dedupeKey, mark);
      }
      if (refused) {
        this.writeHeldLater();
        throw refused.reason;
      }
    }
  }

  /** The held records of updates handled without one (noteHandledSoon), in one insert. */
  private async writeLedger(): Promise<void> {
    if (this.ledger.size === 0) return;
    const batch = [...this.ledger];
    this.ledger.clear();
    // Handed over together: one command for the lot, not one for the first and one for the rest.
    const written = await Promise.allSettled(this.inserts.insertAll(batch.map(([, { doc }]) => doc)));
    // Past ten minutes a redelivery is no longer expected to find its state gone before the record.
    const keepAfter = performance.now() - 10 * 60_000;
    let refused: { reason: unknown } | undefined;
    for (const [index, [dedupeKey, held]] of batch.entries()) {
      const result = written[index];
      // A record there already (a redelivery recorded it, or a failure) is as good.
      if (result?.status === "fulfilled" || isDuplicateKeyError(result?.reason)) continue;
      refused = { reason: result?.reason };
      if (held.since > keepAfter && !this.ledger.has(dedupeKey)) this.ledger.set(dedupeKey, held);
    }
    if (refused) {
      this.writeLedgerLater();
      throw refused.reason;
    }
  }

  private writeHeldLater(): void {
    if (this.heldTimer || this.held.size === 0) return;
    this.heldTimer = setTimeout(() => void this.writeHeld("marks").catch(() => undefined), MARK_HOLD_MS);
    this.heldTimer.unref();
  }

  private writeLedgerLater(): void {
    if (this.ledgerTimer || this.ledger.size === 0) return;
    this.ledgerTimer = setTimeout(() => void this.writeHeld("ledger").catch(() => undefined), LEDGER_HOLD_MS);
    this.ledgerTimer.unref();
  }

  async markFailed(dedupeKey: string, error: string, now: Date): Promise<void> {
    this.held.delete(dedupeKey);
    await this.model.updateOne(this.whereIs(dedupeKey), {
      $set: { status: "failed", error: error.slice(0, 2000), handledAt: now },
    });
    this.ids.delete(dedupeKey);
  }

  /**
   * Claims one update whose handler died (claim expired, still "received"). Updates that have
   * been tried MAX_ATTEMPTS times are marked failed instead of returned.
   */
  async claimAbandoned(
    now: Date,
    owner: string,
    /** Updates not to claim (the caller's pass took them already). */
    skip: ReadonlySet<string> = new Set(),
  ): Promise<RecordedUpdate | undefined> {
    const stale = await this.model
      .find({ status: "received", claimedUntil: { $lt: now } })
      .sort({ receivedAt: 1 })
      .limit(10 + skip.size)
      .lean();
    for (const doc of stale) {
      if (skip.has(doc.dedupeKey)) continue;
      const prefix = `inbound:${doc.dedupeKey}`;
      const seq = await this.claims.takeSeq(prefix, doc.claimSeq, owner, now, CLAIM_MS);
      if (seq === undefined) continue;
      const attempts = doc.attempts + 1;
      // Only as it was read: a record another worker claimed meanwhile (under an older key that
      // lapsed) or one handled since has moved on, and is not ours to replay. Marked claimed even
      // when it is to be given up: unmarked, it stayed at the head of every instance's query (ten
      // of them hid the rest from a pass), and one whose resend met a failing database was taken
      // again at every pass instead of once a lease.
      const marked = await this.model.updateOne(
        { _id: doc._id, claimSeq: doc.claimSeq, status: "received" },
        { $set: { claimedUntil: new Date(now.getTime() + CLAIM_MS), attempts, claimSeq: seq + 1 } },
      );
      if (marked.matchedCount === 0) continue;
      this.remember(doc.dedupeKey, doc._id);
      if (attempts > MAX_ATTEMPTS) {
        // Handed back to be given up with an apology: a person is told, never left in silence.
        const given = this.recordOf(doc);
        if (given) return { ...given, exhausted: true };
        await this.markFailed(doc.dedupeKey, "abandoned after repeated crashes", now);
        continue;
      }
      const recorded = this.recordOf(doc);
      if (recorded) return recorded;
      await this.markFailed(doc.dedupeKey, "the stored update cannot be read", now);
    }
    return undefined;
  }

  /**
   * Whether an update of the same person in the same chat was recorded after this one: its turn
   * built on whatever this one had done, so replaying this one would apply it a second time.
   */
  async supersededAfter(recorded: RecordedUpdate): Promise<boolean> {
    const { channel, chatId, senderId } = recorded.inbound;
    const later = await this.model.exists({
      channel,
      chatId,
      senderId,
      // Ids grow with the order of writes (time, then a counter), finer than a clock's millisecond.
      _id: { $gt: recorded.recordId },
    });
    return later !== null;
  }

  /**
   * The update stored with a record. Records written before updates were sealed carry it in
   * plaintext (field `inbound`), and those sealed before the flow state was kept carry the update
   * alone: both are still read, so an upgrade loses nothing in flight.
   */
  private recordOf(doc: InboundRecordDoc): RecordedUpdate | undefined {
    try {
      const legacy = (doc as { inbound?: Inbound }).inbound;
      const stored: unknown = doc.sealed === undefined ? legacy : JSON.parse(this.sealer.open(doc.sealed));
      if (typeof stored !== "object" || stored === null) return undefined;
      const withState = "inbound" in stored && "session" in stored;
      const inbound = (withState ? stored.inbound : stored) as Inbound;
      const recorded: RecordedUpdate = {
        inbound: { ...inbound, receivedAt: new Date(inbound.receivedAt) },
        recordId: doc._id,
      };
      if (!withState) return recorded;
      const session = stored.session as SessionState | null;
      recorded.session = session && { ...session, expiresAt: new Date(session.expiresAt) };
      if ("seq" in stored && typeof stored.seq === "number") recorded.seq = stored.seq;
      if ("stateId" in stored && typeof stored.stateId === "string") recorded.stateId = stored.stateId;
      if (doc.unchecked === true) recorded.unchecked = true;
      return recorded;
    } catch {
      // Sealed with a key no longer configured, or damaged: retrying cannot help.
      return undefined;
    }
  }
}
