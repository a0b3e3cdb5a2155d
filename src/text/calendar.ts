/**
 * The working-day calendar in the Office's words: /ngaynghi, the yearly warning, and the
 * "tạm tính" beside a deadline that the calendar cannot count for sure. Dates arrive formatted
 * (31/12/2025).
 */

const WEEKDAYS = ["Chủ nhật", "thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy"];

/** "24/11/2027 (thứ Tư)" */
const dayWithWeekday = (day: string, weekday: number) => `${day} (${WEEKDAYS[weekday] ?? ""})`;

export const calendar = {
  weekday: dayWithWeekday,
  description: "Lịch ngày nghỉ lễ, Tết và ngày làm bù: xem, thêm, dời, bỏ (Văn phòng Sở, quản trị)",
  usage:
    "/ngaynghi [năm] | thêm NGÀY TÊN | làm bù NGÀY | dời NGÀY NGÀY_MỚI | bỏ NGÀY | chốt NĂM VĂN_BẢN | lịch sử [năm]",
  help:
    "Cách dùng /ngaynghi (gõ có dấu hay không dấu đều được):\n" +
    "• /ngaynghi 2027 — xem lịch ngày nghỉ năm 2027\n" +
    "• /ngaynghi thêm 24/11/2027 Ngày Văn hóa Việt Nam — thêm một ngày nghỉ\n" +
    "• /ngaynghi làm bù 13/02/2027 — một ngày thứ Bảy/Chủ nhật đi làm bù\n" +
    "• /ngaynghi dời 03/09/2027 01/09/2027 — dời một ngày nghỉ sang ngày khác\n" +
    "• /ngaynghi bỏ 03/09/2027 — trả một ngày về bình thường (bỏ ngày nghỉ hoặc ngày làm bù)\n" +
    "• /ngaynghi chốt 2027 Công văn số …/VPCP-KGVX — ghi nhận đã có quyết định, lịch năm đã đủ\n" +
    "• /ngaynghi lịch sử 2027 — ai đã thay đổi gì, khi nào",
  badDay: (text: string) => `"${text}" không phải ngày hợp lệ. Xin ghi ngày dạng 24/11/2027.`,
  badYear: "Xin ghi năm dạng 2027.",
  needName: "Xin ghi tên ngày nghỉ sau ngày, ví dụ: /ngaynghi thêm 24/11/2027 Ngày Văn hóa Việt Nam",
  needReference:
    "Xin ghi văn bản quyết định lịch nghỉ sau năm, ví dụ: /ngaynghi chốt 2027 Công văn số 1234/VPCP-KGVX ngày 20/11/2026",
  notWeekend: (day: string) =>
    `${day} không phải thứ Bảy hay Chủ nhật: ngày làm việc thường không cần ghi là ngày làm bù.`,
  alreadyOff: (day: string, name: string) => `${day} đã là ngày nghỉ${name ? `: ${name}` : ""}.`,
  notAHoliday: (day: string) => `${day} không phải ngày nghỉ lễ, Tết hay nghỉ bù nên không có gì để dời.`,
  nothingToUndo: (day: string) => `${day} đang là ngày bình thường, không có gì để bỏ.`,
  added: (day: string, name: string) =>
    `Đã thêm ngày nghỉ ${day}: ${name}. Hạn xử lý và lịch nhắc việc tính theo lịch mới ngay từ bây giờ.`,
  worked: (day: string) =>
    `Đã ghi ${day} là ngày làm bù (đi làm). Hạn xử lý và lịch nhắc việc tính theo lịch mới ngay từ bây giờ.`,
  moved: (from: string, to: string, name: string) =>
    `Đã dời ngày nghỉ ${name} từ ${from} sang ${to}. Hạn xử lý và lịch nhắc việc tính theo lịch mới ngay từ bây giờ.`,
  undone: (day: string, weekend: boolean) =>
    `Đã trả ${day} về ngày bình thường (${weekend ? "nghỉ cuối tuần" : "ngày làm việc"}).`,
  closed: (year: number, reference: string) =>
    `Đã ghi nhận lịch nghỉ năm ${year} đã có quyết định (${reference}). Các ngày nghỉ của năm ${year} ` +
    "không còn ghi là tạm tính; xin kiểm tra lại bằng /ngaynghi " +
    `${year}.`,
  undo: (command: string) => `Nếu nhầm, gõ ${command} để trả lại.`,
  yearHeader: (year: number) => `Lịch ngày nghỉ năm ${year} (cơ quan nhà nước, nghỉ thứ Bảy, Chủ nhật):`,
  yearUnknown: (year: number) =>
    `⚠ Năm ${year} chưa có lịch ngày nghỉ: chỉ tính tạm các ngày lễ cố định theo Bộ luật Lao động ` +
    "(1/1, 30/4, 1/5, 2/9 và nghỉ bù), chưa có Tết, Giỗ Tổ, ngày liền kề 2/9. Mọi hạn tính qua năm này là tạm tính.",
  yearClosed: (year: number) => `Lịch năm ${year} đã được Văn phòng Sở xác nhận đủ theo quyết định.`,
  offLine: (day: string, name: string, confirmed: boolean, changed: boolean) =>
    `• ${day}: ${name || "Ngày nghỉ"}${confirmed ? "" : " — chưa có quyết định"}${changed ? " (đã sửa trong trò chuyện)" : ""}`,
  workedHeader: "Ngày làm bù (đi làm thứ Bảy/Chủ nhật):",
  workedLine: (day: string, changed: boolean) => `• ${day}${changed ? " (đã sửa trong trò chuyện)" : ""}`,
  undecidedHeader: "Chưa có quyết định (hạn tính qua các ngày này là tạm tính):",
  undecidedLine: (from: string, to: string, note: string) => `• ${from} – ${to}: ${note}`,
  noDaysOff: "Chưa có ngày nghỉ lễ nào.",
  historyHeader: (year: number) => `Các thay đổi lịch ngày nghỉ năm ${year}:`,
  historyEmpty: (year: number) => `Chưa có thay đổi nào cho năm ${year}.`,
  historyLine: (at: string, by: string, what: string) => `• ${at} — ${by}: ${what}`,
  change: {
    off: (day: string, name: string) => `ngày nghỉ ${day} (${name})`,
    work: (day: string) => `ngày làm bù ${day}`,
    ordinary: (day: string) => `trả ${day} về ngày bình thường`,
    close: (year: number, reference: string) => `chốt lịch năm ${year} theo ${reference}`,
  },
  // Beside a deadline the Office reads: the count of working days may still change.
  provisional: (parts: string[]) => ` (tạm tính: ${parts.join("; ")})`,
  provisionalShort: " (tạm tính)",
  unknownYears: (years: number[]) => `chưa có lịch ngày nghỉ năm ${years.join(", ")}`,
  pendingDays: (days: string[]) => `ngày nghỉ ${days.join(", ")} chưa có quyết định`,
  undecidedSpan: (from: string, to: string) => `lịch nghỉ ${from}–${to} chưa có quyết định`,
  // jobs/calendar-check.ts
  jobDescription: "Từ 1/11: nhắc quản trị khi năm sau chưa có lịch ngày nghỉ",
  missingYear: (year: number) =>
    `⚠ Năm ${year} chưa có lịch ngày nghỉ lễ, Tết. Khi chưa có lịch, trợ lý chỉ tính tạm các ngày lễ cố định ` +
    `(1/1, 30/4, 1/5, 2/9) và ghi "tạm tính" bên cạnh mọi hạn tính qua năm ${year}; Tết và Giỗ Tổ ` +
    `chưa được trừ. Khi Chính phủ công bố lịch nghỉ, xin nhập bằng /ngaynghi (ví dụ /ngaynghi thêm ` +
    `NGÀY TÊN), rồi /ngaynghi chốt ${year} VĂN_BẢN; hoặc thêm tệp data/holidays/${year}.yaml.`,
  pendingYear: (year: number, days: string[]) =>
    `Lịch ngày nghỉ năm ${year} còn ${days.length} ngày chưa có quyết định: ${days.join(", ")}. ` +
    `Hạn tính qua các ngày này đang là tạm tính. Khi có quyết định, xin cập nhật bằng /ngaynghi rồi ` +
    `/ngaynghi chốt ${year} VĂN_BẢN.`,
};
