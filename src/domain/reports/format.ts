import type { Day } from "../calendar/work-calendar.js";

/*
 * Numbers the Vietnamese way: a dot between thousands and a comma before decimals (1.234,5),
 * as administrative documents write them. Done by hand rather than with Intl: the output must
 * not depend on which ICU data the Node build carries.
 */

function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ".");
}

/**
 * A number with at most `decimals` decimals, trailing zeros dropped.
 * @example formatNumber(1234) // "1.234"
 * @example formatNumber(12.5) // "12,5"
 * @example formatNumber(-1234567.891, 2) // "-1.234.567,89"
 */
export function formatNumber(value: number, decimals = 0): string {
  if (!Number.isFinite(value)) return "–";
  const fixed = Math.abs(value).toFixed(decimals);
  const [whole = "0", fraction = ""] = fixed.split(".");
  const trimmed = fraction.replace(/0+$/, "");
  const negative = value < 0 && Number(fixed) !== 0;
  return `${negative ? "-" : ""}${groupThousands(whole)}${trimmed ? `,${trimmed}` : ""}`;
}

/**
 * A share as a percentage with one decimal at most.
 * @example formatPercent(12.5) // "12,5%"
 * @example formatPercent(100) // "100%"
 */
export function formatPercent(value: number, decimals = 1): string {
  return `${formatNumber(value, decimals)}%`;
}

/** `part` of `whole` in percent; undefined when there is nothing to divide by. */
export function percentOf(part: number, whole: number): number | undefined {
  return whole > 0 ? (100 * part) / whole : undefined;
}

const ROMAN = ["I", "II", "III", "IV"] as const;

/** Quarters are written in Roman numerals in administrative documents: quý IV. */
export function romanQuarter(quarter: number): string {
  return ROMAN[quarter - 1] ?? String(quarter);
}

/**
 * The parts of the date line of a document (Nghị định 30/2020/NĐ-CP, Phụ lục I): days below 10
 * and the months January and February take a leading zero.
 * @example dateParts("2025-02-05") // { day: "05", month: "02", year: "2025" }
 * @example dateParts("2025-10-06") // { day: "06", month: "10", year: "2025" }
 */
export function dateParts(day: Day): { day: string; month: string; year: string } {
  const month = Number(day.slice(5, 7));
  return {
    day: day.slice(8, 10),
    month: month <= 2 ? day.slice(5, 7) : String(month),
    year: day.slice(0, 4),
  };
}
