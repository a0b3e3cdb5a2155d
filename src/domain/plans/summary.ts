import { t } from "../../text/vi.js";
import type { Day } from "../calendar/work-calendar.js";
import type { UnitDoc } from "../units/schema.js";
import type { PlanDoc, TaskDoc } from "./schema.js";
import { stateKey, type Due, type PlansService, type UnitState } from "./service.js";
import type { TaskStatus } from "./status.js";

/** One (task, unit) pair with where it stands today: the unit of every count below. */
export interface Assignment {
  task: TaskDoc;
  plan: PlanDoc | undefined;
  unit: UnitDoc;
  due: Due;
  daysLeft: number;
  state: UnitState;
  overdue: boolean;
}

export interface UnitSummary {
  unit: UnitDoc;
  total: number;
  byStatus: Record<TaskStatus, number>;
  overdue: number;
}

export interface PlanSummary {
  plan: PlanDoc;
  total: number;
  done: number;
  percent: number;
}

export interface Summary {
  today: Day;
  /**
   * The figures stand at the close of `today`, the last day of a period that is over: a pair not
   * done by its due day is overdue, and nothing is "due soon" any more.
   */
  closed?: boolean;
  plans: PlanSummary[];
  units: UnitSummary[];
  /**
   * Due within `riskDays` working days (or overdue) and not done, soonest first; for a closed
   * period, the pairs overdue at its close.
   */
  atRisk: Assignment[];
}

const emptyCounts = (): Record<TaskStatus, number> => ({
  not_started: 0,
  in_progress: 0,
  done: 0,
  blocked: 0,
});

/**
 * Every (task, unit) pair of the given plans with its standing today. Reminders, escalations,
 * digests and the Office's commands all start from this one list, so they never disagree.
 * `closedAt`: the standing at the close of `today` (the moment `closeOf(today)` in periods.ts),
 * for a period that is over: reports made since are left out, and a pair due that day or before
 * and not done is overdue, as it was when the day ended.
 */
export async function assignments(
  plans: PlansService,
  today: Day,
  planCodes?: string[],
  closedAt?: Date,
): Promise<Assignment[]> {
  const all = (await plans.plans()).filter((p) => !planCodes || planCodes.includes(p.code));
  const pairs: { task: TaskDoc; unit: UnitDoc; plan: PlanDoc }[] = [];
  for (const plan of all) {
    for (const task of await plans.tasksOf(plan.code)) {
      for (const unit of await plans.unitsOf(task)) pairs.push({ task, unit, plan });
    }
  }
  const states = await plans.states(
    pairs.map((p) => ({ task: p.task, unitKey: p.unit.key })),
    today,
    closedAt,
  );
  return pairs.map(({ task, unit, plan }) => {
    const due = plans.dueOf(task, plan, today);
    const state = states.get(stateKey(task.key, unit.key)) ?? { status: "not_started" as const, percent: 0 };
    const daysLeft = plans.daysLeft(due.day, today);
    const late = daysLeft < 0 || (closedAt !== undefined && due.day <= today);
    return { task, plan, unit, due, daysLeft, state, overdue: late && state.status !== "done" };
  });
}

/** Counts per plan and per unit, and the pairs at risk. */
export async function summarize(plans: PlansService, today: Day, riskDays = 7): Promise<Summary> {
  return summarizeAssignments(await assignments(plans, today), today, riskDays);
}

/**
 * The counting behind `summarize`, for callers that already hold the assignments (the Office's
 * reports also need each pair, e.g. to tell a task done on time from one done late).
 */
export function summarizeAssignments(list: Assignment[], today: Day, riskDays = 7, closed = false): Summary {
  const byPlan = new Map<string, PlanSummary>();
  const byUnit = new Map<string, UnitSummary>();
  for (const a of list) {
    if (a.plan) {
      const p = byPlan.get(a.plan.code) ?? { plan: a.plan, total: 0, done: 0, percent: 0 };
      p.total += 1;
      if (a.state.status === "done") p.done += 1;
      byPlan.set(a.plan.code, p);
    }
    const u = byUnit.get(a.unit.key) ?? { unit: a.unit, total: 0, byStatus: emptyCounts(), overdue: 0 };
    u.total += 1;
    u.byStatus[a.state.status] += 1;
    if (a.overdue) u.overdue += 1;
    byUnit.set(a.unit.key, u);
  }
  for (const p of byPlan.values()) p.percent = p.total ? Math.round((100 * p.done) / p.total) : 0;
  const atRisk = list
    .filter((a) => (closed ? a.overdue : a.state.status !== "done" && a.daysLeft <= riskDays))
    .sort((x, y) => x.daysLeft - y.daysLeft || x.task.key.localeCompare(y.task.key));
  return {
    today,
    ...(closed ? { closed } : {}),
    plans: [...byPlan.values()],
    units: [...byUnit.values()].sort((x, y) => x.unit.order - y.unit.order),
    atRisk,
  };
}

/**
 * Where a pair stands against its deadline, in words: the working days left today, or, in the
 * summary of a period that is over, how late it was when the period closed (never "hôm nay").
 */
export function standingWords(
  a: Pick<Assignment, "daysLeft" | "overdue">,
  closed: boolean | undefined,
): string {
  return closed && a.overdue ? t.plans.lateAtClose(-a.daysLeft) : t.plans.daysLeft(a.daysLeft);
}
