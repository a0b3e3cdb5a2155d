import type { Model } from "mongoose";
import type { Logger } from "../../log.js";
import { t } from "../../text/vi.js";
import type { Day } from "../calendar/work-calendar.js";
import type { ModelDoc } from "../dvk/schema.js";
import type { DvkService } from "../dvk/service.js";
import type { TicketDoc } from "../feedback/schema.js";
import type { FeedbackService } from "../feedback/service.js";
import type { ReportDoc } from "../plans/schema.js";
import type { PlansService } from "../plans/service.js";
import type { UnitsService } from "../units/service.js";
import { renderProgressChart } from "./chart.js";
import { draftReport } from "./docx.js";
import type { ExportData, Labels, Letterhead, ReportRow } from "./export-data.js";
import type { FileStore, StoredFile } from "./files.js";
import { localTime } from "./local-time.js";
import { loadModelRows, modelStats, type ModelStats } from "./model-stats.js";
import { officeSummary, plansIn, type OfficeSummary } from "./office-summary.js";
import { asOfDay, type ReportPeriod } from "./period.js";
import { loadTicketRows, ticketStats, type TicketStats } from "./ticket-stats.js";
import { writeWorkbook } from "./xlsx.js";

export interface ReportsDeps {
  plans: PlansService;
  feedback: FeedbackService;
  dvk: DvkService;
  units: UnitsService;
  models: { Report: Model<ReportDoc>; Ticket: Model<TicketDoc>; DvkModel: Model<ModelDoc> };
  files: FileStore;
  orgName: string;
  /** ORG_PARENT, ORG_PLACE, REPORT_RECIPIENTS; without them the draft leaves blanks to fill in. */
  letterhead?: Letterhead | undefined;
  timeZone: string;
  log: Logger;
}

/** The two files of /xuatbaocao and the summary they were made from. */
export interface ExportedFiles {
  summary: OfficeSummary;
  xlsx: StoredFile;
  docx: StoredFile;
}

/**
 * The Office's numbers and files: summaries by unit, ticket and model statistics, the progress
 * chart, the workbook and the draft report. Reads the other areas' collections, never writes them.
 */
export class ReportsService {
  readonly files: FileStore;

  constructor(private readonly deps: ReportsDeps) {
    this.files = deps.files;
  }

  /** The figures of /tonghop for a period. */
  async summary(period: ReportPeriod, today: Day): Promise<OfficeSummary> {
    const { plans, models, timeZone } = this.deps;
    return officeSummary(plans, models.Report, period, today, timeZone);
  }

  /** Whether any plan runs in the period (else there is nothing to report on). */
  async hasPlans(period: ReportPeriod): Promise<boolean> {
    return plansIn(await this.deps.plans.plans(), period).length > 0;
  }

  /** Ticket figures for the tickets received in the period; `unitKey` narrows to one unit's. */
  async ticketStats(period: ReportPeriod, today: Day, unitKey?: string): Promise<TicketStats> {
    const rows = await loadTicketRows(this.deps.models.Ticket, period, unitKey);
    return ticketStats(rows, asOfDay(period, today), this.deps.timeZone);
  }

  /** "Dân vận khéo" figures of a year; `unitKey` narrows to one unit's. */
  async modelStats(year: number, unitKey?: string): Promise<ModelStats> {
    return modelStats(await loadModelRows(this.deps.models.DvkModel, year, unitKey), year);
  }

  /** Names for the keys in the database, loaded once per report. */
  async labels(): Promise<Labels> {
    const names = await this.deps.units.names();
    const { feedback, dvk } = this.deps;
    return {
      unit: (key) => names.get(key) ?? key,
      ticketType: (type) => feedback.rule(type).label,
      ticketField: (key) => feedback.fieldLabel(key),
      modelField: (key) => dvk.fieldLabel(key),
    };
  }

  /** The progress chart of a summary as PNG bytes. */
  chartPng(summary: OfficeSummary): Buffer {
    const label = t.reports.periodLabel(summary.period);
    return renderProgressChart(summary.units, t.reports.chartTitle(label), this.deps.log);
  }

  /** The progress chart of a summary, stored as a PNG (see files.ts). */
  async chart(summary: OfficeSummary, now: Date): Promise<StoredFile> {
    return this.files.save(`tien-do-${summary.period.id}`, "png", now, this.chartPng(summary));
  }

  /** Every progress report of the plans running in the period (all periods: "done" may be older). */
  private async planReports(period: ReportPeriod): Promise<ReportRow[]> {
    const codes = plansIn(await this.deps.plans.plans(), period).map((p) => p.code);
    if (codes.length === 0) return [];
    return this.deps.models.Report.find(
      { planCode: { $in: codes } },
      {
        taskKey: 1,
        planCode: 1,
        unitKey: 1,
        period: 1,
        personName: 1,
        channel: 1,
        source: 1,
        status: 1,
        percent: 1,
        note: 1,
        attachments: 1,
        createdAt: 1,
      },
    ).lean<ReportRow[]>();
  }

  /**
   * Everything the two files show. The plans' reports are read once, for the "done on time"
   * figures and for the sheet of reports; the tickets are read at the same time.
   */
  async exportData(period: ReportPeriod, today: Day): Promise<ExportData> {
    const { models, timeZone } = this.deps;
    const [allReports, tickets, modelRows, labels] = await Promise.all([
      this.planReports(period),
      loadTicketRows(models.Ticket, period),
      loadModelRows(models.DvkModel, period.year),
      this.labels(),
    ]);
    const summary = await officeSummary(this.deps.plans, models.Report, period, today, timeZone, allReports);
    // The sheet lists the reports made from the period's first day to the day of the figures.
    const local = localTime(timeZone);
    const reports = allReports
      .filter((r) => {
        const day = local.day(r.createdAt);
        return day >= period.start && day <= summary.asOf;
      })
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    return {
      orgName: this.deps.orgName,
      letterhead: this.deps.letterhead ?? { recipients: [] },
      timeZone,
      today,
      summary,
      reports,
      tickets,
      ticketStats: ticketStats(tickets, summary.asOf, timeZone),
      models: modelRows,
      modelStats: modelStats(modelRows, period.year),
      labels,
    };
  }

  /**
   * Stores the workbook and the draft for a period, with unique names. The workbook streams into
   * the store as it is written, so a large one is never whole in memory.
   */
  async export(period: ReportPeriod, today: Day, now: Date): Promise<ExportedFiles> {
    const data = await this.exportData(period, today);
    const stem = `bao-cao-${period.id}`;
    const xlsx = await this.files.save(stem, "xlsx", now, (out) => writeWorkbook(data, out));
    const docx = await this.files.save(stem, "docx", now, await draftReport(data));
    return { summary: data.summary, xlsx, docx };
  }

  /** Removes expired files, and what cut-off uploads left (see files.ts). */
  async sweep(now: Date): Promise<number> {
    return this.files.sweep(now);
  }
}
