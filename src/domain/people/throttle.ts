import { Schema, type Model } from "mongoose";
import { formatDateTime } from "../../clock.js";
import { isDuplicateKeyError } from "../../db/errors.js";
import type { Recipient } from "../../engine/message.js";
import type { Turn } from "../../engine/turn.js";
import type { Sealer } from "../../privacy/sealer.js";
import { t } from "../../text/vi.js";
import { dayOf } from "../calendar/work-calendar.js";
import type { PeopleService } from "./service.js";

/**
 * Guessing is slowed down wherever a right guess opens something: a ticket's content for its
 * code and the filer's phone (/tracuu), a person and their role for a link code (/lienket), a
 * rating for a code (/danhgia). Each wrong guess is counted twice — against the account that
 * typed it and against the code it was aimed at — so neither one account walking many codes nor
 * many accounts walking one code's phone numbers gets far.
 *
 * Every count is an insert (FerretDB does not apply `$inc` atomically across connections) and
 * expires by its `expiresAt` field, which the sweep removes: TTL indexes are not portable.
 */
export type GuessKind = "tracuu" | "lienket" | "danhgia";

export interface GuessDoc {
  /**
   * `<kind>:account:<update>` or `<kind>:target:<update>` for a wrong guess, `refused:<update>` for a
   * refused one (each counted once however often its update is run); `notice:<account>:<day>` for
   * the Office's notice, so it is once.
   */
  _id: string;
  /** A guess kind, "refused" (a guess made while throttled) or "notice". */
  kind: string;
  /** `account:<id>` or `target:<keyed hash of the code>`. */
  key: string;
  at: Date;
  expiresAt: Date;
  /** Notice: the update that wrote it, so its replay after a crash still sends it. */
  owner?: string;
}

export const guessSchema = new Schema<GuessDoc>(
  {
    _id: { type: String, required: true },
    kind: { type: String, required: true },
    key: { type: String, required: true },
    at: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    owner: { type: String },
  },
  { collection: "guess_failures" },
);
guessSchema.index({ key: 1, kind: 1, at: 1 });
guessSchema.index({ expiresAt: 1 });

export interface GuessLimit {
  max: number;
  windowMs: number;
}

/**
 * Five wrong guesses in fifteen minutes and the account waits, as with invite codes; ten wrong
 * guesses at one code within an hour, from whatever accounts, and that code waits. At these rates
 * a year's 10⁶ ticket codes, or the 10⁹ phone numbers of one code, are out of reach.
 */
export const GUESS_LIMITS: { account: GuessLimit; target: GuessLimit } = {
  account: { max: 5, windowMs: 15 * 60_000 },
  target: { max: 10, windowMs: 60 * 60_000 },
};
/** An account refused this many times in a day (it keeps guessing while told to wait): the Office is told. */
export const REPORT_AFTER_REFUSALS = 3;
const DAY_MS = 86_400_000;

const accountKey = (accountId: string) => `account:${accountId}`;
const noticeId = (accountId: string, day: string) => `notice:${accountId}:${day}`;

export class Throttle {
  constructor(
    private readonly model: Model<GuessDoc>,
    private readonly sealer: Sealer,
    private readonly limits = GUESS_LIMITS,
  ) {}

  /**
   * A guessed code as its count is kept: a keyed hash, never what was typed. A wrong /lienket
   * code may be anything a person typed (their phone number, a code one letter off a live one).
   * Made with the current key: after keys:rotate, counts from before start again (an hour at most).
   */
  private targetKey(target: string): string {
    return `target:${this.sealer.lookupHash(`guess:${target.trim().toUpperCase()}`)}`;
  }

  /** When `key` may guess again, or undefined when it may now. */
  private async until(kind: GuessKind, key: string, limit: GuessLimit, now: Date): Promise<Date | undefined> {
    const recent = await this.model
      .find({ kind, key, at: { $gt: new Date(now.getTime() - limit.windowMs) } }, { at: 1 })
      .sort({ at: -1 })
      .limit(limit.max)
      .lean();
    const oldest = recent[limit.max - 1]?.at;
    return oldest ? new Date(oldest.getTime() + limit.windowMs) : undefined;
  }

  /** When the account may make a guess of this kind again; undefined when it may now. */
  accountUntil(kind: GuessKind, accountId: string, now: Date): Promise<Date | undefined> {
    return this.until(kind, accountKey(accountId), this.limits.account, now);
  }

  /** When anyone may guess at this code again; undefined when they may now. */
  targetUntil(kind: GuessKind, target: string, now: Date): Promise<Date | undefined> {
    return this.until(kind, this.targetKey(target), this.limits.target, now);
  }

  /**
   * Counts one wrong guess against the account and, when there is one, the code it aimed at.
   * `update` names the update that guessed: its replay after a crash meets the counts it made and
   * adds none (a guess counted twice would make a person wait for one they never made).
   */
  async failed(
    kind: GuessKind,
    accountId: string,
    target: string | undefined,
    now: Date,
    update: string,
  ): Promise<void> {
    const at = (limit: GuessLimit) => new Date(now.getTime() + limit.windowMs);
    await this.insertOnce([
      {
        _id: `${kind}:account:${update}`,
        kind,
        key: accountKey(accountId),
        at: now,
        expiresAt: at(this.limits.account),
      },
      ...(target
        ? [
            {
              _id: `${kind}:target:${update}`,
              kind,
              key: this.targetKey(target),
              at: now,
              expiresAt: at(this.limits.target),
            },
          ]
        : []),
    ]);
  }

  /** Inserts counts named by their update; those a replay finds already made are left as they are. */
  private async insertOnce(docs: GuessDoc[]): Promise<void> {
    try {
      await this.model.insertMany(docs, { ordered: false });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
  }

  /**
   * Records a guess refused while throttled; returns how many this account had in the last day.
   * Once the Office has been told today, nothing more is written: a flood of refused guesses
   * costs one lookup by id each. `update` names the refused update, counted once however often
   * it is run.
   */
  async refused(accountId: string, day: string, now: Date, update: string): Promise<number> {
    if ((await this.model.exists({ _id: noticeId(accountId, day) })) !== null) return 0;
    const key = accountKey(accountId);
    await this.insertOnce([
      {
        _id: `refused:${update}`,
        kind: "refused",
        key,
        at: now,
        expiresAt: new Date(now.getTime() + DAY_MS),
      },
    ]);
    return this.model.countDocuments({ kind: "refused", key, at: { $gt: new Date(now.getTime() - DAY_MS) } });
  }

  /**
   * True once per account and day (and again for the same update replayed): whether this turn is
   * the one that tells the Office. The unique `_id` is the claim.
   */
  async claimNotice(accountId: string, day: string, owner: string, now: Date): Promise<boolean> {
    const _id = noticeId(accountId, day);
    try {
      await this.model.create({
        _id,
        kind: "notice",
        key: accountKey(accountId),
        at: now,
        expiresAt: new Date(now.getTime() + 2 * DAY_MS),
        owner,
      });
      return true;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      return (await this.model.exists({ _id, owner })) !== null;
    }
  }

  /** Removes what no window counts any more. */
  async sweep(now: Date): Promise<number> {
    return (await this.model.deleteMany({ expiresAt: { $lt: now } })).deletedCount;
  }
}

/**
 * The throttle as a command uses it: asks before a guess, answers a refusal in Vietnamese with
 * the time to try again, counts a wrong guess, and tells the Office about an account that keeps
 * guessing while told to wait.
 */
export class GuessGuard {
  constructor(
    readonly throttle: Throttle,
    private readonly people: PeopleService,
  ) {}

  /**
   * True (and the speaker told when to try again) when the speaker's account may not guess now,
   * or — unless `own`, the speaker's own record, which is no guess — when the code may not be
   * guessed at now.
   */
  async refuse(turn: Turn, kind: GuessKind, target?: string, own = false): Promise<boolean> {
    const { accountId } = turn.speaker;
    // The later of the two, so the time the speaker is given is one at which they may try.
    const untils = [
      await this.throttle.accountUntil(kind, accountId, turn.now),
      target && !own ? await this.throttle.targetUntil(kind, target, turn.now) : undefined,
    ].filter((d): d is Date => d !== undefined);
    if (untils.length === 0) return false;
    const until = new Date(Math.max(...untils.map((d) => d.getTime())));
    turn.reply(t.guesses.wait(formatDateTime(until, turn.services.timeZone)));
    turn.log.warn({ kind, accountId, personId: turn.speaker.personId }, "guess refused: throttled");
    const day = dayOf(turn.now, turn.services.timeZone);
    const refusals = await this.throttle.refused(accountId, day, turn.now, turn.inbound.dedupeKey);
    if (refusals >= REPORT_AFTER_REFUSALS) await this.tellOffice(turn, kind, day);
    return true;
  }

  /**
   * Counts a wrong guess of the speaker's at `target`, once per update: by the update, not the
   * turn's idempotency key, which two guesses typed at one step of a flow would share.
   */
  failed(turn: Turn, kind: GuessKind, target?: string): Promise<void> {
    return this.throttle.failed(kind, turn.speaker.accountId, target, turn.now, turn.inbound.dedupeKey);
  }

  private async tellOffice(turn: Turn, kind: GuessKind, day: string): Promise<void> {
    const { accountId, ref } = turn.speaker;
    if (!(await this.throttle.claimNotice(accountId, day, turn.idempotencyKey, turn.now))) return;
    const office = await this.people.list({ role: "office" });
    const readers = office.length > 0 ? office : await this.people.list({ role: "admin" });
    const text = t.guesses.officeNotice(turn.inbound.channel, ref, `/${kind}`);
    for (const person of readers) {
      const to: Recipient | undefined = await this.people.contactOf(person._id.toString());
      if (to) turn.notify(to, `guesses:${person._id.toString()}`, text);
    }
    if (readers.length === 0) turn.log.error({ accountId }, "guesses: nobody in the Office to tell");
  }
}
