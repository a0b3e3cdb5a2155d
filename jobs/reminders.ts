import type { JobSettings } from "../src/config.js";
import { formatDay } from "../src/domain/calendar/work-calendar.js";
import { formatDate } from "../src/clock.js";
import { assignments, type Assignment } from "../src/domain/plans/summary.js";
import type { ChannelName, Outbound } from "../src/engine/message.js";
import { t } from "../src/text/vi.js";
import { officeDay, type Job, type JobContext } from "./job.js";

/**
 * Which reminder a (task, unit) pair is due for, given working days left. Before the deadline: the
 * latest offset crossed (with offsets 14,7,3,1,0 and 6 days left: the 7-day one), so a day of
 * downtime delays a reminder but never drops it. Overdue: one every `overdueEvery` working days,
 * at most `overdueMax` times. Undefined: nothing due.
 */
export function reminderStep(daysLeft: number, settings: JobSettings): string | undefined {
  if (daysLeft >= 0) {
    const crossed = settings.reminderOffsets.filter((offset) => daysLeft <= offset);
    return crossed.length > 0 ? `d${Math.min(...crossed)}` : undefined;
  }
  const round = Math.floor((-daysLeft - 1) / settings.overdueEvery);
  return round < settings.overdueMax ? `o${round}` : undefined;
}

/** Deadline tasks count in the quarter they fall due (and while overdue); obligations always do. */
function inScope(a: Assignment, today: string): boolean {
  if (a.plan && a.plan.period.from > today) return false;
  if (a.due.period !== "once") return true;
  const quarterEnd = `${today.slice(0, 4)}-${["03-31", "06-30", "09-30", "12-31"][Math.floor((Number(today.slice(5, 7)) - 1) / 3)]}`;
  return a.due.day <= quarterEnd;
}

export const remindersJob: Job = {
  name: "reminders",
  firstLookAfter: 30,
  description: t.jobs.remindersDescription,
  slot: officeDay,
  async run(ctx: JobContext, at: Date, today: string) {
    const { app, settings } = ctx;
    const messages: Outbound[] = [];
    for (const a of await assignments(app.plans, today)) {
      if (a.state.status === "done" || !inScope(a, today)) continue;
      const step = reminderStep(a.daysLeft, settings);
      if (!step) continue;
      const text = t.jobs.reminder({
        code: a.task.code,
        title: a.task.title,
        plan: a.plan?.title ?? a.task.planCode,
        unit: a.unit.name,
        due: formatDay(a.due.day),
        left: t.plans.daysLeft(a.daysLeft),
        status: t.plans.status(a.state.status),
        percent: a.state.percent,
        reported: a.state.lastReportAt ? formatDate(a.state.lastReportAt, ctx.timeZone) : undefined,
      });
      for (const official of await app.people.ofUnit(a.unit.key, ["staff", "unit_head"])) {
        const to = await app.people.contactOf(official._id.toString());
        if (!to) continue;
        messages.push({
          to,
          text,
          subject: { kind: "task", id: a.task.key },
          dedupeKey: `remind:${a.task.key}:${a.due.period}:${a.unit.key}:${official._id.toString()}:${step}`,
        });
      }
      // The unit's group chats get the same reminder; a reply there reports as in a private chat.
      for (const group of a.unit.groups ?? []) {
        messages.push({
          to: { channel: group.channel as ChannelName, chatId: group.chatId },
          text,
          subject: { kind: "task", id: a.task.key },
          dedupeKey: `remind:${a.task.key}:${a.due.period}:${a.unit.key}:group:${group.channel}:${group.chatId}:${step}`,
        });
      }
    }
    const written = await app.outbox.enqueue(messages);
    return { messages: written };
  },
};
