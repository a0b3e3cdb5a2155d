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
// "dự kiến tuần sau xong", "sẽ hoàn thành", "còn 3 ngày nữa xong", "2 ngày nữa là xong": finishing
// is still ahead.
const FUTURE_DONE = /\b(du kien|se|sap|chuan bi|ke hoach|con|nua)\b.*\b(xong|hoan thanh)\b/;
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

/** One numbered answer of a reply to a list of tasks: "2 được 50%" is { n: 2, text: "được 50%" }. */
export interface NumberedAnswer {
  n: number;
  text: string;
}

/**
 * How a reply to a numbered list of tasks reads. Anything but "answers" or "unnumbered" records
 * nothing: the person is told what was unclear and sends it again, so no answer lands on a task
 * they did not mean.
 */
export type AnswersReading =
  | { kind: "answers"; answers: NumberedAnswer[] }
  /** No number at all: one answer, for a list of one task. */
  | { kind: "unnumbered"; text: string }
  /** Where one answer ends and the next begins cannot be told ("1 xong 2 duoc 50%"). */
  | { kind: "ambiguous" }
  | { kind: "outOfRange"; numbers: number[] }
  | { kind: "repeated"; n: number }
  /** A number with nothing after it ("1, 2 xong": what of 1?). */
  | { kind: "empty"; n: number };

// A piece that starts an answer: a number, then a mark ("1.", "2:", "3)", "4 -") or a space, and
// not a percentage ("50%", "50 phần trăm"), which belongs to the answer before it.
const ANSWER_START = /^(\d{1,3})(?:\s*[.:)\]–-]\s*|\s+|$)(?!\s*%)([\s\S]*)$/;
// A number inside an answer that could as well start the next one. Numbers that say how much are
// not: "50%", "được 70", "3 ngày", "2 tháng".
const AMOUNT_BEFORE = /(?:duoc|dat|khoang|tam|len|den|toi|con|them|mat|trong|sau|truoc)\s+$/;
const AMOUNT_AFTER =
  /^\s*(?:%|(?:phan tram|ngay|tuan|thang|nam|lan|nguoi|trieu|ty|dong|tieng|gio|buoi|van ban|bao cao|ho so|cuoc|hoi nghi|lop|bai|tin|xa|don vi)\b)/;

function hasStrayNumber(text: string): boolean {
  const key = fold(text);
  for (const match of key.matchAll(/\b\d{1,3}\b/g)) {
    const at = match.index;
    if (AMOUNT_BEFORE.test(key.slice(0, at))) continue;
    if (AMOUNT_AFTER.test(key.slice(at + match[0].length))) continue;
    if (key[at - 1] === "/" || key[at + match[0].length] === "/") continue; // a date, 15/12
    return true;
  }
  return false;
}

/**
 * Splits a reply to a list of `count` numbered tasks into its answers. Answers are separated by
 * a comma, a semicolon or a new line, each led by its number; a comma inside an answer stays
 * there ("2 được 50%, vướng kinh phí" is one answer).
 * @example readAnswers("1 xong, 2 được 50%, 3 vướng kinh phí", 3) // answers 1, 2 and 3
 * @example readAnswers("1 xong 2 duoc 50%", 3) // { kind: "ambiguous" }
 */
export function readAnswers(text: string, count: number): AnswersReading {
  const pieces = text
    .split(/[\n;,]/)
    .map((piece) => piece.trim())
    .filter(Boolean);
  const answers: NumberedAnswer[] = [];
  let lead = "";
  for (const piece of pieces) {
    const match = ANSWER_START.exec(piece);
    const last = answers.at(-1);
    if (match) answers.push({ n: Number(match[1]), text: (match[2] ?? "").trim() });
    else if (last) last.text = last.text ? `${last.text}, ${piece}` : piece;
    else lead = lead ? `${lead}, ${piece}` : piece;
  }
  if (answers.length === 0) return { kind: "unnumbered", text: text.trim() };
  // A list of one needs no number: "2 ngày nữa xong", "xong, 2 bản đã gửi" answer its only task.
  if (count === 1 && (lead || answers[0]?.n !== 1)) return { kind: "unnumbered", text: text.trim() };
  // Words before the first number ("xong, 2 được 50%"): whose are they?
  if (lead) return { kind: "ambiguous" };
  if (answers.some((a) => hasStrayNumber(a.text))) return { kind: "ambiguous" };
  const outside = answers.map((a) => a.n).filter((n) => n < 1 || n > count);
  if (outside.length > 0) return { kind: "outOfRange", numbers: [...new Set(outside)] };
  const seen = new Set<number>();
  for (const { n } of answers) {
    if (seen.has(n)) return { kind: "repeated", n };
    seen.add(n);
  }
  const empty = answers.find((a) => !a.text);
  if (empty) return { kind: "empty", n: empty.n };
  return { kind: "answers", answers };
}
