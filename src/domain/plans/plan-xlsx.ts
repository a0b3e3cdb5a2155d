import ExcelJS from "exceljs";
import { fold } from "../../text/normalize.js";
import { t } from "../../text/vi.js";
import type { Day } from "../calendar/work-calendar.js";
import { ALL_UNITS } from "../units/schema.js";
import { periodOf } from "./periods.js";
import { planFileSchema, type PlanFile, type PlanTaskFile } from "./plan-file.js";
import { RECURRENCES, type Recurrence } from "./status.js";
import {
  addGuide,
  asText,
  fitRow,
  formatDayVi,
  listValidation,
  openWorkbook,
  readCell,
  readDay,
  readTable,
  sheetNamed,
  styleHeader,
  toBuffer,
  WorkbookError,
  type CellValue,
  type SheetProblem,
} from "./xlsx-cells.js";

/**
 * A plan as an Excel workbook, the form the Office works in: a "Kế hoạch" sheet (one row per
 * field), a "Nhiệm vụ" sheet (one row per task), a "Đơn vị" sheet (the units the lists offer) and
 * a "Hướng dẫn" sheet. The same layout is the blank template, the export of a loaded plan, and
 * what the reader takes back, so a plan round-trips: YAML → .xlsx → the same tasks.
 */

export interface KnownUnit {
  key: string;
  name: string;
}

/** A workbook read and checked: the plan, and what the Office should hear about it. */
export interface PlanWorkbook {
  plan: PlanFile;
  /** Unit names found neither in the "Đơn vị" sheet nor among known units: created on load. */
  invented: KnownUnit[];
  /** Empty rows between tasks, skipped. */
  skipped: number[];
}

const X = t.plansExcel;
const PLAN_FIELDS = ["code", "number", "date", "title", "period", "organisation", "issuer"] as const;
type PlanField = (typeof PLAN_FIELDS)[number];
const OPTIONAL_FIELDS: readonly PlanField[] = ["date"];
/** Rows of the template that carry the lists (units, reporting periods) beyond the filled ones. */
const SPARE_ROWS = 200;
const ALL_NAMES = new Set(["tat ca cac don vi", "tat ca don vi", "tat ca", "cac phong, don vi", ALL_UNITS]);

/** Code, title, content, lead, units, deadline, period, note. */
const TASK_WIDTHS = [10, 34, 70, 24, 28, 12, 11, 24] as const;
const pad = (n: number) => String(n).padStart(2, "0");
const excelDay = (day: Day) => new Date(`${day}T00:00:00Z`);

/** "Quý IV/2025", "Năm 2026", "6 tháng đầu năm 2026", or the two days. */
export function periodText(period: { from: Day; to: Day }): string {
  const year = Number(period.from.slice(0, 4));
  for (const recurrence of RECURRENCES) {
    const p = periodOf(recurrence, period.from);
    if (p.start !== period.from || p.end !== period.to) continue;
    if (recurrence === "yearly") return `Năm ${year}`;
    const index = Number(p.id.slice(-1));
    if (recurrence === "quarterly") return X.quarter(index, year);
    return `6 tháng ${index === 1 ? "đầu" : "cuối"} năm ${year}`;
  }
  return `${formatDayVi(period.from)} - ${formatDayVi(period.to)}`;
}

const ROMAN: Record<string, number> = { i: 1, ii: 2, iii: 3, iv: 4 };

/** Reads what periodText writes, and the usual ways of typing it ("quý 1 2026", "Q1/2026"). */
export function parsePeriodText(text: string): { from: Day; to: Day } | undefined {
  const s = fold(text).replace(/\s+/g, " ").trim();
  let m: RegExpExecArray | null;
  const span = (recurrence: Recurrence, month: number, year: number) => {
    const p = periodOf(recurrence, `${year}-${pad(month)}-01`);
    return { from: p.start, to: p.end };
  };
  if ((m = /^(?:nam )?(20\d{2})$/.exec(s))) return span("yearly", 1, Number(m[1]));
  if ((m = /^(?:quy|q) ?([1-4]|i|ii|iii|iv) ?(?:\/|-|nam)? ?(20\d{2})$/.exec(s))) {
    const q = ROMAN[m[1] ?? ""] ?? Number(m[1]);
    return span("quarterly", q * 3 - 2, Number(m[2]));
  }
  if ((m = /^6 thang (dau|cuoi) nam (20\d{2})$/.exec(s))) {
    return span("six-monthly", m[1] === "dau" ? 1 : 7, Number(m[2]));
  }
  if ((m = /^(.+?) ?(?:-|–|den|toi) ?(\d.+)$/.exec(s.replace(/^tu /, "")))) {
    const from = readDay(m[1] ?? "");
    const to = readDay(m[2] ?? "");
    if ("day" in from && "day" in to) return { from: from.day, to: to.day };
  }
  return undefined;
}

function recurrenceOf(text: string): Recurrence | undefined {
  const s = fold(text).replace(/\s+/g, " ");
  const labels = X.recurrences;
  return RECURRENCES.find(
    (r) => fold(labels[r]) === s || r === s || (r === "six-monthly" && s === "6 thang mot lan"),
  );
}

/** A unit key made from a name: "Phòng Chuyển đổi số" → "phong-chuyen-doi-so". */
export function unitKeyOf(name: string, taken: ReadonlySet<string>): string {
  const base =
    fold(name)
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 36)
      .replace(/-+$/, "") || "don-vi";
  let key = base.length >= 2 ? base : `${base}-1`;
  for (let n = 2; taken.has(key) || key === ALL_UNITS; n += 1) key = `${base}-${n}`;
  return key;
}

/**
 * A date cell that gives the month but not the day, as a document printed with a blank for it:
 * "tháng 11 năm 2025" (what the export writes), "ngày __ tháng 11 năm 2025", "__/11/2025",
 * "11/2025". The month as YYYY-MM, or undefined for anything else (read as a day).
 */
function monthOnly(value: CellValue): string | undefined {
  if (typeof value !== "string" && !(value && typeof value === "object" && "richText" in value))
    return undefined;
  const folded = fold(asText(value))
    .replace(/[_…]+|\.{2,}/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  const m = /^(?:ngay ?)?(?:\/ ?)?(?:thang ?)?(\d{1,2}) ?(?:nam|\/|-) ?(\d{4})$/.exec(folded);
  const month = Number(m?.[1]);
  if (!m || month < 1 || month > 12) return undefined;
  return `${m[2]}-${String(month).padStart(2, "0")}`;
}

/**
 * Writes a plan (or, without one, the blank template with its one example row) in the template's
 * layout. `units`: the units the lists offer, besides those the plan declares.
 * @example await writeFile("X.xlsx", await writePlanWorkbook(plan, await app.units.list()));
 */
export async function writePlanWorkbook(
  plan: PlanFile | undefined,
  units: readonly KnownUnit[],
): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = "dvbot";
  const allUnits = new Map<string, string>();
  for (const unit of [...(plan?.units ?? []), ...units])
    if (!allUnits.has(unit.key)) allUnits.set(unit.key, unit.name);
  const nameOf = (key: string) => (key === ALL_UNITS ? X.allUnits : (allUnits.get(key) ?? key));

  const info = workbook.addWorksheet(X.sheets.plan);
  const infoWidths = [20, 64, 70] as const;
  info.columns = infoWidths.map((width) => ({ width }));
  info.addRow([...X.planHeaders]);
  styleHeader(info, 3);
  const values: Record<PlanField, CellValue> = {
    code: plan?.code,
    number: plan?.document.number,
    date: plan?.document.date
      ? excelDay(plan.document.date)
      : plan?.document.month
        ? X.monthOnly(Number(plan.document.month.slice(5, 7)), plan.document.month.slice(0, 4))
        : undefined,
    title: plan?.title,
    period: plan ? periodText(plan.period) : undefined,
    organisation: plan?.organisation,
    issuer: plan?.document.issuer,
  };
  for (const field of PLAN_FIELDS) {
    const row = info.addRow([X.planFields[field], values[field] ?? null, X.planHints[field]]);
    fitRow(row, infoWidths);
    row.getCell(1).font = { name: "Calibri", size: 11, bold: true };
    row.getCell(2).alignment = { wrapText: true, vertical: "top", horizontal: "left" };
    row.getCell(3).font = { name: "Calibri", size: 11, italic: true, color: { argb: "FF666666" } };
    if (field === "date") row.getCell(2).numFmt = "dd/mm/yyyy";
  }

  const tasks = workbook.addWorksheet(X.sheets.tasks);
  const h = X.taskHeaders;
  tasks.columns = TASK_WIDTHS.map((width, i) =>
    i === 5 ? { width, style: { numFmt: "dd/mm/yyyy" } } : { width },
  );
  tasks.addRow([h.code, h.title, h.content, h.lead, h.units, h.deadline, h.recurrence, h.note]);
  styleHeader(tasks, 8);
  const rows: (string | Date | null)[][] = plan
    ? plan.tasks.map((task) => taskRow(task, nameOf))
    : [
        [
          X.example.code,
          X.example.title,
          X.example.content,
          nameOf(units[0]?.key ?? ALL_UNITS),
          X.allUnits,
          excelDay(exampleDeadline()),
          null,
          X.example.note,
        ],
      ];
  for (const values of rows) {
    const row = tasks.addRow(values);
    fitRow(row, TASK_WIDTHS);
    row.getCell(6).numFmt = "dd/mm/yyyy";
  }

  const list = workbook.addWorksheet(X.sheets.units);
  list.columns = [{ width: 26 }, { width: 50 }];
  list.addRow([X.unitHeaders.key, X.unitHeaders.name]);
  styleHeader(list, 2);
  for (const [key, name] of allUnits) list.addRow([key, name]);
  list.addRow([ALL_UNITS, X.allUnits]);

  const lastRow = Math.max(rows.length + 1, SPARE_ROWS);
  const unitList = `'${X.sheets.units}'!$B$2:$B$${allUnits.size + 2}`;
  listValidation(tasks, `D2:D${lastRow}`, unitList, X.validationUnits);
  listValidation(tasks, `E2:E${lastRow}`, unitList, X.validationUnits);
  const periods = `"${RECURRENCES.map((r) => X.recurrences[r]).join(",")}"`;
  listValidation(tasks, `G2:G${lastRow}`, periods, X.validationRecurrence, true);
  addGuide(workbook, X.planGuide);
  return toBuffer(workbook);
}

/** The example's deadline: the end of a year that stays in the future for a while. */
function exampleDeadline(): Day {
  return "2026-12-31";
}

function taskRow(task: PlanTaskFile, nameOf: (key: string) => string): (string | Date | null)[] {
  // The lead answers for the task: listed once, as chủ trì; the others are the phối hợp column.
  const others = task.units.filter((key) => key !== task.lead);
  return [
    task.code,
    task.title,
    task.content,
    task.lead ? nameOf(task.lead) : null,
    others.length > 0 ? others.map(nameOf).join("; ") : null,
    task.deadline ? excelDay(task.deadline) : null,
    task.recurrence ? X.recurrences[task.recurrence] : null,
    task.note ?? null,
  ];
}

/** Resolves unit names and keys typed in a cell against the sheet's and the known units. */
class UnitResolver {
  private readonly byName = new Map<string, KnownUnit>();
  readonly used = new Map<string, KnownUnit>();
  readonly invented = new Map<string, KnownUnit>();

  constructor(known: readonly KnownUnit[]) {
    for (const unit of known) {
      this.byName.set(fold(unit.key), unit);
      this.byName.set(fold(unit.name), unit);
    }
  }

  /** The keys a cell names; a name nobody knows becomes a new unit, a key nobody knows an error. */
  resolve(text: string): { keys: string[]; unknownKeys: string[] } {
    const keys: string[] = [];
    const unknownKeys: string[] = [];
    for (const part of text
      .split(/[;\n]+/)
      .map((p) => p.trim().replace(/\s+/g, " "))
      .filter(Boolean)) {
      const folded = fold(part);
      if (ALL_NAMES.has(folded)) {
        keys.push(ALL_UNITS);
        continue;
      }
      let unit = this.byName.get(folded);
      if (!unit) {
        if (/^[a-z0-9-]+$/.test(part)) {
          unknownKeys.push(part);
          continue;
        }
        const taken = new Set([...this.byName.values()].map((u) => u.key));
        unit = { key: unitKeyOf(part, taken), name: part };
        this.byName.set(folded, unit);
        this.invented.set(unit.key, unit);
      }
      this.used.set(unit.key, unit);
      if (!keys.includes(unit.key)) keys.push(unit.key);
    }
    return { keys, unknownKeys };
  }
}

function readPlanSheet(
  sheet: ExcelJS.Worksheet,
  problems: SheetProblem[],
): Partial<Record<PlanField, CellValue>> & { rows: Partial<Record<PlanField, number>> } {
  const found: Partial<Record<PlanField, CellValue>> = {};
  const rows: Partial<Record<PlanField, number>> = {};
  const merges: string[] = (sheet.model as { merges?: string[] }).merges ?? [];
  for (const range of merges) problems.push({ sheet: sheet.name, message: X.mergedCells(range) });
  const labels = new Map(PLAN_FIELDS.map((f) => [fold(X.planFields[f]), f]));
  for (let r = 2; r <= sheet.rowCount; r += 1) {
    const row = sheet.getRow(r);
    const label = readCell(row.getCell(1));
    const field = "value" in label ? labels.get(fold(asText(label.value))) : undefined;
    if (!field) continue;
    rows[field] = r;
    const value = readCell(row.getCell(2));
    if ("formula" in value) {
      problems.push({
        sheet: sheet.name,
        row: r,
        column: X.planHeaders[1],
        message: X.formula(value.formula),
      });
      continue;
    }
    found[field] = value.value;
  }
  for (const field of PLAN_FIELDS) {
    if (rows[field] === undefined) {
      problems.push({ sheet: sheet.name, message: X.missingColumn(X.planFields[field]) });
    } else if (found[field] === undefined && !OPTIONAL_FIELDS.includes(field)) {
      problems.push({
        sheet: sheet.name,
        row: rows[field],
        column: X.planFields[field],
        message: X.required,
      });
    }
  }
  return { ...found, rows };
}

/**
 * Reads and checks a plan workbook. `known`: the units already in the database (none for a
 * dry run); units the "Đơn vị" sheet lists count as known too.
 * @throws WorkbookError with every mistake, by sheet, row and column.
 */
export async function readPlanWorkbook(
  bytes: Buffer,
  known: readonly KnownUnit[],
  name?: string,
): Promise<PlanWorkbook> {
  const workbook = await openWorkbook(bytes, name);
  const problems: SheetProblem[] = [];
  const infoSheet = sheetNamed(workbook, X.sheets.plan);
  const taskSheet = sheetNamed(workbook, X.sheets.tasks);
  if (!infoSheet) problems.push({ message: X.missingSheet(X.sheets.plan) });
  if (!taskSheet) problems.push({ message: X.missingSheet(X.sheets.tasks) });
  if (!infoSheet || !taskSheet) throw new WorkbookError(problems);

  const sheetUnits: KnownUnit[] = [];
  const unitSheet = sheetNamed(workbook, X.sheets.units);
  if (unitSheet) {
    const { rows } = readTable(unitSheet, { key: X.unitHeaders.key, name: X.unitHeaders.name }, problems);
    for (const { cells } of rows) {
      const key = asText(cells.key);
      const unitName = asText(cells.name);
      if (key && unitName && key !== ALL_UNITS && /^[a-z0-9-]{2,40}$/.test(key))
        sheetUnits.push({ key, name: unitName });
    }
  }
  const units = new UnitResolver([...known, ...sheetUnits]);

  // The plan sheet.
  const info = readPlanSheet(infoSheet, problems);
  const where = (field: PlanField) => ({
    sheet: infoSheet.name,
    row: info.rows[field],
    column: X.planHeaders[1],
  });
  const code = asText(info.code).toUpperCase();
  if (code && !/^[A-Z0-9][A-Z0-9-]{1,40}$/.test(code))
    problems.push({ ...where("code"), message: X.badPlanCode(code) });
  let date: Day | undefined;
  // The month alone when the document left its day blank ("ngày __ tháng 11 năm 2025").
  const month = info.date === undefined ? undefined : monthOnly(info.date);
  if (info.date !== undefined && !month) {
    const read = readDay(info.date);
    if ("day" in read) date = read.day;
    else problems.push({ ...where("date"), message: read.error });
  }
  let period: { from: Day; to: Day } | undefined;
  if (info.period !== undefined) {
    period = parsePeriodText(asText(info.period));
    if (!period) problems.push({ ...where("period"), message: X.badPeriod(asText(info.period)) });
    else if (period.from > period.to) problems.push({ ...where("period"), message: X.periodOrder });
  }
  const title = asText(info.title);
  if (title && title.length < 5) problems.push({ ...where("title"), message: X.tooShort(5) });

  // The tasks.
  const h = X.taskHeaders;
  const { rows, skipped } = readTable(taskSheet, h, problems);
  const tasks: PlanTaskFile[] = [];
  const firstRowOf = new Map<string, number>();
  const sheet = taskSheet.name;
  for (const { row, cells, formulas } of rows) {
    const at = (column: keyof typeof h, message: string) =>
      problems.push({ sheet, row, column: h[column], message });
    const taskCode = asText(cells.code);
    const taskTitle = asText(cells.title);
    if (taskCode === X.example.code && taskTitle === X.example.title) {
      problems.push({ sheet, row, message: X.exampleRow });
      continue;
    }
    const before = problems.length;
    if (!taskCode) at("code", X.required);
    else if (!/^[A-Za-z0-9][A-Za-z0-9.\-_]{0,39}$/.test(taskCode)) at("code", X.badCode(taskCode));
    else if (firstRowOf.has(taskCode)) at("code", X.duplicateCode(taskCode, firstRowOf.get(taskCode) ?? 0));
    else firstRowOf.set(taskCode, row);
    if (!taskTitle) at("title", X.required);
    else if (taskTitle.length < 3) at("title", X.tooShort(3));
    else if (taskTitle.length > 200) at("title", X.tooLong(200));
    const content = asText(cells.content);
    if (!content) at("content", X.required);
    else if (content.length < 3) at("content", X.tooShort(3));
    const lead = units.resolve(asText(cells.lead));
    const others = units.resolve(asText(cells.units));
    for (const key of lead.unknownKeys) at("lead", X.unknownUnit(key));
    for (const key of others.unknownKeys) at("units", X.unknownUnit(key));
    if (lead.keys.length > 1) at("lead", X.oneLead);
    const leadKey = lead.keys[0] === ALL_UNITS ? undefined : lead.keys[0];
    let taskUnits = lead.keys[0] === ALL_UNITS ? [ALL_UNITS, ...others.keys] : others.keys;
    if (leadKey && !taskUnits.includes(ALL_UNITS) && !taskUnits.includes(leadKey))
      taskUnits = [leadKey, ...taskUnits];
    taskUnits = [...new Set(taskUnits)];
    if (taskUnits.length === 0 && lead.unknownKeys.length + others.unknownKeys.length === 0)
      at("lead", X.noUnit);
    let deadline: Day | undefined;
    if (cells.deadline !== undefined) {
      const read = readDay(cells.deadline);
      if ("day" in read) deadline = read.day;
      else at("deadline", read.error);
    }
    let recurrence: Recurrence | undefined;
    if (cells.recurrence !== undefined) {
      recurrence = recurrenceOf(asText(cells.recurrence));
      if (!recurrence) at("recurrence", X.badRecurrence(asText(cells.recurrence)));
    }
    if (cells.deadline !== undefined && cells.recurrence !== undefined)
      at("deadline", X.deadlineOrRecurrence);
    // A formula in the row was reported already, and may be where the date was meant to be.
    if (cells.deadline === undefined && cells.recurrence === undefined && !formulas) {
      at("deadline", X.deadlineOrRecurrence);
    }
    const note = asText(cells.note);
    if (note.length > 2000) at("note", X.tooLong(2000));
    if (problems.length > before) continue;
    tasks.push({
      code: taskCode,
      title: taskTitle,
      content,
      units: taskUnits,
      ...(leadKey ? { lead: leadKey } : {}),
      ...(deadline ? { deadline } : {}),
      ...(recurrence ? { recurrence } : {}),
      ...(note ? { note } : {}),
    });
  }
  if (rows.length === 0) problems.push({ sheet, message: X.noTasks });
  if (problems.length > 0) throw new WorkbookError(problems);

  const plan = {
    code,
    title,
    organisation: asText(info.organisation),
    period: period ?? { from: "", to: "" },
    document: {
      number: asText(info.number),
      ...(date ? { date } : {}),
      ...(month ? { month } : {}),
      issuer: asText(info.issuer),
    },
    units: [...units.used.values()].map((u) => ({ key: u.key, name: u.name })),
    tasks,
  };
  // The cell checks above say everything in the Office's words; this is the last guard.
  const checked = planFileSchema.safeParse(plan);
  if (!checked.success) {
    throw new WorkbookError(
      checked.error.issues.map((issue) => ({
        sheet: infoSheet.name,
        message: `${issue.path.join(".")}: ${issue.message}`,
      })),
    );
  }
  return { plan: checked.data, invented: [...units.invented.values()], skipped };
}
