import type { FreeTextHandler, ReplyMessage } from "../../engine/engine.js";
import { defineFlow, type AnyFlow } from "../../engine/flow.js";
import type { Attachment } from "../../engine/message.js";
import type { Turn } from "../../engine/turn.js";
import { fold } from "../../text/normalize.js";
import { t } from "../../text/vi.js";
import { formatDay } from "../calendar/work-calendar.js";
import { EVERYONE } from "../people/roles.js";
import type { PeopleService } from "../people/service.js";
import { FEEDBACK_TYPES, identityPlanOf, type FeedbackType } from "./rules.js";
import type { TicketDoc } from "./schema.js";
import type { FeedbackService } from "./service.js";

interface FilingData {
  type?: FeedbackType;
  field?: string;
  content?: string;
  attachments: Attachment[];
  /** The filer chose to give (or must give) name and contact. */
  identified?: boolean;
  name?: string;
  address?: string;
  phone?: string;
  consent?: boolean;
  confirmed?: boolean;
  /** Characters the filer sent past the content limit, which were not kept. */
  dropped?: number;
  /** A khiếu nại lần hai: the first-round code. */
  firstCode?: string;
}

const YES = "yes";
const NO = "no";
const isSkip = (text: string) => t.feedback.skipWords.includes(fold(text));
const isDone = (text: string) => t.feedback.doneWords.includes(fold(text).replace(/[.!]+$/, ""));

/**
 * Whether an answer to "your name?" declines to give it, in plain words, with or without
 * diacritics: "Tôi không muốn cung cấp họ tên.", "nặc danh", "giau ten".
 * @example isRefusal("Tôi không muốn cung cấp họ tên.") // true
 */
export function isRefusal(text: string): boolean {
  const folded = ` ${fold(text).replace(/[^\p{L}\p{N}]+/gu, " ")} `;
  return (
    isSkip(text) ||
    t.feedback.anonymousWords.includes(fold(text)) ||
    t.feedback.refusalPhrases.some((phrase) => folded.includes(` ${phrase} `))
  );
}

/**
 * Adds one message to the content gathered so far, up to `max` characters: what was kept and how
 * many characters past the limit were not.
 */
export function gatherContent(
  sofar: string,
  message: string,
  max: number,
): { content: string; dropped: number } {
  const joined = sofar ? `${sofar}\n${message}` : message;
  const chars = Array.from(joined);
  if (chars.length <= max) return { content: joined, dropped: 0 };
  return { content: chars.slice(0, max).join(""), dropped: chars.length - max };
}

/** The last words kept, so the filer can see where their text was cut. */
const tailOf = (content: string) => Array.from(content).slice(-60).join("").trim();
// Vietnamese phone numbers: 10 digits starting 0, or +84 and 9 digits; spaces, dots, dashes allowed.
const PHONE = /^(\+?84|0)\d{9}$/;

/**
 * `/gopy`: the citizen's feedback, step by step — type, field, content, files, the identity the
 * type requires (and why), consent for personal data, a summary to confirm.
 */
export function filingFlows(feedback: FeedbackService, people: PeopleService): AnyFlow[] {
  const rule = (data: FilingData) => feedback.rule(data.type ?? "gop_y");
  const plan = (data: FilingData) => identityPlanOf(rule(data), data.field ?? "");
  const needsIdentity = (data: FilingData) => plan(data).name === "required";
  const max = feedback.rules.content.maxChars;
  /** After the files: a second round carries the first round's identity; else what the type asks. */
  const afterFiles = (data: FilingData) =>
    data.firstCode ? "confirm" : needsIdentity(data) ? "name" : "identify";
  const afterName = (data: FilingData) => (plan(data).address !== "absent" ? "address" : "phone");
  /** Consent only where it is the basis; a legal duty informs the filer in the summary instead. */
  const afterPhone = (data: FilingData) => (plan(data).basis === "consent" ? "consent" : "confirm");
  const notice = (data: FilingData): string | undefined => {
    if (!data.identified && !data.firstCode) return undefined;
    if (plan(data).basis !== "legal_duty") return undefined;
    const { personalData } = feedback.rules;
    return t.feedback.dataNotice({
      law: personalData.law,
      article: personalData.legalDutyArticle,
      retention: personalData.retention,
      confidential: rule(data).confidential,
      legal: rule(data).legal,
    });
  };

  /** Content and files, gathered over as many messages as the filer needs until "xong". */
  const more = (answer: { text: string; attachments: Attachment[] }, data: FilingData) => {
    const attachments = [...data.attachments, ...answer.attachments];
    if (answer.attachments.length > 0 && !answer.text.trim())
      return { data: { ...data, attachments }, next: "files" };
    if (isDone(answer.text) || isSkip(answer.text))
      return { data: { ...data, attachments }, next: afterFiles(data) };
    if (Array.from(data.content ?? "").length >= max) return { error: t.feedback.contentAtLimit(max) };
    const { content, dropped } = gatherContent(data.content ?? "", answer.text.trim(), max);
    return { data: { ...data, content, attachments, dropped: (data.dropped ?? 0) + dropped }, next: "files" };
  };

  const filing = defineFlow<FilingData>({
    name: "gopy",
    // 2: content gathered over several messages, identity per the law, consent only where it is the basis.
    version: 2,
    roles: EVERYONE,
    ttlMinutes: 60,
    first: "type",
    // Its end reads (the Office, the first round, the person's tickets of the day) and writes
    // only in FeedbackService.file, after waiting for the engine's check of the chat's state.
    readsFirst: true,
    initial: (_turn, content) => ({ attachments: [], ...(content ? { content } : {}) }),
    steps: {
      type: {
        prompt: () =>
          [
            t.feedback.askType,
            ...FEEDBACK_TYPES.map((type) => t.feedback.typeLine(feedback.rule(type))),
          ].join("\n"),
        choices: () => FEEDBACK_TYPES.map((type) => ({ label: feedback.rule(type).label, value: type })),
        accept: (answer, data) => ({
          data: { ...data, type: answer.choice?.value as FeedbackType },
          next: "field",
        }),
      },
      field: {
        prompt: () => t.feedback.askField,
        choices: () => feedback.rules.fields.map((f) => ({ label: f.label, value: f.key })),
        accept: (answer, data) => ({
          data: { ...data, field: answer.choice?.value },
          next: data.content ? "files" : "content",
        }),
      },
      content: {
        prompt: (data) => t.feedback.askContent(rule(data).label, max),
        accept(answer, data) {
          const text = answer.text.trim();
          if (text.length < 10) return { error: t.feedback.contentTooShort };
          const { content, dropped } = gatherContent("", text, max);
          return {
            data: { ...data, content, dropped, attachments: [...data.attachments, ...answer.attachments] },
            next: "files",
          };
        },
      },
      files: {
        prompt(data) {
          const chars = Array.from(data.content ?? "").length;
          const lines = [];
          if (data.dropped) lines.push(t.feedback.contentFull(max, tailOf(data.content ?? ""), data.dropped));
          else lines.push(t.feedback.contentSoFar(chars, max));
          if (data.attachments.length > 0) lines.push(t.feedback.filesCount(data.attachments.length));
          return lines.join("\n");
        },
        accept: (answer, data) => more(answer, data),
      },
      identify: {
        prompt: () => t.feedback.askIdentify,
        choices: () => [
          { label: t.feedback.giveContact, value: YES },
          { label: t.feedback.anonymous, value: NO },
        ],
        accept: (answer, data) =>
          answer.choice?.value === YES
            ? { data: { ...data, identified: true }, next: "name" }
            : { data: { ...data, identified: false }, next: "confirm" },
      },
      name: {
        prompt: (data) =>
          needsIdentity(data)
            ? t.feedback.askNameRequired(rule(data).label, plan(data).source ?? "")
            : t.feedback.askName,
        accept(answer, data) {
          const name = answer.text.trim();
          // A refusal is understood as one, never kept as the filer's name.
          if (isRefusal(name)) {
            if (needsIdentity(data)) {
              // The flow ends here: say why, in the law's words, and what can be sent instead.
              return { data: { ...data, identified: false, confirmed: false }, next: undefined };
            }
            return { data: { ...data, identified: false }, next: "confirm" };
          }
          if (name.length < 4 || !/\p{L}/u.test(name)) return { error: t.feedback.badName };
          return { data: { ...data, identified: true, name }, next: afterName(data) };
        },
      },
      address: {
        prompt: () => t.feedback.askAddress,
        accept(answer, data) {
          const address = answer.text.trim();
          if (isRefusal(address)) {
            if (plan(data).address === "required") {
              const { name: _n, ...rest } = data;
              return { data: { ...rest, identified: false, confirmed: false }, next: undefined };
            }
            return { data, next: "phone" };
          }
          if (address.length < 6) return { error: t.feedback.badAddress };
          return { data: { ...data, address }, next: "phone" };
        },
      },
      phone: {
        prompt: (data) =>
          plan(data).phone === "required"
            ? t.feedback.askPhoneRequired
            : needsIdentity(data)
              ? t.feedback.askPhoneOptional
              : t.feedback.askPhone,
        accept(answer, data) {
          const raw = answer.text.trim();
          if (plan(data).phone !== "required" && isRefusal(raw)) return { data, next: afterPhone(data) };
          const digits = raw.replace(/[\s.-]/g, "");
          if (!PHONE.test(digits)) return { error: t.feedback.badPhone };
          return { data: { ...data, phone: digits }, next: afterPhone(data) };
        },
      },
      consent: {
        prompt: () => t.feedback.askConsent,
        choices: () => [
          { label: t.feedback.consentYes, value: YES },
          { label: t.feedback.consentNo, value: NO },
        ],
        accept(answer, data) {
          if (answer.choice?.value === YES) return { data: { ...data, consent: true }, next: "confirm" };
          // Without consent the feedback is still sent, without the personal data: consent is asked
          // only where it is the basis, so no filing is refused for the lack of it.
          const { name: _n, address: _a, phone: _p, ...rest } = data;
          return { data: { ...rest, identified: false, consent: false }, next: "confirm" };
        },
      },
      confirm: {
        prompt: (data) =>
          t.feedback.summary({
            type: data.firstCode ? t.feedback.secondRound.summaryType(data.firstCode) : rule(data).label,
            field: feedback.fieldLabel(data.field ?? ""),
            content: data.content ?? "",
            files: data.attachments.length,
            identity: data.firstCode
              ? t.feedback.secondRound.sameFiler(data.firstCode)
              : data.identified
                ? [data.name, data.address, data.phone].filter(Boolean).join(", ")
                : undefined,
            ...(notice(data) ? { notice: notice(data) } : {}),
          }),
        choices: () => [
          { label: t.feedback.send, value: YES },
          { label: t.feedback.cancel, value: NO },
        ],
        accept: (answer, data) => ({ data: { ...data, confirmed: answer.choice?.value === YES } }),
      },
    },
    async finish(data, turn) {
      if (!data.type || !data.field || !data.content) return;
      const typeRule = rule(data);
      if (!data.confirmed) {
        if (needsIdentity(data) && data.identified === false)
          turn.reply(t.feedback.identityRefused(typeRule.label, plan(data).source ?? ""));
        else turn.reply(t.feedback.cancelled);
        return;
      }
      // Who in the Office hears of a new ticket, and where: read while the ticket is filed, not
      // after it, and each officer's contact at the same time as the others'. A confirmation
      // waited for these reads one after the other before its reply could be written.
      const office = people.list({ role: "office" }).then((officers) =>
        Promise.all(
          officers.map(async (officer) => ({
            officer,
            to: await people.contactOf(officer._id.toString()),
          })),
        ),
      );
      // Heard below, or dropped with the turn when the filing throws first.
      office.catch(() => undefined);
      const first = data.firstCode ? await feedback.byCode(data.firstCode) : undefined;
      const identity = data.identified
        ? {
            ...(data.name ? { name: data.name } : {}),
            ...(data.address ? { address: data.address } : {}),
            ...(data.phone ? { phone: data.phone } : {}),
          }
        : undefined;
      const result = await feedback.file({
        idempotencyKey: turn.idempotencyKey,
        type: data.type,
        field: data.field,
        content: data.content,
        attachments: data.attachments,
        ...(identity && plan(data).basis === "consent" ? { identity, consentAt: turn.now } : {}),
        ...(identity && plan(data).basis === "legal_duty" ? { identity, informedAt: turn.now } : {}),
        ...(first ? { secondRoundOf: first, informedAt: turn.now } : {}),
        filer: { ...turn.speaker, channel: turn.inbound.channel, chatId: turn.inbound.chatId },
        now: turn.now,
        beforeChange: () => turn.stateChecked(),
      });
      if (result.kind === "limit") {
        turn.reply(t.feedback.dailyLimit(feedback.limits.maxPerDay));
        return;
      }
      if (result.kind === "second_round_taken") {
        turn.reply(t.feedback.secondRound.refused("already"));
        return;
      }
      const { ticket } = result;
      const subject = { kind: "ticket" as const, id: ticket.code };
      if (result.kind === "duplicate") {
        turn.reply(t.feedback.duplicate(ticket.code), { subject });
        return;
      }
      turn.reply(t.feedback.filed(filedText(feedback, ticket)), { subject });
      // The Office hears of every new ticket, without the filer's personal data.
      for (const { officer, to } of await office) {
        if (to) {
          turn.notify(
            to,
            `new:${officer._id.toString()}`,
            t.feedback.newTicketNotice(
              ticket.code,
              ticket.firstCode ? t.feedback.secondRound.summaryType(ticket.firstCode) : typeRule.label,
              feedback.fieldLabel(ticket.field),
              formatDay(ticket.dueDay),
              feedback.awaitingAcceptance(ticket),
            ),
            { subject },
          );
        }
      }
    },
  });

  /** Free text from a citizen outside any flow: offer to send it as feedback. */
  const offer = defineFlow<{ text: string; accepted?: boolean }>({
    name: "goiy",
    version: 1,
    roles: EVERYONE,
    ttlMinutes: 30,
    first: "ask",
    initial: (_turn, text) => ({ text }),
    steps: {
      ask: {
        prompt: () => t.feedback.offer,
        choices: () => [
          { label: t.feedback.offerYes, value: YES },
          { label: t.feedback.offerNo, value: NO },
        ],
        accept: (answer, data) => ({ data: { ...data, accepted: answer.choice?.value === YES } }),
      },
    },
    finish(data, turn) {
      if (data.accepted) turn.startFlow("gopy", data.text);
      else turn.reply(t.feedback.offerDeclined);
    },
  });

  /** `/khieunai2 CODE`: a khiếu nại lần hai, linked to the first, with the first round's filer. */
  const secondRound = defineFlow<FilingData>({
    ...(filing as unknown as Parameters<typeof defineFlow<FilingData>>[0]),
    name: "khieunai2",
    version: 1,
    first: "content",
    initial: (_turn, code) => ({
      attachments: [],
      firstCode: code,
      type: "khieu_nai" as const,
      field: "khac",
    }),
  });

  return [filing, offer, secondRound];
}

/** What the filer is told on filing: acceptance first where the type has it, then the answer date. */
function filedText(feedback: FeedbackService, ticket: TicketDoc) {
  const rule = feedback.rule(ticket.type);
  const acceptBy = feedback.acceptBy(ticket);
  return {
    code: ticket.code,
    type: ticket.firstCode ? t.feedback.secondRound.summaryType(ticket.firstCode) : rule.label,
    due: formatDay(feedback.resolveBy(ticket)),
    legal: rule.legal,
    ...(acceptBy ? { acceptBy: formatDay(acceptBy) } : {}),
  };
}

/**
 * A citizen's free text: onto the ticket waiting for their information if there is exactly one,
 * else an offer to send it as feedback.
 */
export function citizenFreeText(
  feedback: FeedbackService,
  /** Tried before the offer (the frequent questions); true when it has said all there is to say. */
  answerFirst?: (turn: Turn) => Promise<boolean>,
): FreeTextHandler {
  return async (turn: Turn) => {
    const waiting = await feedback.awaitingInfoFrom(turn.speaker.personId, turn.idempotencyKey);
    // This message's own answer, when this is its replay: the ticket it went onto comes first.
    const answered = waiting.find((x) => answeredByTurn(x, turn));
    const only = answered ?? (waiting.length === 1 ? waiting[0] : undefined);
    if (only) {
      await supplyInfo(feedback, turn, only.code);
      return;
    }
    if (answerFirst && (await answerFirst(turn))) return;
    if (turn.inbound.text.length < 10) {
      turn.reply(t.engine.freeTextCitizen);
      return;
    }
    turn.startFlow("goiy", turn.inbound.text);
  };
}

/**
 * Whether the turn's own answer is on the ticket already: its run again after a crash finds the
 * ticket moved on by it, and tells the handler again instead of refusing.
 */
export function answeredByTurn(ticket: Pick<TicketDoc, "history">, turn: Turn): boolean {
  return ticket.history.some((h) => h.update === turn.idempotencyKey);
}

/** Puts the citizen's message onto a ticket that asked them for more information, and tells its handlers. */
export async function supplyInfo(
  feedback: FeedbackService,
  turn: Turn,
  code: string,
  message: ReplyMessage = turn.inbound,
): Promise<void> {
  const ticket = await feedback.byCode(code);
  const replay = ticket !== undefined && answeredByTurn(ticket, turn);
  if (
    !ticket ||
    (ticket.status !== "need_info" && !replay) ||
    ticket.filer.personId.toString() !== turn.speaker.personId
  ) {
    turn.reply(t.feedback.replyNotExpected);
    return;
  }
  await feedback.addCitizenInfo(
    ticket,
    message.text,
    message.attachments,
    turn.speaker,
    turn.now,
    turn.idempotencyKey,
  );
  turn.reply(t.feedback.infoReceived(ticket.code), { subject: { kind: "ticket", id: ticket.code } });
  const asker = [...ticket.history].reverse().find((h) => h.action === "asked_info");
  if (asker) {
    const to = await turn.services.people.contactOf(asker.byPersonId.toString());
    if (to)
      turn.notify(to, `info:${ticket.code}`, t.feedback.infoForHandler(ticket.code, message.text), {
        subject: { kind: "ticket", id: ticket.code },
      });
  }
}
