import dayjs from "dayjs";
import isoWeekPlugin from "dayjs/plugin/isoWeek.js";
import utc from "dayjs/plugin/utc.js";
import { formatDay, type Day, type WorkCalendar } from "../src/domain/calendar/work-calendar.js";
import type { Outbound } from "../src/engine/message.js";
import { t } from "../src/text/vi.js";
import { officeDay, type Job } from "./job.js";

dayjs.extend(utc);
dayjs.extend(isoWeekPlugin);

/** From this day of each year on, next year's calendar is looked at (the government decides in the autumn). */
const FROM_MONTH_DAY = "11-01";

/**
 * What the admins must hear about the calendar on `today`: a year it does not know (this year at
 * any time; next year from 1 November), and days off of those years still not decreed.
 */
export function calendarWarnings(calendar: WorkCalendar, today: Day): string[] {
  const year = Number(today.slice(0, 4));
  const years = today.slice(5) >= FROM_MONTH_DAY ? [year, year + 1] : [year];
  const warnings: string[] = [];
  for (const y of years) {
    if (!calendar.knowsYear(y)) {
      warnings.push(t.calendar.missingYear(y));
      continue;
    }
    const pending = calendar
      .yearDays(y)
      .off.filter((d) => !d.confirmed && d.day >= today)
      .map((d) => formatDay(d.day));
    if (pending.length > 0) warnings.push(t.calendar.pendingYear(y, pending));
  }
  return warnings;
}

/** ISO week of a day, e.g. 2026-W45: the admins hear once a week until the calendar is complete. */
const weekOf = (day: Day) => {
  const date = dayjs.utc(day);
  return `${date.isoWeekYear()}-W${String(date.isoWeek()).padStart(2, "0")}`;
};

/**
 * A year the calendar does not know would be counted as ordinary weekdays plus the law's fixed
 * days, and Tết missed: from 1 November the admins are told, each week, until next year's days off
 * are in (a file, or /ngaynghi and /ngaynghi chốt), and so are days off not yet decreed.
 */
export const calendarCheckJob: Job = {
  name: "calendar-check",
  firstLookAfter: 5,
  description: t.calendar.jobDescription,
  // One look a week; a week with nothing to say is a slot of its own, so the first office day
  // from 1 November (or after a change) still acts that week.
  slot(at, ctx) {
    const day = officeDay(at, ctx);
    if (!day) return undefined;
    const quiet = calendarWarnings(ctx.app.plans.calendar, day).length === 0;
    return quiet ? `${weekOf(day)}-quiet` : weekOf(day);
  },
  async run(ctx, at, week) {
    const { app } = ctx;
    // Another instance may have taken a change in the chat since this one last looked.
    await app.calendarDays.refresh();
    const today = officeDay(at, ctx);
    const warnings = today ? calendarWarnings(app.plans.calendar, today) : [];
    if (warnings.length === 0) return { messages: 0 };
    const text = warnings.join("\n\n");
    const messages: Outbound[] = [];
    for (const admin of await app.people.list({ role: "admin" })) {
      const to = await app.people.contactOf(admin._id.toString());
      if (to) messages.push({ to, text, dedupeKey: `calendar-check:${week}:${admin._id.toString()}` });
    }
    return { messages: await app.outbox.enqueue(messages) };
  },
};
