import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import dayjs from "dayjs";
import timezone from "dayjs/plugin/timezone.js";
import utc from "dayjs/plugin/utc.js";
import { parse, stringify } from "yaml";
import { z } from "zod";
import type { App } from "./app.js";
import { readYaml } from "./domain/data-file.js";
import { readPublicData } from "./domain/announcements/public-data.js";
import { dayOf, type Day, type WorkCalendar } from "./domain/calendar/work-calendar.js";
import { ROLES } from "./domain/people/roles.js";
import { periodOf } from "./domain/plans/periods.js";
import { readPlanFile, type PlanFile } from "./domain/plans/plan-file.js";
import { RECURRENCES, TASK_STATUSES, type TaskStatus } from "./domain/plans/status.js";
import { readUnitsFile } from "./domain/units/service.js";
import { DATA_DIR } from "./paths.js";
import { t } from "./text/vi.js";

dayjs.extend(utc);
dayjs.extend(timezone);

const peopleFile = z.object({
  people: z.array(
    z.object({ console: z.string(), name: z.string(), role: z.enum(ROLES), unit: z.string().optional() }),
  ),
});

/** Reads, checks and imports one plan file. */
export async function importPlanFile(app: App, file: string, now: Date) {
  const plan = readPlanFile(readFileSync(file, "utf8"), file);
  return { plan, ...(await app.plans.importPlan(plan, path.basename(file), now)) };
}

/** The shipped plan files, in name order. */
export function shippedPlanFiles(): string[] {
  const dir = path.join(DATA_DIR, "plans");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => path.join(dir, f));
}

export interface DemoPerson {
  console: string;
  name: string;
  role: (typeof ROLES)[number];
  unit?: string;
}

/** The demo units and one person per role on the console channel (data/units, data/demo). */
export async function seedDemoPeople(app: App, now: Date): Promise<{ units: number; people: DemoPerson[] }> {
  const units = readUnitsFile(path.join(DATA_DIR, "units", "demo.yaml"));
  await app.units.upsert(units);
  const { people } = peopleFile.parse(
    parse(readFileSync(path.join(DATA_DIR, "demo", "people.yaml"), "utf8")),
  );
  for (const person of people) {
    await app.people.ensurePerson(
      "console",
      person.console,
      { role: person.role, name: person.name, ...(person.unit ? { unitId: person.unit } : {}) },
      now,
    );
  }
  await seedPublicInfo(app, now);
  return { units: units.length, people };
}

/**
 * The reception schedule, contact details and frequent questions of data/public, into whatever
 * the Office has not filled yet (its own edits are never overwritten).
 */
export async function seedPublicInfo(app: App, now: Date): Promise<void> {
  await app.publicInfo.ensureDefaults(readPublicData(path.join(DATA_DIR, "public")), now);
}

/** data/demo/plan.yaml: a plan file whose dates are working days from the day of the seed. */
const demoPlanTemplate = z
  .object({
    code: z.string(),
    title: z.string(),
    organisation: z.string(),
    document: z.object({ number: z.string(), issuer: z.string() }).strict(),
    units: z.array(z.object({ key: z.string(), name: z.string() }).strict()),
    tasks: z.array(
      z
        .object({
          code: z.string(),
          title: z.string(),
          content: z.string(),
          units: z.array(z.string()),
          lead: z.string().optional(),
          due: z.number().int().optional(),
          recurrence: z.enum(RECURRENCES).optional(),
          reports: z
            .array(
              z
                .object({
                  unit: z.string(),
                  at: z.number().int().max(0),
                  status: z.enum(TASK_STATUSES),
                  percent: z.number().int().min(0).max(100).optional(),
                  note: z.string(),
                })
                .strict(),
            )
            .default([]),
        })
        .strict(),
    ),
  })
  .strict();

/** A report a demo unit already made, on `day`. */
export interface DemoReport {
  task: string;
  unit: string;
  day: Day;
  status: TaskStatus;
  percent?: number;
  note: string;
}

export const DEMO_PLAN_FILE = path.join(DATA_DIR, "demo", "plan.yaml");

/** The working day `n` working days from `today` (before it when negative); 0 is today or the next one. */
export function workingDaysFrom(calendar: WorkCalendar, today: Day, n: number): Day {
  const step = n < 0 ? -1 : 1;
  let day = dayjs.utc(today);
  const next = () => (day = day.add(step, "day"));
  while (!calendar.isWorkingDay(day.format("YYYY-MM-DD"))) next();
  for (let left = Math.abs(n); left > 0;) {
    next();
    if (calendar.isWorkingDay(day.format("YYYY-MM-DD"))) left -= 1;
  }
  return day.format("YYYY-MM-DD");
}

/**
 * The demo plan dated from `now`: its deadlines and its units' reports placed around today, its
 * period the current quarter (widened to every date in it), checked as any plan file is.
 */
export function demoPlan(
  calendar: WorkCalendar,
  now: Date,
  timeZone: string,
  file = DEMO_PLAN_FILE,
): { plan: PlanFile; reports: DemoReport[] } {
  const { value: template } = readYaml(readFileSync(file, "utf8"), file, demoPlanTemplate);
  const today = dayOf(now, timeZone);
  const at = (n: number) => workingDaysFrom(calendar, today, n);
  const quarter = periodOf("quarterly", today);
  const reports: DemoReport[] = template.tasks.flatMap((task) =>
    task.reports.map(({ unit, at: when, status, percent, note }) => ({
      task: task.code,
      unit,
      day: at(when),
      status,
      ...(percent !== undefined ? { percent } : status === "done" ? { percent: 100 } : {}),
      note,
    })),
  );
  const days = [
    quarter.start,
    quarter.end,
    ...template.tasks.flatMap((task) => (task.due !== undefined ? [at(task.due)] : [])),
    ...reports.map((r) => r.day),
  ].sort();
  const quarterLabel = t.reports.periodLabel({
    kind: "quarter",
    index: Number(quarter.id.slice(-1)),
    year: Number(quarter.id.slice(0, 4)),
  });
  const planFile = {
    code: template.code,
    title: template.title.replace("{quarter}", quarterLabel),
    organisation: template.organisation,
    period: { from: days[0], to: days.at(-1) },
    document: { ...template.document, date: quarter.start },
    units: template.units,
    tasks: template.tasks.map(({ due, reports: _reports, ...task }) => ({
      ...task,
      ...(due !== undefined ? { deadline: at(due) } : {}),
    })),
  };
  // Through the plan file's own reader, so the demo is held to what a real plan must be.
  return { plan: readPlanFile(stringify(planFile), file), reports };
}

/**
 * Imports the demo plan dated from `now`, and the reports its units already made (by the demo
 * person of each unit; each once, so seeding again adds none).
 */
export async function seedDemoPlan(app: App, now: Date, timeZone: string) {
  const { plan, reports } = demoPlan(app.plans.calendar, now, timeZone);
  const result = await app.plans.importPlan(plan, path.basename(DEMO_PLAN_FILE), now);
  for (const report of reports) {
    const task = await app.plans.task(`${plan.code}:${report.task}`);
    const people = await app.people.ofUnit(report.unit, ["staff", "unit_head", "office"]);
    const person = people.find((p) => p.role === "staff") ?? people[0];
    if (!task || !person) continue;
    await app.plans.addReport({
      idempotencyKey: `demo:${plan.code}:${report.task}:${report.unit}`,
      task,
      unitKey: report.unit,
      personId: person._id.toString(),
      personName: person.name,
      channel: "console",
      status: report.status,
      ...(report.percent !== undefined ? { percent: report.percent } : {}),
      note: report.note,
      attachments: [],
      source: "flow",
      now: dayjs.tz(`${report.day} 09:00`, timeZone).toDate(),
      today: report.day,
    });
  }
  return { plan, ...result, reports: reports.length };
}
