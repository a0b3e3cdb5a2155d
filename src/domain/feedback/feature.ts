import { formatDateTime } from "../../clock.js";
import type { Feature } from "../../engine/engine.js";
import { defineFlow } from "../../engine/flow.js";
import type { Turn } from "../../engine/turn.js";
import { fold } from "../../text/normalize.js";
import { t } from "../../text/vi.js";
import { provisionalNote } from "../calendar/provisional.js";
import { dayOf, formatDay } from "../calendar/work-calendar.js";
import { EVERYONE, type Role } from "../people/roles.js";
import type { PeopleService } from "../people/service.js";
import type { GuessGuard } from "../people/throttle.js";
import { statsArgs, type StatsHandler } from "../reports/stats-command.js";
import type { UnitsService } from "../units/service.js";
import { answeredByTurn, citizenFreeText, filingFlows, supplyInfo } from "./filing.js";
import { FEEDBACK_TYPES, type FeedbackType } from "./rules.js";
import { OPEN_STATUSES, TICKET_STATUSES, type TicketDoc, type TicketStatus } from "./schema.js";
import { access, TicketError, type FeedbackService, type TicketFilter } from "./service.js";

const HANDLERS: readonly Role[] = ["staff", "unit_head", "office", "admin"];
const CODE = /\bPA-\d{4}-\d{6}\b/i;

type Action =
  "accept" | "extend_accept" | "assign" | "ask" | "answer" | "extend" | "complex" | "reject" | "close";

interface HandleData {
  code: string;
  action?: Action;
  unitKey?: string;
  text?: string;
}

interface RateData {
  code: string;
  score?: number;
  comment?: string;
}

/** Citizens follow and rate their tickets; the Office and the units handle them. */
export function feedbackFeature(
  feedback: FeedbackService,
  people: PeopleService,
  units: UnitsService,
  /** `/phananh thongke [kỳ]`: the statistics, computed by the reports area. */
  ticketStats: StatsHandler | undefined,
  /** Slows down guessing codes (and a code's phone number) with /tracuu and /danhgia. */
  guesses: GuessGuard,
): Feature {
  const today = (turn: Turn) => dayOf(turn.now, turn.services.timeZone);

  function dueText(ticket: TicketDoc, turn: Turn, day = ticket.dueDay): string {
    const rule = feedback.rule(ticket.type);
    const text = t.feedback.due(
      formatDay(day),
      rule.legal,
      day < today(turn) && OPEN_STATUSES.includes(ticket.status),
    );
    // Those who handle it read whether the calendar can count this deadline for sure yet.
    if (turn.speaker.role === "citizen") return text;
    return text + provisionalNote(feedback.calendar, ticket.receivedDay, day);
  }

  /**
   * The dates a person sees: handlers the acceptance and resolution deadlines, the filer when to
   * expect the acceptance notice and the answer. Types without acceptance keep their one due line.
   */
  function stages(ticket: TicketDoc, turn: Turn): string[] | undefined {
    const acceptBy = feedback.acceptBy(ticket);
    const lines: string[] = [];
    if (ticket.firstCode) lines.push(t.feedback.stage.round2(ticket.firstCode));
    if (ticket.secondCode) lines.push(t.feedback.stage.wentOn(ticket.secondCode));
    if (!acceptBy) return lines.length ? [...lines, `Hạn trả lời: ${dueText(ticket, turn)}`] : undefined;
    const resolveBy = feedback.resolveBy(ticket);
    const waiting = feedback.awaitingAcceptance(ticket);
    const filer =
      ticket.filer.personId.toString() === turn.speaker.personId && !access.canHandle(turn.speaker, ticket);
    if (filer) {
      if (waiting) lines.push(t.feedback.stage.acceptNotice(formatDay(acceptBy)));
      else if (ticket.acceptedDay) lines.push(t.feedback.stage.accepted(formatDay(ticket.acceptedDay)));
      lines.push(t.feedback.stage.expectAnswer(dueText(ticket, turn, resolveBy)));
      return lines;
    }
    if (ticket.acceptedDay) {
      lines.push(t.feedback.stage.accepted(formatDay(ticket.acceptedDay)));
    } else {
      lines.push(t.feedback.stage.acceptBy(waiting ? dueText(ticket, turn, acceptBy) : formatDay(acceptBy)));
    }
    lines.push(
      ticket.acceptedDay || !waiting
        ? t.feedback.stage.resolveBy(dueText(ticket, turn, resolveBy))
        : t.feedback.stage.resolveByIfAccepted(formatDay(resolveBy)),
    );
    return lines;
  }

  async function unitName(key: string | undefined): Promise<string | undefined> {
    return key ? ((await units.get(key))?.name ?? key) : undefined;
  }

  /** The ticket as `turn.speaker` may see it: personal data only for those allowed, and audited. */
  async function describe(ticket: TicketDoc, turn: Turn, withHistory: boolean): Promise<string> {
    const rule = feedback.rule(ticket.type);
    // Opened only for those allowed to see it; every opening is audited.
    const identity =
      ticket.identitySealed && access.canSeeIdentity(turn.speaker, ticket, rule)
        ? await feedback.revealIdentity(ticket, turn.speaker, turn.now)
        : undefined;
    const lines = [
      t.feedback.card({
        code: ticket.code,
        type: rule.label,
        field: feedback.fieldLabel(ticket.field),
        status: t.feedback.shownStatus(ticket),
        unit: await unitName(ticket.unitKey),
        received: formatDateTime(ticket.receivedAt, turn.services.timeZone),
        due: dueText(ticket, turn),
        content: ticket.content,
        files: ticket.attachments.length,
        ...(stages(ticket, turn) ? { stages: stages(ticket, turn) } : {}),
      }),
    ];
    if (ticket.identitySealed) {
      lines.push(identity ? t.feedback.identityLine(identity) : t.feedback.identityHidden);
    } else {
      lines.push(t.feedback.anonymousLine);
    }
    if (ticket.answer) lines.push(t.feedback.answerLine(ticket.answer.text));
    if (ticket.rating) lines.push(t.feedback.ratingLine(ticket.rating.score, ticket.rating.comment));
    if (withHistory) {
      lines.push(t.feedback.historyHeader);
      for (const h of ticket.history) {
        lines.push(
          t.feedback.historyLine(
            formatDateTime(h.at, turn.services.timeZone),
            h.byName ?? t.feedback.filerLabel,
            t.feedback.action(h.action),
            h.note,
          ),
        );
      }
    }
    return lines.join("\n");
  }

  function explain(error: unknown, turn: Turn): boolean {
    if (!(error instanceof TicketError)) return false;
    turn.reply(t.feedback.errors[error.reason]);
    return true;
  }

  /** Tells the filer what happened, in the chat they filed from. */
  function tellFiler(turn: Turn, ticket: TicketDoc, key: string, text: string): void {
    turn.notify(
      {
        channel: ticket.filer.channel as Turn["inbound"]["channel"],
        chatId: ticket.filer.chatId,
        personId: ticket.filer.personId.toString(),
      },
      `${ticket.code}:${key}`,
      text,
      { subject: { kind: "ticket", id: ticket.code } },
    );
  }

  function actionsFor(turn: Turn, ticket: TicketDoc): Action[] {
    const office = access.isOffice(turn.speaker);
    const open = OPEN_STATUSES.includes(ticket.status);
    const limits = feedback.limitsOf(ticket);
    // Khiếu nại, tố cáo: accepted (thụ lý) or refused with a reason first; resolved only once accepted.
    const waiting = feedback.awaitingAcceptance(ticket);
    const acceptExtension = limits.acceptance?.extension;
    const actions: Action[] = [];
    if (office && waiting) actions.push("accept");
    if (office && waiting && acceptExtension && (ticket.acceptExtensions ?? 0) < acceptExtension.max)
      actions.push("extend_accept");
    if (office && open) actions.push("assign");
    if (["new", "assigned"].includes(ticket.status)) actions.push("ask");
    if (open && !waiting) actions.push("answer");
    if (office && open && !waiting && limits.extension && ticket.extensions < limits.extension.max)
      actions.push(limits.extension.kind === "complex" ? "complex" : "extend");
    // Once accepted, the ticket is resolved; "không thụ lý" is a decision of the acceptance step.
    if (office && open && (waiting || !limits.acceptance)) actions.push("reject");
    if (office && ["answered", "rejected"].includes(ticket.status)) actions.push("close");
    return actions;
  }

  const handle = defineFlow<HandleData>({
    name: "xuly",
    version: 1,
    roles: HANDLERS,
    ttlMinutes: 60,
    first: "action",
    initial: (_turn, code) => ({ code }),
    steps: {
      action: {
        prompt: (data) => t.feedback.askAction(data.code),
        async choices(data, turn) {
          const ticket = await feedback.byCode(data.code);
          return ticket
            ? actionsFor(turn, ticket).map((a) => ({ label: t.feedback.actionLabel(a), value: a }))
            : [];
        },
        accept(answer, data) {
          const action = answer.choice?.value as Action;
          const next =
            action === "assign" ? "unit" : action === "close" || action === "accept" ? undefined : "text";
          return next ? { data: { ...data, action }, next } : { data: { ...data, action } };
        },
      },
      unit: {
        prompt: () => t.feedback.askUnit,
        choices: async () => (await units.list()).map((u) => ({ label: u.name, value: u.key })),
        accept: (answer, data) => ({ data: { ...data, unitKey: answer.choice?.value } }),
      },
      text: {
        prompt: (data) => t.feedback.askText(data.action ?? "answer"),
        accept(answer, data) {
          const text = answer.text.trim();
          if (text.length < 5) return { error: t.feedback.textTooShort };
          return { data: { ...data, text } };
        },
      },
    },
    async finish(data, turn) {
      const { code, action, text = "" } = data;
      try {
        switch (action) {
          case "assign": {
            if (!data.unitKey) return;
            const unit = (await unitName(data.unitKey)) ?? data.unitKey;
            // The unit that had it must hear it is no longer theirs, or it goes on working on it.
            const previous = (await feedback.byCode(code))?.unitKey;
            const ticket = await feedback.assign(
              code,
              { key: data.unitKey, name: unit },
              turn.speaker,
              turn.now,
              turn.idempotencyKey,
            );
            turn.reply(t.feedback.done.assigned(code, unit));
            tellFiler(turn, ticket, "assigned", t.feedback.toFiler.assigned(code, unit));
            for (const official of await people.ofUnit(data.unitKey, ["staff", "unit_head"])) {
              const to = await people.contactOf(official._id.toString());
              if (to) {
                turn.notify(
                  to,
                  `assigned:${official._id.toString()}`,
                  t.feedback.toUnit(
                    code,
                    feedback.rule(ticket.type).label,
                    formatDay(ticket.dueDay),
                    feedback.awaitingAcceptance(ticket),
                  ),
                  {
                    subject: { kind: "ticket", id: code },
                  },
                );
              }
            }
            if (previous && previous !== data.unitKey) {
              for (const official of await people.ofUnit(previous, ["staff", "unit_head"])) {
                const to = await people.contactOf(official._id.toString());
                if (to) {
                  turn.notify(
                    to,
                    `unassigned:${official._id.toString()}`,
                    t.feedback.takenFromUnit(code, feedback.rule(ticket.type).label, unit),
                  );
                }
              }
            }
            return;
          }
          case "ask": {
            const ticket = await feedback.askInfo(code, text, turn.speaker, turn.now, turn.idempotencyKey);
            turn.reply(t.feedback.done.asked(code));
            tellFiler(turn, ticket, "ask", t.feedback.toFiler.ask(code, text));
            return;
          }
          case "accept": {
            const ticket = await feedback.accept(code, turn.speaker, turn.now, turn.idempotencyKey);
            const due = formatDay(ticket.dueDay);
            turn.reply(t.feedback.done.accepted(code, due));
            tellFiler(
              turn,
              ticket,
              "accept",
              t.feedback.toFiler.accepted(code, feedback.rule(ticket.type).label, due),
            );
            return;
          }
          case "extend_accept": {
            const ticket = await feedback.extendAcceptance(
              code,
              text,
              turn.speaker,
              turn.now,
              turn.idempotencyKey,
            );
            const due = formatDay(ticket.acceptBy ?? ticket.dueDay);
            turn.reply(t.feedback.done.acceptExtended(code, due));
            tellFiler(
              turn,
              ticket,
              `accept-extend${ticket.acceptExtensions ?? 0}`,
              t.feedback.toFiler.acceptExtended(code, due),
            );
            return;
          }
          case "answer": {
            const ticket = await feedback.answer(code, text, turn.speaker, turn.now, turn.idempotencyKey);
            turn.reply(t.feedback.done.answered(code));
            // A khiếu nại's answer is the first-round decision: the filer is told how to go on.
            const next = feedback.secondRound(ticket, today(turn));
            tellFiler(
              turn,
              ticket,
              "answer",
              next.ok
                ? `${t.feedback.toFiler.answer(code, text)}\n${t.feedback.toFiler.secondRoundHint(code, formatDay(next.until))}`
                : t.feedback.toFiler.answer(code, text),
            );
            // The Office ends a ticket once it is answered (Đóng): it hears a unit's answer.
            if (!access.isOffice(turn.speaker)) {
              const unit = (ticket.unitKey && (await unitName(ticket.unitKey))) || turn.speaker.name;
              for (const officer of await people.list({ role: "office" })) {
                const to = await people.contactOf(officer._id.toString());
                if (to) {
                  const notice = t.feedback.answeredForOffice(code, unit, text);
                  turn.notify(to, `answered:${officer._id.toString()}`, notice, {
                    subject: { kind: "ticket", id: code },
                  });
                }
              }
            }
            return;
          }
          case "complex":
          case "extend": {
            const ticket = await feedback.extend(code, text, turn.speaker, turn.now, turn.idempotencyKey);
            turn.reply(t.feedback.done.extended(code, formatDay(ticket.dueDay)));
            tellFiler(
              turn,
              ticket,
              `extend${ticket.extensions}`,
              t.feedback.toFiler.extend(code, formatDay(ticket.dueDay), text),
            );
            return;
          }
          case "reject": {
            const ticket = await feedback.reject(code, text, turn.speaker, turn.now, turn.idempotencyKey);
            turn.reply(t.feedback.done.rejected(code));
            tellFiler(turn, ticket, "reject", t.feedback.toFiler.reject(code, text));
            return;
          }
          case "close": {
            const ticket = await feedback.close(code, turn.speaker, turn.now, turn.idempotencyKey);
            turn.reply(t.feedback.done.closed(code));
            tellFiler(turn, ticket, "close", t.feedback.toFiler.close(code));
            return;
          }
        }
      } catch (error) {
        if (!explain(error, turn)) throw error;
      }
    },
  });

  const rate = defineFlow<RateData>({
    name: "danhgia",
    version: 1,
    roles: EVERYONE,
    ttlMinutes: 24 * 60,
    first: "score",
    initial: (_turn, code) => ({ code }),
    steps: {
      score: {
        prompt: (data) => t.feedback.askScore(data.code),
        // Ascending, so that on a platform without buttons typing "5" means five.
        choices: () => [1, 2, 3, 4, 5].map((n) => ({ label: t.feedback.scoreLabel(n), value: String(n) })),
        accept: (answer, data) => ({
          data: { ...data, score: Number(answer.choice?.value) },
          next: "comment",
        }),
      },
      comment: {
        prompt: () => t.feedback.askComment,
        accept: (answer, data) => ({
          data: {
            ...data,
            comment: t.feedback.skipWords.includes(fold(answer.text)) ? "" : answer.text.trim(),
          },
        }),
      },
    },
    async finish(data, turn) {
      try {
        await feedback.rate(
          data.code,
          data.score ?? 0,
          data.comment ?? "",
          turn.speaker,
          turn.now,
          turn.idempotencyKey,
        );
        turn.reply(t.feedback.rated);
      } catch (error) {
        if (!explain(error, turn)) throw error;
      }
    },
  });

  /** `/phananh gop y qua han ke hoach` → filters, each word group matched against types, statuses, "quá hạn", units. */
  async function parseFilter(args: string, turn: Turn): Promise<TicketFilter | string> {
    const filter: TicketFilter = {};
    let rest = ` ${fold(args)} `;
    for (const type of FEEDBACK_TYPES) {
      const label = ` ${fold(feedback.rule(type).label)} `;
      if (rest.includes(label)) {
        filter.types = [...(filter.types ?? []), type as FeedbackType];
        rest = rest.replace(label, " ");
      }
    }
    for (const status of TICKET_STATUSES) {
      const label = ` ${fold(t.feedback.status(status))} `;
      if (rest.includes(label)) {
        filter.statuses = [...(filter.statuses ?? []), status as TicketStatus];
        rest = rest.replace(label, " ");
      }
    }
    if (rest.includes(" qua han ")) {
      filter.overdueOn = today(turn);
      rest = rest.replace(" qua han ", " ");
    }
    rest = rest.trim();
    if (rest) {
      const [unit, ...others] = await units.find(rest);
      if (!unit || others.length > 0) return t.feedback.filterUnknown(rest);
      filter.unitKey = unit.key;
    }
    return filter;
  }

  return {
    name: "feedback",
    flows: [...filingFlows(feedback, people), handle, rate],
    freeText: { citizen: citizenFreeText(feedback) },
    commands: [
      {
        name: "gopy",
        roles: EVERYONE,
        description: t.feedback.fileDescription,
        opens: "gopy",
      },
      {
        name: "tracuu",
        roles: EVERYONE,
        description: t.feedback.lookupDescription,
        usage: "/tracuu <mã> [số điện thoại]",
        async run(turn, args) {
          const code = CODE.exec(args)?.[0]?.toUpperCase();
          if (!code) {
            turn.reply(t.feedback.lookupUsage);
            return;
          }
          const phone = args.replace(CODE, "").trim();
          // The filer's own ticket is no guess: many accounts guessing at its code cannot lock them out.
          const own = await feedback.lookup(code, turn.speaker);
          if (await guesses.refuse(turn, "tracuu", code, own !== undefined)) return;
          const ticket = own ?? (await feedback.lookup(code, turn.speaker, phone || undefined));
          if (!ticket) {
            await guesses.failed(turn, "tracuu", code);
            turn.reply(t.feedback.lookupNotFound(code));
            return;
          }
          turn.reply(await describe(ticket, turn, false), { subject: { kind: "ticket", id: ticket.code } });
        },
      },
      {
        name: "khieunai2",
        roles: EVERYONE,
        description: t.feedback.secondRound.description,
        usage: "/khieunai2 <mã>",
        async run(turn, args) {
          const code = CODE.exec(args)?.[0]?.toUpperCase();
          if (!code) {
            turn.reply(t.feedback.secondRound.usage);
            return;
          }
          const ticket = await feedback.lookup(code, turn.speaker);
          if (await guesses.refuse(turn, "tracuu", code, ticket !== undefined)) return;
          if (!ticket) {
            await guesses.failed(turn, "tracuu", code);
            turn.reply(t.feedback.lookupNotFound(code));
            return;
          }
          const check = feedback.secondRound(ticket, today(turn));
          if (!check.ok) {
            turn.reply(
              t.feedback.secondRound.refused(check.reason, check.until ? formatDay(check.until) : undefined),
            );
            return;
          }
          turn.reply(
            t.feedback.secondRound.intro(
              ticket.code,
              check.reason,
              formatDay(check.until),
              feedback.rule(ticket.type).secondRound?.resolver ?? "",
            ),
          );
          turn.startFlow("khieunai2", ticket.code);
        },
      },
      {
        name: "danhgia",
        roles: EVERYONE,
        description: t.feedback.rateDescription,
        usage: "/danhgia <mã>",
        async run(turn, args) {
          const code = CODE.exec(args)?.[0]?.toUpperCase();
          if (!code) {
            turn.reply(t.feedback.rateUsage);
            return;
          }
          const ticket = await feedback.lookup(code, turn.speaker);
          if (await guesses.refuse(turn, "danhgia", code, ticket !== undefined)) return;
          if (!ticket) {
            await guesses.failed(turn, "danhgia", code);
            turn.reply(t.feedback.lookupNotFound(code));
            return;
          }
          if (ticket.rating) turn.reply(t.feedback.errors.bad_state);
          else if (!["answered", "closed"].includes(ticket.status) || !ticket.answer)
            turn.reply(t.feedback.notAnsweredYet);
          else turn.startFlow("danhgia", ticket.code);
        },
      },
      {
        name: "phananh",
        roles: HANDLERS,
        description: t.feedback.listDescription,
        usage: "/phananh [loại] [trạng thái] [quá hạn] [đơn vị]",
        async run(turn, args) {
          const stats = ticketStats && statsArgs(args);
          if (ticketStats && stats !== undefined) {
            await ticketStats(turn, stats);
            return;
          }
          const filter = await parseFilter(args, turn);
          if (typeof filter === "string") {
            turn.reply(filter);
            return;
          }
          if (!access.isOffice(turn.speaker)) {
            if (!turn.speaker.unitId) {
              turn.reply(t.plans.noUnit);
              return;
            }
            // A unit sees only what was assigned to it.
            filter.unitKey = turn.speaker.unitId;
          }
          const tickets = await feedback.list(filter);
          if (tickets.length === 0) {
            turn.reply(t.feedback.listEmpty);
            return;
          }
          const day = today(turn);
          const names = await units.names();
          const lines = tickets.map((x) =>
            t.feedback.listLine({
              code: x.code,
              type: feedback.rule(x.type).label,
              status: t.feedback.shownStatus(x),
              unit: x.unitKey ? (names.get(x.unitKey) ?? x.unitKey) : undefined,
              due:
                formatDay(x.dueDay) +
                (feedback.calendar.doubts(x.receivedDay, x.dueDay) ? t.calendar.provisionalShort : ""),
              overdue: x.dueDay < day,
            }),
          );
          turn.reply([t.feedback.listHeader(tickets.length), ...lines, "", t.feedback.listFooter].join("\n"));
        },
      },
      {
        name: "xuly",
        roles: HANDLERS,
        description: t.feedback.handleDescription,
        usage: "/xuly <mã>",
        async run(turn, args) {
          const code = CODE.exec(args)?.[0]?.toUpperCase();
          const ticket = code ? await feedback.byCode(code) : undefined;
          if (!ticket || !access.canHandle(turn.speaker, ticket)) {
            turn.reply(code ? t.feedback.lookupNotFound(code) : t.feedback.handleUsage);
            return;
          }
          turn.reply(await describe(ticket, turn, true), { subject: { kind: "ticket", id: ticket.code } });
          if (actionsFor(turn, ticket).length > 0) turn.startFlow("xuly", ticket.code);
        },
      },
    ],
    replyHandlers: {
      async ticket(turn, subject, message) {
        const ticket = await feedback.byCode(subject.id);
        if (!ticket) return;
        if (ticket.filer.personId.toString() === turn.speaker.personId) {
          if (ticket.status === "need_info" || answeredByTurn(ticket, turn))
            await supplyInfo(feedback, turn, ticket.code, message);
          else if (ticket.status === "answered" && !ticket.rating) turn.startFlow("danhgia", ticket.code);
          else turn.reply(t.feedback.replyNotExpected);
          return;
        }
        if (access.canHandle(turn.speaker, ticket)) {
          turn.reply(await describe(ticket, turn, true));
          if (actionsFor(turn, ticket).length > 0) turn.startFlow("xuly", ticket.code);
          return;
        }
        turn.reply(t.feedback.lookupNotFound(ticket.code));
      },
    },
  };
}
