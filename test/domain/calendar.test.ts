import path from "node:path";
import { describe, expect, it } from "vitest";
import { local } from "../../src/clock.js";
import { dayOf, loadWorkCalendar } from "../../src/domain/calendar/work-calendar.js";

const calendar = loadWorkCalendar(path.resolve(import.meta.dirname, "../../data/holidays"));

describe("the working-day calendar", () => {
  it("knows weekends, holidays and swapped Saturdays", () => {
    expect(calendar.isWorkingDay("2025-12-31")).toBe(true); // Wednesday
    expect(calendar.isWorkingDay("2026-01-03")).toBe(false); // Saturday
    expect(calendar.isWorkingDay("2026-01-01")).toBe(false); // Tết Dương lịch
    expect(calendar.isWorkingDay("2026-01-02")).toBe(false); // swapped day off
    expect(calendar.isWorkingDay("2026-01-10")).toBe(true); // Saturday worked in exchange
    expect(calendar.holidayName("2026-02-17")).toContain("Tết Nguyên đán");
  });

  it("counts working days across Tết", () => {
    // Fri 13/02/2026 → Mon 23/02/2026: Tết closes 16–20/02, so one working day.
    expect(calendar.workingDaysBetween("2026-02-13", "2026-02-23")).toBe(1);
    expect(calendar.workingDaysBetween("2026-02-23", "2026-02-13")).toBe(-1);
    expect(calendar.addWorkingDays("2026-02-13", 1)).toBe("2026-02-23");
    expect(calendar.addWorkingDays("2026-02-14", 0)).toBe("2026-02-23");
  });

  it("reads a moment as a day in Asia/Ho_Chi_Minh", () => {
    expect(dayOf(new Date("2025-12-31T17:30:00Z"), "Asia/Ho_Chi_Minh")).toBe("2026-01-01");
    expect(dayOf(new Date("2025-12-31T16:59:59.999Z"), "Asia/Ho_Chi_Minh")).toBe("2025-12-31");
    expect(dayOf(new Date(Number.NaN), "Asia/Ho_Chi_Minh")).toBe("Invalid Date");
  });

  it("reads a moment's day as dayjs does, in zones with summer time, odd offsets and a skipped day", () => {
    // A fixed seed: the same moments each run. Around midnight, where a wrong offset shows.
    let seed = 22;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const zones = [
      "Asia/Ho_Chi_Minh",
      "UTC",
      "America/New_York",
      "Australia/Lord_Howe",
      "Asia/Kathmandu",
      "Pacific/Apia",
    ];
    const from = Date.UTC(1960, 0, 1);
    const to = Date.UTC(2100, 0, 1);
    let compared = 0;
    for (const zone of zones) {
      for (let i = 0; i < 400; i += 1) {
        const moment = new Date(from + Math.floor(random() * (to - from)));
        expect(dayOf(moment, zone), `${moment.toISOString()} in ${zone}`).toBe(
          local(moment, zone).format("YYYY-MM-DD"),
        );
        compared += 1;
      }
      // Each side of the day Samoa skipped (30/12/2011) and of summer time's changes in New York.
      for (const iso of [
        "2011-12-30T09:59:59Z",
        "2011-12-30T10:00:00Z",
        "2026-03-08T06:59:59Z",
        "2026-03-08T07:00:00Z",
        "2026-11-01T04:00:00Z",
        "2026-11-01T05:00:00Z",
      ]) {
        const moment = new Date(iso);
        expect(dayOf(moment, zone), `${iso} in ${zone}`).toBe(local(moment, zone).format("YYYY-MM-DD"));
        compared += 1;
      }
    }
    expect(compared).toBe(zones.length * 406);
  });
});

/** Every day from `from` to `to`, inclusive. */
function daysFrom(from: string, to: string): string[] {
  const days: string[] = [];
  for (
    let d = new Date(`${from}T00:00:00Z`);
    d <= new Date(`${to}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() + 1)
  )
    days.push(d.toISOString().slice(0, 10));
  return days;
}

/** A small seeded generator, so a failing case is the same on every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

const TWO_YEARS = daysFrom("2026-01-01", "2027-12-31");
const weekend = (day: string) => [0, 6].includes(new Date(`${day}T00:00:00Z`).getUTCDay());
const inSpan = (day: string, from: string, to: string) => day >= from && day <= to;
const TET_2027 = ["2027-02-01", "2027-02-14"] as const;
const QUOC_KHANH_2027 = ["2027-08-28", "2027-09-05"] as const;

describe("the 2026–2027 calendar, over every day", () => {
  it("knows 2027: Tết Đinh Mùi, Giỗ Tổ, 30/4–1/5 with its day made up, 2/9 are days off", () => {
    expect(calendar.knowsYear(2027)).toBe(true);
    for (const day of ["2027-01-01", "2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11"])
      expect(calendar.isWorkingDay(day), day).toBe(false);
    expect(calendar.isWorkingDay("2027-02-12")).toBe(true); // Friday after Tết
    expect(calendar.holidayName("2027-04-16")).toContain("Giỗ Tổ"); // 10/3 âm lịch
    expect(calendar.isWorkingDay("2027-04-16")).toBe(false);
    expect(calendar.isWorkingDay("2027-04-30")).toBe(false);
    expect(calendar.isWorkingDay("2027-05-03")).toBe(false); // 1/5 is a Saturday: made up on Monday
    expect(calendar.isWorkingDay("2027-05-04")).toBe(true);
    expect(calendar.isWorkingDay("2027-09-02")).toBe(false);
    // Tết no longer counts as working days: 10 working days from Monday 01/02/2027.
    expect(calendar.addWorkingDays("2027-02-01", 10)).toBe("2027-02-22");
  });

  it("counts consistently: n working days on is a working day, n working days away, and counts add up", () => {
    for (const day of TWO_YEARS) {
      for (const n of [0, 1, 5, 10, 30]) {
        const end = calendar.addWorkingDays(day, n);
        expect(calendar.isWorkingDay(end), `${day} + ${n}`).toBe(true);
        expect(calendar.workingDaysBetween(day, end), `${day} + ${n}`).toBe(
          n + (calendar.isWorkingDay(day) ? 0 : 1),
        );
      }
    }
    const random = seeded(2027);
    const pick = () => TWO_YEARS[Math.floor(random() * TWO_YEARS.length)] ?? "2026-01-01";
    for (let i = 0; i < 300; i += 1) {
      const [a, b, c] = [pick(), pick(), pick()];
      expect(calendar.workingDaysBetween(a, b) + calendar.workingDaysBetween(b, a)).toBe(0);
      expect(calendar.workingDaysBetween(a, c)).toBe(
        calendar.workingDaysBetween(a, b) + calendar.workingDaysBetween(b, c),
      );
    }
  });

  it("rests on every weekend day not worked in exchange, and works every other day that is no holiday", () => {
    const worked = new Set(["2026-01-10", "2026-08-22"]);
    for (const day of TWO_YEARS) {
      const expected = worked.has(day) || (!weekend(day) && calendar.holidayName(day) === undefined);
      expect(calendar.isWorkingDay(day), day).toBe(expected);
    }
  });

  it("doubts exactly the counts that cross a 2027 span not decided yet, and none within 2026", () => {
    const random = seeded(112);
    const pick = () => TWO_YEARS[Math.floor(random() * TWO_YEARS.length)] ?? "2026-01-01";
    for (let i = 0; i < 1000; i += 1) {
      const [a, b] = [pick(), pick()].sort() as [string, string];
      const crosses = (span: readonly [string, string]) => a < span[1] && b >= span[0];
      const doubts = calendar.doubts(a, b);
      expect(Boolean(doubts), `${a}..${b}`).toBe(crosses(TET_2027) || crosses(QUOC_KHANH_2027));
      expect(doubts?.unknownYears ?? []).toEqual([]);
      for (const p of doubts?.pending ?? []) expect(inSpan(p.day, a, b) && p.day > a).toBe(true);
    }
  });

  it("never counts a year without a file as ordinary weekdays without saying so", () => {
    expect(calendar.knowsYear(2028)).toBe(false);
    expect(calendar.doubts("2027-12-20", "2028-01-10")?.unknownYears).toEqual([2028]);
    expect(calendar.doubts("2027-12-01", "2027-12-31")).toBeUndefined();
    // What the law fixes by date is still counted: 1/1/2028 (Saturday) is made up on Monday 3/1.
    expect(calendar.isWorkingDay("2028-01-03")).toBe(false);
    expect(calendar.holidayName("2028-05-01")).toContain("1/5");
    expect(calendar.addWorkingDays("2027-12-31", 1)).toBe("2028-01-04");
  });
});
