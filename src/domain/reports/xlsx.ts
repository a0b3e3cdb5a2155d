import type { Writable } from "node:stream";
import { setImmediate as nextTick } from "node:timers/promises";
import ExcelJS from "exceljs";
import { t } from "../../text/vi.js";
import type { Day } from "../calendar/work-calendar.js";
import type { ExportData } from "./export-data.js";
import { localTime } from "./local-time.js";

type Cell = string | number | Date | null;

/** A calendar day as an Excel date (midnight, no time zone: Excel has none). */
const excelDay = (day: Day): Date => new Date(`${day}T00:00:00Z`);

const DAY_FORMAT = "dd/mm/yyyy";
const YIELD_EVERY = 500;
const TIME_FORMAT = "dd/mm/yyyy hh:mm";

interface SheetSpec {
  name: string;
  columns: readonly string[];
  widths: number[];
  /** The date format of each date column, by column index. */
  formats?: Record<number, string>;
  /** Columns of long text, wrapped within their width. */
  wrap?: number[];
  /** Short columns (dates, yes/no, figures), centred so neighbours do not run together. */
  center?: number[];
  rows: Iterable<Cell[]>;
}

/** The documents' font (Nghị định 30/2020/NĐ-CP), so the workbook prints like the draft. */
const FONT = "Times New Roman";
const FONT_SIZE = 11;
/** A4 in the paper sizes of SpreadsheetML. */
const A4 = 9;

/** A column at least as wide as the longest word of its header, so no header is cut. */
export function columnWidth(header: string, width: number): number {
  const longestWord = Math.max(...header.split(/\s+/).map((w) => w.length));
  return Math.max(width, longestWord + 2);
}

/** Lines a text takes wrapped at words within a column `width` characters wide. */
function wrappedLines(text: string, width: number): number {
  let lines = 1;
  let used = 0;
  for (const word of text.split(/\s+/)) {
    if (used > 0 && used + 1 + word.length > width) {
      lines += 1;
      used = word.length;
    } else used += (used > 0 ? 1 : 0) + word.length;
  }
  return lines;
}

/**
 * The height a row needs for its wrapped cells. Spreadsheets keep a streamed row's height as
 * written, so wrapped text would run over the next row; the height is worked out here instead.
 * A Times New Roman letter is narrower than the width unit (Calibri's digit), hence the margin.
 */
function rowHeight(values: readonly Cell[], widths: number[], wrap: readonly number[], bold = false): number {
  const lines = Math.max(
    1,
    ...wrap.map((i) => {
      const value = values[i];
      return typeof value === "string" ? wrappedLines(value, (widths[i] ?? 10) * (bold ? 1.1 : 1.4) - 1) : 1;
    }),
  );
  return Math.ceil(lines * 14.5 + 3);
}

/**
 * Writes one sheet: a bold header row that stays in view (frozen), repeats on every printed page
 * and carries an autofilter, so the Office can sort and filter each column in Excel or
 * LibreOffice. Printed landscape on A4, as wide as the page. Rows are committed as they are
 * written: a quarter of a large Department (tens of thousands of rows) is streamed, not held.
 */
async function writeSheet(workbook: ExcelJS.stream.xlsx.WorkbookWriter, spec: SheetSpec): Promise<void> {
  const sheet = workbook.addWorksheet(spec.name, {
    views: [{ state: "frozen", ySplit: 1 }],
    pageSetup: {
      paperSize: A4,
      orientation: "landscape",
      fitToPage: true,
      fitToWidth: 1,
      // 0: as many pages down as the rows need.
      fitToHeight: 0,
      printTitlesRow: "1:1",
      margins: { left: 0.4, right: 0.4, top: 0.5, bottom: 0.6, header: 0.3, footer: 0.3 },
    },
    headerFooter: { oddFooter: t.reports.sheetFooter },
  });
  const widths = spec.columns.map((header, i) => columnWidth(header, spec.widths[i] ?? 10));
  const font = { name: FONT, size: FONT_SIZE };
  // A column's style is what its new cells start with, so dates show as 31/12/2025.
  sheet.columns = widths.map((width, i) => {
    const numFmt = spec.formats?.[i];
    const alignment = {
      vertical: "top" as const,
      ...(spec.wrap?.includes(i) ? { wrapText: true } : {}),
      ...(spec.center?.includes(i) ? { horizontal: "center" as const } : {}),
    };
    return { width, style: { font, alignment, ...(numFmt ? { numFmt } : {}) } };
  });
  sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: spec.columns.length } };
  const header = sheet.addRow([...spec.columns]);
  header.font = { ...font, bold: true };
  header.alignment = { vertical: "middle", horizontal: "center", wrapText: true };
  header.fill = { type: "pattern", pattern: "solid", fgColor: { argb: "FFE8EEF7" } };
  header.height = rowHeight(
    spec.columns,
    widths,
    spec.columns.map((_, i) => i),
    true,
  );
  header.commit();
  let written = 0;
  for (const values of spec.rows) {
    const row = sheet.addRow(values);
    if (spec.wrap) row.height = rowHeight(values, widths, spec.wrap);
    row.commit();
    // Writing rows is CPU work: let other chats' messages through now and then.
    if (++written % YIELD_EVERY === 0) await nextTick();
  }
  sheet.commit();
}

const PERIOD_ID = /^(\d{4})(?:-([QH])([1-4]))?$/;

/**
 * A reporting period's id in words, as the documents write it.
 * @example periodWords("2025-H2") // "6 tháng cuối năm 2025"
 * @example periodWords("once") // "Theo hạn"
 */
export function periodWords(id: string): string {
  if (id === "once") return t.reports.periodOnce;
  const match = PERIOD_ID.exec(id);
  if (!match) return id;
  const year = Number(match[1]);
  const label =
    match[2] === "Q"
      ? t.reports.periodLabel({ kind: "quarter", index: Number(match[3]), year })
      : match[2] === "H"
        ? t.reports.periodLabel({ kind: "half", index: Number(match[3]), year })
        : t.reports.periodLabel({ kind: "year", index: 1, year });
  return label.charAt(0).toUpperCase() + label.slice(1);
}

const channelWords = (channel: string) => t.reports.channels[channel] ?? channel;

/** Rows made one at a time as the sheet is written, not all held at once. */
function* rowsOf<T>(items: Iterable<T>, row: (item: T) => Cell[]): Generator<Cell[]> {
  for (const item of items) yield row(item);
}

const yesNo = (value: boolean) => (value ? t.reports.yes : t.reports.no);

/**
 * The workbook of /xuatbaocao: Nhiệm vụ (each task × unit), Báo cáo (every progress report),
 * Phản ánh (tickets without personal data) and Mô hình.
 */
export async function writeWorkbook(data: ExportData, out: Writable): Promise<void> {
  const { summary, labels } = data;
  // Excel has no time zones: a moment is written as the wall-clock time in the Department.
  const local = localTime(data.timeZone);
  const excelTime = (at: Date) => local.wallClock(at);
  const dayOf = (at: Date) => local.day(at);
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true });
  workbook.creator = data.orgName;
  workbook.title = t.reports.summaryTitle(t.reports.periodLabel(summary.period));

  await writeSheet(workbook, {
    name: t.reports.sheets.tasks,
    columns: t.reports.taskColumns,
    widths: [16, 9, 34, 22, 11, 13, 13, 8, 8, 11, 8, 15, 34],
    formats: { 4: DAY_FORMAT, 9: DAY_FORMAT, 11: TIME_FORMAT },
    wrap: [2, 3, 5, 12],
    center: [1, 4, 7, 8, 9, 10, 11],
    rows: rowsOf(summary.assignments, (a) => [
      a.task.planCode,
      a.task.code,
      a.task.title,
      a.unit.name,
      excelDay(a.due.day),
      periodWords(a.due.period),
      t.plans.status(a.state.status),
      a.state.percent,
      yesNo(a.overdue),
      a.doneAt ? excelDay(dayOf(a.doneAt)) : null,
      a.state.status === "done" ? yesNo(a.onTime) : null,
      a.state.lastReportAt ? excelTime(a.state.lastReportAt) : null,
      a.state.lastNote ?? null,
    ]),
  });

  const taskCodes = new Map(summary.assignments.map((a) => [a.task.key, a.task.code]));
  await writeSheet(workbook, {
    name: t.reports.sheets.reports,
    columns: t.reports.reportColumns,
    widths: [15, 16, 9, 22, 13, 18, 12, 18, 13, 8, 40, 10],
    formats: { 0: TIME_FORMAT },
    wrap: [3, 4, 5, 6, 7, 10],
    center: [0, 2, 9, 11],
    rows: rowsOf(data.reports, (r) => [
      excelTime(r.createdAt),
      r.planCode,
      taskCodes.get(r.taskKey) ?? r.taskKey.split(":").pop() ?? r.taskKey,
      labels.unit(r.unitKey),
      periodWords(r.period),
      r.personName,
      channelWords(r.channel),
      t.reports.reportSource[r.source] ?? r.source,
      r.status ? t.plans.status(r.status) : null,
      r.percent ?? null,
      r.note || null,
      r.attachments.length,
    ]),
  });

  await writeSheet(workbook, {
    name: t.reports.sheets.tickets,
    columns: t.reports.ticketColumns,
    widths: [16, 14, 24, 16, 26, 11, 11, 9, 11, 9, 9, 10],
    wrap: [1, 2, 3, 4],
    center: [5, 6, 7, 8, 9, 10, 11],
    formats: { 5: DAY_FORMAT, 6: DAY_FORMAT, 8: DAY_FORMAT },
    rows: rowsOf(data.tickets, (x) => {
      const answeredDay = x.answeredAt ? dayOf(x.answeredAt) : undefined;
      const days = x.answeredAt ? (x.answeredAt.getTime() - x.receivedAt.getTime()) / 86_400_000 : undefined;
      return [
        x.code,
        labels.ticketType(x.type),
        labels.ticketField(x.field),
        t.feedback.status(x.status),
        x.unitKey ? labels.unit(x.unitKey) : t.reports.unassigned,
        excelDay(dayOf(x.receivedAt)),
        excelDay(x.dueDay),
        x.extensions,
        answeredDay ? excelDay(answeredDay) : null,
        days === undefined ? null : Math.round(days * 10) / 10,
        answeredDay ? yesNo(answeredDay <= x.dueDay) : null,
        x.rating ?? null,
      ];
    }),
  });

  await writeSheet(workbook, {
    name: t.reports.sheets.models,
    columns: t.reports.modelColumns,
    widths: [13, 36, 22, 24, 20, 16, 10, 11, 11, 12],
    wrap: [1, 2, 3, 4, 5],
    center: [6, 7, 8, 9],
    formats: { 7: DAY_FORMAT, 8: DAY_FORMAT },
    rows: rowsOf(data.models, (m) => [
      m.code,
      m.name,
      labels.modelField(m.field),
      labels.unit(m.unitKey),
      m.personInCharge,
      t.dvk.status(m.status),
      yesNo(m.late),
      excelDay(m.startDay),
      excelDay(m.endDay),
      m.results.length,
    ]),
  });

  await workbook.commit();
}
