import { randomInt, randomUUID } from "node:crypto";
import { setTimeout } from "node:timers/promises";
import { Types, type Model } from "mongoose";
import type { Claims } from "../../db/claims.js";
import { isDuplicateKeyError } from "../../db/errors.js";
import { Batcher } from "../../db/batcher.js";
import { GroupInsert } from "../../db/group-insert.js";
import type { Sealer } from "../../privacy/sealer.js";
import type { Attachment } from "../../engine/message.js";
import { fold } from "../../text/normalize.js";
import { dayOf, type Day, type WorkCalendar } from "../calendar/work-calendar.js";
import type { Speaker } from "../people/service.js";
import { openWords, resealWords, sealEntry, sealWords } from "./at-rest.js";
import type { AuditLog, SystemActor } from "./audit.js";
import { storedTicket } from "./stored-ticket.js";
import {
  acceptByDay,
  limitEnd,
  limitsOf,
  resolveByDay,
  type FeedbackRules,
  type FeedbackType,
  type Limits,
  type TypeRule,
} from "./rules.js";
import {
  OPEN_STATUSES,
  type HistoryEntry,
  type Identity,
  type TicketAction,
  type TicketDoc,
  type TicketStatus,
} from "./schema.js";

export interface FeedbackLimits {
  /** Tickets one person may file per day. */
  maxPerDay: number;
  /** The same text from the same person within this many minutes is the same ticket. */
  duplicateMinutes: number;
}

export interface NewTicket {
  idempotencyKey: string;
  type: FeedbackType;
  field: string;
  content: string;
  attachments: Attachment[];
  identity?: Identity;
  consentAt?: Date;
  filer: Speaker & { channel: string; chatId: string };
  /** When the filer was told how their data is kept (a khiếu nại, a tố cáo). */
  informedAt?: Date;
  /** A khiếu nại lần hai: the first-round ticket, whose filer identity it carries on. */
  secondRoundOf?: TicketDoc;
  now: Date;
  /**
   * Awaited after the read and before anything is written: a flow's end running beside the
   * engine's check of the chat's state passes `turn.stateChecked` (Flow.readsFirst).
   */
  beforeChange?: () => Promise<void>;
}

/** Whether the filer of a khiếu nại may take it to a second round now (Luật Khiếu nại 2011, art. 33). */
export type SecondRoundCheck =
  | { ok: true; until: Day; reason: "decided" | "late" }
  | { ok: false; reason: "not_khieu_nai" | "already" | "rejected" | "too_early" | "too_late"; until?: Day };

export type FileResult =
  | { kind: "filed"; ticket: TicketDoc }
  | { kind: "duplicate"; ticket: TicketDoc }
  | { kind: "limit" }
  /** Another filing already took this first-round ticket (`ticket`) to its second round. */
  | { kind: "second_round_taken"; ticket: TicketDoc };

/** What the deadline job reads of a ticket: which deadline is pending (acceptance or answer) and whose it is. */
const DUE_FIELDS = {
  code: 1,
  type: 1,
  round: 1,
  status: 1,
  dueDay: 1,
  unitKey: 1,
  receivedDay: 1,
  acceptBy: 1,
  acceptExtensions: 1,
  acceptedDay: 1,
} as const;
export type DueTicket = Pick<TicketDoc, "_id" | keyof typeof DUE_FIELDS>;

export interface TicketFilter {
  types?: FeedbackType[];
  statuses?: TicketStatus[];
  unitKey?: string;
  overdueOn?: Day;
}

/** Digits only, without a leading 84 or 0, so "0912 345 678" and "+84912345678" match. */
export function phoneKey(phone: string): string {
  return phone.replace(/\D/g, "").replace(/^(84|0)/, "");
}

/** What a person may do with a ticket; the one place these rules live. */
export const access = {
  /** The Office handles every ticket; a unit only those assigned to it. */
  canHandle(speaker: Speaker, ticket: Pick<TicketDoc, "unitKey">): boolean {
    if (speaker.role === "office" || speaker.role === "admin") return true;
    return (
      (speaker.role === "staff" || speaker.role === "unit_head") &&
      Boolean(ticket.unitKey) &&
      ticket.unitKey === speaker.unitId
    );
  },
  /**
   * Personal data: the filer, the Office, and for types that are not confidential the unit that
   * handles it. A tố cáo filer's identity never reaches the unit (Luật Tố cáo 2018, arts. 47–48).
   */
  canSeeIdentity(speaker: Speaker, ticket: TicketDoc, rule: TypeRule): boolean {
    if (ticket.filer.personId.toString() === speaker.personId) return true;
    if (speaker.role === "office" || speaker.role === "admin") return true;
    return !rule.confidential && access.canHandle(speaker, ticket);
  },
  isOffice(speaker: Speaker): boolean {
    return speaker.role === "office" || speaker.role === "admin";
  },
};

export class TicketError extends Error {
  override name = "TicketError";
  constructor(readonly reason: "not_found" | "forbidden" | "bad_state" | "no_extension") {
    super(reason);
  }
}

/** A change claimed by a turn that died before making it frees the ticket after this long. */
const CHANGE_LEASE_MS = 2 * 60_000;
/** A link waits behind a change of the same ticket made at the same moment: tries, and the first pause. */
const LINK_TRIES = 10;
const LINK_PAUSE_MS = 50;

/** What a filing reads before it writes (see FeedbackService.file). */
type RecentTicket = Pick<TicketDoc, "_id" | "idempotencyKey" | "filer" | "receivedAt" | "contentKey">;

/** A filing's question to the shared read (readRecent), and the tickets that answer it. */
interface RecentAsk {
  idempotencyKey: string;
  personId: Types.ObjectId;
  /** Its person's tickets since then: the earlier of today's start and the duplicate window. */
  since: Date;
  found: RecentTicket[];
}

/** Filings whose reads share one find, at most: a hundred branches of `$or`. */
const ASKS_PER_READ = 50;

/** Citizen feedback tickets: filing, finding, and the Office's and units' handling. */
export class FeedbackService {
  /** Tickets filed at about the same moment are written in one command (see file). */
  private readonly inserts: GroupInsert<TicketDoc>;
  /** And their reads before filing are one read. */
  private readonly recentReads: Batcher<RecentAsk>;

  constructor(
    private readonly model: Model<TicketDoc>,
    readonly rules: FeedbackRules,
    /** The working days its deadlines count in; the feature asks it whether a deadline is provisional. */
    readonly calendar: WorkCalendar,
    private readonly timeZone: string,
    readonly limits: FeedbackLimits,
    private readonly sealer: Sealer,
    readonly audit: AuditLog,
    private readonly claims: Claims,
  ) {
    // Made by hand, as the model would (storedTicket), and inserted as they stand.
    this.inserts = new GroupInsert(model, { asStored: true });
    this.recentReads = new Batcher(ASKS_PER_READ, (asks) => this.readRecent(asks));
  }

  /**
   * The reads before filing (see file) of the filings asking at about the same moment, as one
   * find: each ask's two branches in one `$or`, and each ask given the tickets that answer its
   * own. Thirty citizens confirming together then cost the server one command and, on FerretDB,
   * one pass over the tickets (it reads every document for such a filter, docs/ferretdb.md), not
   * thirty. Alone, the read is the one a filing made before.
   */
  private async readRecent(asks: RecentAsk[]): Promise<undefined[]> {
    const tickets = await this.model
      .find({
        $or: asks.flatMap((ask) => [
          { idempotencyKey: ask.idempotencyKey },
          { "filer.personId": ask.personId, receivedAt: { $gte: ask.since } },
        ]),
      })
      .select({ idempotencyKey: 1, "filer.personId": 1, receivedAt: 1, contentKey: 1 })
      .lean<RecentTicket[]>();
    for (const ask of asks) {
      ask.found = tickets.filter(
        (ticket) =>
          ticket.idempotencyKey === ask.idempotencyKey ||
          (ticket.filer.personId.equals(ask.personId) && ticket.receivedAt >= ask.since),
      );
    }
    return asks.map(() => undefined);
  }

  rule(type: FeedbackType): TypeRule {
    return this.rules.types[type];
  }

  fieldLabel(key: string): string {
    return this.rules.fields.find((f) => f.key === key)?.label ?? key;
  }

  /**
   * A history line. The filer's own actions carry no name: their chat display name is personal
   * data the handlers of an anonymous or confidential ticket must not see.
   */
  private entry(
    by: Speaker,
    action: TicketAction,
    now: Date,
    note?: string,
    byFiler = false,
    update?: string,
  ): HistoryEntry {
    return {
      at: now,
      action,
      byPersonId: new Types.ObjectId(by.personId),
      ...(byFiler ? {} : { byName: by.name }),
      ...(note ? { note } : {}),
      ...(update ? { update } : {}),
    };
  }

  /** The ticket as `update` left it, when that update already changed it (a replay after a crash). */
  private replayed(ticket: TicketDoc, update: string | undefined): TicketDoc | undefined {
    return update !== undefined && ticket.history.some((h) => h.update === update) ? ticket : undefined;
  }

  /**
   * Files a ticket, unless the person reached today's limit or sent the same text minutes ago
   * (then the earlier ticket is returned). Filing the same update twice files once.
   */
  async file(input: NewTicket): Promise<FileResult> {
    const personId = new Types.ObjectId(input.filer.personId);
    const today = dayOf(input.now, this.timeZone);
    const startOfDay = new Date(`${today}T00:00:00${this.offset(input.now)}`);
    const since = new Date(input.now.getTime() - this.limits.duplicateMinutes * 60_000);
    // One read for the three questions asked before filing (this update filed already? the same
    // text minutes ago? today's count?): the person's tickets since the earlier of today's start
    // and the duplicate window, and the one this update filed, whenever. A day holds at most
    // FEEDBACK_MAX_PER_DAY (5; 100 at most) and the fields read are the few the questions need:
    // the ticket to return, in the rare case there is one, is read whole by its id. Shared with
    // the filings asking at the same moment (readRecent).
    const ask: RecentAsk = {
      idempotencyKey: input.idempotencyKey,
      personId,
      since: new Date(Math.min(startOfDay.getTime(), since.getTime())),
      found: [],
    };
    await this.recentReads.add(ask);
    const recent = ask.found;
    // Nothing below writes before this: the filing may be for a chat that has moved on.
    await input.beforeChange?.();
    const whole = async (id: Types.ObjectId) => {
      const ticket = await this.model.findById(id).lean();
      if (!ticket) throw new Error(`ticket ${id.toHexString()} vanished while being filed again`);
      return ticket;
    };
    const replayed = recent.find((ticket) => ticket.idempotencyKey === input.idempotencyKey);
    if (replayed) {
      const replay = await whole(replayed._id);
      // A turn that died between filing a second round and linking it links it on its replay.
      if (input.secondRoundOf)
        await this.linkSecondRound(
          input.secondRoundOf,
          replay.code,
          input.filer,
          input.now,
          input.idempotencyKey,
        );
      return { kind: "filed", ticket: this.opened(replay) };
    }
    const contentKey = this.contentKey(input.content);
    const sameText = new Set(this.sealer.lookupHashes(`content:${fold(input.content)}`));
    const same = recent.find(
      (ticket) =>
        ticket.filer.personId.equals(personId) &&
        ticket.receivedAt >= since &&
        ticket.contentKey !== undefined &&
        sameText.has(ticket.contentKey),
    );
    if (same) return { kind: "duplicate", ticket: this.opened(await whole(same._id)) };
    const filedToday = recent.filter(
      (ticket) => ticket.filer.personId.equals(personId) && ticket.receivedAt >= startOfDay,
    ).length;
    if (filedToday >= this.limits.maxPerDay) return { kind: "limit" };

    const rule = this.rule(input.type);
    const first = input.secondRoundOf;
    const limits = limitsOf(rule, first ? 2 : undefined);
    const acceptBy = limits.acceptance ? acceptByDay(limits, today, 0, this.calendar) : undefined;
    if (first && !(await this.claimSecondRound(first, input.idempotencyKey, input.now)))
      return { kind: "second_round_taken", ticket: first };
    const identity =
      input.identity && Object.values(input.identity).some(Boolean) ? input.identity : undefined;
    for (let attempt = 0; ; attempt += 1) {
      const code = `PA-${today.slice(0, 4)}-${String(randomInt(1_000_000)).padStart(6, "0")}`;
      try {
        // Written with the tickets filed at the same moment (GroupInsert): thirty citizens
        // confirming together write one insertMany, not thirty inserts.
        const ticket = storedTicket({
          code,
          type: input.type,
          field: input.field,
          ...sealWords(this.sealer, { content: input.content, attachments: input.attachments }),
          status: "new",
          receivedAt: input.now,
          receivedDay: today,
          // While acceptance is pending, the next thing owed is the acceptance decision.
          dueDay: acceptBy ?? resolveByDay(limits, today, 0, this.calendar),
          extensions: 0,
          ...(acceptBy ? { acceptBy, acceptExtensions: 0 } : {}),
          ...(first ? { round: 2, firstCode: first.code } : {}),
          filer: { personId, channel: input.filer.channel, chatId: input.filer.chatId },
          ...(identity
            ? {
                identitySealed: this.sealer.seal(JSON.stringify(identity)),
                ...(input.consentAt ? { consentAt: input.consentAt } : {}),
              }
            : {}),
          ...(identity?.phone ? { phoneHash: this.sealer.lookupHash(phoneKey(identity.phone)) } : {}),
          // The second round carries on the first round's filer, already sealed.
          ...(first?.identitySealed && !identity ? { identitySealed: first.identitySealed } : {}),
          ...(first?.phoneHash && !identity ? { phoneHash: first.phoneHash } : {}),
          ...(input.informedAt ? { informedAt: input.informedAt } : {}),
          history: [this.entry(input.filer, "filed", input.now, undefined, true)],
          idempotencyKey: input.idempotencyKey,
          contentKey,
        });
        await this.inserts.insert(ticket);
        if (identity) {
          await this.audit.record(input.filer, "write", code, Object.keys(identity), input.now);
        }
        if (first) await this.linkSecondRound(first, code, input.filer, input.now, input.idempotencyKey);
        return { kind: "filed", ticket: this.opened(ticket) };
      } catch (error) {
        if (!isDuplicateKeyError(error) || attempt >= 5) throw error;
        const raced = await this.model.findOne({ idempotencyKey: input.idempotencyKey }).lean();
        if (raced) return { kind: "filed", ticket: this.opened(raced) };
      }
    }
  }

  private offsetFormat: Intl.DateTimeFormat | undefined;

  /** "+07:00" for Asia/Ho_Chi_Minh: the zone's offset at that moment. */
  private offset(at: Date): string {
    // Made once: making a formatter costs far more than using it, and every filing asks.
    this.offsetFormat ??= new Intl.DateTimeFormat("en-US", {
      timeZone: this.timeZone,
      timeZoneName: "longOffset",
    });
    const parts = this.offsetFormat.formatToParts(at);
    const name = parts.find((p) => p.type === "timeZoneName")?.value ?? "GMT";
    return name === "GMT" ? "Z" : name.slice(3);
  }

  async byCode(code: string): Promise<TicketDoc | undefined> {
    const ticket = await this.model.findOne({ code: code.trim().toUpperCase() }).lean();
    return ticket ? this.opened(ticket) : undefined;
  }

  /** A stored ticket with its words opened (at-rest.ts): every ticket this service returns. */
  private opened(stored: TicketDoc): TicketDoc {
    return openWords(this.sealer, stored);
  }

  /** A keyed hash of the text, so the same text sent again is recognised without a readable copy. */
  private contentKey(content: string): string {
    return this.sealer.lookupHash(`content:${fold(content)}`);
  }

  /** The ticket, if `speaker` filed it or gives the phone number written on it; never to a stranger. */
  async lookup(code: string, speaker: Speaker, phone?: string): Promise<TicketDoc | undefined> {
    const ticket = await this.byCode(code);
    if (!ticket) return undefined;
    if (ticket.filer.personId.toString() === speaker.personId) return ticket;
    // Not for a tố cáo: a phone number would let whoever suspects the filer confirm who it is.
    if (
      phone &&
      ticket.phoneHash &&
      !this.rule(ticket.type).confidential &&
      this.sealer.lookupHashes(phoneKey(phone)).includes(ticket.phoneHash)
    ) {
      return ticket;
    }
    return undefined;
  }

  async list(filter: TicketFilter): Promise<TicketDoc[]> {
    const query: Record<string, unknown> = {};
    if (filter.types?.length) query.type = { $in: filter.types };
    query.status = { $in: filter.statuses?.length ? filter.statuses : OPEN_STATUSES };
    if (filter.unitKey) query.unitKey = filter.unitKey;
    if (filter.overdueOn) query.dueDay = { $lt: filter.overdueOn };
    const tickets = await this.model.find(query).sort({ dueDay: 1, receivedAt: 1 }).limit(50).lean();
    return tickets.map((x) => this.opened(x));
  }

  /**
   * Every open ticket due before `day` (so also every overdue one), earliest deadline first, read
   * a page at a time: the deadline job must see all of them, however large the backlog, unlike
   * `list`, which shows a person the first page. Only the fields a deadline notice needs.
   */
  async *openDueBefore(day: Day, pageSize = 200): AsyncGenerator<DueTicket> {
    let after: { dueDay: Day; _id: Types.ObjectId } | undefined;
    for (;;) {
      const page = await this.model
        .find({
          status: { $in: OPEN_STATUSES },
          dueDay: { $lt: day },
          ...(after
            ? { $or: [{ dueDay: { $gt: after.dueDay } }, { dueDay: after.dueDay, _id: { $gt: after._id } }] }
            : {}),
        })
        .sort({ dueDay: 1, _id: 1 })
        .limit(pageSize)
        .select(DUE_FIELDS)
        .lean<DueTicket[]>();
      yield* page;
      const last = page.at(-1);
      if (!last || page.length < pageSize) return;
      after = { dueDay: last.dueDay, _id: last._id };
    }
  }

  /**
   * The filer's tickets waiting for their information; with `update`, also the one that update
   * already answered (its replay after a crash finds the ticket moved on by its own answer).
   */
  async awaitingInfoFrom(personId: string, update?: string): Promise<TicketDoc[]> {
    const tickets = await this.model
      .find({
        "filer.personId": new Types.ObjectId(personId),
        $or: [{ status: "need_info" }, ...(update ? [{ "history.update": update }] : [])],
      })
      .lean();
    return tickets.map((x) => this.opened(x));
  }

  private async change(
    ticket: TicketDoc,
    from: readonly TicketStatus[],
    set: Partial<TicketDoc>,
    entry: HistoryEntry,
  ): Promise<TicketDoc> {
    const done = this.replayed(ticket, entry.update);
    if (done) return done;
    if (!from.includes(ticket.status)) throw new TicketError("bad_state");
    // One change per version of the ticket (its history's length), taken by a unique key: FerretDB
    // lets two conditional updates of one document both "win", and one of them would be lost.
    const key = `ticket:${ticket._id.toString()}:${ticket.history.length}`;
    if (!(await this.claims.takeVersion(key, entry.update ?? randomUUID(), entry.at, CHANGE_LEASE_MS))) {
      const now = await this.byCode(ticket.code);
      const raced = now && this.replayed(now, entry.update);
      if (raced) return raced;
      throw new TicketError("bad_state");
    }
    const updated = await this.model
      .findOneAndUpdate(
        { _id: ticket._id, status: ticket.status },
        { $set: sealWords(this.sealer, set), $push: { history: sealEntry(this.sealer, entry) } },
        { returnDocument: "after" },
      )
      .lean();
    if (!updated) throw new TicketError("bad_state");
    return this.opened(updated);
  }

  private handled(ticket: TicketDoc | undefined, by: Speaker, officeOnly = false): TicketDoc {
    if (!ticket) throw new TicketError("not_found");
    if (officeOnly ? !access.isOffice(by) : !access.canHandle(by, ticket)) throw new TicketError("forbidden");
    return ticket;
  }

  async assign(
    code: string,
    unit: { key: string; name: string },
    by: Speaker,
    now: Date,
    update?: string,
  ): Promise<TicketDoc> {
    const ticket = this.handled(await this.byCode(code), by, true);
    return this.change(
      ticket,
      OPEN_STATUSES,
      { status: "assigned", unitKey: unit.key },
      this.entry(by, "assigned", now, unit.name, false, update),
    );
  }

  async askInfo(code: string, question: string, by: Speaker, now: Date, update?: string): Promise<TicketDoc> {
    const ticket = this.handled(await this.byCode(code), by);
    return this.change(
      ticket,
      ["new", "assigned"],
      { status: "need_info" },
      this.entry(by, "asked_info", now, question, false, update),
    );
  }

  /** The citizen's answer to a request for information goes onto the ticket, which goes back to its handler. */
  async addCitizenInfo(
    ticket: TicketDoc,
    text: string,
    attachments: Attachment[],
    by: Speaker,
    now: Date,
    update?: string,
  ): Promise<TicketDoc> {
    if (ticket.filer.personId.toString() !== by.personId) throw new TicketError("forbidden");
    return this.change(
      ticket,
      ["need_info"],
      { status: ticket.unitKey ? "assigned" : "new", attachments: [...ticket.attachments, ...attachments] },
      this.entry(by, "citizen_info", now, text, true, update),
    );
  }

  async answer(code: string, text: string, by: Speaker, now: Date, update?: string): Promise<TicketDoc> {
    const ticket = this.handled(await this.byCode(code), by);
    // A khiếu nại or tố cáo is resolved only once accepted (thụ lý); a replay finds its answer made.
    if (this.awaitingAcceptance(ticket) && !this.replayed(ticket, update)) throw new TicketError("bad_state");
    return this.change(
      ticket,
      OPEN_STATUSES,
      { status: "answered", answer: { text, at: now, byName: by.name } },
      this.entry(by, "answered", now, text, false, update),
    );
  }

  /** One more extension where the law allows one (rules.yaml), with the reason on record. */
  async extend(code: string, reason: string, by: Speaker, now: Date, update?: string): Promise<TicketDoc> {
    const ticket = this.handled(await this.byCode(code), by, true);
    const done = this.replayed(ticket, update);
    if (done) return done;
    const limits = this.limitsOf(ticket);
    if (!limits.extension || ticket.extensions >= limits.extension.max) throw new TicketError("no_extension");
    // Resolution limits run from acceptance: no extension before it.
    if (this.awaitingAcceptance(ticket)) throw new TicketError("bad_state");
    const extensions = ticket.extensions + 1;
    return this.change(
      ticket,
      OPEN_STATUSES,
      { extensions, dueDay: this.resolveBy({ ...ticket, extensions }) },
      this.entry(by, "extended", now, reason, false, update),
    );
  }

  async reject(code: string, reason: string, by: Speaker, now: Date, update?: string): Promise<TicketDoc> {
    const ticket = this.handled(await this.byCode(code), by, true);
    return this.change(
      ticket,
      OPEN_STATUSES,
      { status: "rejected" },
      this.entry(by, "rejected", now, reason, false, update),
    );
  }

  async close(code: string, by: Speaker, now: Date, update?: string): Promise<TicketDoc> {
    const ticket = this.handled(await this.byCode(code), by, true);
    return this.change(
      ticket,
      ["answered", "rejected"],
      { status: "closed" },
      this.entry(by, "closed", now, undefined, false, update),
    );
  }
  /** The limits of the round this ticket is in (a khiếu nại lần hai has its own). */
  limitsOf(ticket: Pick<TicketDoc, "type" | "round">): Limits {
    return limitsOf(this.rule(ticket.type), ticket.round);
  }

  /**
   * The last day to decide acceptance, for a type that has that step. Tickets filed before the
   * step was modelled carry none: it is counted from their receipt the same way.
   */
  acceptBy(
    ticket: Pick<TicketDoc, "type" | "round" | "receivedDay" | "acceptBy" | "acceptExtensions">,
  ): Day | undefined {
    const limits = this.limitsOf(ticket);
    if (!limits.acceptance) return undefined;
    return ticket.acceptBy && !ticket.acceptExtensions
      ? ticket.acceptBy
      : acceptByDay(limits, ticket.receivedDay, ticket.acceptExtensions ?? 0, this.calendar);
  }

  /** Open, of a type with an acceptance step, and not yet accepted. */
  awaitingAcceptance(ticket: Pick<TicketDoc, "type" | "round" | "status" | "acceptedDay">): boolean {
    return (
      Boolean(this.limitsOf(ticket).acceptance) &&
      !ticket.acceptedDay &&
      OPEN_STATUSES.includes(ticket.status)
    );
  }

  /**
   * The day the ticket must be resolved by: from its acceptance day where the type has that step
   * (before acceptance, from the last day acceptance may be decided: the latest the filer can
   * expect an answer), else from receipt.
   */
  resolveBy(
    ticket: Pick<
      TicketDoc,
      "type" | "round" | "receivedDay" | "acceptBy" | "acceptExtensions" | "acceptedDay" | "extensions"
    >,
  ): Day {
    const limits = this.limitsOf(ticket);
    if (!limits.acceptance) return resolveByDay(limits, ticket.receivedDay, ticket.extensions, this.calendar);
    const start = ticket.acceptedDay ?? this.acceptBy(ticket) ?? ticket.receivedDay;
    return resolveByDay(limits, start, ticket.extensions, this.calendar);
  }

  /**
   * Accepts (thụ lý) a khiếu nại or tố cáo: the resolution limit now runs from today, the real
   * acceptance day (Luật Khiếu nại 2011, arts. 27–28; Luật Tố cáo 2018, arts. 29–30).
   */
  async accept(code: string, by: Speaker, now: Date, update?: string): Promise<TicketDoc> {
    const ticket = this.handled(await this.byCode(code), by, true);
    const done = this.replayed(ticket, update);
    if (done) return done;
    if (!this.awaitingAcceptance(ticket)) throw new TicketError("bad_state");
    const acceptedDay = dayOf(now, this.timeZone);
    return this.change(
      ticket,
      OPEN_STATUSES,
      { acceptedDay, dueDay: this.resolveBy({ ...ticket, acceptedDay }) },
      this.entry(by, "accepted", now, undefined, false, update),
    );
  }

  /** One more extension of the acceptance step where the law gives one (Luật Tố cáo 2018, art. 24). */
  async extendAcceptance(
    code: string,
    reason: string,
    by: Speaker,
    now: Date,
    update?: string,
  ): Promise<TicketDoc> {
    const ticket = this.handled(await this.byCode(code), by, true);
    const done = this.replayed(ticket, update);
    if (done) return done;
    const step = this.limitsOf(ticket).acceptance?.extension;
    const granted = ticket.acceptExtensions ?? 0;
    if (!step || granted >= step.max) throw new TicketError("no_extension");
    if (!this.awaitingAcceptance(ticket)) throw new TicketError("bad_state");
    const acceptExtensions = granted + 1;
    const acceptBy = this.acceptBy({ ...ticket, acceptExtensions }) ?? ticket.dueDay;
    return this.change(
      ticket,
      OPEN_STATUSES,
      { acceptExtensions, acceptBy, dueDay: acceptBy },
      this.entry(by, "accept_extended", now, reason, false, update),
    );
  }

  /**
   * Whether the filer may take this khiếu nại to a second round on `today`: they disagree with the
   * first-round decision, or got none in time, and the window of art. 33 is still open.
   */
  secondRound(ticket: TicketDoc, today: Day): SecondRoundCheck {
    const rule = this.rule(ticket.type);
    if (!rule.secondRound || ticket.round === 2) return { ok: false, reason: "not_khieu_nai" };
    if (ticket.secondCode) return { ok: false, reason: "already" };
    if (ticket.status === "rejected") return { ok: false, reason: "rejected" };
    const { window } = rule.secondRound;
    const decided = ticket.answer ? dayOf(ticket.answer.at, this.timeZone) : undefined;
    const late = decided ? undefined : this.resolveBy(ticket);
    const from = decided ?? late ?? ticket.receivedDay;
    const until = limitEnd(from, window.days, window.unit, this.calendar);
    if (!decided && late !== undefined && today <= late)
      return { ok: false, reason: "too_early", until: late };
    if (today > until) return { ok: false, reason: "too_late", until };
    return { ok: true, until, reason: decided ? "decided" : "late" };
  }

  /**
   * One second round per first-round ticket. The filer may send it from two chats at once, and
   * FerretDB lets two conditional updates both "win", so the right to file it is a unique claim,
   * held by the filing's update (its replay holds it too); a claim whose filing never came, because
   * the turn died, lapses with the change lease.
   */
  private async claimSecondRound(first: TicketDoc, owner: string, now: Date): Promise<boolean> {
    if ((await this.byCode(first.code))?.secondCode) return false;
    // Filed but never linked (its turn died in between): taken all the same.
    if (await this.model.exists({ firstCode: first.code, idempotencyKey: { $ne: owner } })) return false;
    return this.claims.takeVersion(
      `ticket:${first._id.toString()}:second-round`,
      owner,
      now,
      CHANGE_LEASE_MS,
    );
  }

  /**
   * The first-round ticket records that the filer went on to `secondCode`: a change of that ticket
   * like any other, under its version claim, so neither it nor an Office change made at the same
   * moment is lost. It is owed whatever else happens to the ticket, so it waits its turn.
   */
  private async linkSecondRound(
    first: TicketDoc,
    secondCode: string,
    by: Speaker,
    now: Date,
    update: string,
  ): Promise<void> {
    const entry = this.entry(by, "second_round", now, secondCode, true, `${update}:link`);
    for (let attempt = 1; ; attempt += 1) {
      const current = await this.byCode(first.code);
      if (!current || current.secondCode) return;
      try {
        await this.change(current, [current.status], { secondCode }, entry);
        return;
      } catch (error) {
        if (!(error instanceof TicketError) || attempt >= LINK_TRIES) throw error;
        await setTimeout(LINK_PAUSE_MS * attempt);
      }
    }
  }

  /** The filer rates the answer once. */
  async rate(
    code: string,
    score: number,
    comment: string,
    by: Speaker,
    now: Date,
    update?: string,
  ): Promise<TicketDoc> {
    const ticket = await this.byCode(code);
    if (!ticket || ticket.filer.personId.toString() !== by.personId) throw new TicketError("not_found");
    const done = this.replayed(ticket, update);
    if (done) return done;
    if (ticket.rating) throw new TicketError("bad_state");
    return this.change(
      ticket,
      ["answered", "closed"],
      { status: "closed", rating: { score, comment, at: now } },
      this.entry(by, "rated", now, `${score}/5${comment ? ` — ${comment}` : ""}`, true, update),
    );
  }

  /**
   * The filer's name, address and phone, opened for `by` — who must be allowed to see them
   * (access.canSeeIdentity) — and written to the audit log.
   */
  async revealIdentity(ticket: TicketDoc, by: Speaker, now: Date): Promise<Identity | undefined> {
    if (!ticket.identitySealed) return undefined;
    if (!access.canSeeIdentity(by, ticket, this.rule(ticket.type))) throw new TicketError("forbidden");
    const identity = JSON.parse(this.sealer.open(ticket.identitySealed)) as Identity;
    await this.audit.record(by, "read", ticket.code, Object.keys(identity), now);
    return identity;
  }

  /**
   * Reseals every ticket's personal data with the current key (after a new key was put first in
   * DATA_ENCRYPTION_KEYS): the filer's identity, with one audit entry per ticket whose identity
   * was resealed, and the ticket's words (at-rest.ts), sealing those an earlier version kept in
   * the clear; the lookup hashes are remade under the new key. Returns how many tickets changed.
   * @example await feedback.resealAll("system:keys-rotate", new Date());
   */
  async resealAll(by: SystemActor, now: Date): Promise<number> {
    let count = 0;
    const cursor = this.model.find().lean().cursor();
    for await (const ticket of cursor as AsyncIterable<TicketDoc>) {
      const identity =
        ticket.identitySealed && this.sealer.keyIdOf(ticket.identitySealed) !== this.sealer.currentKeyId
          ? (JSON.parse(this.sealer.open(ticket.identitySealed)) as Identity)
          : undefined;
      const words = resealWords(this.sealer, ticket);
      const contentKey = this.sealer.isCurrentHash(ticket.contentKey)
        ? undefined
        : this.contentKey(this.sealer.read(ticket.content));
      if (!identity && !words && !contentKey) continue;
      // Matching the history's length too: an entry pushed meanwhile is never overwritten.
      const { matchedCount } = await this.model.updateOne(
        { _id: ticket._id, history: { $size: ticket.history.length } },
        {
          $set: {
            ...words,
            ...(contentKey ? { contentKey } : {}),
            ...(identity ? { identitySealed: this.sealer.seal(JSON.stringify(identity)) } : {}),
            ...(identity?.phone ? { phoneHash: this.sealer.lookupHash(phoneKey(identity.phone)) } : {}),
          },
        },
      );
      if (matchedCount === 0) continue;
      if (identity) await this.audit.record(by, "reseal", ticket.code, Object.keys(identity), now);
      count += 1;
    }
    return count;
  }
}
