import { describe, expect, it } from "vitest";
import { dayOf } from "../../src/domain/calendar/work-calendar.js";
import { local as dayjsLocal } from "../../src/clock.js";
import { dateParts, formatNumber, formatPercent } from "../../src/domain/reports/format.js";
import { localTime } from "../../src/domain/reports/local-time.js";
import { parsePeriod } from "../../src/domain/reports/period.js";
import { renderOfficeSummary, renderTicketStats } from "../../src/domain/reports/render.js";
import { statsArgs } from "../../src/domain/reports/stats-command.js";
import { summarize } from "../../src/domain/plans/summary.js";
import { useDatabase } from "../support/db.js";
import { buildFixture, TODAY } from "./reports-fixture.js";

const db = useDatabase(import.meta.filename);

describe("Vietnamese numbers and dates", () => {
  it("writes thousands with dots and decimals with a comma", () => {
    expect(formatNumber(1234)).toBe("1.234");
    expect(formatNumber(1234567)).toBe("1.234.567");
    expect(formatNumber(999)).toBe("999");
    expect(formatNumber(0)).toBe("0");
    expect(formatNumber(-1234.5, 1)).toBe("-1.234,5");
    expect(formatNumber(10.5, 1)).toBe("10,5");
    expect(formatNumber(3, 1)).toBe("3");
    expect(formatNumber(2 / 3, 2)).toBe("0,67");
    expect(formatPercent(12.5)).toBe("12,5%");
    expect(formatPercent(100 / 3)).toBe("33,3%");
    expect(formatPercent(100)).toBe("100%");
    expect(formatPercent(1234.56)).toBe("1.234,6%");
  });

  it("writes the date line of a document with the leading zeros Nghị định 30 asks for", () => {
    expect(dateParts("2025-02-05")).toEqual({ day: "05", month: "02", year: "2025" });
    expect(dateParts("2025-10-06")).toEqual({ day: "06", month: "10", year: "2025" });
    expect(dateParts("2025-03-15")).toEqual({ day: "15", month: "3", year: "2025" });
  });
});

describe("the fast wall clock of the report files", () => {
  it("gives the same day and time as the app's clock helpers, across midnight and summer time", () => {
    for (const zone of ["Asia/Ho_Chi_Minh", "Europe/Berlin", "America/St_Johns"]) {
      const local = localTime(zone);
      for (let ms = Date.UTC(2025, 0, 1); ms < Date.UTC(2026, 0, 1); ms += 3_600_000 * 19 + 61_000) {
        const at = new Date(ms);
        expect(local.day(at), `${zone} ${at.toISOString()}`).toBe(dayOf(at, zone));
        expect(local.wallClock(at).toISOString().slice(0, 19)).toBe(
          dayjsLocal(at, zone).format("YYYY-MM-DDTHH:mm:ss"),
        );
      }
    }
  });
});

describe("periods typed after /tonghop", () => {
  const id = (text: string, today = "2025-10-06") => {
    const result = parsePeriod(text, today);
    return "period" in result
      ? `${result.period.id} ${result.period.start}..${result.period.end}`
      : result.error;
  };

  it("reads quarters, halves and years, with or without diacritics", () => {
    expect(id("")).toBe("2025-Q4 2025-10-01..2025-12-31");
    expect(id("quý 3")).toBe("2025-Q3 2025-07-01..2025-09-30");
    expect(id("quy IV 2025")).toBe("2025-Q4 2025-10-01..2025-12-31");
    expect(id("Q2 năm 2025")).toBe("2025-Q2 2025-04-01..2025-06-30");
    expect(id("6 tháng")).toBe("2025-H1 2025-01-01..2025-06-30");
    expect(id("6 thang cuoi nam 2025")).toBe("2025-H2 2025-07-01..2025-12-31");
    expect(id("năm")).toBe("2025 2025-01-01..2025-12-31");
    expect(id("2024")).toBe("2024 2024-01-01..2024-12-31");
  });

  it("takes last year's period when this year's has not begun, and refuses a future one", () => {
    expect(id("quý 4", "2026-01-05")).toBe("2025-Q4 2025-10-01..2025-12-31");
    expect(id("quý 1 2026")).toBe("future");
    expect(id("tuần này")).toBe("usage");
  });

  it("recognises a request for statistics", () => {
    expect(statsArgs("thống kê quý 4")).toBe("quy 4");
    expect(statsArgs("thongke")).toBe("");
    expect(statsArgs("Thong ke")).toBe("");
    expect(statsArgs("gop y qua han")).toBeUndefined();
    expect(statsArgs("thongkex")).toBeUndefined();
  });
});

describe("the Office's summary on fixed data", () => {
  it("counts every unit's tasks exactly, with the ones done on time and the ones at risk", async () => {
    const { app } = await buildFixture(db.connection);
    const period = parsePeriod("", TODAY);
    if (!("period" in period)) throw new Error("no period");
    const s = await app.reports.summary(period.period, TODAY);

    expect(s.asOf).toBe("2025-12-22");
    expect(
      s.units.map((u) => [
        u.unit.key,
        u.total,
        u.done,
        u.doneOnTime,
        u.inProgress,
        u.notStarted,
        u.blocked,
        u.overdue,
      ]),
    ).toEqual([
      // II.2 done 20/11 (due 15/12): on time; II.3 done again 01/12 after reopening (due 28/11): late.
      ["van-phong", 4, 2, 1, 1, 1, 0, 0],
      // III.1 done 25/11 (due 31/12): on time; II.3 in progress past 28/11: overdue.
      ["ke-hoach-tai-chinh", 3, 1, 1, 1, 0, 1, 1],
    ]);
    expect(s.plans.map((p) => [p.plan.code, p.done, p.total, p.percent])).toEqual([["TEST-2025", 3, 7, 43]]);
    expect(s.totals).toEqual({ total: 7, done: 3, doneOnTime: 2, overdue: 1, percent: 43 });
    expect(s.summary.atRisk.map((a) => [a.task.code, a.unit.key, a.daysLeft])).toEqual([
      ["II.3", "ke-hoach-tai-chinh", -16],
      ["II.1", "van-phong", 7],
      ["II.1", "ke-hoach-tai-chinh", 7],
      ["III.1", "van-phong", 7],
    ]);

    // The same numbers as plans/summary.ts gives /kehoach and the digests.
    const shared = await summarize(app.plans, TODAY);
    expect(shared.plans.map((p) => [p.done, p.total, p.percent])).toEqual([[3, 7, 43]]);
    expect(shared.units.map((u) => [u.unit.key, u.total, u.byStatus, u.overdue])).toEqual(
      s.summary.units.map((u) => [u.unit.key, u.total, u.byStatus, u.overdue]),
    );

    const text = renderOfficeSummary(s);
    expect(text).toContain("Tổng hợp kết quả thực hiện kế hoạch quý IV năm 2025");
    expect(text).toContain("Số liệu đến ngày 22/12/2025.");
    expect(text).toContain(": 3/7 việc hoàn thành (43%)");
    expect(text).toContain(
      "• Văn phòng Sở: 4 việc — hoàn thành 2 (đúng hạn 1), đang thực hiện 1, chưa bắt đầu 1, vướng mắc 0, quá hạn 0",
    );
    expect(text).toContain("• II.3 — Phòng Kế hoạch – Tài chính — hạn 28/11/2025 (quá hạn 16 ngày làm việc)");
    // Every line fits a platform's message on its own, so the channels split between lines.
    expect(Math.max(...text.split("\n").map((l) => l.length))).toBeLessThan(2000);
  });

  it("takes a past quarter's figures at its last day, and has nothing for a quarter without plans", async () => {
    const { app } = await buildFixture(db.connection);
    const q3 = parsePeriod("quý 3", TODAY);
    if (!("period" in q3)) throw new Error("no period");
    const s = await app.reports.summary(q3.period, TODAY);
    expect(s.asOf).toBe("2025-09-30");
    expect(s.plans).toEqual([]);
    expect(s.units).toEqual([]);
  });
});

describe("ticket statistics on fixed data", () => {
  it("computes the on-time share, the average handling days and the average rating exactly", async () => {
    const { app } = await buildFixture(db.connection);
    const period = parsePeriod("quý 4 2025", TODAY);
    if (!("period" in period)) throw new Error("no period");
    const all = await app.reports.ticketStats(period.period, TODAY);
    expect(all.total).toBe(5);
    // Due: t1 (answered on time), t2 (answered late), t3 (open past its due day). Not t4 (not yet
    // due) nor t5 (refused).
    expect([all.onTime, all.due]).toEqual([1, 3]);
    expect(all.answered).toBe(2);
    expect(all.averageHandlingDays).toBe(10.5); // (3 + 18) / 2
    expect([all.averageRating, all.rated]).toEqual([3.5, 2]); // (5 + 2) / 2
    expect(all.byType).toEqual([
      { key: "gop_y", count: 2 },
      { key: "kien_nghi", count: 1 },
      { key: "phan_anh", count: 1 },
      { key: "to_cao", count: 1 },
    ]);
    expect(all.byStatus).toEqual([
      { key: "closed", count: 2 },
      { key: "assigned", count: 1 },
      { key: "new", count: 1 },
      { key: "rejected", count: 1 },
    ]);
    expect(all.byUnit).toEqual([
      { key: "", count: 2 },
      { key: "ke-hoach-tai-chinh", count: 2 },
      { key: "van-phong", count: 1 },
    ]);

    const labels = await app.reports.labels();
    const text = renderTicketStats(all, period.period, {
      type: labels.ticketType,
      field: labels.ticketField,
      unit: labels.unit,
    });
    expect(text).toContain("Giải quyết đúng hạn: 1/3 phản ánh đã đến hạn (33,3%).");
    expect(text).toContain("Thời gian xử lý bình quân: 10,5 ngày");
    expect(text).toContain("Mức độ hài lòng bình quân: 3,5/5 (2 lượt đánh giá).");
    expect(text).toContain("• Góp ý: 2 (40%)");
    expect(text).toContain("• Chưa giao đơn vị: 2 (40%)");

    // A unit's own tickets only: t1 (on time, 3 days, rated 5) and t3 (open, late).
    const unit = await app.reports.ticketStats(period.period, TODAY, "ke-hoach-tai-chinh");
    expect([unit.total, unit.onTime, unit.due, unit.averageHandlingDays, unit.averageRating]).toEqual([
      2, 1, 2, 3, 5,
    ]);
  });

  it("counts models by status and field", async () => {
    const { app } = await buildFixture(db.connection);
    const stats = await app.reports.modelStats(2025);
    expect(stats.total).toBe(3);
    // The fixture's plan has no task asking for registrations: no deadline, so none is late.
    expect(stats.late).toBe(0);
    expect(stats.byStatus.filter((c) => c.count > 0)).toEqual([
      { key: "registered", count: 2 },
      { key: "passed", count: 1 },
    ]);
    expect(stats.byField).toEqual([
      { key: "cai_cach_hanh_chinh", count: 2 },
      { key: "khoi_nghiep", count: 1 },
    ]);
    expect((await app.reports.modelStats(2025, "van-phong")).total).toBe(1);
  });
});
