import dayjs from "dayjs";
import timezone from "dayjs/plugin/timezone.js";
import utc from "dayjs/plugin/utc.js";
import type { App } from "../src/app.js";
import type { Clock } from "../src/clock.js";
import type { JobSettings } from "../src/config.js";
import { dayOf, type Day } from "../src/domain/calendar/work-calendar.js";
import { local } from "../src/clock.js";
import type { Logger } from "../src/log.js";

dayjs.extend(utc);
dayjs.extend(timezone);

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
  /**
   * Minutes into office hours of the day's first look (see `looks`); the jobs are staggered so
   * that the morning's messages reach a person in the same order every day.
   */
  firstLookAfter: number;
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

type OfficeHours = JobSettings["officeHours"];

const minutesOf = (time: string): number => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));
const timeOf = (minutes: number): string =>
  `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;

/**
 * The local times ("HH:mm") a job looks each day: `firstLookAfter` minutes into office hours (at
 * their start when that would be past their end), then every hour while they last.
 *
 * Why the times follow OFFICE_HOURS: a job acts only inside them (its slot is undefined outside),
 * so a fixed time before their start looked only when nothing may be sent, and the job never ran.
 * Why hourly after the first: a run that failed, or whose process died, is retried the same day;
 * the slot keeps it to one run per day, week or quarter whatever the number of looks.
 */
export function looks(job: Pick<Job, "firstLookAfter">, hours: OfficeHours): string[] {
  const [start, end] = [minutesOf(hours.start), minutesOf(hours.end)];
  const first = start + job.firstLookAfter < end ? start + job.firstLookAfter : start;
  const times: string[] = [];
  for (let at = first; at < end; at += 60) times.push(timeOf(at));
  return times;
}

/**
 * The node-cron expression of `looks` (same minute, consecutive hours, every day: the calendar
 * and the slot decide which days act).
 * @example cronOf({ firstLookAfter: 45 }, { start: "07:30", end: "17:00" }) // "15 8-16 * * *"
 */
export function cronOf(job: Pick<Job, "firstLookAfter">, hours: OfficeHours): string {
  const times = looks(job, hours);
  const [first, last] = [times[0], times.at(-1)];
  // OFFICE_HOURS is refused at start unless it begins before it ends (src/config.ts).
  if (!first || !last) throw new Error(`office hours ${hours.start}-${hours.end} leave no time to look`);
  const hour = (time: string) => Number(time.slice(0, 2));
  const span = first === last ? `${hour(first)}` : `${hour(first)}-${hour(last)}`;
  return `${Number(first.slice(3))} ${span} * * *`;
}

/** The instant of a local time on a day in the Department's time zone. */
export function atLocal(day: Day, time: string, timeZone: string): Date {
  return dayjs.tz(`${day} ${time}`, timeZone).toDate();
}
