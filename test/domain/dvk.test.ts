import { describe, expect, it } from "vitest";
import type { ModelContent } from "../../src/domain/dvk/schema.js";
import type { PlanFile } from "../../src/domain/plans/plan-file.js";
import { ModelError } from "../../src/domain/dvk/service.js";
import { parseDay } from "../../src/domain/calendar/work-calendar.js";
import { seedDemoPeople } from "../../src/seed.js";
import { buildApp, consoleSpeaker, useDatabase } from "../support/db.js";

const db = useDatabase(import.meta.filename);

const content = (unitKey: string, name: string): ModelContent => ({
  name,
  field: "khoi_nghiep",
  unitKey,
  personInCharge: "Người phụ trách",
  targetGroup: "Doanh nghiệp khởi nghiệp",
  content: "Nội dung và giải pháp của mô hình thử nghiệm.",
  expectedResults: "Kết quả dự kiến của mô hình thử nghiệm.",
  startDay: "2025-03-01",
  endDay: "2025-12-31",
});

/** The plan whose task III.1 asks for the year's registrations, with the deadline a test gives it. */
const registrationPlan = (deadline: string | undefined): PlanFile => ({
  code: "DVCQ-2025-HY",
  title: "Kế hoạch thử đăng ký mô hình",
  organisation: "Sở Khoa học và Công nghệ",
  period: { from: "2025-01-01", to: "2025-12-31" },
  document: { number: "…", issuer: "Sở Khoa học và Công nghệ" },
  units: [],
  tasks: [
    deadline
      ? { code: "III.1", title: "Đăng ký mô hình", content: "Đăng ký mô hình mới.", units: ["all"], deadline }
      : {
          code: "III.1",
          title: "Đăng ký mô hình",
          content: "Đăng ký mô hình mới.",
          units: ["all"],
          recurrence: "yearly",
        },
  ],
});

describe("Dân vận khéo models", () => {
  it("has no registration deadline, and nothing late, until a plan gives one", async () => {
    const { app, clock } = await buildApp(db.connection);
    await app.models.DvkModel.deleteMany({});
    await app.models.Task.deleteMany({});
    await seedDemoPeople(app, clock.now());
    const staff = await consoleSpeaker(app, "staff");
    expect(await app.dvk.deadline(2025)).toBeUndefined();
    const model = await app.dvk.register(
      content("ke-hoach-tai-chinh", "Mô hình X"),
      staff,
      "2025-10-06",
      clock.now(),
      "x1",
    );
    expect(model.late).toBe(false);
    // A model flagged late against a deadline no plan gives (the old example data) is cleared.
    await app.models.DvkModel.updateOne({ code: model.code }, { $set: { late: true } });
    await app.plans.importPlan(registrationPlan(undefined), "test.yaml", clock.now());
    expect(await app.dvk.reconcileLate("Asia/Ho_Chi_Minh")).toBe(1);
    expect((await app.dvk.byCode(model.code))?.late).toBe(false);
    await app.models.DvkModel.deleteMany({});
    await app.models.Task.deleteMany({});
  });

  it("reads dates as people type them", () => {
    expect(["15/3/2025", "15-03-2025", "2025-03-15", "15.03.2025"].map(parseDay)).toEqual(
      Array(4).fill("2025-03-15"),
    );
    expect(["31/02/2025", "2025-13-01", "mai", "15/03/25"].map(parseDay)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it("numbers models per year, flags late ones, and shows each unit only its own", async () => {
    const { app, clock } = await buildApp(db.connection);
    await seedDemoPeople(app, clock.now());
    const who = (id: string) => consoleSpeaker(app, id);
    const staff = await who("staff");
    const other = await who("staff-khoahoc");
    // The deadline is the one of the plan task rules.yaml names (DVCQ-2025-HY III.1): test data here.
    await app.plans.importPlan(registrationPlan("2025-03-31"), "test.yaml", clock.now());
    expect(await app.dvk.deadline(2025)).toEqual({
      day: "2025-03-31",
      planCode: "DVCQ-2025-HY",
      taskCode: "III.1",
    });
    expect(await app.dvk.deadline(2026)).toBeUndefined();
    const onTime = await app.dvk.register(
      content("ke-hoach-tai-chinh", "Mô hình A"),
      staff,
      "2025-03-20",
      clock.now(),
      "r1",
    );
    const late = await app.dvk.register(
      content("quan-ly-khoa-hoc", "Mô hình B"),
      other,
      "2025-04-02",
      clock.now(),
      "r2",
    );
    expect([onTime.code, onTime.late, late.code, late.late]).toEqual([
      "MH-2025-001",
      false,
      "MH-2025-002",
      true,
    ]);
    expect(
      (
        await app.dvk.register(
          content("ke-hoach-tai-chinh", "Mô hình A"),
          staff,
          "2025-03-20",
          clock.now(),
          "r1",
        )
      ).code,
    ).toBe("MH-2025-001");
    const next = await app.dvk.register(
      content("ke-hoach-tai-chinh", "Mô hình C"),
      staff,
      "2026-01-05",
      clock.now(),
      "r3",
    );
    expect(next.code).toBe("MH-2026-001");
    expect(app.dvk.canSee(staff, late)).toBe(false);
    expect(app.dvk.canSee(await who("leader"), late)).toBe(true);
    await expect(app.dvk.addResult(late.code, "Kết quả", [], staff, clock.now())).rejects.toThrow(ModelError);
    await expect(app.dvk.decide(late.code, "passed", "Tốt", staff, clock.now())).rejects.toThrow("forbidden");
    await expect(
      app.dvk.decide(late.code, "recognised", "Tốt", await who("office"), clock.now()),
    ).rejects.toThrow("bad_state");
  });
});
