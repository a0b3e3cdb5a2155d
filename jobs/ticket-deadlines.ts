import { DEFAULT_JOB_SETTINGS, type JobSettings } from "../src/config.js";
import { formatDay } from "../src/domain/calendar/work-calendar.js";
import { OPEN_STATUSES } from "../src/domain/feedback/schema.js";
import type { Outbound } from "../src/engine/message.js";
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

/**
 * Citizen tickets against their legal deadlines: the handling unit (or the Office, while a ticket
 * is unassigned) is reminded 3 and 1 working days before and on the day; once a deadline passes
 * the Office is told, once per deadline (an extension sets a new one).
 */
export const ticketDeadlinesJob: Job = {
  name: "ticket-deadlines",
  cron: "15 8 * * *",
  description: t.jobs.ticketsDescription,
  slot: officeDay,
  async run(ctx, _at, today) {
    const { app } = ctx;
    const messages: Outbound[] = [];
    const office = await app.people.list({ role: "office" });
    for (const ticket of await app.feedback.list({ statuses: [...OPEN_STATUSES] })) {
      const left = app.plans.calendar.workingDaysBetween(today, ticket.dueDay);
      const step = reminderStep(left, STEPS);
      if (!step) continue;
      const overdue = left < 0;
      const rule = app.feedback.rule(ticket.type);
      const recipients =
        overdue || !ticket.unitKey ? office : await app.people.ofUnit(ticket.unitKey, ["staff", "unit_head"]);
      const text = overdue
        ? t.jobs.ticketOverdue(ticket.code, rule.label, formatDay(ticket.dueDay), -left)
        : t.jobs.ticketDue(ticket.code, rule.label, formatDay(ticket.dueDay), t.plans.daysLeft(left));
      for (const person of recipients) {
        const to = await app.people.contactOf(person._id.toString());
        if (!to) continue;
        messages.push({
          to,
          text,
          subject: { kind: "ticket", id: ticket.code },
          dedupeKey: `ticket-due:${ticket.code}:${ticket.dueDay}:${step}:${person._id.toString()}`,
        });
      }
    }
    return { messages: await app.outbox.enqueue(messages) };
  },
};
