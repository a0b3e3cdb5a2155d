import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FixedClock } from "../../src/clock.js";
import { readPlanFile } from "../../src/domain/plans/plan-file.js";
import { citedDate } from "../../src/domain/plans/schema.js";
import { DataFileError } from "../../src/domain/data-file.js";
import { draftReport } from "../../src/domain/reports/docx.js";
import { parsePeriod } from "../../src/domain/reports/period.js";
import { DATA_DIR } from "../../src/paths.js";
import { buildApp, useDatabase } from "../support/db.js";
import { paragraphs, unzip } from "./reports-fixture.js";

const db = useDatabase(import.meta.filename);
const DONG_NAI = path.join(DATA_DIR, "plans", "ke-hoach-dan-van-chinh-quyen-quy4-2025-dong-nai.yaml");

describe("a blank in a plan's source stays blank", () => {
  it("the Đồng Nai plan, printed 'ngày __ tháng 11 năm 2025', has a month and no day", () => {
    const plan = readPlanFile(readFileSync(DONG_NAI, "utf8"), DONG_NAI);
    expect(plan.document.date).toBeUndefined();
    expect(plan.document.month).toBe("2025-11");
    expect(citedDate(plan.document)).toBe("… tháng 11 năm 2025");
    expect(citedDate({ number: "1", issuer: "Sở", date: "2025-11-05" })).toBe("05/11/2025");
    expect(citedDate({ number: "1", issuer: "Sở" })).toBeUndefined();
  });

  it("refuses a month that is not one", () => {
    const text = readFileSync(DONG_NAI, "utf8").replace("month: 2025-11", "month: 2025-13");
    expect(() => readPlanFile(text, "plan.yaml")).toThrow(DataFileError);
  });

  it("the report draft cites it as 'ngày … tháng 11 năm 2025', never with an invented day", async () => {
    const now = new Date("2025-12-22T02:00:00Z");
    const { app } = await buildApp(db.connection, new FixedClock(now));
    await app.plans.importPlan(readPlanFile(readFileSync(DONG_NAI, "utf8"), DONG_NAI), "dong-nai.yaml", now);
    const period = parsePeriod("quý 4 2025", "2025-12-22");
    if (!("period" in period)) throw new Error("period");
    const data = await app.reports.exportData(period.period, "2025-12-22");
    const xml =
      unzip(await draftReport(data))
        .get("word/document.xml")
        ?.toString("utf8") ?? "";
    const text = paragraphs(xml).join("\n");
    expect(text).toContain("Kế hoạch số …/KH-SKHCN ngày … tháng 11 năm 2025 của Sở Khoa học và Công nghệ");
    expect(text).not.toContain("01/11/2025");
  });
});
