/**
 * Every sentence of announcements (/thongbao), subscriptions (/dangky, /huydangky) and public
 * information (/lichtiepdan, /lienhe, /hoidap). Part of the one catalog: src/text/vi.ts exposes
 * it as `t.announcements`.
 */

interface Progress {
  total: number;
  sent: number;
  dead: number;
  remaining: number;
  skipped: number;
}

interface Slot {
  who?: string;
  when?: string;
  where?: string;
  register?: string;
}

const audience = {
  officials: "Tất cả cán bộ, công chức, viên chức",
  units: "Một số phòng, đơn vị",
  unit_heads: "Lãnh đạo các phòng, đơn vị",
  subscribers: "Người dân, doanh nghiệp đã đăng ký nhận tin",
};

const slotLabels = {
  who: "Người tiếp",
  when: "Thời gian",
  where: "Địa điểm",
  register: "Cách đăng ký",
};

const slotLines = (s: Slot, indent: string) =>
  [
    `${slotLabels.who}: ${s.who ?? ""}`,
    `${indent}${slotLabels.when}: ${s.when ?? ""}`,
    `${indent}${slotLabels.where}: ${s.where ?? ""}`,
    `${indent}${slotLabels.register}: ${s.register ?? ""}`,
  ].join("\n");

export const announcements = {
  // /thongbao
  broadcastDescription: "Soạn và gửi thông báo tới cán bộ hoặc người đăng ký; xem tiến độ gửi",
  broadcastUsage:
    "Cách dùng: /thongbao — soạn thông báo mới · /thongbao tiendo — tiến độ các thông báo gần đây · " +
    "/thongbao tiendo <mã> — tiến độ một thông báo",
  askText:
    "Xin nhập nội dung thông báo. Anh/chị có thể gửi kèm ảnh hoặc tệp (gửi ảnh, tệp kèm chú thích là nội dung).",
  filesReceived: (count: number) =>
    `Đã nhận ${count} tệp đính kèm. Xin nhập nội dung thông báo, hoặc gửi thêm tệp.`,
  tooManyFiles: (max: number) => `Mỗi thông báo chỉ kèm được tối đa ${max} tệp.`,
  textTooShort: "Nội dung thông báo quá ngắn, xin viết ít nhất 10 ký tự.",
  textTooLong: (max: number) =>
    `Nội dung thông báo quá dài (tối đa ${max} ký tự). Xin rút gọn hoặc chia thành nhiều thông báo.`,
  askAudience: "Anh/chị gửi thông báo này tới ai?",
  audience,
  askUnits: (picked: string[]) =>
    picked.length === 0
      ? 'Chọn phòng, đơn vị nhận thông báo (có thể gõ nhiều số cùng lúc, ví dụ: 2, 5). Chọn xong, gõ "xong".'
      : `Đã chọn: ${picked.join("; ")}.\nChọn thêm đơn vị (chọn lại một đơn vị để bỏ chọn), hoặc gõ "xong" để tiếp tục.`,
  unitsDone: "Xong",
  doneWords: ["xong", "tiep", "tiep tuc", "het"],
  noUnitPicked: 'Xin chọn ít nhất một phòng, đơn vị trước khi gõ "xong".',
  unknownUnits: (text: string) =>
    `Không hiểu lựa chọn "${text}". Xin gõ số thứ tự của đơn vị trong danh sách, ví dụ: 2, 5.`,
  nobody:
    "Hiện chưa có ai trong nhóm này nhận được tin qua trợ lý (chưa tham gia hoặc chưa đăng ký). " +
    "Xin chọn nhóm khác, hoặc gõ /huy để dừng.",
  nobodyAtSend: "Hiện không còn người nhận nào trong nhóm đã chọn, thông báo chưa được gửi.",
  preview: (p: { text: string; audience: string; count: number; files: number; footer: boolean }) =>
    [
      "Xem trước thông báo:",
      "",
      p.text,
      ...(p.footer
        ? ["", "(Cuối tin gửi người dân có thêm hướng dẫn ngừng nhận tin bằng lệnh /huydangky.)"]
        : []),
      "",
      `Gửi tới: ${p.audience} — ${p.count} người`,
      `Tệp kèm theo: ${p.files}`,
      "Anh/chị xác nhận gửi?",
    ].join("\n"),
  send: "Gửi",
  redo: "Soạn lại",
  cancel: "Hủy",
  cancelled: "Đã hủy, thông báo chưa được gửi.",
  queued: (code: string, count: number) =>
    `Đã đưa thông báo ${code} vào hàng gửi tới ${count} người; trợ lý gửi dần theo giới hạn của từng nền tảng.\n` +
    `Gõ /thongbao tiendo ${code} để xem tiến độ.`,
  message: (org: string, text: string) => `Thông báo của ${org}:\n\n${text}`,
  filesNotHere: (count: number) =>
    `(Thông báo có kèm ${count} tệp không gửi được qua ứng dụng này; anh/chị cần bản đầy đủ, xin liên hệ Văn phòng Sở.)`,
  unsubscribeFooter:
    "Anh/chị nhận tin này vì đã đăng ký nhận thông báo của Sở qua trợ lý. Để ngừng nhận, gõ /huydangky.",
  progress: (p: Progress) =>
    `đã gửi ${p.sent}, không gửi được ${p.dead}, còn lại ${p.remaining} (tổng ${p.total} người nhận)`,
  finished: (p: Progress) =>
    `đã gửi xong: ${p.sent}/${p.total} người nhận được, ${p.dead} không gửi được` +
    (p.skipped > 0 ? `, ${p.skipped} không còn kênh liên lạc hoặc đã ngừng nhận tin` : ""),
  progressDetail: (p: {
    code: string;
    at: string;
    by: string;
    audience: string;
    excerpt: string;
    state: string;
  }) =>
    [
      `Thông báo ${p.code} — ${p.at}, người gửi: ${p.by}`,
      `Gửi tới: ${p.audience}`,
      `Nội dung: ${p.excerpt}`,
      `Tiến độ: ${p.state}`,
    ].join("\n"),
  broadcastNotFound: (code: string) =>
    `Không tìm thấy thông báo ${code}. Gõ /thongbao tiendo để xem các thông báo gần đây.`,
  noBroadcasts: "Chưa có thông báo nào được gửi.",
  recentHeader: "Các thông báo gần đây:",
  recentLine: (p: { code: string; at: string; audience: string; state: string }) =>
    `• ${p.code} — ${p.at} — ${p.audience}\n  ${p.state}`,
  recentFooter: "Gõ /thongbao tiendo <mã> để xem chi tiết một thông báo.",

  // /dangky, /huydangky
  subscribeDescription: "Đăng ký nhận thông báo, tin tức của Sở qua trợ lý",
  unsubscribeDescription: "Ngừng nhận thông báo của Sở",
  subscribed:
    "Cảm ơn anh/chị đã đăng ký. Từ nay trợ lý sẽ gửi tới anh/chị các thông báo, tin tức của Sở.\n" +
    "Gõ /huydangky bất cứ lúc nào để ngừng nhận.",
  alreadySubscribed: "Anh/chị đã đăng ký nhận thông báo từ trước. Gõ /huydangky nếu muốn ngừng nhận.",
  unsubscribed:
    "Đã hủy đăng ký: anh/chị sẽ không nhận thông báo của Sở qua trợ lý nữa. Gõ /dangky nếu muốn nhận lại.",
  notSubscribed: "Anh/chị chưa đăng ký nhận thông báo. Gõ /dangky nếu muốn nhận.",

  // Editing public information, step by step
  editForbidden: (command: string) =>
    `Xin lỗi, chỉ Văn phòng Sở được dùng lệnh /${command}. Anh/chị gõ /${command.split(" ")[0]} để xem thông tin.`,
  needNumber: (command: string, verb: string) =>
    `Xin ghi số thứ tự của mục cần ${verb === "xoa" ? "xóa" : "sửa"}, ví dụ: /${command} ${verb} 2.`,
  noSuchEntry: (number: string, count: number) =>
    count === 0
      ? "Danh sách đang trống."
      : `Không có mục số ${number}. Danh sách hiện có ${count} mục, từ 1 đến ${count}.`,
  askField: "Anh/chị muốn sửa thông tin nào?",
  currentValue: (value: string) => `Hiện nay: ${value}`,
  stepOf: (step: number, total: number, ask: string) => `(${step}/${total}) ${ask}`,
  confirmChange: (label: string, value: string) => `Đổi "${label}" thành:\n${value}\n\nAnh/chị xác nhận lưu?`,
  confirmNew: (preview: string) => `Xin kiểm tra lại:\n${preview}\n\nAnh/chị xác nhận lưu?`,
  save: "Lưu",
  saved: "Đã lưu. Nội dung hiện nay:",
  discarded: "Đã hủy, không có thay đổi nào.",
  gone: "Mục này vừa bị xóa hoặc thay đổi nên không lưu được. Xin xem lại danh sách rồi làm lại.",
  tooShort: (label: string, min: number) => `"${label}" quá ngắn, xin ghi ít nhất ${min} ký tự.`,
  tooLong: (label: string, max: number) => `"${label}" quá dài, tối đa ${max} ký tự.`,

  // /lichtiepdan
  scheduleDescription: "Lịch tiếp công dân của Sở",
  scheduleUsage:
    "Cách dùng: /lichtiepdan — xem lịch · /lichtiepdan them — thêm một mục · " +
    "/lichtiepdan sua <số> — sửa một mục · /lichtiepdan xoa <số> — xóa một mục",
  scheduleHeader: (org: string) => `Lịch tiếp công dân của ${org}:`,
  slot: (number: number, s: Slot) => `\n${number}. ${slotLines(s, "   ")}`,
  slotPreview: (s: Slot) => slotLines(s, ""),
  updatedOn: (date: string) => `Cập nhật ngày ${date}.`,
  scheduleFooter: "Anh/chị cũng có thể gửi phản ánh, kiến nghị qua trợ lý bằng lệnh /gopy.",
  scheduleEmpty: "Lịch tiếp công dân đang được cập nhật. Xin anh/chị liên hệ Văn phòng Sở (gõ /lienhe).",
  scheduleEditHint:
    "Văn phòng Sở cập nhật: /lichtiepdan them · /lichtiepdan sua <số> · /lichtiepdan xoa <số>",
  slotRemoved: (number: string, who: string) => `Đã xóa mục ${number} (${who}) khỏi lịch tiếp công dân.`,
  slotLabels,
  slotAsks: {
    who: "Ai tiếp công dân? Ví dụ: Giám đốc Sở; hoặc: Lãnh đạo Sở và Chánh Văn phòng Sở.",
    when: "Thời gian tiếp? Ví dụ: sáng thứ Năm của tuần thứ hai hằng tháng, từ 7 giờ 30 đến 11 giờ 00.",
    where: "Địa điểm tiếp? Ví dụ: Phòng tiếp công dân, tầng 1, trụ sở Sở.",
    register:
      "Công dân đăng ký thế nào? Ví dụ: đăng ký trước tại Văn phòng Sở qua điện thoại hoặc trực tiếp; " +
      "mang theo giấy tờ tùy thân.",
  },

  // /lienhe
  contactDescription: "Địa chỉ, điện thoại, thư điện tử, giờ làm việc của Sở",
  contactUsage: "Cách dùng: /lienhe — xem thông tin liên hệ · /lienhe sua — sửa một thông tin",
  contactHeader: (org: string) => `Thông tin liên hệ — ${org}:`,
  contactLine: (label: string, value: string) => `${label}: ${value}`,
  contactEmpty: "Thông tin liên hệ đang được cập nhật.",
  contactEditHint: "Văn phòng Sở cập nhật: /lienhe sua",
  contactLabels: {
    address: "Địa chỉ",
    phone: "Điện thoại",
    email: "Thư điện tử",
    website: "Trang thông tin điện tử",
    hours: "Giờ làm việc",
  },
  contactAsks: {
    address: "Địa chỉ trụ sở (số nhà, đường, phường/xã, tỉnh)?",
    phone: "Số điện thoại liên hệ? Nhiều số thì cách nhau bằng dấu phẩy.",
    email: "Địa chỉ thư điện tử?",
    website: "Địa chỉ trang thông tin điện tử (bắt đầu bằng https://)?",
    hours:
      "Giờ làm việc? Ví dụ: sáng 7 giờ 30 – 11 giờ 30, chiều 13 giờ 30 – 17 giờ 00, thứ Hai đến thứ Sáu.",
  },
  badPhone:
    "Số điện thoại chưa đúng. Xin nhập số có 10 hoặc 11 chữ số, ví dụ: 0251 3822 123; nhiều số thì cách nhau bằng dấu phẩy.",
  badEmail: "Địa chỉ thư điện tử chưa đúng, ví dụ: vanphong@skhcn.tinh.gov.vn.",
  badWebsite: "Địa chỉ trang thông tin điện tử chưa đúng; xin ghi đầy đủ, ví dụ: https://skhcn.tinh.gov.vn.",

  // /hoidap and the answers to citizens' free text
  faqDescription: "Câu hỏi thường gặp và câu trả lời",
  faqHeader: "Câu hỏi thường gặp:",
  faqLine: (number: number, question: string) => `${number}. ${question}`,
  faqFooter: "Gõ /hoidap <số> để xem câu trả lời, ví dụ: /hoidap 1; hoặc /hoidap <điều anh/chị muốn hỏi>.",
  faqEditHint: "Văn phòng Sở cập nhật: /hoidap them · /hoidap sua <số> · /hoidap xoa <số>",
  faqEmpty: "Chưa có câu hỏi thường gặp nào.",
  faqAnswer: (question: string, answer: string) => `${question}\n\n${answer}`,
  faqKeywords: (keywords: string) => `Từ khóa: ${keywords}`,
  faqPreview: (question: string, keywords: string, answer: string) =>
    `Câu hỏi: ${question}\nTừ khóa: ${keywords}\nCâu trả lời: ${answer}`,
  faqNoMatch: (text: string) =>
    `Chưa có câu hỏi thường gặp nào khớp với "${text}". Gõ /hoidap để xem danh sách, ` +
    "hoặc gửi câu hỏi tới Sở bằng lệnh /gopy.",
  faqRemoved: (number: string, question: string) => `Đã xóa câu hỏi số ${number}: ${question}`,
  faqAutoAnswer: (question: string, answer: string) =>
    `Có thể anh/chị quan tâm: ${question}\n\n${answer}\n\n` +
    "Nếu đây chưa phải điều anh/chị cần, xin gửi nội dung tới Sở bằng lệnh /gopy. " +
    "Gõ /hoidap để xem các câu hỏi thường gặp khác.",
  faqLabels: { question: "Câu hỏi", keywords: "Từ khóa", answer: "Câu trả lời" },
  faqAsks: {
    question: "Câu hỏi (viết như người dân hay hỏi)?",
    keywords:
      "Các từ khóa để nhận ra câu hỏi, cách nhau bằng dấu phẩy (có dấu hay không dấu đều được). " +
      "Ví dụ: nhãn hiệu, sở hữu trí tuệ, đăng ký bảo hộ.",
    answer: "Câu trả lời (hướng dẫn chung, ngắn gọn)?",
  },
  badKeywords:
    "Xin nhập từ 1 đến 12 từ khóa cách nhau bằng dấu phẩy, mỗi từ khóa ít nhất 3 chữ cái. " +
    "Ví dụ: nhãn hiệu, sở hữu trí tuệ.",
};
