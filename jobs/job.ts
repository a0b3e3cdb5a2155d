import type { App } from "../src/app.js";
import type { Clock } from "../src/clock.js";
import type { JobSettings } from "../src/config.js";
import { dayOf, type Day } from "../src/domain/calendar/work-calendar.js";
import { local } from "../src/clock.js";
import type { Logger } from "../src/log.js";

export interface JobContext {
  app: App;
  clock: Clock;
  settings: JobSettings;
  timeZone: string;
  log: Logger;
}

/**
 * A scheduled job. It decides, the outbox delivers: `run` only writes outbox messages whose dedupe
 * keys make a rerun harmless. `slot` names the occasion a run belongs to (a day, a week, a
 * quarter), so that one run per slot happens across restarts and instances.
 */
export interface Job {
  name: string;
  /** node-cron expression in the Department's time zone: when to look. */
  cron: string;
  /** One Vietnamese line for `jobs:list`. */
  description: string;
  /** The slot `at` belongs to, or undefined when the job must not act now (night, day off). */
  slot(at: Date, ctx: JobContext): string | undefined;
  run(ctx: JobContext, at: Date, slot: string): Promise<{ messages: number }>;
}

/** Today, if `at` is a working day within office hours; messages are not sent at night or on days off. */
export function officeDay(at: Date, ctx: JobContext): Day | undefined {
  const today = dayOf(at, ctx.timeZone);
  if (!ctx.app.plans.calendar.isWorkingDay(today)) return undefined;
  const time = local(at, ctx.timeZone).format("HH:mm");
  const { start, end } = ctx.settings.officeHours;
  return time >= start && time < end ? today : undefined;
}
