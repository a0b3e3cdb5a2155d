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
  rows: Iterable<Cell[]>;
}

/**
 * Writes one sheet: a bold header row that stays in view (frozen) and carries an autofilter, so
 * the Office can sort and filter each column in Excel or LibreOffice. Rows are committed as they
 * are written: a quarter of a large Department (tens of thousands of rows) is streamed, not held.
 */
async function writeSheet(workbook: ExcelJS.stream.xlsx.WorkbookWriter, spec: SheetSpec): Promise<void> {
  const sheet = workbook.addWorksheet(spec.name, { views: [{ state: "frozen", ySplit: 1 }] });
  // A column's style is what its new cells start with, so dates show as 31/12/2025.
  sheet.columns = spec.widths.map((width, i) => {
    const numFmt = spec.formats?.[i];
    return numFmt ? { width, style: { numFmt } } : { width };
  });
  sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: spec.columns.length } };
  const header = sheet.addRow([...spec.columns]);
  header.font = { bold: true };
  header.alignment = { vertical: "middle", wrapText: true };
  header.fill = { type: "pattern", pattern: "solid", fgColor: { argb: "FFE8EEF7" } };
  header.commit();
  let written = 0;
  for (const values of spec.rows) {
    sheet.addRow(values).commit();
    // Writing rows is CPU work: let other chats' messages through now and then.
    if (++written % YIELD_EVERY === 0) await nextTick();
  }
  sheet.commit();
}

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
    widths: [16, 10, 48, 34, 12, 12, 16, 10, 9, 14, 10, 16, 48],
    formats: { 4: DAY_FORMAT, 9: DAY_FORMAT, 11: TIME_FORMAT },
    rows: rowsOf(summary.assignments, (a) => [
      a.task.planCode,
      a.task.code,
      a.task.title,
      a.unit.name,
      excelDay(a.due.day),
      a.due.period === "once" ? t.reports.periodOnce : a.due.period,
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
    widths: [17, 16, 10, 34, 12, 24, 10, 18, 16, 10, 60, 10],
    formats: { 0: TIME_FORMAT },
    rows: rowsOf(data.reports, (r) => [
      excelTime(r.createdAt),
      r.planCode,
      taskCodes.get(r.taskKey) ?? r.taskKey.split(":").pop() ?? r.taskKey,
      labels.unit(r.unitKey),
      r.period === "once" ? t.reports.periodOnce : r.period,
      r.personName,
      r.channel,
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
    widths: [16, 12, 28, 20, 34, 14, 12, 10, 14, 10, 10, 10],
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
    widths: [13, 48, 28, 34, 24, 20, 10, 12, 12, 10],
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
