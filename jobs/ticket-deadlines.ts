import { DEFAULT_JOB_SETTINGS, type JobSettings } from "../src/config.js";
import { formatDay } from "../src/domain/calendar/work-calendar.js";
import type { PersonDoc } from "../src/domain/people/schema.js";
import type { Outbound, Recipient } from "../src/engine/message.js";
import { t } from "../src/text/vi.js";
import { officeDay, type Job } from "./job.js";
import { reminderStep } from "./reminders.js";

/** Reminders 3 and 1 working days before and on the day; past the deadline, one notice. */
const STEPS: JobSettings = {
  ...DEFAULT_JOB_SETTINGS,
  reminderOffsets: [3, 1, 0],
  overdueEvery: 1_000,
  overdueMax: 1,
};

/** Messages written to the outbox at a time, so a large backlog is never held whole. */
const BATCH = 200;

/**
 * Citizen tickets against their legal deadlines — for a khiếu nại or tố cáo first the thụ lý
 * decision, then the answer: the handling unit (or the Office, while a ticket is unassigned, and
 * always for a thụ lý decision) is reminded 3 and 1 working days before and on the day; once a deadline passes
 * the Office and the handling unit are told, once per deadline (an extension sets a new one): the
 * Office follows it up, the unit still has to answer. Every open ticket due
 * within the reminder window is read, however many are overdue before it.
 */
export const ticketDeadlinesJob: Job = {
  name: "ticket-deadlines",
  firstLookAfter: 45,
  description: t.jobs.ticketsDescription,
  slot: officeDay,
  async run(ctx, _at, today) {
    const { app } = ctx;
    // Due on this working day or later, a ticket has more working days left than any reminder.
    const beyond = app.plans.calendar.addWorkingDays(today, Math.max(...STEPS.reminderOffsets) + 1);
    const office = await app.people.list({ role: "office" });
    const units = new Map<string, PersonDoc[]>();
    const contacts = new Map<string, Recipient | undefined>();
    const contactOf = async (person: PersonDoc) => {
      const id = person._id.toString();
      if (!contacts.has(id)) contacts.set(id, await app.people.contactOf(id));
      return contacts.get(id);
    };
    let written = 0;
    let messages: Outbound[] = [];
    for await (const ticket of app.feedback.openDueBefore(beyond)) {
      // A khiếu nại or tố cáo not yet accepted owes the thụ lý decision first (its dueDay is the
      // accept-by day); once accepted, the answer by the resolve-by day.
      const accepting = app.feedback.awaitingAcceptance(ticket);
      const due = (accepting && app.feedback.acceptBy(ticket)) || ticket.dueDay;
      const left = app.plans.calendar.workingDaysBetween(today, due);
      const step = reminderStep(left, STEPS);
      if (!step) continue;
      const overdue = left < 0;
      const rule = app.feedback.rule(ticket.type);
      let recipients = office;
      if (ticket.unitKey) {
        const unit =
          units.get(ticket.unitKey) ?? (await app.people.ofUnit(ticket.unitKey, ["staff", "unit_head"]));
        units.set(ticket.unitKey, unit);
        // Overdue, or a thụ lý decision (which only the Office records): the Office and the unit,
        // each person once (an Office official may be in the unit).
        recipients =
          overdue || accepting
            ? [...new Map([...office, ...unit].map((p) => [p._id.toString(), p])).values()]
            : unit;
      }
      const [dueText, overdueText] = accepting
        ? [t.jobs.ticketAcceptDue, t.jobs.ticketAcceptOverdue]
        : [t.jobs.ticketDue, t.jobs.ticketOverdue];
      const text = overdue
        ? overdueText(ticket.code, rule.label, formatDay(due), -left)
        : dueText(ticket.code, rule.label, formatDay(due), t.plans.daysLeft(left));
      for (const person of recipients) {
        const to = await contactOf(person);
        if (!to) continue;
        messages.push({
          to,
          text,
          subject: { kind: "ticket", id: ticket.code },
          dedupeKey: `ticket-due:${ticket.code}:${due}:${step}:${person._id.toString()}`,
        });
      }
      if (messages.length >= BATCH) {
        written += await app.outbox.enqueue(messages);
        messages = [];
      }
    }
    return { messages: written + (await app.outbox.enqueue(messages)) };
  },
};
