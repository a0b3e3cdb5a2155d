import type { FreeTextHandler, ReplyMessage } from "../../engine/engine.js";
import { defineFlow, type AnyFlow } from "../../engine/flow.js";
import type { Attachment } from "../../engine/message.js";
import type { Turn } from "../../engine/turn.js";
import { fold } from "../../text/normalize.js";
import { t } from "../../text/vi.js";
import { formatDay } from "../calendar/work-calendar.js";
import { EVERYONE } from "../people/roles.js";
import type { PeopleService } from "../people/service.js";
import { FEEDBACK_TYPES, identityRequired, type FeedbackType } from "./rules.js";
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
}

const YES = "yes";
const NO = "no";
const isSkip = (text: string) => t.feedback.skipWords.includes(fold(text));
const isDone = (text: string) => t.feedback.doneWords.includes(fold(text));
// Vietnamese phone numbers: 10 digits starting 0, or +84 and 9 digits; spaces, dots, dashes allowed.
const PHONE = /^(\+?84|0)\d{9}$/;

/**
 * `/gopy`: the citizen's feedback, step by step — type, field, content, files, the identity the
 * type requires (and why), consent for personal data, a summary to confirm.
 */
export function filingFlows(feedback: FeedbackService, people: PeopleService): AnyFlow[] {
  const rule = (data: FilingData) => feedback.rule(data.type ?? "gop_y");
  const needsIdentity = (data: FilingData) => identityRequired(rule(data), data.field ?? "");
  const afterFiles = (data: FilingData) => (needsIdentity(data) ? "name" : "identify");

  const filing = defineFlow<FilingData>({
    name: "gopy",
    version: 1,
    roles: EVERYONE,
    ttlMinutes: 60,
    first: "type",
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
        prompt: (data) => t.feedback.askContent(rule(data).label),
        accept(answer, data) {
          const content = answer.text.trim();
          if (content.length < 10) return { error: t.feedback.contentTooShort };
          return {
            data: { ...data, content, attachments: [...data.attachments, ...answer.attachments] },
            next: "files",
          };
        },
      },
      files: {
        prompt: (data) =>
          data.attachments.length > 0 ? t.feedback.filesCount(data.attachments.length) : t.feedback.askFiles,
        accept(answer, data) {
          if (answer.attachments.length > 0) {
            return {
              data: { ...data, attachments: [...data.attachments, ...answer.attachments] },
              next: "files",
            };
          }
          if (isDone(answer.text) || isSkip(answer.text)) return { data, next: afterFiles(data) };
          return { error: t.feedback.filesHint };
        },
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
            ? t.feedback.askNameRequired(rule(data).label, rule(data).identitySource ?? "")
            : t.feedback.askName,
        accept(answer, data) {
          const name = answer.text.trim();
          if (needsIdentity(data) && (isSkip(name) || t.feedback.anonymousWords.includes(fold(name)))) {
            // The flow ends here: say why, in the law's words, and what can be sent instead.
            return { data: { ...data, identified: false, confirmed: false }, next: undefined };
          }
          if (name.length < 4 || !/\p{L}/u.test(name)) return { error: t.feedback.badName };
          return {
            data: { ...data, identified: true, name },
            next: needsIdentity(data) ? "address" : "phone",
          };
        },
      },
      address: {
        prompt: () => t.feedback.askAddress,
        accept(answer, data) {
          const address = answer.text.trim();
          if (address.length < 6) return { error: t.feedback.badAddress };
          return { data: { ...data, address }, next: "phone" };
        },
      },
      phone: {
        prompt: (data) => (needsIdentity(data) ? t.feedback.askPhoneRequired : t.feedback.askPhone),
        accept(answer, data) {
          const raw = answer.text.trim();
          if (!needsIdentity(data) && isSkip(raw)) return { data, next: "consent" };
          const digits = raw.replace(/[\s.-]/g, "");
          if (!PHONE.test(digits)) return { error: t.feedback.badPhone };
          return { data: { ...data, phone: digits }, next: "consent" };
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
          if (needsIdentity(data))
            return { data: { ...data, consent: false, confirmed: false }, next: undefined };
          // Without consent the feedback is still sent, without the personal data.
          const { name: _n, address: _a, phone: _p, ...rest } = data;
          return { data: { ...rest, identified: false, consent: false }, next: "confirm" };
        },
      },
      confirm: {
        prompt: (data) =>
          t.feedback.summary({
            type: rule(data).label,
            field: feedback.fieldLabel(data.field ?? ""),
            content: data.content ?? "",
            files: data.attachments.length,
            identity: data.identified
              ? [data.name, data.address, data.phone].filter(Boolean).join(", ")
              : undefined,
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
          turn.reply(t.feedback.identityRefused(typeRule.label, typeRule.identitySource ?? ""));
        else if (needsIdentity(data) && data.consent === false) turn.reply(t.feedback.consentRefused);
        else turn.reply(t.feedback.cancelled);
        return;
      }
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
        ...(identity ? { identity, consentAt: turn.now } : {}),
        filer: { ...turn.speaker, channel: turn.inbound.channel, chatId: turn.inbound.chatId },
        now: turn.now,
      });
      if (result.kind === "limit") {
        turn.reply(t.feedback.dailyLimit(feedback.limits.maxPerDay));
        return;
      }
      const { ticket } = result;
      const subject = { kind: "ticket" as const, id: ticket.code };
      if (result.kind === "duplicate") {
        turn.reply(t.feedback.duplicate(ticket.code), { subject });
        return;
      }
      turn.reply(
        t.feedback.filed({
          code: ticket.code,
          type: typeRule.label,
          due: formatDay(ticket.dueDay),
          legal: typeRule.legal,
        }),
        { subject },
      );
      // The Office hears of every new ticket, without the filer's personal data.
      for (const officer of await people.list({ role: "office" })) {
        const to = await people.contactOf(officer._id.toString());
        if (to) {
          turn.notify(
            to,
            `new:${officer._id.toString()}`,
            t.feedback.newTicketNotice(
              ticket.code,
              typeRule.label,
              feedback.fieldLabel(ticket.field),
              formatDay(ticket.dueDay),
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

  return [filing, offer];
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
    const waiting = await feedback.awaitingInfoFrom(turn.speaker.personId);
    if (waiting.length === 1 && waiting[0]) {
      await supplyInfo(feedback, turn, waiting[0].code);
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

/** Puts the citizen's message onto a ticket that asked them for more information, and tells its handlers. */
export async function supplyInfo(
  feedback: FeedbackService,
  turn: Turn,
  code: string,
  message: ReplyMessage = turn.inbound,
): Promise<void> {
  const ticket = await feedback.byCode(code);
  // A replay after a crash finds its own answer already on the ticket, and tells the handler again.
  const replay = ticket?.history.some((h) => h.update === turn.idempotencyKey) ?? false;
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
