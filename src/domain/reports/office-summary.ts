import type { Model } from "mongoose";
import type { Day } from "../calendar/work-calendar.js";
import type { PlanDoc, ReportDoc } from "../plans/schema.js";
import type { PlansService } from "../plans/service.js";
import { closeOf } from "../plans/periods.js";
import { stateKey } from "../plans/service.js";
import {
  assignments,
  summarizeAssignments,
  type Assignment,
  type PlanSummary,
  type Summary,
} from "../plans/summary.js";
import type { UnitDoc } from "../units/schema.js";
import { localTime } from "./local-time.js";
import { asOfDay, type ReportPeriod } from "./period.js";

/** One unit's line of /tonghop: the counts of plans/summary.ts plus the tasks done on time. */
export interface UnitRow {
  unit: UnitDoc;
  total: number;
  done: number;
  inProgress: number;
  notStarted: number;
  blocked: number;
  overdue: number;
  doneOnTime: number;
}

/** Everything /tonghop, the chart and the report files show for one period. */
export interface OfficeSummary {
  period: ReportPeriod;
  /** The day the figures stand at: today, or the period's last day once it is over. */
  asOf: Day;
  /** The period is over: the figures are those at the close of its last day, `asOf`. */
  closed: boolean;
  /** The summary plans/summary.ts computes for the plans running in the period. */
  summary: Summary;
  plans: PlanSummary[];
  units: UnitRow[];
  /** Every (task, unit) pair, with when it was done (undefined while not done). */
  assignments: (Assignment & { doneAt?: Date; onTime: boolean })[];
  totals: { total: number; done: number; doneOnTime: number; overdue: number; percent: number };
}

/** Plans whose period overlaps the report's. */
export function plansIn(plans: PlanDoc[], period: ReportPeriod): PlanDoc[] {
  return plans.filter((p) => p.period.from <= period.end && p.period.to >= period.start);
}

export type StatusReport = Pick<ReportDoc, "taskKey" | "unitKey" | "period" | "status" | "createdAt">;

/**
 * When each pair became done: the first "done" report of the last unbroken run of "done"
 * reports in the pair's period. A task reported done, reopened ("đang làm") and done again
 * counts from the second time, so reopening cannot hide a late finish.
 */
export function doneTimes(reports: StatusReport[], periodOfPair: Map<string, string>): Map<string, Date> {
  const sorted = [...reports].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  const since = new Map<string, Date>();
  for (const report of sorted) {
    const key = stateKey(report.taskKey, report.unitKey);
    if (!report.status || periodOfPair.get(key) !== report.period) continue;
    if (report.status !== "done") since.delete(key);
    else if (!since.has(key)) since.set(key, report.createdAt);
  }
  return since;
}

/**
 * The Office's summary for a period. The counts are those of `assignments()`/`summarize()` in
 * plans/summary.ts (the same numbers as /kehoach and the digests), restricted to the plans that
 * run in the period and taken at `asOfDay`; only "done on time" is added here, from the reports.
 * `preloaded`: every report of those plans when the caller has read them already (the export
 * lists them too), so they are not read twice.
 */
export async function officeSummary(
  plans: PlansService,
  reports: Model<ReportDoc>,
  period: ReportPeriod,
  today: Day,
  timeZone: string,
  preloaded?: StatusReport[],
): Promise<OfficeSummary> {
  const asOf = asOfDay(period, today);
  // A period that is over reads as it stood when it closed: what was reported later, and how
  // late things are today, belong to later summaries.
  const closed = today > period.end;
  const closedAt = closed ? closeOf(period.end, timeZone) : undefined;
  const codes = plansIn(await plans.plans(), period).map((p) => p.code);
  const list = codes.length > 0 ? await assignments(plans, asOf, codes, closedAt) : [];
  const summary = summarizeAssignments(list, asOf, undefined, closed);

  const periodOfPair = new Map(list.map((a) => [stateKey(a.task.key, a.unit.key), a.due.period]));
  const statusReports = preloaded
    ? preloaded.filter((r) => r.status)
    : list.length
      ? await reports
          .find(
            { taskKey: { $in: [...new Set(list.map((a) => a.task.key))] }, status: { $exists: true } },
            { taskKey: 1, unitKey: 1, period: 1, status: 1, createdAt: 1 },
          )
          .lean<StatusReport[]>()
      : [];
  const since = doneTimes(
    closedAt ? statusReports.filter((r) => r.createdAt < closedAt) : statusReports,
    periodOfPair,
  );

  const local = localTime(timeZone);
  const detailed = list.map((a) => {
    const doneAt = a.state.status === "done" ? since.get(stateKey(a.task.key, a.unit.key)) : undefined;
    // Done on time: the report saying "done" was made on or before the due day (local time).
    const onTime = Boolean(doneAt && local.day(doneAt) <= a.due.day);
    return { ...a, ...(doneAt ? { doneAt } : {}), onTime };
  });
  const onTimeByUnit = new Map<string, number>();
  for (const a of detailed) {
    if (a.onTime) onTimeByUnit.set(a.unit.key, (onTimeByUnit.get(a.unit.key) ?? 0) + 1);
  }
  const units: UnitRow[] = summary.units.map((u) => ({
    unit: u.unit,
    total: u.total,
    done: u.byStatus.done,
    inProgress: u.byStatus.in_progress,
    notStarted: u.byStatus.not_started,
    blocked: u.byStatus.blocked,
    overdue: u.overdue,
    doneOnTime: onTimeByUnit.get(u.unit.key) ?? 0,
  }));
  const total = units.reduce((n, u) => n + u.total, 0);
  const done = units.reduce((n, u) => n + u.done, 0);
  return {
    period,
    asOf,
    closed,
    summary,
    plans: summary.plans,
    units,
    assignments: detailed,
    totals: {
      total,
      done,
      doneOnTime: units.reduce((n, u) => n + u.doneOnTime, 0),
      overdue: units.reduce((n, u) => n + u.overdue, 0),
      // Rounded like each plan's percent in plans/summary.ts.
      percent: total ? Math.round((100 * done) / total) : 0,
    },
  };
}
