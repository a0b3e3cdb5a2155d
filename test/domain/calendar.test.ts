import path from "node:path";
import { describe, expect, it } from "vitest";
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
  });
});
