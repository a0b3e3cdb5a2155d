import { fold } from "../../text/normalize.js";
import type { TaskStatus } from "./status.js";

/** What an official's free-text answer says about a task. */
export interface ProgressReading {
  status?: TaskStatus;
  percent?: number;
  /** The whole text, kept as the report's note: nothing they wrote is thrown away. */
  note: string;
}

// Phrases are matched on folded text (no diacritics, lower case), so "hoàn thành",
// "hoan thanh" and "HOÀN THÀNH" read the same. Order matters: negations before the words they negate.
const NOT_DONE = /\b(chua|khong|ko|k)\s+(xong|hoan thanh|ht)\b/;
const NOT_STARTED = /\b(chua|khong|ko)\s+(bat dau|lam|trien khai|thuc hien)\b|\bchua co gi\b/;
const BLOCKED =
  /\b(vuong|vuong mac|kho khan|bi chan|tac|chua co kinh phi|thieu kinh phi|thieu nhan luc|bi cham|cham tien do|can ho tro)\b/;
// "dự kiến tuần sau xong", "sẽ hoàn thành": finishing is still ahead.
const FUTURE_DONE = /\b(du kien|se|sap|chuan bi|ke hoach)\b.*\b(xong|hoan thanh)\b/;
const DONE = /\b(xong|hoan thanh|hoan tat|da ht|ht roi|done|finished|complete[d]?)\b/;
const IN_PROGRESS = /\b(dang lam|dang thuc hien|dang trien khai|dang xu ly|dang tien hanh|tiep tuc|dang)\b/;
// "70%", "70 %", "70 phan tram", "duoc 70", "dat 70"
const PERCENT = /(\d{1,3})\s*(%|phan tram)|\b(?:duoc|dat|khoang|tam|xong)\s+(\d{1,3})\b/;

/**
 * Reads a short Vietnamese progress report.
 * @example readProgress("đang làm, vướng kinh phí") // { status: "blocked", note: "đang làm, vướng kinh phí" }
 * @example readProgress("được 70%") // { status: "in_progress", percent: 70, note: "được 70%" }
 */
export function readProgress(text: string): ProgressReading {
  const note = text.trim();
  const key = fold(note);
  const match = PERCENT.exec(key);
  const raw = match ? Number(match[1] ?? match[3]) : undefined;
  const percent = raw !== undefined && raw >= 0 && raw <= 100 ? raw : undefined;

  let status: TaskStatus | undefined;
  if (BLOCKED.test(key)) status = "blocked";
  else if (NOT_STARTED.test(key)) status = "not_started";
  else if (NOT_DONE.test(key)) status = "in_progress";
  else if (percent === 100) status = "done";
  else if (percent === 0) status = "not_started";
  else if (percent !== undefined || FUTURE_DONE.test(key) || IN_PROGRESS.test(key)) status = "in_progress";
  else if (DONE.test(key)) status = "done";

  const reading: ProgressReading = { note };
  if (status) reading.status = status;
  if (status === "done") reading.percent = 100;
  else if (status === "not_started") reading.percent = 0;
  else if (percent !== undefined) reading.percent = percent;
  return reading;
}
