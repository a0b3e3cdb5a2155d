import dayjs, { type Dayjs } from "dayjs";
import timezone from "dayjs/plugin/timezone.js";
import utc from "dayjs/plugin/utc.js";

dayjs.extend(utc);
dayjs.extend(timezone);

/** The one source of "now". Jobs, deadlines and expiries read it, so tests can move time. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock that stands still until told to move; for tests and `jobs:run --at`. */
export class FixedClock implements Clock {
  private current: number;
  constructor(start: Date | string) {
    this.current = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  set(to: Date | string): void {
    this.current = new Date(to).getTime();
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

export const DEFAULT_TIME_ZONE = "Asia/Ho_Chi_Minh";

/** `date` seen in the Department's time zone. */
export function local(date: Date, timeZone: string = DEFAULT_TIME_ZONE): Dayjs {
  return dayjs(date).tz(timeZone);
}

/** Vietnamese date format used in every message: 31/12/2025. */
export function formatDate(date: Date, timeZone: string = DEFAULT_TIME_ZONE): string {
  return local(date, timeZone).format("DD/MM/YYYY");
}

/** 08:05 31/12/2025 */
export function formatDateTime(date: Date, timeZone: string = DEFAULT_TIME_ZONE): string {
  return local(date, timeZone).format("HH:mm DD/MM/YYYY");
}
