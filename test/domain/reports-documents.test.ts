import { readFileSync } from "node:fs";
import path from "node:path";
import { PassThrough } from "node:stream";
import { createCanvas, loadImage } from "@napi-rs/canvas";
import ExcelJS from "exceljs";
import { describe, expect, it } from "vitest";
import type { App } from "../../src/app.js";
import { FixedClock } from "../../src/clock.js";
import { readPlanFile } from "../../src/domain/plans/plan-file.js";
import { citedDate } from "../../src/domain/plans/schema.js";
import { draftReport } from "../../src/domain/reports/docx.js";
import type { ExportData, Letterhead } from "../../src/domain/reports/export-data.js";
import { parsePeriod } from "../../src/domain/reports/period.js";
import { writeWorkbook } from "../../src/domain/reports/xlsx.js";
import { readUnitsFile } from "../../src/domain/units/service.js";
import { DATA_DIR } from "../../src/paths.js";
import { seedDemoPeople, seedDemoPlan, shippedPlanFiles } from "../../src/seed.js";
import { buildApp, useDatabase } from "../support/db.js";
import { buildFixture, paragraphs, TODAY, unzip } from "./reports-fixture.js";

/*
 * The content rules of the report files (issue 20), asserted on the files themselves for the
 * small fixture, the demo and the two shipped plans: what a Giám đốc would sign and the Office
 * print, not only what parses.
 */

const db = useDatabase(import.meta.filename);

const LETTERHEAD: Letterhead = {
  parent: "UBND TỈNH ĐỒNG NAI",
  place: "Đồng Nai",
  recipients: [
    "Ban Tuyên giáo và Dân vận Tỉnh ủy (để báo cáo)",
    "UBND tỉnh (để báo cáo)",
    "Sở Nội vụ (để theo dõi)",
  ],
};

const periodOf = (text: string, today: string) => {
  const result = parsePeriod(text, today);
  if (!("period" in result)) throw new Error(text);
  return result.period;
};

interface Draft {
  /** Every paragraph, tables included. */
  lines: string[];
  /** The paragraphs outside tables: the sentences of the report. */
  prose: string[];
  xml: string;
}

async function draftOf(data: ExportData): Promise<Draft> {
  const xml =
    unzip(await draftReport(data))
      .get("word/document.xml")
      ?.toString("utf8") ?? "";
  return { lines: paragraphs(xml), prose: paragraphs(xml.replace(/<w:tbl>[\s\S]*?<\/w:tbl>/g, "")), xml };
}

async function workbookOf(data: ExportData): Promise<ExcelJS.Workbook> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (chunk: Buffer) => chunks.push(chunk));
  await writeWorkbook(data, out);
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(Buffer.concat(chunks) as unknown as Parameters<typeof workbook.xlsx.load>[0]);
  return workbook;
}

/** The rules every draft keeps, whatever the data. */
function expectSignable(draft: Draft, data: ExportData): void {
  const text = draft.prose.join("\n");
  // No file paths, no counts of nothing, no counting that does not say what it counts.
  expect(text).not.toMatch(/\b[\w-]+\/[\w./-]+\.(ya?ml|json|ts)\b/);
  expect(text).not.toMatch(/(^|[\s(])0 (việc|lượt|ý kiến|phản ánh|nhiệm vụ|mô hình|đơn vị)/m);
  expect(text).not.toMatch(/\bviệc quá hạn\b|\d+ việc\b/);
  expect(text).toContain("lượt nhiệm vụ của đơn vị");
  // "1 mô hình …, trong đó 1 mô hình đã đăng ký" says nothing.
  expect(text).not.toMatch(/(\d+) mô hình[^.]*trong đó \1 mô hình/);
  // Praise only where the figures carry it.
  if (data.summary.totals.percent < 80) expect(text).not.toMatch(/cơ bản hoàn thành/);
  // Each overdue task named once, however many of its units are late.
  const overdue = draft.prose.slice(draft.prose.indexOf("2. Tồn tại, hạn chế, khó khăn, vướng mắc"));
  const named = overdue.flatMap((line) => [...line.matchAll(/^- Nhiệm vụ (\S+) \(/g)].map((m) => m[1]));
  expect(new Set(named).size).toBe(named.length);
  // The table of units: its header row repeats on each page, no row splits, the last unit's row
  // keeps with the total row.
  const table = /<w:tbl>[\s\S]*?<\/w:tbl>/g;
  const units = [...draft.xml.matchAll(table)].map((m) => m[0]).find((x) => x.includes("Số lượt được giao"));
  const rows = units?.split("</w:tr>").slice(0, -1) ?? [];
  expect(rows.length).toBe(data.summary.units.length + 2);
  expect(rows[0]).toContain("<w:tblHeader/>");
  expect(rows.every((row) => row.includes("<w:cantSplit/>"))).toBe(true);
  expect(rows.at(-2)).toContain("<w:keepNext/>");
  // A plan is cited by the date it gives, never by one made up.
  const intro = draft.prose.find((line) => line.startsWith("Thực hiện Kế hoạch")) ?? "";
  for (const { plan } of data.summary.plans) {
    const cited = new RegExp(`Kế hoạch số ${escape(plan.document.number)} (?:ngày (.+?) )?của`).exec(intro);
    expect(cited).not.toBeNull();
    // A day the source gives, the month alone where it left the day blank ("… tháng 11 năm 2025").
    expect(cited?.[1]).toBe(citedDate(plan.document));
  }
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The workbook prints: landscape A4, as wide as the page, headers repeated, frozen and shown whole. */
function expectPrintable(workbook: ExcelJS.Workbook): void {
  for (const sheet of workbook.worksheets) {
    expect(sheet.pageSetup).toMatchObject({
      orientation: "landscape",
      fitToPage: true,
      fitToWidth: 1,
      fitToHeight: 0,
      printTitlesRow: "1:1",
    });
    expect(sheet.views[0]).toMatchObject({ state: "frozen", ySplit: 1 });
    sheet.getRow(1).eachCell((cell, column) => {
      const longest = Math.max(
        ...String(cell.value)
          .split(/\s+/)
          .map((w) => w.length),
      );
      expect(sheet.getColumn(column).width ?? 0).toBeGreaterThanOrEqual(longest + 2);
    });
    sheet.eachRow((row) =>
      row.eachCell((cell) => {
        expect(cell.font?.name).toBe("Times New Roman");
        // Words for every code: periods, channels.
        expect(String(cell.value)).not.toMatch(/^(\d{4}-[QH]\d|once|console|telegram|zalo)$/);
      }),
    );
  }
}

/** Pixels of a colour in a PNG. */
async function pixels(png: Buffer, [r, g, b]: [number, number, number]): Promise<number> {
  const image = await loadImage(png);
  const canvas = createCanvas(image.width, image.height);
  const ctx = canvas.getContext("2d");
  ctx.drawImage(image, 0, 0);
  const data = ctx.getImageData(0, 0, image.width, image.height).data;
  let count = 0;
  for (let i = 0; i < data.length; i += 4)
    if (data[i] === r && data[i + 1] === g && data[i + 2] === b) count += 1;
  return count;
}

const OVERDUE_RED: [number, number, number] = [0xc6, 0x28, 0x28];

async function withLetterhead(app: App, text: string, today: string): Promise<ExportData> {
  const data = await app.reports.exportData(periodOf(text, today), today);
  return { ...data, letterhead: LETTERHEAD };
}

describe("report documents the Office can send upward", () => {
  it("prints the configured parent body, place and recipients, and the units' own words", async () => {
    const { app } = await buildFixture(db.connection);
    const draft = await draftOf(await withLetterhead(app, "", TODAY));
    expect(draft.lines).toContain("UBND TỈNH ĐỒNG NAI");
    expect(draft.lines).toContain("Đồng Nai, ngày 22 tháng 12 năm 2025");
    const recipients = draft.lines.slice(
      draft.lines.indexOf("Nơi nhận:") + 1,
      draft.lines.indexOf("GIÁM ĐỐC"),
    );
    expect(recipients).toEqual([
      "- Ban Tuyên giáo và Dân vận Tỉnh ủy (để báo cáo);",
      "- UBND tỉnh (để báo cáo);",
      "- Sở Nội vụ (để theo dõi);",
      "- Lãnh đạo Sở;",
      "- Lưu: VT, VP.",
    ]);
    const text = draft.prose.join("\n");
    // The note a unit wrote without a status is quoted under its task; the blocked one among
    // the difficulties.
    expect(text).toContain("Phòng Kế hoạch – Tài chính: “Đang chờ ý kiến của Sở Tài chính”");
    expect(text).toContain(
      "Khó khăn, vướng mắc các đơn vị nêu:\n- Phòng Kế hoạch – Tài chính (nhiệm vụ II.1): “Báo cáo II.1",
    );
    expect(text).toContain("2 mô hình đã đăng ký, 1 mô hình đạt");
    expectSignable(draft, await app.reports.exportData(periodOf("", TODAY), TODAY));
  });

  it("leaves blanks the Office fills in rather than guessing a parent body or recipients", async () => {
    await db.connection.dropDatabase();
    const { app } = await buildApp(db.connection, new FixedClock("2025-12-22T02:00:00Z"));
    await app.units.upsert(readUnitsFile(path.join(DATA_DIR, "units", "demo.yaml")));
    await app.plans.importPlan(
      readPlanFile(readFileSync(shippedPlanFiles()[1] ?? "", "utf8"), "plan.yaml"),
      "plan.yaml",
      new Date("2025-12-22T02:00:00Z"),
    );
    // The shipped ORG_NAME names no province, and nothing else is configured.
    const data = await app.reports.exportData(periodOf("quý 4 2025", TODAY), TODAY);
    const draft = await draftOf({ ...data, orgName: "Sở Khoa học và Công nghệ" });
    expect(draft.lines).toContain("UBND TỈNH ……");
    expect(draft.lines).toContain("……, ngày 22 tháng 12 năm 2025");
    expect(draft.lines).toContain("- ……… (để báo cáo);");
  });

  it("writes the demo's files by the same rules, with the overdue series in the chart", async () => {
    await db.connection.dropDatabase();
    const now = new Date("2026-11-30T02:00:00Z");
    const { app } = await buildApp(db.connection, new FixedClock(now));
    await seedDemoPeople(app, now);
    await seedDemoPlan(app, now, "Asia/Ho_Chi_Minh");
    const data = await withLetterhead(app, "", "2026-11-30");
    const draft = await draftOf(data);
    expectSignable(draft, data);
    expect(draft.prose.join("\n")).toContain("Phòng Kế hoạch – Tài chính: “Đã rà soát 12 thủ tục.”");
    expectPrintable(await workbookOf(data));
    expect(data.summary.totals.overdue).toBeGreaterThan(0);
    expect(await pixels(app.reports.chartPng(data.summary), OVERDUE_RED)).toBeGreaterThan(500);
  });

  it("writes the shipped plans' files by the same rules: each overdue task once, with its units", async () => {
    await db.connection.dropDatabase();
    const now = new Date("2026-11-30T02:00:00Z");
    const { app } = await buildApp(db.connection, new FixedClock(now));
    await app.units.upsert(readUnitsFile(path.join(DATA_DIR, "units", "demo.yaml")));
    for (const file of shippedPlanFiles()) {
      const plan = readPlanFile(readFileSync(file, "utf8"), file);
      await app.plans.importPlan(plan, path.basename(file), now);
    }
    const data = await withLetterhead(app, "quý 4 2025", "2026-11-30");
    const draft = await draftOf(data);
    expectSignable(draft, data);
    const text = draft.prose.join("\n");
    const tasks = new Set(data.summary.assignments.map((a) => a.task.key)).size;
    expect(text).toContain(
      `Còn ${data.summary.totals.overdue} lượt nhiệm vụ của đơn vị quá hạn chưa hoàn thành, thuộc ${tasks} nhiệm vụ:`,
    );
    expectPrintable(await workbookOf(data));
  });
});
