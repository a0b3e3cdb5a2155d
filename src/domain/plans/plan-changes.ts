import { t } from "../../text/vi.js";
import type { Day } from "../calendar/work-calendar.js";
import { ALL_UNITS } from "../units/schema.js";
import type { PlanFile, PlanTaskFile } from "./plan-file.js";
import { periodText, type KnownUnit } from "./plan-xlsx.js";
import type { PlanDoc, TaskDoc } from "./schema.js";
import type { PlanModels } from "./service.js";
import { formatDayVi } from "./xlsx-cells.js";

/**
 * What loading a plan file would change, said before anything is loaded: the preview the Office
 * confirms, and the list of tasks a load closes (they leave the file, they stay in the database).
 */

/** The plan as loaded, and all its tasks, closed ones too (a task back in the file is reopened). */
export interface LoadedPlan {
  plan: PlanDoc;
  tasks: TaskDoc[];
}

/** The plan `code` as the database holds it, closed tasks included; undefined when not loaded. */
export async function loadedPlan(
  models: Pick<PlanModels, "Plan" | "Task">,
  code: string,
): Promise<LoadedPlan | undefined> {
  const plan = await models.Plan.findOne({ code }).lean();
  if (!plan) return undefined;
  return { plan, tasks: await models.Task.find({ planCode: code }).sort({ order: 1 }).lean() };
}

export interface PlanChanges {
  isNew: boolean;
  added: string[];
  updated: string[];
  closed: string[];
  reopened: string[];
  unchanged: number;
  planFieldsChanged: boolean;
}

const TASK_FIELDS = ["title", "content", "lead", "deadline", "recurrence", "note"] as const;

function sameTask(file: PlanTaskFile, loaded: TaskDoc): boolean {
  return (
    TASK_FIELDS.every((field) => (file[field] ?? undefined) === (loaded[field] ?? undefined)) &&
    file.units.join("|") === loaded.units.join("|")
  );
}

/** Compares a checked plan file with what the database holds under its code. */
export function planChanges(file: PlanFile, loaded: LoadedPlan | undefined): PlanChanges {
  const changes: PlanChanges = {
    isNew: !loaded,
    added: [],
    updated: [],
    closed: [],
    reopened: [],
    unchanged: 0,
    planFieldsChanged: false,
  };
  if (!loaded) {
    changes.added = file.tasks.map((task) => task.code);
    return changes;
  }
  const { plan } = loaded;
  changes.planFieldsChanged =
    plan.title !== file.title ||
    plan.organisation !== file.organisation ||
    plan.period.from !== file.period.from ||
    plan.period.to !== file.period.to ||
    plan.document.number !== file.document.number ||
    (plan.document.date ?? undefined) !== file.document.date ||
    (plan.document.month ?? undefined) !== file.document.month ||
    plan.document.issuer !== file.document.issuer;
  const byCode = new Map(loaded.tasks.map((task) => [task.code, task]));
  const inFile = new Set<string>();
  file.tasks.forEach((task, order) => {
    inFile.add(task.code);
    const old = byCode.get(task.code);
    if (!old) changes.added.push(task.code);
    else if (old.archived) changes.reopened.push(task.code);
    else if (!sameTask(task, old) || old.order !== order) changes.updated.push(task.code);
    else changes.unchanged += 1;
  });
  changes.closed = loaded.tasks.filter((t) => !t.archived && !inFile.has(t.code)).map((t) => t.code);
  return changes;
}

export function hasChanges(changes: PlanChanges): boolean {
  return (
    changes.isNew ||
    changes.planFieldsChanged ||
    changes.added.length + changes.updated.length + changes.closed.length + changes.reopened.length > 0
  );
}

/** "Quý IV/2025" for a deadline. */
function quarterOf(day: Day): { key: string; label: string } {
  const year = Number(day.slice(0, 4));
  const quarter = Math.floor((Number(day.slice(5, 7)) - 1) / 3) + 1;
  return { key: `${year}-${quarter}`, label: t.plansExcel.quarter(quarter, year) };
}

/**
 * The preview: the plan, tasks per unit, deadlines per quarter, what changes, the units a load
 * would create.
 */
export function renderPreview(
  file: PlanFile,
  changes: PlanChanges,
  unitName: (key: string) => string,
  newUnits: readonly KnownUnit[],
): string {
  const P = t.plansExcel.preview;
  const lines = [
    P.title(file.code, file.title),
    P.document(
      file.document.number,
      file.document.date
        ? formatDayVi(file.document.date)
        : file.document.month
          ? t.plans.documentMonth(Number(file.document.month.slice(5, 7)), file.document.month.slice(0, 4))
          : undefined,
      file.document.issuer,
    ),
    P.period(formatDayVi(file.period.from), formatDayVi(file.period.to)) + ` (${periodText(file.period)})`,
    P.tasks(file.tasks.length),
    "",
    P.perUnitHeading,
  ];
  const perUnit = new Map<string, number>();
  for (const task of file.tasks) for (const key of task.units) perUnit.set(key, (perUnit.get(key) ?? 0) + 1);
  const ordered = [...perUnit].sort(([a], [b]) => (a === ALL_UNITS ? -1 : b === ALL_UNITS ? 1 : 0));
  for (const [key, count] of ordered) lines.push(P.perUnit(unitName(key), count));
  lines.push("", P.perQuarterHeading);
  const perQuarter = new Map<string, { label: string; count: number }>();
  const recurring = new Map<string, number>();
  for (const task of file.tasks) {
    if (task.deadline) {
      const q = quarterOf(task.deadline);
      const entry = perQuarter.get(q.key) ?? { label: q.label, count: 0 };
      entry.count += 1;
      perQuarter.set(q.key, entry);
    } else if (task.recurrence) {
      const label = t.plansExcel.recurrences[task.recurrence];
      recurring.set(label, (recurring.get(label) ?? 0) + 1);
    }
  }
  for (const [, { label, count }] of [...perQuarter].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(P.perQuarter(label, count));
  }
  for (const [label, count] of recurring) lines.push(P.recurring(label, count));
  lines.push("");
  if (changes.isNew) lines.push(P.newPlan);
  else {
    lines.push(P.changesHeading);
    if (changes.planFieldsChanged) lines.push(P.planFields);
    if (changes.added.length) lines.push(P.added(changes.added));
    if (changes.updated.length) lines.push(P.updated(changes.updated));
    if (changes.reopened.length) lines.push(P.reopened(changes.reopened));
    if (changes.closed.length) lines.push(P.closed(changes.closed));
    lines.push(P.unchanged(changes.unchanged));
  }
  if (newUnits.length > 0) lines.push("", P.newUnits(newUnits.map((u) => u.name)));
  return lines.join("\n");
}

/** A loaded plan back in the file's shape (what plans:export writes for a plan code). */
export function planFileOf(loaded: LoadedPlan, units: readonly KnownUnit[]): PlanFile {
  const { plan } = loaded;
  const tasks = loaded.tasks.filter((task) => !task.archived).sort((a, b) => a.order - b.order);
  const used = new Set(tasks.flatMap((task) => [...task.units, ...(task.lead ? [task.lead] : [])]));
  return {
    code: plan.code,
    title: plan.title,
    organisation: plan.organisation,
    period: { from: plan.period.from, to: plan.period.to },
    document: {
      number: plan.document.number,
      ...(plan.document.date ? { date: plan.document.date } : {}),
      ...(plan.document.month ? { month: plan.document.month } : {}),
      issuer: plan.document.issuer,
    },
    units: units.filter((u) => used.has(u.key)).map((u) => ({ key: u.key, name: u.name })),
    tasks: tasks.map((task) => ({
      code: task.code,
      title: task.title,
      content: task.content,
      units: [...task.units],
      ...(task.lead ? { lead: task.lead } : {}),
      ...(task.deadline ? { deadline: task.deadline } : {}),
      ...(task.recurrence ? { recurrence: task.recurrence } : {}),
      ...(task.note ? { note: task.note } : {}),
    })),
  };
}
