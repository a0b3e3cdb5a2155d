import type { Day } from "../calendar/work-calendar.js";

/** Offsets are looked up once per quarter of an hour: no time zone changes its offset more often. */
const BUCKET_MS = 15 * 60_000;

/**
 * Moments seen on the Department's wall clock, fast enough for tens of thousands of rows.
 * `dayOf()` in calendar/work-calendar.ts goes through dayjs and Intl for every call (about a
 * tenth of a millisecond): fine for a message, seconds of blocked event loop for a quarter's
 * tickets and reports. Here Intl is asked once per 15 minutes of time covered, then cached.
 * @example localTime("Asia/Ho_Chi_Minh").day(new Date("2025-12-31T20:00:00Z")) // "2026-01-01"
 */
export function localTime(timeZone: string) {
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
  const offsets = new Map<number, number>();
  const offsetAt = (ms: number): number => {
    const bucket = Math.floor(ms / BUCKET_MS);
    let offset = offsets.get(bucket);
    if (offset === undefined) {
      const probe = bucket * BUCKET_MS;
      const parts = Object.fromEntries(format.formatToParts(new Date(probe)).map((p) => [p.type, p.value]));
      const wall = Date.UTC(
        Number(parts.year),
        Number(parts.month) - 1,
        Number(parts.day),
        Number(parts.hour),
        Number(parts.minute),
        Number(parts.second),
      );
      offset = wall - probe;
      offsets.set(bucket, offset);
    }
    return offset;
  };
  /** A Date whose UTC fields read as the local wall-clock time (what Excel shows as is). */
  const wallClock = (at: Date): Date => new Date(at.getTime() + offsetAt(at.getTime()));
  return {
    wallClock,
    /** The local day of a moment, YYYY-MM-DD. */
    day: (at: Date): Day => wallClock(at).toISOString().slice(0, 10),
  };
}
