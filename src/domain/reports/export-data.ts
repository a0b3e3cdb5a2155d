import type { Day } from "../calendar/work-calendar.js";
import type { FeedbackType } from "../feedback/rules.js";
import type { ReportDoc } from "../plans/schema.js";
import type { ModelRow, ModelStats } from "./model-stats.js";
import type { OfficeSummary } from "./office-summary.js";
import type { TicketRow, TicketStats } from "./ticket-stats.js";

/** A progress report as the files list it. */
export type ReportRow = Pick<
  ReportDoc,
  | "taskKey"
  | "planCode"
  | "unitKey"
  | "period"
  | "personName"
  | "channel"
  | "source"
  | "status"
  | "percent"
  | "note"
  | "attachments"
  | "createdAt"
>;

/** Names for the keys stored in the database. */
export interface Labels {
  unit(key: string): string;
  ticketType(type: FeedbackType): string;
  ticketField(key: string): string;
  modelField(key: string): string;
}

/**
 * What the report prints beside and under the Department's name (ORG_PARENT, ORG_PLACE,
 * REPORT_RECIPIENTS): the body above it, the place of the date line, the bodies it is sent to.
 */
export interface Letterhead {
  parent?: string | undefined;
  place?: string | undefined;
  /** Upward recipients, e.g. "UBND tỉnh (để báo cáo)"; the Department's own are always added. */
  recipients: string[];
}

/** Everything one /xuatbaocao writes into the workbook and the draft. */
export interface ExportData {
  orgName: string;
  letterhead: Letterhead;
  timeZone: string;
  /** The day the files are made (the date line of the draft). */
  today: Day;
  summary: OfficeSummary;
  reports: ReportRow[];
  tickets: TicketRow[];
  ticketStats: TicketStats;
  models: ModelRow[];
  modelStats: ModelStats;
  labels: Labels;
}
