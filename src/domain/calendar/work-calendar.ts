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
const dayValue = z.union([dayString, z.date()]);
const yearSchema = z.object({
  year: z.number().int(),
  holidays: z.array(
    z.object({
      date: dayValue,
      name: z.string(),
      // false: the government's decision for the year is not out yet ("chưa có quyết định"): the
      // day is an estimate, counted as a day off, and every count across it is provisional.
      confirmed: z.boolean().default(true),
    }),
  ),
  workingWeekendDays: z.array(z.object({ date: dayValue, note: z.string().optional() })).nullish(),
  // Spans whose days off are not decided yet (Tết, the day beside 2/9): a count across one is
  // provisional even where no estimated day off falls, since swaps may still be decreed.
  undecided: z.array(z.object({ from: dayValue, to: dayValue, note: z.string() })).nullish(),
});

/** A span of days whose days off the government has not decided yet. */
export interface Undecided {
  from: Day;
  to: Day;
  note: string;
}

export type HolidayYear = {
  year: number;
  /** `confirmed` defaults to true: a day decreed, or fixed by the law itself. */
  holidays: { date: Day; name: string; confirmed?: boolean }[];
  workingWeekendDays: Day[];
  undecided?: Undecided[];
};

/**
 * A change the Office or an admin made in the chat (stored-days.ts), laid over the files: a day
 * off, a weekend day worked in exchange, or a day back to ordinary (a weekday works, a weekend
 * rests).
 */
export interface DayOverride {
  day: Day;
  kind: "off" | "work" | "ordinary";
  name?: string;
}

/**
 * Why a count of working days may still change: a year the calendar has no days off for, an
 * estimated day off, or a span not decided yet.
 */
export interface Doubts {
  unknownYears: number[];
  pending: { day: Day; name: string }[];
  undecided: Undecided[];
}

const asDay = (value: string | Date): Day =>
  typeof value === "string" ? value : value.toISOString().slice(0, 10);

/**
 * One formatter per time zone, kept: making one loads the zone's rules, using one costs a few
 * microseconds (7 µs a call here, against 219 µs through dayjs's `tz`, which makes one at every
 * call). A confirmation of a ticket asks for days several times, thirty confirmations at once.
 */
const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** The day `date` falls on in `timeZone`. */
export function dayOf(date: Date, timeZone: string): Day {
  // An invalid date reads "Invalid Date" as it always did; Intl would throw.
  if (Number.isNaN(date.getTime())) return local(date, timeZone).format("YYYY-MM-DD");
  let format = dayFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    });
    dayFormats.set(timeZone, format);
  }
  let year = "";
  let month = "";
  let day = "";
  for (const part of format.formatToParts(date)) {
    if (part.type === "year") year = part.value;
    else if (part.type === "month") month = part.value;
    else if (part.type === "day") day = part.value;
  }
  return `${year.padStart(4, "0")}-${month}-${day}`;
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

/** Midnight UTC of a day: plain Date arithmetic, since counts walk day by day over years. */
const utcOf = (day: Day): Date =>
  new Date(Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)) - 1, Number(day.slice(8, 10))));

function shift(day: Day, days: number): Day {
  const date = utcOf(day);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

const yearOf = (day: Day): number => Number(day.slice(0, 4));
const isWeekend = (day: Day): boolean => {
  const weekday = utcOf(day).getUTCDay();
  return weekday === 0 || weekday === 6;
};

/**
 * The days off the law fixes by date (Bộ luật Lao động 2019, art. 112 k.1: 1/1, 30/4, 1/5,
 * 2/9), each moved to the next working day when it falls on a weekend (art. 111 k.3). What the
 * government fixes each year (Tết, the day beside 2/9, swaps) and the lunar Giỗ Tổ are not here.
 * Counted, always as provisional, only in a year the calendar has no days off for.
 */
export function lawDays(year: number): Map<Day, string> {
  const days = new Map<Day, string>();
  const fixed: [string, string][] = [
    ["01-01", "Tết Dương lịch"],
    ["04-30", "Ngày Chiến thắng (30/4)"],
    ["05-01", "Ngày Quốc tế Lao động (1/5)"],
    ["09-02", "Quốc khánh (2/9)"],
  ];
  for (const [monthDay, name] of fixed) days.set(`${year}-${monthDay}`, name);
  for (const [day, name] of [...days]) {
    if (!isWeekend(day)) continue;
    let next = shift(day, 1);
    while (isWeekend(next) || days.has(next)) next = shift(next, 1);
    days.set(next, `Nghỉ bù ${name}`);
  }
  return days;
}

/**
 * Working days of state agencies: Monday to Friday, minus public holidays and swapped days off,
 * plus the Saturdays worked in exchange. The government fixes those each year (Bộ luật Lao động
 * 2019, art. 112), so they are data in `data/holidays/<year>.yaml`, not a formula, with what
 * the Office changed in the chat laid over them (`setOverrides`).
 *
 * The calendar knows what it does not know: a year without a file (nor closed by the Office),
 * a day off not decreed yet and a span not decided make a count across them provisional
 * (`doubts`). In a year it does not know, it still counts the days the law fixes by date.
 */
export class WorkCalendar {
  private readonly holidays = new Map<Day, { name: string; confirmed: boolean }>();
  private readonly workedWeekendDays = new Set<Day>();
  private readonly undecidedSpans: Undecided[] = [];
  private overrides = new Map<Day, DayOverride>();
  private closed = new Set<number>();
  private readonly lawDaysOf = new Map<number, Map<Day, string>>();
  /** The years with a holiday file. */
  readonly years: ReadonlySet<number>;

  constructor(years: HolidayYear[]) {
    for (const year of years) {
      for (const h of year.holidays)
        this.holidays.set(h.date, { name: h.name, confirmed: h.confirmed ?? true });
      for (const d of year.workingWeekendDays) this.workedWeekendDays.add(d);
      this.undecidedSpans.push(...(year.undecided ?? []));
    }
    this.years = new Set(years.map((y) => y.year));
  }

  /**
   * Lays the Office's changes over the files, replacing the previous ones; `closedYears` are
   * the years whose days off the Office declared complete (the decree is in).
   */
  setOverrides(overrides: DayOverride[], closedYears: Iterable<number>): void {
    this.overrides = new Map(overrides.map((o) => [o.day, o]));
    this.closed = new Set(closedYears);
  }

  /** Whether the year's days off are known: it has a file, or the Office declared it complete. */
  knowsYear(year: number): boolean {
    return this.years.has(year) || this.closed.has(year);
  }

  /** Whether the Office declared the year's days off complete in the chat. */
  isClosed(year: number): boolean {
    return this.closed.has(year);
  }

  private law(year: number): Map<Day, string> {
    let days = this.lawDaysOf.get(year);
    if (!days) {
      days = lawDays(year);
      this.lawDaysOf.set(year, days);
    }
    return days;
  }

  holidayName(day: Day): string | undefined {
    const override = this.overrides.get(day);
    if (override) return override.kind === "off" ? (override.name ?? "") : undefined;
    const holiday = this.holidays.get(day)?.name;
    if (holiday !== undefined || this.knowsYear(yearOf(day))) return holiday;
    return this.law(yearOf(day)).get(day);
  }

  isWorkingDay(day: Day): boolean {
    const override = this.overrides.get(day);
    if (override) return override.kind === "work" || (override.kind === "ordinary" && !isWeekend(day));
    if (this.workedWeekendDays.has(day)) return true;
    if (this.holidays.has(day)) return false;
    if (!this.knowsYear(yearOf(day)) && this.law(yearOf(day)).has(day)) return false;
    return !isWeekend(day);
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
    return count === 0 ? 0 : sign * count;
  }

  /**
   * What may still change a count of working days over the days after `from` up to and
   * including `to` (either order): undefined when nothing does.
   * @example calendar.doubts("2026-12-20", "2028-01-10") // { unknownYears: [2028], pending: […], undecided: […] }
   */
  doubts(from: Day, to: Day): Doubts | undefined {
    const [start, end] = from <= to ? [shift(from, 1), to] : [shift(to, 1), from];
    if (start > end) return undefined;
    const unknownYears: number[] = [];
    for (let year = yearOf(start); year <= yearOf(end); year += 1)
      if (!this.knowsYear(year)) unknownYears.push(year);
    const open = (day: Day) => !this.closed.has(yearOf(day));
    const pending = [...this.holidays]
      .filter(([day, h]) => !h.confirmed && day >= start && day <= end && open(day))
      .filter(([day]) => !this.overrides.has(day))
      .map(([day, h]) => ({ day, name: h.name }))
      .sort((a, b) => a.day.localeCompare(b.day));
    const undecided = this.undecidedSpans.filter((u) => u.from <= end && u.to >= start && open(u.from));
    if (unknownYears.length + pending.length + undecided.length === 0) return undefined;
    return { unknownYears, pending, undecided };
  }

  /**
   * The year as the calendar counts it, for the Office to read: each day off (with whether it is
   * decreed) and each weekend day worked, files and chat changes together, in date order.
   */
  yearDays(year: number): {
    off: { day: Day; name: string; confirmed: boolean; changed: boolean }[];
    worked: { day: Day; changed: boolean }[];
    undecided: Undecided[];
  } {
    const inYear = (day: Day) => yearOf(day) === year;
    const confirmedYear = this.closed.has(year);
    const off = new Map<Day, { day: Day; name: string; confirmed: boolean; changed: boolean }>();
    for (const [day, h] of this.holidays)
      if (inYear(day))
        off.set(day, { day, name: h.name, confirmed: h.confirmed || confirmedYear, changed: false });
    if (!this.knowsYear(year))
      for (const [day, name] of this.law(year)) off.set(day, { day, name, confirmed: false, changed: false });
    const worked = new Map<Day, { day: Day; changed: boolean }>();
    for (const day of this.workedWeekendDays) if (inYear(day)) worked.set(day, { day, changed: false });
    for (const o of this.overrides.values()) {
      if (!inYear(o.day)) continue;
      off.delete(o.day);
      worked.delete(o.day);
      if (o.kind === "off")
        off.set(o.day, { day: o.day, name: o.name ?? "", confirmed: true, changed: true });
      if (o.kind === "work") worked.set(o.day, { day: o.day, changed: true });
    }
    const byDay = <T extends { day: Day }>(list: Iterable<T>) =>
      [...list].sort((a, b) => a.day.localeCompare(b.day));
    return {
      off: byDay(off.values()),
      worked: byDay(worked.values()),
      undecided: confirmedYear ? [] : this.undecidedSpans.filter((u) => inYear(u.from)),
    };
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
        holidays: data.holidays.map((h) => ({ date: asDay(h.date), name: h.name, confirmed: h.confirmed })),
        workingWeekendDays: (data.workingWeekendDays ?? []).map((d) => asDay(d.date)),
        undecided: (data.undecided ?? []).map((u) => ({
          from: asDay(u.from),
          to: asDay(u.to),
          note: u.note,
        })),
      };
    });
  return new WorkCalendar(years);
}
