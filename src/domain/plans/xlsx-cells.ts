import ExcelJS from "exceljs";
import { fold } from "../../text/normalize.js";
import { t } from "../../text/vi.js";
import type { Day } from "../calendar/work-calendar.js";

/**
 * Reading the workbooks the Office fills in (plans, units, officials): whatever Excel or
 * LibreOffice wrote, every mistake comes back with its sheet, row and column, and a file with a
 * mistake gives nothing at all. Writing shares the look: a coloured, frozen header row.
 */

/** Larger than any plan's workbook by far; a bigger file is pictures or a wrong file. */
export const MAX_XLSX_BYTES = 5 * 1024 * 1024;

/** One mistake in a workbook; no sheet for a mistake of the whole file. */
export interface SheetProblem {
  sheet?: string;
  row?: number;
  column?: string;
  message: string;
}

export function problemText(p: SheetProblem): string {
  return p.sheet ? t.plansExcel.problem(p.sheet, p.row, p.column, p.message) : p.message;
}

/** A workbook with mistakes: all of them, sheet by sheet, row by row. */
export class WorkbookError extends Error {
  override name = "WorkbookError";
  readonly problems: SheetProblem[];
  constructor(problems: SheetProblem[]) {
    const sheets = [...new Set(problems.map((p) => p.sheet))];
    // Stable: mistakes of one cell keep the order they were found in.
    const sorted = [...problems].sort(
      (a, b) => sheets.indexOf(a.sheet) - sheets.indexOf(b.sheet) || (a.row ?? 0) - (b.row ?? 0),
    );
    super(sorted.map(problemText).join("\n"));
    this.problems = sorted;
  }
}

const ZIP = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const OLE = Buffer.from([0xd0, 0xcf, 0x11, 0xe0]);

/**
 * Opens an .xlsx from its bytes, refusing what is not one (a .xls, a .csv, a renamed file), is too
 * large, or has hidden sheets (rows there would be loaded unseen by whoever checked the file).
 * @throws WorkbookError
 */
export async function openWorkbook(bytes: Buffer, name = "tệp"): Promise<ExcelJS.Workbook> {
  if (bytes.length > MAX_XLSX_BYTES) throw new WorkbookError([{ message: t.plansExcel.tooBig(5) }]);
  if (bytes.subarray(0, 4).equals(OLE)) throw new WorkbookError([{ message: t.plansExcel.oldXls }]);
  if (!bytes.subarray(0, 4).equals(ZIP)) throw new WorkbookError([{ message: t.plansExcel.notXlsx(name) }]);
  const workbook = new ExcelJS.Workbook();
  try {
    // exceljs's typings want its own Buffer interface; a Node Buffer is what it reads.
    await workbook.xlsx.load(bytes as unknown as ExcelJS.Buffer);
  } catch {
    throw new WorkbookError([{ message: t.plansExcel.broken }]);
  }
  const hidden = workbook.worksheets
    .filter((sheet) => sheet.state !== "visible")
    .map((sheet) => ({ sheet: sheet.name, message: t.plansExcel.hiddenSheet }));
  if (hidden.length > 0) throw new WorkbookError(hidden);
  return workbook;
}

/** The sheet named `name`, with or without diacritics and case. */
export function sheetNamed(workbook: ExcelJS.Workbook, name: string): ExcelJS.Worksheet | undefined {
  return workbook.worksheets.find((sheet) => fold(sheet.name) === fold(name));
}

/** What a cell holds once read: text (trimmed), a number, a date, or nothing. */
export type CellValue = string | number | Date | undefined;

/** A cell's value, or the formula it holds (refused: a formula's result may be stale or absent). */
export function readCell(cell: ExcelJS.Cell): { value: CellValue } | { formula: string } {
  const value = cell.value;
  if (value === null || value === undefined) return { value: undefined };
  if (typeof value === "object" && !(value instanceof Date)) {
    if ("formula" in value || "sharedFormula" in value) {
      return { formula: String("formula" in value ? value.formula : value.sharedFormula) };
    }
    if ("richText" in value)
      return {
        value:
          value.richText
            .map((r) => r.text)
            .join("")
            .trim() || undefined,
      };
    if ("text" in value) return { value: String(value.text).trim() || undefined };
    if ("error" in value) return { value: String(value.error) };
    return { value: undefined };
  }
  if (typeof value === "string") return { value: value.trim() || undefined };
  if (typeof value === "boolean") return { value: value ? "TRUE" : "FALSE" };
  return { value };
}

/** A cell as text: numbers as Excel shows them (no "2.0"), dates as 31/12/2026. */
export function asText(value: CellValue): string {
  if (value === undefined) return "";
  if (value instanceof Date) return formatDayVi(dayOfDate(value));
  return String(value).trim();
}

const pad = (n: number) => String(n).padStart(2, "0");

/** Excel's and LibreOffice's dates carry no time zone: the day is the UTC day of the value. */
function dayOfDate(date: Date): Day {
  // A serial that floating point left a hair before midnight belongs to the day after.
  return new Date(date.getTime() + 1000).toISOString().slice(0, 10);
}

export function formatDayVi(day: Day): string {
  return `${day.slice(8, 10)}/${day.slice(5, 7)}/${day.slice(0, 4)}`;
}

function validDay(year: number, month: number, day: number): Day | undefined {
  if (year < 2000 || year > 2099 || month < 1 || month > 12 || day < 1) return undefined;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= last ? `${year}-${pad(month)}-${pad(day)}` : undefined;
}

const MONTHS_EN = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
/** 1900-01-00 is Excel's day 0; the Lotus leap-year bug makes 1899-12-30 the working origin. */
const EXCEL_EPOCH = Date.UTC(1899, 11, 30);
/** Serial numbers of 01/01/2000 and 31/12/2099: a number outside is not a date someone meant. */
const SERIAL_RANGE = [36526, 73050] as const;

/**
 * A date cell as a day. Excel dates and serial numbers (a date column that lost its format) are
 * taken as they are; text is read the Vietnamese way (31/12/2026, 31-12-2026, 31.12.2026,
 * "ngày 31 tháng 12 năm 2026"), ISO (2026-12-31), or English with a month name (Dec 31, 2026;
 * 31 December 2026). Text like 12/31/2026 is refused with the day-first spelling to use.
 */
export function readDay(value: CellValue): { day: Day } | { error: string } {
  if (value instanceof Date) {
    const day = dayOfDate(value);
    return validDay(Number(day.slice(0, 4)), 1, 1)
      ? { day }
      : { error: t.plansExcel.badYearRange(asText(value)) };
  }
  if (typeof value === "number") {
    if (Number.isInteger(value) && value >= SERIAL_RANGE[0] && value <= SERIAL_RANGE[1]) {
      return { day: new Date(EXCEL_EPOCH + value * 86_400_000).toISOString().slice(0, 10) };
    }
    return { error: t.plansExcel.badDate(String(value)) };
  }
  const text = asText(value);
  const folded = fold(text).replace(/\s+/g, " ");
  let m: RegExpExecArray | null;
  if ((m = /^(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})$/.exec(folded))) {
    const [d, mo, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const day = validDay(y, mo, d);
    if (day) return { day };
    const swapped = validDay(y, d, mo);
    return swapped
      ? { error: t.plansExcel.monthFirstDate(text, formatDayVi(swapped)) }
      : { error: t.plansExcel.badDate(text) };
  }
  if ((m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(folded))) {
    const day = validDay(Number(m[1]), Number(m[2]), Number(m[3]));
    return day ? { day } : { error: t.plansExcel.badDate(text) };
  }
  if ((m = /^(?:ngay )?(\d{1,2}) thang (\d{1,2}) nam (\d{4})$/.exec(folded))) {
    const day = validDay(Number(m[3]), Number(m[2]), Number(m[1]));
    return day ? { day } : { error: t.plansExcel.badDate(text) };
  }
  const month = (name: string) => MONTHS_EN.indexOf(name.slice(0, 3)) + 1;
  if ((m = /^([a-z]{3,9})\.? (\d{1,2}),? (\d{4})$/.exec(folded)) && month(m[1] ?? "") > 0) {
    const day = validDay(Number(m[3]), month(m[1] ?? ""), Number(m[2]));
    return day ? { day } : { error: t.plansExcel.badDate(text) };
  }
  if ((m = /^(\d{1,2}) ([a-z]{3,9})\.?,? (\d{4})$/.exec(folded)) && month(m[2] ?? "") > 0) {
    const day = validDay(Number(m[3]), month(m[2] ?? ""), Number(m[1]));
    return day ? { day } : { error: t.plansExcel.badDate(text) };
  }
  return { error: `${t.plansExcel.badDate(text)} (${t.plansExcel.dateHint})` };
}

/** One data row of a table sheet, its cells by column key. */
export interface TableRow<K extends string> {
  row: number;
  cells: Partial<Record<K, CellValue>>;
  /** Some cell holds a formula (already reported): the row's other checks are told to be lenient. */
  formulas: boolean;
}

/**
 * Reads a table sheet whose first row names the columns (`headers`, matched without diacritics,
 * in any order). Every data row is checked for formulas and merged cells; empty rows are skipped
 * and their numbers returned, so the Office is told and nothing is silently lost.
 */
export function readTable<K extends string>(
  sheet: ExcelJS.Worksheet,
  headers: Record<K, string>,
  problems: SheetProblem[],
): { rows: TableRow<K>[]; skipped: number[] } {
  const name = sheet.name;
  const merges: string[] = (sheet.model as { merges?: string[] }).merges ?? [];
  for (const range of merges) {
    const rows = (range.match(/\d+/g) ?? []).map(Number);
    const first = Math.min(...rows);
    problems.push({
      sheet: name,
      row: first,
      message: first === 1 ? t.plansExcel.mergedHeader(range) : t.plansExcel.mergedCells(range),
    });
  }
  const columns = new Map<K, number>();
  const headerRow = sheet.getRow(1);
  const byTitle = new Map<string, number>();
  headerRow.eachCell((cell, col) => {
    const read = readCell(cell);
    if ("value" in read && read.value !== undefined) byTitle.set(fold(asText(read.value)), col);
  });
  for (const [key, title] of Object.entries(headers) as [K, string][]) {
    const col = byTitle.get(fold(title));
    if (col === undefined) problems.push({ sheet: name, row: 1, message: t.plansExcel.missingColumn(title) });
    else columns.set(key, col);
  }
  const rows: TableRow<K>[] = [];
  const skipped: number[] = [];
  if (columns.size < Object.keys(headers).length) return { rows, skipped };
  const titleOf = new Map([...columns].map(([key, col]) => [col, headers[key]]));
  for (let r = 2; r <= sheet.rowCount; r += 1) {
    const row = sheet.getRow(r);
    const cells: Partial<Record<K, CellValue>> = {};
    let filled = false;
    let formulas = false;
    row.eachCell({ includeEmpty: false }, (cell, col) => {
      const read = readCell(cell);
      if ("formula" in read) {
        formulas = true;
        problems.push({
          sheet: name,
          row: r,
          column: titleOf.get(col) ?? cell.address,
          message: t.plansExcel.formula(read.formula),
        });
        filled = true;
        return;
      }
      if (read.value !== undefined) filled = true;
    });
    for (const [key, col] of columns) {
      const read = readCell(row.getCell(col));
      if ("value" in read && read.value !== undefined) cells[key] = read.value;
    }
    if (!filled) skipped.push(r);
    else rows.push({ row: r, cells, formulas });
  }
  // Empty rows after the last filled one are the sheet's end, not a gap worth mentioning.
  const last = rows.at(-1)?.row ?? 1;
  return { rows, skipped: skipped.filter((r) => r < last) };
}

/**
 * The one table sheet `sheetName` of an uploaded list (units, officials), its data rows read
 * against `headers`; `problems` gathers every mistake, for `checkedRows` at the end.
 * @throws WorkbookError if the file is no workbook or lacks that sheet.
 */
export async function openTable<K extends string>(
  bytes: Buffer,
  sheetName: string,
  headers: Record<K, string>,
  name?: string,
): Promise<{ sheet: ExcelJS.Worksheet; rows: TableRow<K>[]; problems: SheetProblem[] }> {
  const workbook = await openWorkbook(bytes, name);
  const sheet = sheetNamed(workbook, sheetName);
  if (!sheet) throw new WorkbookError([{ message: t.plansExcel.missingSheet(sheetName) }]);
  const problems: SheetProblem[] = [];
  const { rows } = readTable(sheet, headers, problems);
  return { sheet, rows, problems };
}

/**
 * What a table sheet's rows gave (`read`), unless there was a mistake or no filled row at all.
 * @throws WorkbookError with every mistake.
 */
export function checkedRows<T>(
  sheet: ExcelJS.Worksheet,
  rows: readonly TableRow<string>[],
  problems: SheetProblem[],
  read: T[],
): T[] {
  if (rows.length === 0 && problems.length === 0)
    problems.push({ sheet: sheet.name, message: t.plansExcel.emptyRowsOnly });
  if (problems.length > 0) throw new WorkbookError(problems);
  return read;
}

/**
 * A new workbook with one table sheet `sheetName`: columns `widths` wide and `headers` as its
 * styled first row.
 */
export function tableWorkbook(
  sheetName: string,
  widths: readonly number[],
  headers: readonly string[],
): { workbook: ExcelJS.Workbook; sheet: ExcelJS.Worksheet } {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = "dvbot";
  const sheet = workbook.addWorksheet(sheetName);
  sheet.columns = widths.map((width) => ({ width }));
  sheet.addRow([...headers]);
  styleHeader(sheet, headers.length);
  return { workbook, sheet };
}

/** A header row: bold on a light fill, wrapped, kept in view while scrolling. */
export function styleHeader(sheet: ExcelJS.Worksheet, columns: number): void {
  const header = sheet.getRow(1);
  header.height = 30;
  for (let c = 1; c <= columns; c += 1) {
    header.getCell(c).font = { name: "Calibri", size: 11, bold: true };
    header.getCell(c).alignment = { vertical: "middle", wrapText: true };
    header.getCell(c).fill = { type: "pattern", pattern: "solid", fgColor: { argb: "FFE8EEF7" } };
    header.getCell(c).border = { bottom: { style: "thin" } };
  }
  sheet.views = [{ state: "frozen", ySplit: 1 }];
  // Printed or turned into a PDF, each sheet is as wide as an A4 landscape page.
  sheet.pageSetup = {
    paperSize: 9,
    orientation: "landscape",
    fitToPage: true,
    fitToWidth: 1,
    fitToHeight: 0,
  };
}

/**
 * Wraps the cells of a row and makes it tall enough for its longest text: neither Excel nor
 * LibreOffice grows a row for wrapped text written by a program until someone edits it.
 */
export function fitRow(row: ExcelJS.Row, widths: readonly number[]): void {
  let lines = 1;
  widths.forEach((width, i) => {
    const cell = row.getCell(i + 1);
    cell.alignment = { wrapText: true, vertical: "top" };
    const text = asText(readCellValue(cell));
    // About 1.1 characters of body text per unit of column width, less a margin.
    const perLine = Math.max(1, Math.floor(width * 1.1) - 2);
    const needed = text
      .split("\n")
      .reduce((sum, part) => sum + Math.max(1, Math.ceil(part.length / perLine)), 0);
    lines = Math.max(lines, needed);
  });
  row.height = Math.min(409, 15 * lines + 3);
}

function readCellValue(cell: ExcelJS.Cell): CellValue {
  const read = readCell(cell);
  return "value" in read ? read.value : undefined;
}

/** The "Hướng dẫn" sheet: one line of guidance per row. */
export function addGuide(workbook: ExcelJS.Workbook, lines: readonly string[]): void {
  const guide = workbook.addWorksheet(t.plansExcel.sheets.guide);
  guide.columns = [{ width: 110 }];
  guide.pageSetup = {
    paperSize: 9,
    orientation: "landscape",
    fitToPage: true,
    fitToWidth: 1,
    fitToHeight: 0,
  };
  lines.forEach((line, i) => {
    const cell = guide.getCell(i + 1, 1);
    cell.value = line;
    cell.font = { name: "Calibri", size: i === 0 ? 13 : 11, bold: i === 0 };
    cell.alignment = { wrapText: true, vertical: "top" };
  });
}

/** A list of allowed values from a range of another sheet; other values warn but are accepted. */
export function listValidation(
  sheet: ExcelJS.Worksheet,
  range: string,
  source: string,
  prompt: string,
  strict = false,
): void {
  const [from, to] = range.split(":") as [string, string];
  const col = from.replace(/\d+/g, "");
  const first = Number(from.replace(/\D+/g, ""));
  const last = Number(to.replace(/\D+/g, ""));
  for (let r = first; r <= last; r += 1) {
    sheet.getCell(`${col}${r}`).dataValidation = {
      type: "list",
      allowBlank: true,
      formulae: [source],
      showErrorMessage: true,
      // "information" lets a cell hold several units ("A; B") that the list itself cannot offer.
      errorStyle: strict ? "stop" : "information",
      errorTitle: t.plansExcel.validationTitle,
      error: prompt,
      showInputMessage: true,
      prompt,
    };
  }
}

/** A workbook written to bytes. */
export async function toBuffer(workbook: ExcelJS.Workbook): Promise<Buffer> {
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
