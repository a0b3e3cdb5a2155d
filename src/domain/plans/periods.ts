import dayjs from "dayjs";
import timezone from "dayjs/plugin/timezone.js";
import utc from "dayjs/plugin/utc.js";
import type { Day } from "../calendar/work-calendar.js";
import type { Recurrence } from "./status.js";

dayjs.extend(utc);
dayjs.extend(timezone);

/** One reporting period of a recurring obligation, e.g. 2025-Q4 ending 2025-12-31. */
export interface Period {
  id: string;
  start: Day;
  end: Day;
}

const pad = (n: number) => String(n).padStart(2, "0");
function lastDay(year: number, month: number): Day {
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return `${year}-${pad(month)}-${pad(days)}`;
}

/** The period of `recurrence` that contains `day`. */
export function periodOf(recurrence: Recurrence, day: Day): Period {
  const year = Number(day.slice(0, 4));
  const month = Number(day.slice(5, 7));
  const span = recurrence === "quarterly" ? 3 : recurrence === "six-monthly" ? 6 : 12;
  const index = Math.floor((month - 1) / span);
  const first = index * span + 1;
  const last = first + span - 1;
  const id =
    recurrence === "quarterly"
      ? `${year}-Q${index + 1}`
      : recurrence === "six-monthly"
        ? `${year}-H${index + 1}`
        : `${year}`;
  return { id, start: `${year}-${pad(first)}-01`, end: lastDay(year, last) };
}

/** The period after `period` for the same recurrence. */
export function nextPeriod(recurrence: Recurrence, period: Period): Period {
  const [y, m, d] = period.end.split("-").map(Number) as [number, number, number];
  const next = new Date(Date.UTC(y, m - 1, d + 1));
  return periodOf(recurrence, next.toISOString().slice(0, 10));
}

/**
 * The moment `day` ends on the Department's wall clock: a summary "as of the end" of a period
 * counts what was reported before it, and nothing after.
 * @example closeOf("2025-12-31", "Asia/Ho_Chi_Minh") // 2025-12-31T17:00:00.000Z
 */
export function closeOf(day: Day, timeZone: string): Date {
  return dayjs.tz(`${day}T00:00:00`, timeZone).add(1, "day").toDate();
}
