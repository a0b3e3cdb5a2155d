/**
 * The reminder digest (one message per person per run listing their tasks due), the answers to
 * it, and the escalations (jobs/reminders.ts, jobs/escalation.ts, src/domain/plans/digest-replies.ts).
 * Dates and "còn N ngày làm việc" arrive already formatted.
 */

/** How to answer a numbered list of `count` tasks. */
const howToAnswer = (count: number) =>
  count === 1
    ? 'Trả lời tin này, ví dụ "xong" hoặc "được 70%, vướng kinh phí". Báo cáo chi tiết, kèm minh chứng: /baocao.'
    : "Trả lời tin này theo số thứ tự, nhiều việc một lần cũng được, ví dụ:\n" +
      '"1 xong, 2 được 50%, 3 vướng kinh phí" (hoặc mỗi việc một dòng).\n' +
      "Báo cáo chi tiết, kèm minh chứng: /baocao.";

/** One task at one unit, as a list of tasks due shows it. */
export interface TaskDue {
  code: string;
  title: string;
  due: string;
  left: string;
  status: string;
  percent: number;
}

/** The line under a task's title: its deadline, the working days left, its progress. */
export const dueLine = (p: TaskDue) => `Hạn ${p.due} (${p.left}) · ${p.status} ${p.percent}%`;

export const reminders = {
  digestHeader: (day: string, count: number, unit: string) =>
    `Nhắc việc ngày ${day} — ${unit}: ${count} nhiệm vụ cần báo cáo tiến độ.`,
  planHeader: (plan: string) => `Kế hoạch: ${plan}`,
  item: (p: TaskDue & { n: number }) => `${p.n}. ${p.code} — ${p.title}\n    ${dueLine(p)}`,
  howToAnswer,
  /** A button under a short digest (Telegram): the task is done. */
  doneButton: (n: number, code: string) => `✓ ${n}. ${code} — xong`,
  reportButton: "Báo cáo chi tiết (/baocao)",
  recordedHeader: "Đã ghi nhận:",
  recordedLine: (p: {
    n: number;
    code: string;
    plan: string;
    unit: string;
    status: string;
    percent: number | undefined;
  }) =>
    `${p.n}. ${p.code} (${p.plan}) — ${p.unit}: ${p.status}${p.percent !== undefined ? `, ${p.percent}%` : ""}`,
  recordedFooter: 'Nếu chưa đúng, trả lời tin này để sửa, ví dụ "2 được 60%".',
  /** Under the confirmation of a button, the buttons of the tasks still open. */
  moreButtons: "Còn lại:",
  whichNumber: (count: number) =>
    `Tin nhắc việc có ${count} nhiệm vụ: anh/chị báo cáo việc số mấy? ` +
    'Xin ghi số trước câu trả lời, ví dụ "1 xong" hoặc "1 xong, 2 được 50%". Chưa ghi nhận gì.',
  ambiguous:
    "Chưa rõ câu trả lời nào thuộc nhiệm vụ nào. Xin tách các việc bằng dấu phẩy, chấm phẩy hoặc " +
    'xuống dòng, mỗi việc bắt đầu bằng số của nó, ví dụ "1 xong, 2 được 50%". Chưa ghi nhận gì.',
  outOfRange: (numbers: number[], count: number) =>
    `Tin nhắc việc chỉ có ${count === 1 ? "việc số 1" : `các việc số 1–${count}`}; ` +
    `không có số ${numbers.join(", ")}. Chưa ghi nhận gì, xin gửi lại.`,
  repeated: (n: number) => `Việc số ${n} được nêu hai lần. Chưa ghi nhận gì, xin gửi lại.`,
  empty: (n: number) =>
    `Chưa rõ tình trạng của việc số ${n}: xin ghi sau số, ví dụ "${n} xong" hoặc "${n} được 50%". ` +
    "Chưa ghi nhận gì.",
  unread: (items: { n: number; text: string }[]) =>
    `Chưa hiểu tình trạng của ${items.map((i) => `việc số ${i.n} ("${i.text}")`).join(", ")}: ` +
    'xin ghi "xong", "được 50%", "đang làm", "chưa bắt đầu" hoặc "vướng …". Chưa ghi nhận gì.',
  notFound: "Không còn tìm thấy tin nhắc việc này. Xin dùng /baocao để báo cáo.",
  notYours: (codes: string[]) =>
    `Nhiệm vụ ${codes.join(", ")} không thuộc đơn vị của anh/chị, nên không thể báo cáo. Chưa ghi nhận gì.`,
  escalationHeadHeader: (count: number, unit: string) =>
    `${unit} có ${count} nhiệm vụ quá hạn chưa hoàn thành:`,
  escalationOfficeHeader: (count: number, units: number) =>
    `Nhiệm vụ quá hạn chưa hoàn thành: ${count} việc ở ${units} đơn vị.`,
  escalationOfficeUnit: (unit: string, count: number, codes: string[], more: number) =>
    `• ${unit} (${count}): ${codes.join(", ")}${more > 0 ? ` và ${more} việc khác` : ""}`,
  escalationOfficeFooter: "Xem từng việc của một đơn vị: /nhiemvu <tên đơn vị>.",
};
