import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import ExcelJS from "exceljs";
import { afterAll, describe, expect, it } from "vitest";
import { readPlanFile, type PlanFile } from "../../src/domain/plans/plan-file.js";
import { parsePeriodText, readPlanWorkbook, writePlanWorkbook } from "../../src/domain/plans/plan-xlsx.js";
import { readOfficialsWorkbook } from "../../src/domain/plans/officials-xlsx.js";
import { problemText, readDay, WorkbookError } from "../../src/domain/plans/xlsx-cells.js";
import { readUnitsWorkbook } from "../../src/domain/units/units-xlsx.js";
import { DATA_DIR, ROOT_DIR } from "../../src/paths.js";
import { t } from "../../src/text/vi.js";

const X = t.plansExcel;
const fixture = (name: string) => path.join(ROOT_DIR, "test/fixtures/plans", name);
const yaml = (file: string) => readPlanFile(readFileSync(file, "utf8"), file);
const twoUnits = yaml(fixture("two-units.yaml"));
const UNITS = [
  { key: "van-phong", name: "Văn phòng Sở" },
  { key: "ke-hoach-tai-chinh", name: "Phòng Kế hoạch – Tài chính" },
];

/** A real workbook written by exceljs, changed the way a person would in Excel. */
async function edited(plan: PlanFile, edit: (wb: ExcelJS.Workbook) => void): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load((await writePlanWorkbook(plan, UNITS)) as unknown as ExcelJS.Buffer);
  edit(workbook);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
const tasksOf = (wb: ExcelJS.Workbook) => wb.getWorksheet(X.sheets.tasks) as ExcelJS.Worksheet;

/** The mistakes a workbook is refused with, as the Office reads them. */
async function problems(bytes: Buffer, name = "ke-hoach.xlsx"): Promise<string[]> {
  try {
    await readPlanWorkbook(bytes, UNITS, name);
  } catch (error) {
    if (error instanceof WorkbookError) return error.problems.map(problemText);
    throw error;
  }
  throw new Error("the workbook was accepted");
}

describe("plans as Excel workbooks", () => {
  it.each(["ke-hoach-dan-van-2025-hung-yen", "ke-hoach-dan-van-chinh-quyen-quy4-2025-dong-nai"])(
    "the shipped plan %s round-trips: YAML → .xlsx → the same plan",
    async (name) => {
      const plan = yaml(path.join(DATA_DIR, "plans", `${name}.yaml`));
      const read = await readPlanWorkbook(await writePlanWorkbook(plan, []), []);
      expect(read.plan).toEqual(plan);
      expect(read.invented).toEqual([]);
    },
  );

  it.each(["ngày __ tháng 11 năm 2025", "tháng 11/2025", "__/11/2025", "11/2025"])(
    "a document date that leaves the day blank (%s) is read as its month, never as an invented day",
    async (typed) => {
      const bytes = await edited(twoUnits, (wb) => {
        const info = wb.getWorksheet(X.sheets.plan) as ExcelJS.Worksheet;
        const row = info.getColumn(1).values.indexOf(X.planFields.date);
        info.getCell(row, 2).value = typed;
      });
      const { plan } = await readPlanWorkbook(bytes, UNITS);
      expect(plan.document).not.toHaveProperty("date");
      expect(plan.document.month).toBe("2025-11");
    },
  );

  it("the template has the plan, tasks, units and guide sheets, a frozen header, lists, and one example row", async () => {
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load((await writePlanWorkbook(undefined, UNITS)) as unknown as ExcelJS.Buffer);
    expect(workbook.worksheets.map((s) => s.name)).toEqual([
      X.sheets.plan,
      X.sheets.tasks,
      X.sheets.units,
      X.sheets.guide,
    ]);
    const tasks = tasksOf(workbook);
    expect(tasks.views[0]).toMatchObject({ state: "frozen", ySplit: 1 });
    expect(tasks.getRow(1).values).toEqual([undefined, ...Object.values(X.taskHeaders)]);
    expect(tasks.getCell("A2").value).toBe(X.example.code);
    expect(tasks.getCell("D5").dataValidation).toMatchObject({ type: "list" });
    expect(tasks.getCell("G5").dataValidation.formulae).toEqual(['"Quý,6 tháng,Năm"']);
    // Sent back untouched, the template is refused: the example row and the blank plan fields.
    const said = await problems(await writePlanWorkbook(undefined, UNITS));
    expect(said).toContain(`Trang "${X.sheets.tasks}", dòng 2: ${X.exampleRow}`);
    expect(said).toContain(`Trang "${X.sheets.plan}", dòng 2, cột ${X.planFields.code}: ${X.required}`);
    // The date of issue may be blank (a plan printed with "ngày … tháng …").
    expect(said.join("\n")).not.toContain(X.planFields.date);
  });

  it("a blank date of issue loads; an edited cell reads back as what the Office typed", async () => {
    const bytes = await edited(twoUnits, (wb) => {
      tasksOf(wb).getCell("F2").value = "30/11/2025";
      tasksOf(wb).getCell("E3").value = "Văn phòng Sở; Phòng Kế hoạch – Tài chính";
    });
    const { plan } = await readPlanWorkbook(bytes, UNITS);
    expect(plan.document.date).toBeUndefined();
    expect(plan.tasks[0]?.deadline).toBe("2025-11-30");
    expect(plan.tasks[1]?.units).toEqual(["van-phong", "ke-hoach-tai-chinh"]);
  });

  it("names each bad date by sheet, row and column, reads dates typed as text, and Excel serial numbers", async () => {
    const bytes = await edited(twoUnits, (wb) => {
      tasksOf(wb).getCell("F2").value = "31/02/2026";
    });
    expect(await problems(bytes)).toEqual([
      `Trang "${X.sheets.tasks}", dòng 2, cột Hạn: 31/02/2026 không phải ngày hợp lệ`,
    ]);
    expect(readDay("12/31/2026")).toEqual({ error: X.monthFirstDate("12/31/2026", "31/12/2026") });
    for (const typed of [
      "31/12/2026",
      "31-12-2026",
      "31.12.2026",
      "2026-12-31",
      "ngày 31 tháng 12 năm 2026",
    ]) {
      expect(readDay(typed)).toEqual({ day: "2026-12-31" });
    }
    for (const typed of ["Dec 31, 2026", "December 31 2026", "31 Dec 2026"]) {
      expect(readDay(typed)).toEqual({ day: "2026-12-31" });
    }
    expect(readDay(46387)).toEqual({ day: "2026-12-31" });
    expect(readDay(2026)).toEqual({ error: X.badDate("2026") });
    expect(readDay("hết quý")).toMatchObject({
      error: expect.stringContaining("hết quý không phải ngày hợp lệ"),
    });
    const serial = await edited(twoUnits, (wb) => {
      tasksOf(wb).getCell("F2").value = 46387;
      tasksOf(wb).getCell("F2").numFmt = "General";
    });
    expect((await readPlanWorkbook(serial, UNITS)).plan.tasks[0]?.deadline).toBe("2026-12-31");
  });

  it("refuses formulas, merged header cells, hidden sheets, duplicated codes, unknown unit keys, both a deadline and a period", async () => {
    const mistakes = (wb: ExcelJS.Workbook) => {
      const tasks = tasksOf(wb);
      tasks.getCell("F2").value = { formula: "DATE(2025,11,28)", date1904: false };
      tasks.mergeCells("A1:B1");
      tasks.getCell("A3").value = "II.1";
      tasks.getCell("E3").value = "phong-khong-co";
      tasks.getCell("F3").value = new Date("2025-12-31T00:00:00Z");
    };
    const bytes = await edited(twoUnits, (wb) => {
      mistakes(wb);
      const extra = wb.addWorksheet("Nháp");
      extra.state = "hidden";
    });
    // A hidden sheet is refused before anything else is read.
    expect(await problems(bytes)).toEqual([`Trang "Nháp": ${X.hiddenSheet}`]);
    const visible = await edited(twoUnits, mistakes);
    const said = await problems(visible);
    const at = (row: number, column?: string) =>
      `Trang "${X.sheets.tasks}", dòng ${row}${column ? `, cột ${column}` : ""}: `;
    expect(said).toContain(at(1) + X.mergedHeader("A1:B1"));
    // The merge hides a header: the columns are not read further, so fix it and send again.
    expect(said).toContain(at(1) + X.missingColumn(X.taskHeaders.title));

    const unmerged = await edited(twoUnits, (wb) => {
      const tasks = tasksOf(wb);
      tasks.getCell("F2").value = { formula: "DATE(2025,11,28)", date1904: false };
      tasks.getCell("A3").value = "II.1";
      tasks.getCell("E3").value = "phong-khong-co";
      tasks.getCell("F3").value = new Date("2025-12-31T00:00:00Z");
    });
    expect(await problems(unmerged)).toEqual([
      at(2, "Hạn") + X.formula("DATE(2025,11,28)"),
      at(3, "Mã") + X.duplicateCode("II.1", 2),
      at(3, "Đơn vị phối hợp") + X.unknownUnit("phong-khong-co"),
      at(3, "Hạn") + X.deadlineOrRecurrence,
    ]);
  });

  it("skips empty rows and says which; a unit name nobody knows is offered for creation", async () => {
    const bytes = await edited(twoUnits, (wb) => {
      const tasks = tasksOf(wb);
      tasks.spliceRows(3, 0, []);
      tasks.getCell("E2").value = "Phòng Thanh tra";
    });
    const read = await readPlanWorkbook(bytes, UNITS);
    expect(read.skipped).toEqual([3]);
    expect(read.plan.tasks.map((task) => task.code)).toEqual(["II.1", "III.1"]);
    expect(read.invented).toEqual([{ key: "phong-thanh-tra", name: "Phòng Thanh tra" }]);
    expect(read.plan.tasks[0]?.units).toEqual(["phong-thanh-tra"]);
    expect(read.plan.units).toContainEqual({ key: "phong-thanh-tra", name: "Phòng Thanh tra" });
  });

  it("refuses what is not an .xlsx, an old .xls, a file over 5 MB, a broken zip", async () => {
    expect(await problems(Buffer.from("Mã;Nội dung\nII.1;x\n"), "ke-hoach.csv")).toEqual([
      X.notXlsx("ke-hoach.csv"),
    ]);
    expect(await problems(Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0, 0]))).toEqual([X.oldXls]);
    expect(await problems(Buffer.alloc(5 * 1024 * 1024 + 1))).toEqual([X.tooBig(5)]);
    expect(await problems(Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(100)]))).toEqual(
      [X.broken],
    );
  });

  it("reads the periods the Office types", () => {
    expect(parsePeriodText("Quý IV/2025")).toEqual({ from: "2025-10-01", to: "2025-12-31" });
    expect(parsePeriodText("quy 1 2026")).toEqual({ from: "2026-01-01", to: "2026-03-31" });
    expect(parsePeriodText("Năm 2026")).toEqual({ from: "2026-01-01", to: "2026-12-31" });
    expect(parsePeriodText("6 tháng cuối năm 2026")).toEqual({ from: "2026-07-01", to: "2026-12-31" });
    expect(parsePeriodText("15/01/2026 - 30/06/2026")).toEqual({ from: "2026-01-15", to: "2026-06-30" });
    expect(parsePeriodText("cả năm")).toBeUndefined();
  });
});

describe("workbooks made by LibreOffice", () => {
  it("reads the committed LibreOffice-made fixture as the plan it came from", async () => {
    const bytes = readFileSync(fixture("two-units-libreoffice.xlsx"));
    expect((await readPlanWorkbook(bytes, [])).plan).toEqual(twoUnits);
  });

  const soffice = (() => {
    try {
      execFileSync("soffice", ["--version"], { stdio: "ignore", timeout: 60_000 });
      return true;
    } catch {
      return false;
    }
  })();
  const dir = mkdtempSync(path.join(os.tmpdir(), "dvbot-plan-lo-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!soffice)(
    "reads an .xlsx that LibreOffice makes now from the .ods fixture",
    async () => {
      execFileSync(
        "soffice",
        [
          "--headless",
          `-env:UserInstallation=file://${dir}/profile`,
          "--convert-to",
          "xlsx",
          "--outdir",
          dir,
          fixture("two-units.ods"),
        ],
        { stdio: "ignore", timeout: 120_000 },
      );
      const read = await readPlanWorkbook(readFileSync(path.join(dir, "two-units.xlsx")), []);
      expect(read.plan).toEqual(twoUnits);
    },
    130_000,
  );
});

describe("units and officials as Excel workbooks", () => {
  const demo = [
    { key: "van-phong", name: "Văn phòng Sở" },
    { key: "chuyen-doi-so", name: "Phòng Chuyển đổi số" },
    { key: "chi-cuc-tdc", name: "Chi cục Tiêu chuẩn Đo lường Chất lượng" },
  ];

  it("reads a units list, and refuses a repeated key and an unknown kind by row and column", async () => {
    const units = await readUnitsWorkbook(readFileSync(fixture("don-vi.xlsx")));
    expect(units).toContainEqual({ key: "thanh-tra", name: "Phòng Thanh tra", kind: "division" });
    expect(units).toContainEqual({
      key: "chuyen-doi-so",
      name: "Phòng Chuyển đổi số và Thống kê",
      kind: "division",
    });
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(readFileSync(fixture("don-vi.xlsx")) as unknown as ExcelJS.Buffer);
    const sheet = workbook.getWorksheet(X.sheets.units) as ExcelJS.Worksheet;
    sheet.getCell("A3").value = "van-phong";
    sheet.getCell("C4").value = "Ban";
    let said: string[] = [];
    try {
      await readUnitsWorkbook(Buffer.from(await workbook.xlsx.writeBuffer()));
    } catch (error) {
      if (error instanceof WorkbookError) said = error.problems.map(problemText);
    }
    expect(said).toEqual([
      `Trang "Đơn vị", dòng 3, cột Mã đơn vị: ${X.duplicateUnit("van-phong", 2)}`,
      `Trang "Đơn vị", dòng 4, cột Loại: ${X.badKind("Ban")}`,
    ]);
  });

  it("reads officials to invite; a unit that does not exist and a role the sender may not give are refused", async () => {
    const officials = await readOfficialsWorkbook(readFileSync(fixture("can-bo.xlsx")), demo, [
      "staff",
      "unit_head",
    ]);
    expect(officials).toEqual([
      { row: 2, name: "Trần Thị Mai", unitKey: "chuyen-doi-so", role: "staff" },
      { row: 3, name: "Lê Văn Hùng", unitKey: "chi-cuc-tdc", role: "unit_head" },
    ]);
    let said: string[] = [];
    try {
      await readOfficialsWorkbook(readFileSync(fixture("can-bo.xlsx")), demo.slice(0, 2), ["staff"]);
    } catch (error) {
      if (error instanceof WorkbookError) said = error.problems.map(problemText);
    }
    expect(said).toEqual([
      `Trang "Cán bộ", dòng 3, cột Đơn vị: ${X.unknownUnit("Chi cục Tiêu chuẩn Đo lường Chất lượng")}`,
      `Trang "Cán bộ", dòng 3, cột Vai trò: ${X.badRole("Lãnh đạo phòng, đơn vị", ["Công chức, viên chức"])}`,
    ]);
  });
});
