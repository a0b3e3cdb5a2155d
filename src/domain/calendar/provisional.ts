import { t } from "../../text/vi.js";
import { formatDay, type Day, type WorkCalendar } from "./work-calendar.js";

/** Past this many undecided days, the note names the span instead. */
const MAX_DAYS = 3;

/**
 * " (tạm tính: …)" to write beside a deadline whose count of working days between `from` and
 * `to` may still change — it runs into a year the calendar has no days off for, or across days
 * off not decreed yet — else "". The Office reads a deadline it can rely on, or one that says it
 * cannot be relied on yet.
 * @example `Hạn: ${formatDay(due)}${provisionalNote(calendar, today, due)}`
 */
export function provisionalNote(calendar: WorkCalendar, from: Day, to: Day): string {
  const doubts = calendar.doubts(from, to);
  if (!doubts) return "";
  const parts: string[] = [];
  if (doubts.unknownYears.length > 0) parts.push(t.calendar.unknownYears(doubts.unknownYears));
  if (doubts.undecided.length > 0) {
    for (const span of doubts.undecided)
      parts.push(t.calendar.undecidedSpan(formatDay(span.from), formatDay(span.to)));
  } else if (doubts.pending.length > 0) {
    const days = doubts.pending.slice(0, MAX_DAYS).map((p) => formatDay(p.day));
    parts.push(t.calendar.pendingDays(doubts.pending.length > MAX_DAYS ? [...days, "…"] : days));
  }
  return t.calendar.provisional(parts);
}
