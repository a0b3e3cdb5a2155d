import { Schema, type Types } from "mongoose";
import type { Attachment } from "../../engine/message.js";
import { t } from "../../text/vi.js";
import { formatDay, type Day } from "../calendar/work-calendar.js";
import { RECURRENCES, TASK_STATUSES, type Recurrence, type TaskStatus } from "./status.js";

export interface PlanDoc {
  _id: Types.ObjectId;
  code: string;
  title: string;
  organisation: string;
  period: { from: Day; to: Day };
  /** `month` (YYYY-MM) when the source printed the month but left the day blank. */
  document: { number: string; date?: Day; month?: string; issuer: string };
  sourceFile: string;
  importedAt: Date;
}

/**
 * The plan's date as a citation writes it after "ngày": "05/11/2025", or "… tháng 11 năm 2025"
 * when the source left the day blank; undefined when it printed no date.
 */
export function citedDate(document: PlanDoc["document"]): string | undefined {
  if (document.date) return formatDay(document.date);
  if (!document.month) return undefined;
  return t.plans.documentMonth(Number(document.month.slice(5, 7)), document.month.slice(0, 4));
}

export const planSchema = new Schema<PlanDoc>(
  {
    code: { type: String, required: true, unique: true },
    title: { type: String, required: true },
    organisation: { type: String, required: true },
    period: { from: { type: String, required: true }, to: { type: String, required: true } },
    document: { number: String, date: String, month: String, issuer: String },
    sourceFile: { type: String, required: true },
    importedAt: { type: Date, required: true },
  },
  { collection: "plans" },
);

export interface TaskDoc {
  _id: Types.ObjectId;
  /** `<plan code>:<task code>`, unique across plans. */
  key: string;
  planCode: string;
  code: string;
  title: string;
  content: string;
  /** Unit keys, or ["all"] for every unit. */
  units: string[];
  lead?: string;
  deadline?: Day;
  recurrence?: Recurrence;
  /** The Office's remark from the plan file. */
  note?: string;
  /** Position in the plan. */
  order: number;
  /** Dropped from the plan file by a later import; kept because reports point at it. */
  archived: boolean;
}

export const taskSchema = new Schema<TaskDoc>(
  {
    key: { type: String, required: true, unique: true },
    planCode: { type: String, required: true },
    code: { type: String, required: true },
    title: { type: String, required: true },
    content: { type: String, required: true },
    units: { type: [String], required: true },
    lead: { type: String },
    deadline: { type: String },
    recurrence: { type: String, enum: RECURRENCES },
    note: { type: String },
    order: { type: Number, required: true },
    archived: { type: Boolean, required: true, default: false },
  },
  { collection: "tasks" },
);
taskSchema.index({ planCode: 1, order: 1 });

/** One progress report by one official for one unit on one task. Never edited: the history. */
export interface ReportDoc {
  _id: Types.ObjectId;
  /** Makes saving the same report twice (a replayed update) impossible. */
  idempotencyKey: string;
  taskKey: string;
  planCode: string;
  unitKey: string;
  /** For recurring obligations, the period reported on (2025-H2); "once" for deadline tasks. */
  period: string;
  personId: Types.ObjectId;
  personName: string;
  channel: string;
  /** Absent when the bot could not tell from free text: the official is asked to confirm. */
  status?: TaskStatus;
  percent?: number;
  note: string;
  attachments: Attachment[];
  source: "flow" | "reply" | "confirm";
  createdAt: Date;
}

export const reportSchema = new Schema<ReportDoc>(
  {
    idempotencyKey: { type: String, required: true, unique: true },
    taskKey: { type: String, required: true },
    planCode: { type: String, required: true },
    unitKey: { type: String, required: true },
    period: { type: String, required: true },
    personId: { type: Schema.Types.ObjectId, required: true },
    personName: { type: String, required: true },
    channel: { type: String, required: true },
    status: { type: String, enum: TASK_STATUSES },
    percent: { type: Number, min: 0, max: 100 },
    note: { type: String, default: "" },
    attachments: [{ _id: false, kind: String, ref: String, name: String, mimeType: String, size: Number }],
    source: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: "reports" },
);
reportSchema.index({ taskKey: 1, unitKey: 1, createdAt: -1 });
reportSchema.index({ planCode: 1, createdAt: -1 });
