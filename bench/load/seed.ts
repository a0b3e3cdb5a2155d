import { readFileSync } from "node:fs";
import path from "node:path";
import type { Connection } from "mongoose";
import { remindersJob } from "../../jobs/reminders.js";
import { JobRunner, type RunOutcome } from "../../jobs/runner.js";
import { App } from "../../src/app.js";
import { FixedClock, systemClock } from "../../src/clock.js";
import { DEFAULT_JOB_SETTINGS } from "../../src/config.js";
import { readPlanFile } from "../../src/domain/plans/plan-file.js";
import { readUnitsFile } from "../../src/domain/units/service.js";
import { silentLogger } from "../../src/log.js";
import { DATA_DIR } from "../../src/paths.js";
import { Sealer, parseDataKeys } from "../../src/privacy/sealer.js";
import { importPlanFile } from "../../src/seed.js";
import type { Channel } from "./platforms.js";

export const ORG_NAME = "Sở Khoa học và Công nghệ tỉnh Thử nghiệm";
export const TIME_ZONE = "Asia/Ho_Chi_Minh";
const PLAN_FILE = path.join(import.meta.dirname, "plan.yaml");
/** 09:00 on Monday 1 December 2025 in Hà Nội: a working day in office hours, four working days before the task's deadline. */
export const REMINDER_AT = new Date("2025-12-01T02:00:00Z");
/** The task's title, which every reminder quotes: how a simulated official knows one came. */
export const TASK_TITLE = readPlanFile(readFileSync(PLAN_FILE, "utf8"), PLAN_FILE).tasks[0]?.title ?? "";

/** The app as the bench process uses it: to seed, to run jobs as an instance would, to check. */
export function benchApp(
  connection: Connection,
  dataKeys: string,
  options: { sendLease?: boolean } = {},
): App {
  return new App({
    connection,
    clock: systemClock,
    log: silentLogger(),
    orgName: ORG_NAME,
    timeZone: TIME_ZONE,
    sealer: new Sealer(parseDataKeys(dataKeys)),
    ...options,
  });
}

/**
 * The demo units, the benchmark's plan and the officials, through the app's own services.
 * Returns each official's person id by "channel:id", where their reports will point.
 */
export async function seedLoad(
  app: App,
  officials: { channel: Channel; id: string }[],
): Promise<Map<string, string>> {
  const now = new Date();
  await app.ensureIndexes();
  const units = readUnitsFile(path.join(DATA_DIR, "units", "demo.yaml"));
  await app.units.upsert(units);
  await importPlanFile(app, PLAN_FILE, now);
  const ids = new Map<string, string>();
  for (const [i, official] of officials.entries()) {
    const speaker = await app.people.ensurePerson(
      official.channel,
      official.id,
      { role: "staff", name: `Cán bộ thử tải ${i + 1}`, unitId: units[i % units.length]?.key ?? "van-phong" },
      now,
    );
    ids.set(`${official.channel}:${official.id}`, speaker.personId);
  }
  return ids;
}

/**
 * Runs the reminders job for REMINDER_AT once per app, all at the same moment, as instances
 * whose schedulers fire together would; each app should have its own connection. The job only
 * writes the outbox: the running bots deliver.
 */
export async function runReminders(apps: App[], connections: Connection[]): Promise<RunOutcome[]> {
  const clock = new FixedClock(REMINDER_AT);
  const runners = apps.map(
    (app, i) =>
      new JobRunner(
        { app, clock, settings: DEFAULT_JOB_SETTINGS, timeZone: TIME_ZONE, log: silentLogger() },
        connections[i] ?? app.models.Outbox.db,
      ),
  );
  await runners[0]?.init();
  return Promise.all(runners.map((runner) => runner.runDue(remindersJob, REMINDER_AT)));
}
