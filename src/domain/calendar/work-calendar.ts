import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import dayjs from "dayjs";
import utc from "dayjs/plugin/utc.js";
import { parse } from "yaml";
import { z } from "zod";
import { local } from "../../clock.js";

dayjs.extend(utc);

/** A calendar day, `YYYY-MM-DD`, in the Department's time zone. */
export type Day = string;

const dayString = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const yearSchema = z.object({
  year: z.number().int(),
  holidays: z.array(z.object({ date: z.union([dayString, z.date()]), name: z.string() })),
  workingWeekendDays: z
    .array(z.object({ date: z.union([dayString, z.date()]), note: z.string().optional() }))
    .nullish(),
});
export type HolidayYear = {
  year: number;
  holidays: { date: Day; name: string }[];
  workingWeekendDays: Day[];
};

const asDay = (value: string | Date): Day =>
  typeof value === "string" ? value : value.toISOString().slice(0, 10);

/** The day `date` falls on in `timeZone`. */
export function dayOf(date: Date, timeZone: string): Day {
  return local(date, timeZone).format("YYYY-MM-DD");
}

/**
 * A date as people type it: 31/12/2025, 1/2/2026, 31-12-2025 or 2025-12-31. Undefined when it
 * is not a real day (31/02 included).
 */
export function parseDay(text: string): Day | undefined {
  const trimmed = text.trim();
  const vn = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(trimmed);
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(trimmed);
  const [y, m, d] = vn ? [vn[3], vn[2], vn[1]] : iso ? [iso[1], iso[2], iso[3]] : [];
  if (!y || !m || !d) return undefined;
  const day = `${y}-${m.padStart(2, "0")}-${d.padStart(2, "0")}`;
  const date = new Date(`${day}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === day ? day : undefined;
}

/** 31/12/2025, the way every message writes a date. */
export function formatDay(day: Day): string {
  return `${day.slice(8, 10)}/${day.slice(5, 7)}/${day.slice(0, 4)}`;
}

function shift(day: Day, days: number): Day {
  return dayjs.utc(day).add(days, "day").format("YYYY-MM-DD");
}

/**
 * Working days of state agencies: Monday to Friday, minus public holidays and swapped days off,
 * plus the Saturdays worked in exchange. The government fixes those each year (Bộ luật Lao động
 * 2019, art. 112), so they are data in `data/holidays/<year>.yaml`, not a formula.
 */
export class WorkCalendar {
  private readonly holidays = new Map<Day, string>();
  private readonly workedWeekendDays = new Set<Day>();
  readonly years: ReadonlySet<number>;

  constructor(years: HolidayYear[]) {
    for (const year of years) {
      for (const h of year.holidays) this.holidays.set(h.date, h.name);
      for (const d of year.workingWeekendDays) this.workedWeekendDays.add(d);
    }
    this.years = new Set(years.map((y) => y.year));
  }

  holidayName(day: Day): string | undefined {
    return this.holidays.get(day);
  }

  isWorkingDay(day: Day): boolean {
    if (this.workedWeekendDays.has(day)) return true;
    if (this.holidays.has(day)) return false;
    const weekday = dayjs.utc(day).day();
    return weekday !== 0 && weekday !== 6;
  }

  /** The working day `n` working days after `day` (n ≥ 0; n = 0 is `day` itself if it is one, else the next). */
  addWorkingDays(day: Day, n: number): Day {
    let current = day;
    while (!this.isWorkingDay(current)) current = shift(current, 1);
    for (let left = n; left > 0;) {
      current = shift(current, 1);
      if (this.isWorkingDay(current)) left -= 1;
    }
    return current;
  }

  /**
   * Working days from `from` to `to`: how many working days lie after `from` up to and including
   * `to`. Negative when `to` is before `from` (a deadline already passed).
   */
  workingDaysBetween(from: Day, to: Day): number {
    if (from === to) return 0;
    const sign = to > from ? 1 : -1;
    const [start, end] = sign > 0 ? [from, to] : [to, from];
    let count = 0;
    for (let day = shift(start, 1); day <= end; day = shift(day, 1)) if (this.isWorkingDay(day)) count += 1;
    return sign * count;
  }
}

/** Reads every `<year>.yaml` in `dir`. */
export function loadWorkCalendar(dir: string): WorkCalendar {
  const years = readdirSync(dir)
    .filter((f) => /^\d{4}\.ya?ml$/.test(f))
    .map((file) => {
      const data = yearSchema.parse(parse(readFileSync(path.join(dir, file), "utf8")));
      return {
        year: data.year,
        holidays: data.holidays.map((h) => ({ date: asDay(h.date), name: h.name })),
        workingWeekendDays: (data.workingWeekendDays ?? []).map((d) => asDay(d.date)),
      };
    });
  return new WorkCalendar(years);
}
