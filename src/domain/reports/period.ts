import { fold } from "../../text/normalize.js";
import type { Day } from "../calendar/work-calendar.js";
import { periodOf } from "../plans/periods.js";

/** The span a summary or a report file covers: a quarter, a half-year or a year. */
export interface ReportPeriod {
  kind: "quarter" | "half" | "year";
  /** 2025-Q4, 2025-H1, 2025: the ids plans/periods.ts gives the same spans. */
  id: string;
  year: number;
  /** 1–4 for a quarter, 1–2 for a half, 1 for a year. */
  index: number;
  start: Day;
  end: Day;
}

export type PeriodResult = { period: ReportPeriod } | { error: "usage" | "future" };

const RECURRENCE = { quarter: "quarterly", half: "six-monthly", year: "yearly" } as const;

/**
 * The period of a kind, year and index.
 * @example reportPeriod("quarter", 2026, 3) // { id: "2026-Q3", start: "2026-07-01", end: "2026-09-30", … }
 */
export function reportPeriod(kind: ReportPeriod["kind"], year: number, index: number): ReportPeriod {
  const month = kind === "quarter" ? (index - 1) * 3 + 1 : kind === "half" ? (index - 1) * 6 + 1 : 1;
  const span = periodOf(RECURRENCE[kind], `${year}-${String(month).padStart(2, "0")}-01`);
  return { kind, id: span.id, year, index, start: span.start, end: span.end };
}

const QUARTER = /\b(?:quy|q)\s*(iv|iii|ii|i|[1-4])\b/;
const HALF = /\b(?:6\s*thang|sau\s+thang|h\s*([12]))\b/;
const YEAR_WORD = /\bnam\b/;
const YEAR = /\b(20\d{2})\b/;
const ROMAN_INDEX: Record<string, number> = { i: 1, ii: 2, iii: 3, iv: 4 };
/** Words that may stand around a period without changing it ("quý 4 năm 2025", "6 tháng đầu năm"). */
const FILLER = /\b(ky|nam|thang|dau|cuoi|nay|cua)\b/g;

/**
 * Reads the period someone typed after /tonghop or /xuatbaocao, with or without diacritics:
 * "quý 4", "quý IV 2025", "q3 2025", "6 tháng", "6 tháng cuối năm 2025", "năm", "2024".
 * Nothing means the current quarter. Without a year, the latest such period that has begun.
 * @example parsePeriod("quý 4 2025", "2026-01-05") // { period: { id: "2025-Q4", … } }
 * @example parsePeriod("6 tháng", "2025-10-06") // { period: { id: "2025-H1", … } } ("6 tháng" is the first half)
 */
export function parsePeriod(text: string, today: Day): PeriodResult {
  let rest = ` ${fold(text)} `;
  const take = (pattern: RegExp): RegExpExecArray | null => {
    const match = pattern.exec(rest);
    if (match) rest = rest.replace(match[0], " ");
    return match;
  };
  const yearMatch = take(YEAR);
  const quarter = take(QUARTER);
  const half = quarter ? null : take(HALF);
  const yearWord = !quarter && !half && YEAR_WORD.test(rest);
  // "cuối năm" after "6 tháng" is the second half; "đầu năm" (or nothing) the first, as the
  // Office's "báo cáo 6 tháng" means.
  const secondHalf = Boolean(half && (half[1] === "2" || /\bcuoi\b/.test(rest)));
  if (rest.replace(FILLER, " ").trim()) return { error: "usage" };

  const currentYear = Number(today.slice(0, 4));
  let kind: ReportPeriod["kind"];
  let index: number;
  if (quarter) {
    kind = "quarter";
    index = ROMAN_INDEX[quarter[1] ?? ""] ?? Number(quarter[1]);
  } else if (half) {
    kind = "half";
    index = secondHalf ? 2 : 1;
  } else if (yearWord || yearMatch) {
    kind = "year";
    index = 1;
  } else {
    const current = periodOf("quarterly", today);
    return { period: reportPeriod("quarter", currentYear, Number(current.id.slice(-1))) };
  }
  if (yearMatch) {
    const period = reportPeriod(kind, Number(yearMatch[1]), index);
    return period.start > today ? { error: "future" } : { period };
  }
  const period = reportPeriod(kind, currentYear, index);
  return { period: period.start > today ? reportPeriod(kind, currentYear - 1, index) : period };
}

/** The day the figures are taken at: today, or the period's last day when it is over. */
export function asOfDay(period: ReportPeriod, today: Day): Day {
  return today < period.end ? today : period.end;
}
