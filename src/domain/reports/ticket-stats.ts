import type { Model } from "mongoose";
import type { Day } from "../calendar/work-calendar.js";
import type { FeedbackType } from "../feedback/rules.js";
import { OPEN_STATUSES, type TicketDoc, type TicketStatus } from "../feedback/schema.js";
import { localTime } from "./local-time.js";
import type { ReportPeriod } from "./period.js";

/**
 * A ticket as the statistics and the report files see it: no name, phone, address, content or
 * chat of the filer. Loading only these fields means the personal data (Luật Bảo vệ dữ liệu cá nhân
 * 2025, 91/2025/QH15) and the identity of a tố cáo filer (Luật Tố cáo 2018, arts. 47–48) never
 * enter a report.
 */
export interface TicketRow {
  code: string;
  type: FeedbackType;
  field: string;
  status: TicketStatus;
  unitKey?: string;
  receivedAt: Date;
  dueDay: Day;
  extensions: number;
  /** The first "answered" entry of the history. */
  answeredAt?: Date;
  rating?: number;
}

export interface Count<K extends string = string> {
  key: K;
  count: number;
}

export interface TicketStats {
  total: number;
  byType: Count<FeedbackType>[];
  byField: Count[];
  byStatus: Count<TicketStatus>[];
  /** Handling unit; "" for tickets not handed to a unit yet. */
  byUnit: Count[];
  /**
   * Tickets that had to be answered by now: those answered, and those still open past their due
   * day. Refused (không thụ lý) tickets are not counted.
   */
  due: number;
  /** Of those, answered on or before the due day (extensions granted by law included). */
  onTime: number;
  answered: number;
  /** Calendar days from receipt to the answer, on average over the answered tickets. */
  averageHandlingDays?: number;
  rated: number;
  averageRating?: number;
}

const DAY_MS = 86_400_000;

function counts<K extends string>(keys: K[]): Count<K>[] {
  const map = new Map<K, number>();
  for (const key of keys) map.set(key, (map.get(key) ?? 0) + 1);
  return [...map.entries()]
    .map(([key, count]) => ({ key, count }))
    .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}

const average = (values: number[]): number | undefined =>
  values.length ? values.reduce((a, b) => a + b, 0) / values.length : undefined;

/**
 * The ticket figures of a summary, computed in TypeScript (the portable MongoDB subset has no
 * $avg or $cond).
 * @example ticketStats(rows, "2025-12-22", "Asia/Ho_Chi_Minh").onTime
 */
export function ticketStats(rows: TicketRow[], today: Day, timeZone: string): TicketStats {
  let due = 0;
  let onTime = 0;
  const handling: number[] = [];
  const ratings: number[] = [];
  const local = localTime(timeZone);
  for (const row of rows) {
    if (row.answeredAt) {
      due += 1;
      if (local.day(row.answeredAt) <= row.dueDay) onTime += 1;
      handling.push((row.answeredAt.getTime() - row.receivedAt.getTime()) / DAY_MS);
    } else if (OPEN_STATUSES.includes(row.status) && row.dueDay < today) {
      due += 1;
    }
    if (row.rating !== undefined) ratings.push(row.rating);
  }
  const averageHandlingDays = average(handling);
  const averageRating = average(ratings);
  return {
    total: rows.length,
    byType: counts(rows.map((r) => r.type)),
    byField: counts(rows.map((r) => r.field)),
    byStatus: counts(rows.map((r) => r.status)),
    byUnit: counts(rows.map((r) => r.unitKey ?? "")),
    due,
    onTime,
    answered: handling.length,
    ...(averageHandlingDays !== undefined ? { averageHandlingDays } : {}),
    rated: ratings.length,
    ...(averageRating !== undefined ? { averageRating } : {}),
  };
}

type LoadedTicket = Pick<
  TicketDoc,
  | "code"
  | "type"
  | "field"
  | "status"
  | "unitKey"
  | "receivedAt"
  | "dueDay"
  | "extensions"
  | "history"
  | "rating"
>;

/**
 * The tickets received in a period (optionally of one handling unit), as rows without personal
 * data. Only top-level fields are projected: the identity, filer and content are never read.
 */
export async function loadTicketRows(
  tickets: Model<TicketDoc>,
  period: ReportPeriod,
  unitKey?: string,
): Promise<TicketRow[]> {
  const docs = await tickets
    .find(
      { receivedDay: { $gte: period.start, $lte: period.end }, ...(unitKey ? { unitKey } : {}) },
      {
        code: 1,
        type: 1,
        field: 1,
        status: 1,
        unitKey: 1,
        receivedAt: 1,
        dueDay: 1,
        extensions: 1,
        history: 1,
        rating: 1,
      },
    )
    .sort({ receivedAt: 1 })
    .lean<LoadedTicket[]>();
  return docs.map((doc) => {
    const answered = doc.history.find((h) => h.action === "answered");
    return {
      code: doc.code,
      type: doc.type,
      field: doc.field,
      status: doc.status,
      ...(doc.unitKey ? { unitKey: doc.unitKey } : {}),
      receivedAt: doc.receivedAt,
      dueDay: doc.dueDay,
      extensions: doc.extensions ?? 0,
      ...(answered ? { answeredAt: answered.at } : {}),
      ...(doc.rating ? { rating: doc.rating.score } : {}),
    };
  });
}
