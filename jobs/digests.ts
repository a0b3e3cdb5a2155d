import dayjs from "dayjs";
import isoWeekPlugin from "dayjs/plugin/isoWeek.js";
import utc from "dayjs/plugin/utc.js";
import { formatDay, type Day } from "../src/domain/calendar/work-calendar.js";
import type { Role } from "../src/domain/people/roles.js";
import { periodOf } from "../src/domain/plans/periods.js";
import { standingWords, summarize, type Summary } from "../src/domain/plans/summary.js";
import { officeSummary } from "../src/domain/reports/office-summary.js";
import { reportPeriod } from "../src/domain/reports/period.js";
import type { Outbound } from "../src/engine/message.js";
import { t } from "../src/text/vi.js";
import { officeDay, type Job, type JobContext } from "./job.js";

dayjs.extend(utc);
dayjs.extend(isoWeekPlugin);

const MAX_RISK_LINES = 15;

/** The summary as text; the Office's /kehoach and these digests read the same numbers. */
export function renderSummary(title: string, summary: Summary): string {
  const lines = [title, "", t.jobs.digestPlans];
  for (const p of summary.plans) lines.push(t.jobs.digestPlanLine(p.plan.code, p.done, p.total, p.percent));
  lines.push("", t.jobs.digestUnits);
  for (const u of summary.units) {
    lines.push(t.jobs.digestUnitLine(u.unit.name, u.byStatus, u.overdue, u.total));
  }
  const risk = summary.atRisk.length;
  lines.push("", summary.closed ? t.jobs.digestLateAtClose(risk) : t.jobs.digestRisk(risk));
  for (const a of summary.atRisk.slice(0, MAX_RISK_LINES)) {
    lines.push(
      t.jobs.digestRiskLine(a.task.code, a.unit.name, formatDay(a.due.day), standingWords(a, summary.closed)),
    );
  }
  if (summary.atRisk.length > MAX_RISK_LINES)
    lines.push(t.jobs.digestMore(summary.atRisk.length - MAX_RISK_LINES));
  return lines.join("\n");
}

async function send(ctx: JobContext, roles: Role[], key: string, text: string): Promise<number> {
  const messages: Outbound[] = [];
  for (const role of roles) {
    for (const person of await ctx.app.people.list({ role })) {
      const to = await ctx.app.people.contactOf(person._id.toString());
      if (to) messages.push({ to, text, dedupeKey: `${key}:${person._id.toString()}` });
    }
  }
  return ctx.app.outbox.enqueue(messages);
}

/** ISO week id of a day, e.g. 2025-W41. */
function isoWeek(day: Day): string {
  const date = dayjs.utc(day);
  return `${date.isoWeekYear()}-W${String(date.isoWeek()).padStart(2, "0")}`;
}

/** Monday morning (or the first working day of the week): the week's picture, to the Office. */
export const weeklyDigestJob: Job = {
  name: "weekly-digest",
  firstLookAfter: 15,
  description: t.jobs.weeklyDescription,
  slot: (at, ctx) => {
    const day = officeDay(at, ctx);
    return day ? isoWeek(day) : undefined;
  },
  async run(ctx, at, week) {
    const today = officeDay(at, ctx) ?? at.toISOString().slice(0, 10);
    const text = renderSummary(t.jobs.weeklyTitle(formatDay(today)), await summarize(ctx.app.plans, today));
    return { messages: await send(ctx, ["office"], `digest:${week}`, text) };
  },
};

/**
 * The first working day of a quarter: the quarter just ended, to the leadership and the Office,
 * with the figures of `/tonghop` for that quarter (its plans, as they stood when it closed).
 */
export const quarterlySummaryJob: Job = {
  name: "quarterly-summary",
  firstLookAfter: 30,
  description: t.jobs.quarterlyDescription,
  slot: (at, ctx) => {
    const day = officeDay(at, ctx);
    return day ? periodOf("quarterly", day).id : undefined;
  },
  async run(ctx, at, quarter) {
    const today = officeDay(at, ctx) ?? at.toISOString().slice(0, 10);
    const start = periodOf("quarterly", today).start;
    const previousEnd = new Date(Date.UTC(Number(start.slice(0, 4)), Number(start.slice(5, 7)) - 1, 0))
      .toISOString()
      .slice(0, 10);
    const id = periodOf("quarterly", previousEnd).id;
    const previous = reportPeriod("quarter", Number(id.slice(0, 4)), Number(id.slice(-1)));
    const { summary } = await officeSummary(
      ctx.app.plans,
      ctx.app.models.Report,
      previous,
      today,
      ctx.timeZone,
    );
    const label = t.reports.periodLabel(previous);
    // A quarter no plan ran in still gets its line, saying so, rather than empty headings.
    const text =
      summary.plans.length > 0
        ? renderSummary(t.jobs.quarterlyTitle(label), summary)
        : `${t.jobs.quarterlyTitle(label)}\n\n${t.reports.noPlans(label)}`;
    return { messages: await send(ctx, ["leader", "office"], `quarterly:${quarter}`, text) };
  },
};
