import type { Day } from "../calendar/work-calendar.js";
import type { PlanDoc, TaskDoc } from "../plans/schema.js";
import type { TaskStatus } from "../plans/status.js";
import type { ReportRow } from "./export-data.js";
import type { OfficeSummary } from "./office-summary.js";

/*
 * What the draft report says in words, decided from the figures: tasks gathered under the items
 * of their plan, what each unit last wrote about a task, overdue tasks with their units. Pure:
 * docx.ts only lays these out, and the tests read them without opening a document.
 */

type Pair = OfficeSummary["assignments"][number];

/** What one unit last wrote about a task in the period, in its own words. */
export interface UnitNote {
  unit: string;
  status: TaskStatus;
  note: string;
}

/** One task of a plan with how its units stand. */
export interface TaskResult {
  task: TaskDoc;
  /** Units the task is given to (one "lượt" each). */
  pairs: number;
  done: number;
  blocked: number;
  /** Units past the due day without finishing. */
  overdueUnits: string[];
  due: Day;
  /** The units' latest notes, in the order of the units. */
  notes: UnitNote[];
}

/** The tasks under one item of a plan ("II.1" gathers II.1, II.1-1, II.1.a…). */
export interface TaskGroup {
  code: string;
  /** The title of the item when the plan gives it as a task of its own. */
  title?: string;
  tasks: TaskResult[];
  pairs: number;
  done: number;
  overdue: number;
}

export interface PlanSection {
  plan: PlanDoc;
  groups: TaskGroup[];
}

const ROMAN_SECTION = /^[IVX]+$/;

/**
 * The item of a plan a task belongs to: section and item for plans numbered "II.1.a" or
 * "II.1-3", the first number for plans numbered "1.2".
 * @example groupCode("II.1.a") // "II.1"
 * @example groupCode("II.2-10") // "II.2"
 * @example groupCode("1.2") // "1"
 */
export function groupCode(code: string): string {
  const parts = code.split(".");
  const head = ROMAN_SECTION.test(parts[0] ?? "") && parts.length > 1 ? parts.slice(0, 2) : parts.slice(0, 1);
  return head.join(".").replace(/-\d+$/, "");
}

/** The notes units wrote in the period, the latest per (task, unit). */
function latestNotes(reports: ReportRow[]): Map<string, string> {
  const latest = new Map<string, { at: number; note: string }>();
  for (const report of reports) {
    const note = report.note?.trim();
    if (!note) continue;
    const key = `${report.taskKey}\n${report.unitKey}`;
    const at = report.createdAt.getTime();
    if ((latest.get(key)?.at ?? -Infinity) <= at) latest.set(key, { at, note });
  }
  return new Map([...latest].map(([key, value]) => [key, value.note]));
}

/** Every task of the summary with its units' standing and words, in plan order. */
export function taskResults(summary: OfficeSummary, reports: ReportRow[]): TaskResult[] {
  const notes = latestNotes(reports);
  const byTask = new Map<string, Pair[]>();
  for (const pair of summary.assignments) {
    const list = byTask.get(pair.task.key) ?? [];
    list.push(pair);
    byTask.set(pair.task.key, list);
  }
  return [...byTask.values()].map((pairs) => {
    const first = pairs[0] as Pair;
    return {
      task: first.task,
      pairs: pairs.length,
      done: pairs.filter((p) => p.state.status === "done").length,
      blocked: pairs.filter((p) => p.state.status === "blocked").length,
      overdueUnits: pairs.filter((p) => p.overdue).map((p) => p.unit.name),
      due: pairs.map((p) => p.due.day).sort()[0] ?? first.due.day,
      notes: pairs.flatMap((p) => {
        const note = notes.get(`${p.task.key}\n${p.unit.key}`);
        return note ? [{ unit: p.unit.name, status: p.state.status, note }] : [];
      }),
    };
  });
}

/** The tasks of each plan gathered under the plan's items, in the plan's order. */
export function planSections(summary: OfficeSummary, results: TaskResult[]): PlanSection[] {
  return summary.plans.map(({ plan }) => {
    const groups = new Map<string, TaskGroup>();
    const tasks = results
      .filter((r) => r.task.planCode === plan.code)
      .sort((a, b) => a.task.order - b.task.order);
    for (const result of tasks) {
      const code = groupCode(result.task.code);
      const group = groups.get(code) ?? { code, tasks: [], pairs: 0, done: 0, overdue: 0 };
      if (result.task.code === code) group.title = result.task.title;
      group.tasks.push(result);
      group.pairs += result.pairs;
      group.done += result.done;
      group.overdue += result.overdueUnits.length;
      groups.set(code, group);
    }
    return { plan, groups: [...groups.values()] };
  });
}

/** Overdue tasks that share a plan, a due day and the same late units: said in one line. */
export interface OverdueBucket {
  planCode: string;
  due: Day;
  units: string[];
  /** Whether those units are every unit the tasks were given to. */
  allUnits: boolean;
  tasks: TaskResult[];
}

/**
 * Tasks with units past their due day, each task once with the units concerned, gathered by
 * plan, due day and units (earliest due first, then the plans' and the tasks' order).
 */
export function overdueByTask(results: TaskResult[], planOrder: string[] = []): OverdueBucket[] {
  const rank = (code: string) => planOrder.indexOf(code);
  const late = results
    .filter((r) => r.overdueUnits.length > 0)
    .sort(
      (a, b) =>
        a.due.localeCompare(b.due) ||
        rank(a.task.planCode) - rank(b.task.planCode) ||
        a.task.order - b.task.order,
    );
  const buckets = new Map<string, OverdueBucket>();
  for (const r of late) {
    const allUnits = r.overdueUnits.length === r.pairs;
    const key = [r.task.planCode, r.due, allUnits, ...r.overdueUnits].join("\n");
    const bucket = buckets.get(key) ?? {
      planCode: r.task.planCode,
      due: r.due,
      units: r.overdueUnits,
      allUnits,
      tasks: [],
    };
    bucket.tasks.push(r);
    buckets.set(key, bucket);
  }
  return [...buckets.values()];
}

/**
 * A unit's note as the report quotes it: whole when short, else its first sentences up to about
 * `max` characters, cut at a word and marked with "…".
 * @example quote("Đã rà soát 15 thủ tục.") // "Đã rà soát 15 thủ tục."
 */
export function quote(note: string, max = 220): string {
  const text = note.replace(/\s+/g, " ").trim();
  if (text.length <= max) return text;
  const sentences = text.match(/[^.!?;]+[.!?;]+/g) ?? [];
  let kept = "";
  for (const sentence of sentences) {
    if ((kept + sentence).length > max) break;
    kept += sentence;
  }
  if (kept.trim()) return `${kept.trim().replace(/[;]$/, "")} …`;
  const cut = text.lastIndexOf(" ", max);
  return `${text.slice(0, cut > 0 ? cut : max).replace(/[,;:]$/, "")}…`;
}
