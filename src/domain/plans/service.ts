import { Types, type Model } from "mongoose";
import { isDuplicateKeyError } from "../../db/errors.js";
import type { Attachment } from "../../engine/message.js";
import type { Day, WorkCalendar } from "../calendar/work-calendar.js";
import { ALL_UNITS } from "../units/schema.js";
import type { UnitsService } from "../units/service.js";
import { periodOf } from "./periods.js";
import type { PlanFile } from "./plan-file.js";
import type { PlanDoc, ReportDoc, TaskDoc } from "./schema.js";
import type { TaskStatus } from "./status.js";

export interface PlanModels {
  Plan: Model<PlanDoc>;
  Task: Model<TaskDoc>;
  Report: Model<ReportDoc>;
}

/** A unit's current standing on a task, derived from its latest reports. */
export interface UnitState {
  status: TaskStatus;
  percent: number;
  lastReportAt?: Date;
  lastNote?: string;
}

/** What is due for a task now: the deadline, or the end of the current reporting period. */
export interface Due {
  day: Day;
  /** "once" for a deadline task, else the period id (2025-Q4, 2025-H2, 2025). */
  period: string;
}

export interface NewReport {
  idempotencyKey: string;
  task: TaskDoc;
  unitKey: string;
  personId: string;
  personName: string;
  channel: string;
  status?: TaskStatus;
  percent?: number;
  note: string;
  attachments: Attachment[];
  source: ReportDoc["source"];
  now: Date;
  today: Day;
}

const NOT_STARTED: UnitState = { status: "not_started", percent: 0 };

export function stateKey(taskKey: string, unitKey: string): string {
  return `${taskKey}|${unitKey}`;
}

/**
 * The tasks among `tasks` that `query` names: by code ("III.2") or by plan and code
 * ("DVCQ-2025-HY:III.2"), case aside. Plans number their tasks each on their own, so a code alone
 * may name a task in several plans: the caller asks which, never picks one.
 * @example tasksNamed(tasks, "iii.2") // both plans' III.2
 */
export function tasksNamed<T extends Pick<TaskDoc, "code" | "key">>(tasks: T[], query: string): T[] {
  const wanted = query.trim().toUpperCase();
  if (!wanted) return [];
  return tasks.filter((t) => t.code.toUpperCase() === wanted || t.key.toUpperCase() === wanted);
}

/** Plans, their tasks, and the progress units report on them. */
export class PlansService {
  constructor(
    private readonly models: PlanModels,
    private readonly units: UnitsService,
    readonly calendar: WorkCalendar,
  ) {}

  /**
   * Loads a checked plan file. Re-importing updates in place and never duplicates: plans and
   * tasks are keyed by their codes. Tasks no longer in the file are archived, not deleted,
   * because reports point at them.
   */
  async importPlan(
    plan: PlanFile,
    sourceFile: string,
    now: Date,
  ): Promise<{ created: boolean; tasks: number; archived: number }> {
    const missing = [];
    for (const unit of plan.units) if (!(await this.units.get(unit.key))) missing.push(unit);
    await this.units.upsert(missing.map((u) => ({ ...u, kind: "other" as const })));
    const existing = await this.models.Plan.findOne({ code: plan.code }).lean();
    await this.models.Plan.updateOne(
      { code: plan.code },
      {
        $set: {
          title: plan.title,
          organisation: plan.organisation,
          period: plan.period,
          document: plan.document,
          sourceFile,
          importedAt: now,
        },
      },
      { upsert: true },
    );
    const keys: string[] = [];
    for (const [order, task] of plan.tasks.entries()) {
      const key = `${plan.code}:${task.code}`;
      keys.push(key);
      const set: Record<string, unknown> = {
        planCode: plan.code,
        code: task.code,
        title: task.title,
        content: task.content,
        units: task.units,
        order,
        archived: false,
      };
      const unset: Record<string, 1> = {};
      for (const field of ["lead", "deadline", "recurrence", "note"] as const) {
        if (task[field]) set[field] = task[field];
        else unset[field] = 1;
      }
      await this.models.Task.updateOne({ key }, { $set: set, $unset: unset }, { upsert: true });
    }
    const archived = await this.models.Task.updateMany(
      { planCode: plan.code, key: { $nin: keys }, archived: false },
      { $set: { archived: true } },
    );
    return { created: !existing, tasks: keys.length, archived: archived.modifiedCount };
  }

  async plans(): Promise<PlanDoc[]> {
    return this.models.Plan.find().sort({ "period.from": -1, code: 1 }).lean();
  }

  async plan(code: string): Promise<PlanDoc | undefined> {
    return (await this.models.Plan.findOne({ code }).lean()) ?? undefined;
  }

  async tasksOf(planCode: string): Promise<TaskDoc[]> {
    return this.models.Task.find({ planCode, archived: false }).sort({ order: 1 }).lean();
  }

  async task(key: string): Promise<TaskDoc | undefined> {
    return (await this.models.Task.findOne({ key }).lean()) ?? undefined;
  }

  /** Every open task a unit answers for, plan by plan. */
  async tasksForUnit(unitKey: string): Promise<TaskDoc[]> {
    return this.models.Task.find({ archived: false, units: { $in: [unitKey, ALL_UNITS] } })
      .sort({ planCode: 1, order: 1 })
      .lean();
  }

  /** Tasks whose code (or plan:code) is what someone typed, case-insensitively. */
  async findTasks(query: string): Promise<TaskDoc[]> {
    const tasks = await this.models.Task.find({ archived: false }).sort({ planCode: 1, order: 1 }).lean();
    return tasksNamed(tasks, query);
  }

  /** Whether `unitKey` answers for `task`. */
  isResponsible(task: TaskDoc, unitKey: string | undefined): unitKey is string {
    return Boolean(unitKey) && (task.units.includes(ALL_UNITS) || task.units.includes(unitKey as string));
  }

  /** The units that answer for a task. */
  async unitsOf(task: TaskDoc) {
    return this.units.expand(task.units);
  }

  /**
   * What is due now. A recurring obligation is due at the end of the period containing `today`,
   * within the plan's own period (after the plan ends, its last period stays current).
   */
  dueOf(task: TaskDoc, plan: Pick<PlanDoc, "period"> | undefined, today: Day): Due {
    if (task.deadline || !task.recurrence) return { day: task.deadline ?? today, period: "once" };
    const anchor = plan && today > plan.period.to ? plan.period.to : today;
    const period = periodOf(task.recurrence, anchor);
    return { day: period.end, period: period.id };
  }

  /** Working days left until `due` (negative when overdue). */
  daysLeft(due: Day, today: Day): number {
    return this.calendar.workingDaysBetween(today, due);
  }

  /**
   * Current standing of each (task, unit) pair, from the reports of the current period: the latest
   * report that stated a status sets status and percent; the latest note is shown beside it.
   * `until`: the standing at that moment (the close of a past period), reports made since left out.
   */
  async states(
    pairs: { task: TaskDoc; unitKey: string }[],
    today: Day,
    until?: Date,
  ): Promise<Map<string, UnitState>> {
    const result = new Map<string, UnitState>();
    if (pairs.length === 0) return result;
    const plans = new Map((await this.plans()).map((p) => [p.code, p]));
    const periodOfPair = new Map(
      pairs.map(({ task, unitKey }) => [
        stateKey(task.key, unitKey),
        this.dueOf(task, plans.get(task.planCode), today).period,
      ]),
    );
    const reports = await this.models.Report.find({
      taskKey: { $in: [...new Set(pairs.map((p) => p.task.key))] },
      ...(until ? { createdAt: { $lt: until } } : {}),
    })
      .sort({ createdAt: -1 })
      .lean();
    const latest = new Map<string, ReportDoc>();
    const latestWithStatus = new Map<string, ReportDoc>();
    for (const report of reports) {
      const key = stateKey(report.taskKey, report.unitKey);
      if (periodOfPair.get(key) !== report.period) continue;
      if (!latest.has(key)) latest.set(key, report);
      if (report.status && !latestWithStatus.has(key)) latestWithStatus.set(key, report);
    }
    for (const key of periodOfPair.keys()) {
      const withStatus = latestWithStatus.get(key);
      const last = latest.get(key);
      result.set(key, {
        ...(withStatus?.status
          ? { status: withStatus.status, percent: withStatus.percent ?? 0 }
          : NOT_STARTED),
        ...(last ? { lastReportAt: last.createdAt, lastNote: last.note } : {}),
      });
    }
    return result;
  }

  /** Saves a report once, whatever the number of times the same update is handled. */
  async addReport(input: NewReport): Promise<ReportDoc> {
    const plan = await this.plan(input.task.planCode);
    const due = this.dueOf(input.task, plan, input.today);
    const doc = {
      idempotencyKey: input.idempotencyKey,
      taskKey: input.task.key,
      planCode: input.task.planCode,
      unitKey: input.unitKey,
      period: due.period,
      personId: new Types.ObjectId(input.personId),
      personName: input.personName,
      channel: input.channel,
      note: input.note,
      attachments: input.attachments,
      source: input.source,
      createdAt: input.now,
      ...(input.status ? { status: input.status } : {}),
      ...(input.percent !== undefined ? { percent: input.percent } : {}),
    };
    try {
      return (await this.models.Report.create(doc)).toObject();
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const saved = await this.models.Report.findOne({ idempotencyKey: input.idempotencyKey }).lean();
      if (!saved) throw error;
      return saved;
    }
  }

  async reportsOf(taskKey: string, unitKey?: string): Promise<ReportDoc[]> {
    return this.models.Report.find({ taskKey, ...(unitKey ? { unitKey } : {}) })
      .sort({ createdAt: -1 })
      .lean();
  }
}
