import type { Role } from "../domain/people/roles.js";
import type { ModelStatus } from "../domain/dvk/schema.js";
import type { TicketAction, TicketStatus } from "../domain/feedback/schema.js";
import type { Recurrence, TaskStatus } from "../domain/plans/status.js";
import { dueLine, reminders, type TaskDue } from "./reminders.js";
import { reports } from "./reports.js";
import { announcements } from "./announcements.js";
import { calendar } from "./calendar.js";
import { plansExcel } from "./plans-excel.js";

/**
 * Every sentence a person reads, in one place. Code never writes Vietnamese inline: it calls
 * these, so wording is reviewed in one file and a later translation or correction is one edit.
 */

const config = {
  invalid: (variable: string, detail: string) => `Cấu hình sai: ${variable} — ${detail}`,
  mongoUri: "phải là một chuỗi kết nối mongodb:// hoặc mongodb+srv://",
  dbName: "tên cơ sở dữ liệu chỉ gồm chữ, số, '_' hoặc '-', tối đa 63 ký tự",
  port: "phải là số nguyên từ 0 đến 65535",
  publicUrl: "phải là địa chỉ https:// đầy đủ, ví dụ https://bot.skhcn.gov.vn",
  orgName: "tên cơ quan phải có ít nhất 3 ký tự",
  timeZone: "không phải múi giờ IANA hợp lệ (ví dụ Asia/Ho_Chi_Minh)",
  logLevel: "phải là một trong fatal, error, warn, info, debug, trace, silent",
  consoleChannel: "phải là auto, on hoặc off",
  adminAccountFormat: "mỗi tài khoản quản trị viết dạng kênh:mã, ví dụ telegram:123456789",
  telegramToken: "token Telegram phải có dạng 123456789:ABC... (lấy từ @BotFather)",
  telegramSecret: "chuỗi bí mật webhook Telegram dài 16–256 ký tự, chỉ gồm chữ, số, '_' hoặc '-'",
  zaloToken: "token Zalo Bot quá ngắn",
  zaloSecret: "chuỗi bí mật webhook Zalo dài 8–256 ký tự",
  zaloAppId: "mã ứng dụng Zalo OA chỉ gồm chữ số",
  zaloOaSecret: "khóa bí mật Zalo OA quá ngắn",
  zaloOaToken: "token Zalo OA quá ngắn",
  zaloOaIncomplete: "cấu hình Zalo OA cần đủ ZALO_OA_APP_ID, ZALO_OA_SECRET_KEY và ZALO_OA_REFRESH_TOKEN",
  reminderOffsets: "danh sách số ngày làm việc cách nhau bằng dấu phẩy, ví dụ 14,7,3,1,0",
  positiveDays: "phải là số ngày làm việc hợp lệ",
  feedbackLimit: "phải là số nguyên từ 1 đến 100",
  retentionDays: "phải là số ngày nguyên từ 7 đến 3650",
  outboxMaxAge: "phải là số giờ nguyên từ 1 đến 720 (30 ngày)",
  platformTimeout: "phải là số giây nguyên từ 1 đến 45 (dưới thời hạn giữ tin 60 giây của hộp thư đi)",
  dataKeys:
    "viết dạng mã:khóa_base64 (32 byte), nhiều khóa cách nhau bằng dấu phẩy; tạo khóa: openssl rand -base64 32",
  officeHours: "giờ hành chính viết dạng HH:MM-HH:MM, ví dụ 07:30-17:00",
  officeHoursOrder: "giờ bắt đầu phải trước giờ kết thúc, ví dụ 07:30-17:00",
  jobs: "phải là on hoặc off",
  escalationOrder: "phải lớn hơn hoặc bằng ESCALATE_HEAD_AFTER (báo trưởng đơn vị trước, Văn phòng sau)",
  webhookSecretNeeded: "bắt buộc khi đặt PUBLIC_URL, để webhook chỉ nhận cập nhật từ nền tảng",
  dataKeysNeeded:
    "bắt buộc khi đặt MONGODB_URI (máy chủ thật), để mọi phiên bản mở được dữ liệu đã niêm phong; " +
    "tạo khóa: openssl rand -base64 32, rồi đặt DATA_ENCRYPTION_KEYS=mã:khóa",
  fileLinkSecretNeeded:
    "bắt buộc khi đặt MONGODB_URI (máy chủ thật), cùng một giá trị trên mọi phiên bản, để liên kết tải tệp " +
    "báo cáo còn dùng được sau khi khởi động lại; tạo bằng: openssl rand -hex 32",
};

const db = {
  ferretdbMissing: (file: string) => `FERRETDB_BIN=${file}: không tìm thấy tệp chạy được.`,
  ferretdbBuilding: "Đang dựng FerretDB lần đầu (khoảng một phút, chỉ một lần trên mỗi máy)...",
  ferretdbBuildFailed: "Không dựng được FerretDB bằng Go.",
  ferretdbExited: (code: number | null) => `FerretDB dừng ngay khi khởi động (mã ${code}).`,
  ferretdbNoPort: (port: number, ms: number) => `FerretDB không mở cổng ${port} sau ${ms} ms.`,
  ferretdbShared:
    "Một tiến trình bot khác đang chạy FerretDB trên cùng thư mục dữ liệu: dùng chung máy chủ đó " +
    "(nó dừng khi bot kia dừng).",
  ferretdbOrphans: (n: number) =>
    `Dừng ${n} tiến trình FerretDB còn sót lại trên thư mục dữ liệu này (bot của chúng đã dừng).`,
  ferretdbLocked: (file: string) =>
    `Không khởi động được FerretDB: tệp khoá ${file} vẫn còn dù bot giữ nó đã dừng; hãy xoá tệp rồi chạy lại.`,
  noEmbedded: (detail: string) =>
    "Không khởi động được cơ sở dữ liệu nhúng: hãy đặt MONGODB_URI, hoặc cài Go 1.24+ (để dựng FerretDB), " +
    `hoặc đặt FERRETDB_BIN. Chi tiết: ${detail}`,
  unreachable: (detail: string) => `Không kết nối được MongoDB: ${detail}`,
};

const roleLabels: Record<Role, string> = {
  citizen: "Người dân, doanh nghiệp",
  staff: "Công chức, viên chức",
  unit_head: "Lãnh đạo phòng, đơn vị",
  office: "Văn phòng Sở",
  leader: "Lãnh đạo Sở",
  admin: "Quản trị hệ thống",
};

const engine = {
  internalError:
    "Xin lỗi anh/chị, hệ thống gặp sự cố khi xử lý tin nhắn này. Anh/chị vui lòng thử lại sau ít phút; " +
    "nếu vẫn không được, xin liên hệ Văn phòng Sở.",
  cancelled: "Đã hủy thao tác đang làm. Gõ /help để xem các lệnh.",
  nothingToCancel: "Hiện không có thao tác nào đang làm dở.",
  flowInterrupted: "Thao tác đang làm dở đã được dừng lại.",
  flowChanged: "Thao tác anh/chị đang làm dở đã thay đổi hoặc không còn dùng được. Xin anh/chị bắt đầu lại.",
  unknownCommand: (name: string) => `Không có lệnh /${name}. Gõ /help để xem các lệnh anh/chị có thể dùng.`,
  forbidden: (name: string) =>
    `Xin lỗi, tài khoản của anh/chị không được dùng lệnh /${name}. Gõ /help để xem các lệnh anh/chị có thể dùng.`,
  pickOne: (count: number) =>
    count === 1
      ? "Xin chọn lựa chọn bên dưới (gõ 1)."
      : `Xin chọn một trong các lựa chọn (gõ số từ 1 đến ${count}).`,
  emptyAnswer: "Tin nhắn trống, xin anh/chị nhập nội dung.",
  /** A typed answer that names none of this step's options; `offered` is empty when they are too many to list. */
  notAnOption: (typed: string, offered: string[], count: number) =>
    `"${typed}" không phải là lựa chọn ở bước này. ` +
    (offered.length === 0
      ? `Xin chọn một trong các lựa chọn bên dưới (gõ số từ 1 đến ${count}).`
      : offered.length === 1
        ? `Lựa chọn duy nhất ở bước này: ${offered[0]}.`
        : `Các lựa chọn ở bước này: ${offered.join("; ")}.`),
  ambiguousChoice: (typed: string, matching: string[]) =>
    `"${typed}" khớp với nhiều lựa chọn: ${matching.join("; ")}. Xin gõ số thứ tự hoặc tên đầy đủ của lựa chọn.`,
  noSuchNumber: (n: number, count: number) =>
    count === 1
      ? `Không có lựa chọn số ${n}. Xin gõ 1 để chọn lựa chọn bên dưới.`
      : `Không có lựa chọn số ${n}. Xin gõ số từ 1 đến ${count}.`,
  noChoices: "Bước này hiện chưa có lựa chọn nào (danh sách đang trống). Gõ /huy để dừng.",
  cancelHint: "(Gõ /huy để dừng bất cứ lúc nào.)",
  whichSubject: "Anh/chị đang trả lời tin nhắc việc nào?",
  freeTextCitizen:
    "Cảm ơn anh/chị đã nhắn tin. Tôi là trợ lý tự động, hiểu các lệnh bắt đầu bằng dấu /. " +
    "Gõ /help để xem những việc tôi có thể giúp.",
  freeTextOfficial: "Tôi chưa hiểu tin nhắn này. Gõ /help để xem các lệnh anh/chị có thể dùng.",
};

const basics = {
  startDescription: "Bắt đầu và xem lời chào",
  helpDescription: "Xem các lệnh anh/chị có thể dùng",
  meDescription: "Xem thông tin tài khoản của tôi",
  linkDescription: "Liên kết tài khoản Telegram và Zalo của anh/chị",
  cancelDescription: "Hủy thao tác đang làm dở",
  greeting: (org: string, name: string | undefined) =>
    `Xin chào ${name ?? "anh/chị"}! Đây là trợ lý tự động của ${org} trên Telegram và Zalo.\n` +
    "Gõ /help để xem những việc tôi có thể giúp anh/chị.",
  helpHeader: (role: string) => `Các lệnh anh/chị có thể dùng (vai trò: ${role}):`,
  helpFooter: "Khi đang làm dở một thao tác, gõ /huy để dừng.",
  me: (p: { name: string; role: string; ref: string; unit?: string; channels: string }) =>
    [
      `Họ tên: ${p.name}`,
      `Vai trò: ${p.role}`,
      ...(p.unit ? [`Đơn vị: ${p.unit}`] : []),
      `Mã người dùng: ${p.ref}`,
      `Kênh đã liên kết: ${p.channels}`,
    ].join("\n"),
  linkCode: (code: string, minutes: number) =>
    `Mã liên kết của anh/chị: ${code}\nTrong vòng ${minutes} phút, hãy mở ứng dụng còn lại (Telegram hoặc Zalo) ` +
    `và gửi cho trợ lý: /lienket ${code}`,
  linked: "Đã liên kết: từ nay hai tài khoản Telegram và Zalo của anh/chị là một.",
  linkAlready: "Tài khoản này đã được liên kết với anh/chị từ trước.",
  linkInvalid: "Mã liên kết không đúng hoặc đã hết hạn. Xin anh/chị tạo mã mới bằng lệnh /lienket.",
};

const people = {
  defaultName: (role: Role) => (role === "citizen" ? "Người dùng" : `${roleLabels[role]} (thử)`),
  role: (role: Role) => roleLabels[role],
  grantDescription: "Phân quyền cho một người dùng",
  grantAskRef: "Nhập mã người dùng (người đó xem mã bằng lệnh /toi) hoặc họ tên của người cần phân quyền.",
  grantNotFound: (query: string) => `Không tìm thấy người dùng nào có mã hoặc tên "${query}".`,
  grantAmbiguous: (list: string) => `Có nhiều người phù hợp: ${list}. Xin nhập mã người dùng.`,
  grantAskRole: (name: string, role: string) => `${name} đang có vai trò: ${role}. Chọn vai trò mới:`,
  grantConfirm: (name: string, role: string) => `Xác nhận chuyển ${name} sang vai trò "${role}"?`,
  grantSelf: "Anh/chị không thể tự đổi vai trò của chính mình.",
  yes: "Đồng ý",
  no: "Không",
  grantDone: (name: string, role: string) => `Đã chuyển ${name} sang vai trò "${role}".`,
  grantAborted: "Đã hủy, vai trò không thay đổi.",
  grantRoleRefused: (role: string) =>
    `Tài khoản của anh/chị không được cấp vai trò "${role}": vai trò này chỉ quản trị hệ thống cấp được. ` +
    "Vai trò không thay đổi.",
  grantNotice: (role: string) =>
    `Tài khoản của anh/chị đã được chuyển sang vai trò "${role}". Gõ /help để xem các lệnh mới.`,
};

const console_ = {
  banner: (org: string) =>
    `Kênh thử nghiệm trên máy (console) của trợ lý ${org}.\n` +
    "Gõ tin nhắn rồi Enter. /as <vai trò hoặc tên> để đổi người nói " +
    "(citizen, staff, unit_head, office, leader, admin). Ctrl-D để thoát.",
  speakingAs: (name: string) => `(đang nói với tư cách: ${name})`,
  chatUsage:
    "Cách dùng: npm run chat -- --script TỆP (giờ của cuộc trò chuyện: dòng !clock 2025-10-06 09:00 đầu tệp)",
};

const officials = {
  inviteDescription: "Tạo mã mời cán bộ tham gia trợ lý",
  staffDescription: "Danh sách cán bộ; chuyển đơn vị hoặc khóa tài khoản",
  inviteAskUnit: "Mời cán bộ của đơn vị nào?",
  inviteNoUnits:
    "Chưa có đơn vị nào trong danh sách nên chưa mời được cán bộ. Xin nạp danh sách đơn vị của Sở trước (mẫu Excel: /maudonvi), rồi gõ /moi lại.",
  inviteAskRole: (unit: string) => `Cán bộ của ${unit} sẽ có vai trò gì?`,
  inviteAdminOnly: "(Vai trò Văn phòng Sở, Lãnh đạo Sở và quản trị hệ thống chỉ quản trị hệ thống cấp được.)",
  grantRefused: (role: string) =>
    `Tài khoản của anh/chị không được cấp vai trò "${role}": vai trò này chỉ quản trị hệ thống cấp được. ` +
    "Không có mã mời nào được tạo.",
  inviteCreated: (p: { code: string; unit: string; role: string; expires: string }) =>
    `Mã mời: ${p.code}\nĐơn vị: ${p.unit}\nVai trò: ${p.role}\n` +
    `Người được mời mở trợ lý trên Telegram hoặc Zalo và gửi: /start ${p.code}\n` +
    `Mã chỉ dùng được một lần, hết hạn ngày ${p.expires}.`,
  joined: (role: string, unit: string) =>
    `Chào mừng anh/chị! Tài khoản đã được xác nhận: ${role}, ${unit}. Gõ /help để xem các lệnh.`,
  inviteRefused: {
    invalid: "Mã mời không đúng. Xin anh/chị kiểm tra lại mã Văn phòng Sở đã gửi.",
    used: "Mã mời này đã được sử dụng. Xin anh/chị liên hệ Văn phòng Sở để nhận mã mới.",
    expired: "Mã mời đã hết hạn. Xin anh/chị liên hệ Văn phòng Sở để nhận mã mới.",
    revoked:
      "Mã mời này không còn hiệu lực: người tạo mã không được cấp vai trò ghi trong mã. " +
      "Xin anh/chị liên hệ Văn phòng Sở hoặc quản trị hệ thống.",
  },
  throttled: (at: string) => `Anh/chị đã nhập sai mã quá nhiều lần. Xin thử lại sau ${at}.`,
  noneYet: "Chưa có cán bộ nào tham gia trợ lý. Dùng /moi để tạo mã mời.",
  listHeader: (count: number) => `Danh sách cán bộ (${count} người):`,
  line: (ref: string, name: string, role: string, unit: string) =>
    `${ref} — ${name} — ${role}${unit ? ` — ${unit}` : ""}`,
  notFound: (ref: string) => `Không tìm thấy cán bộ có mã "${ref}". Gõ /canbo để xem danh sách.`,
  unitUnclear: (query: string) => `Không xác định được đơn vị "${query}". Xin ghi rõ tên hoặc mã đơn vị.`,
  moved: (name: string, unit: string) => `Đã chuyển ${name} sang ${unit}.`,
  movedNotice: (unit: string) => `Tài khoản của anh/chị đã được chuyển sang ${unit}.`,
  deactivated: (name: string) => `Đã khóa tài khoản cán bộ ${name}.`,
  usage: "Cách dùng: /canbo (danh sách) · /canbo chuyen MÃ ĐƠN_VỊ · /canbo khoa MÃ",
  groupDescription: "Gắn nhóm chat này với một đơn vị để nhận tin nhắc hạn",
  groupOnly: "Lệnh này dùng trong nhóm chat của đơn vị: thêm trợ lý vào nhóm rồi gõ /nhomdonvi <tên đơn vị>.",
  groupLinked: (unit: string) =>
    `Đã gắn nhóm này với ${unit}: tin nhắc hạn nhiệm vụ của đơn vị sẽ gửi cả vào đây. Cán bộ trả lời (reply) tin nhắc để báo cáo.`,
  groupUnlinked: (unit: string) => `Đã gỡ nhóm này khỏi ${unit}.`,
  groupNotLinked: "Nhóm này chưa gắn với đơn vị nào.",
};

const statusLabels: Record<TaskStatus, string> = {
  not_started: "Chưa bắt đầu",
  in_progress: "Đang thực hiện",
  done: "Hoàn thành",
  blocked: "Gặp vướng mắc",
};

const recurrenceLabels: Record<Recurrence, string> = {
  quarterly: "báo cáo hằng quý",
  "six-monthly": "báo cáo 6 tháng",
  yearly: "báo cáo năm",
};

const plans = {
  status: (status: TaskStatus) => statusLabels[status],
  recurrence: (r: Recurrence) => recurrenceLabels[r],
  tasksDescription: "Nhiệm vụ của đơn vị: hạn, số ngày còn lại, tiến độ",
  tasksOfficeDescription: "Nhiệm vụ theo đơn vị hoặc theo mã nhiệm vụ",
  plansDescription: "Các kế hoạch và tiến độ chung",
  reportDescription: "Báo cáo tiến độ một nhiệm vụ",
  daysLeft: (days: number) =>
    days > 0
      ? `còn ${days} ngày làm việc`
      : days === 0
        ? "đến hạn hôm nay"
        : `quá hạn ${-days} ngày làm việc`,
  /** A pair not done when a past period closed: how late it was then. */
  lateAtClose: (days: number) =>
    days > 0 ? `quá hạn ${days} ngày làm việc khi hết kỳ` : "hết hạn mà chưa hoàn thành",
  taskLine: (p: TaskDue) => `• ${p.code} — ${p.title}\n  ${dueLine(p)}`,
  planHeader: (title: string) => `\n${title}`,
  myTasksHeader: (unit: string, count: number) => `Nhiệm vụ của ${unit} (${count}):`,
  noUnit: "Tài khoản của anh/chị chưa gắn với đơn vị nào. Xin liên hệ Văn phòng Sở.",
  noTasks: "Đơn vị của anh/chị hiện chưa có nhiệm vụ nào trong các kế hoạch.",
  replyHint: "Trả lời (reply) tin nhắc hạn để báo cáo nhanh, hoặc dùng /baocao.",
  officeTasksUsage:
    "Cách dùng: /nhiemvu <tên hoặc mã đơn vị> — nhiệm vụ của một đơn vị; /nhiemvu <mã nhiệm vụ> — một nhiệm vụ ở các đơn vị.",
  notFound: (query: string) => `Không tìm thấy đơn vị hay nhiệm vụ nào khớp "${query}".`,
  whichPlan: (code: string) =>
    `Mã ${code} có trong nhiều kế hoạch. Anh/chị muốn nói nhiệm vụ của kế hoạch nào?`,
  noSuchTaskOfUnit: (code: string, unit: string) =>
    `${unit} không có nhiệm vụ mã "${code}". Gõ /nhiemvu để xem danh sách nhiệm vụ của đơn vị.`,
  taskAcrossUnits: (p: { code: string; title: string; plan: string; due: string }) =>
    `${p.code} — ${p.title}\nKế hoạch: ${p.plan}\nHạn: ${p.due}`,
  unitStateLine: (unit: string, status: string, percent: number, when: string | undefined) =>
    `• ${unit}: ${status} ${percent}%${when ? ` (báo cáo ${when})` : " (chưa báo cáo)"}`,
  noPlans: "Chưa có kế hoạch nào. Văn phòng Sở nạp kế hoạch bằng lệnh npm run plans:import.",
  /** A plan dated with the day left blank in its source, as cited after "ngày". */
  documentMonth: (month: number, year: string) => `… tháng ${month} năm ${year}`,
  planLine: (p: {
    code: string;
    title: string;
    done: number;
    total: number;
    percent: number;
    period: string;
  }) => `• ${p.code} — ${p.title}\n  ${p.period} · ${p.done}/${p.total} việc hoàn thành (${p.percent}%)`,
  plansHeader: "Các kế hoạch:",
  askTask: "Anh/chị báo cáo nhiệm vụ nào? (chọn hoặc gõ mã nhiệm vụ)",
  unknownTask: "Không có nhiệm vụ này trong danh sách của đơn vị. Xin chọn một nhiệm vụ bên dưới.",
  askStatus: (code: string) => `Nhiệm vụ ${code} hiện thế nào?`,
  askPercent: "Đã hoàn thành khoảng bao nhiêu phần trăm? (gõ một số từ 0 đến 100)",
  badPercent: "Xin gõ một số từ 0 đến 100, ví dụ 70.",
  askNote: 'Anh/chị đã làm được những gì? (gõ nội dung, hoặc "bỏ qua")',
  askEvidence: 'Gửi ảnh hoặc tệp minh chứng nếu có; gõ "xong" để tiếp tục.',
  evidenceCount: (count: number) => `Đã nhận ${count} tệp minh chứng. Gửi thêm, hoặc gõ "xong" để tiếp tục.`,
  evidenceNeedsFile: 'Chưa nhận được tệp nào. Gửi ảnh hoặc tệp, hoặc gõ "xong" để tiếp tục.',
  confirm: (p: {
    code: string;
    title: string;
    plan: string;
    unit: string;
    status: string;
    percent: number;
    note: string;
    files: number;
  }) =>
    `Xác nhận báo cáo:\nNhiệm vụ: ${p.code} — ${p.title}\nKế hoạch: ${p.plan}\nĐơn vị: ${p.unit}\n` +
    `Tình trạng: ${p.status} (${p.percent}%)\nNội dung: ${p.note || "(không có)"}\nMinh chứng: ${p.files} tệp`,
  save: "Gửi báo cáo",
  redo: "Sửa lại",
  cancel: "Hủy",
  saved: (code: string, unit: string, plan: string) =>
    `Đã ghi nhận báo cáo nhiệm vụ ${code} của ${unit}.\nKế hoạch: ${plan}\nCảm ơn anh/chị!`,
  discarded: "Đã hủy, báo cáo không được lưu.",
  understood: (p: { code: string; unit: string; status: string; percent: number; plan: string }) =>
    `Đã ghi nhận cho nhiệm vụ ${p.code} (${p.unit}): ${p.status}, ${p.percent}%.\nKế hoạch: ${p.plan}\n` +
    "Nếu chưa đúng, trả lời (reply) tin này để sửa, hoặc dùng /baocao.",
  notUnderstood: (code: string, unit: string, plan: string) =>
    `Đã lưu nội dung anh/chị gửi vào nhiệm vụ ${code} (${unit}).\nKế hoạch: ${plan}\n` +
    "Xin cho biết tình trạng hiện nay của nhiệm vụ:",
  notYourTask: (code: string) => `Nhiệm vụ ${code} không thuộc đơn vị của anh/chị, nên không thể báo cáo.`,
  officialsOnly: "Chỉ cán bộ của đơn vị thực hiện mới báo cáo được nhiệm vụ này.",
  skipWords: ["bo qua", "khong", "khong co", "skip"],
  doneWords: ["xong", "tiep", "tiep tuc", "het", "khong co"],
};

const jobs = {
  remindersDescription: "Nhắc hạn nhiệm vụ cho cán bộ các đơn vị (ngày làm việc, giờ hành chính)",
  escalationDescription: "Báo trưởng đơn vị rồi Văn phòng Sở khi nhiệm vụ quá hạn",
  ticketsDescription:
    "Nhắc hạn quyết định thụ lý và hạn trả lời phản ánh, khiếu nại, tố cáo của người dân; báo Văn phòng Sở khi quá hạn",
  ticketDue: (code: string, type: string, due: string, left: string) =>
    `Nhắc hạn: ${type.toLowerCase()} ${code} cần trả lời trước ngày ${due} (${left}). Gõ /xuly ${code} để xử lý.`,
  ticketOverdue: (code: string, type: string, due: string, late: number) =>
    `${type} ${code} đã quá hạn trả lời ${late} ngày làm việc (hạn ${due}). Gõ /xuly ${code} để xem.`,
  ticketAcceptDue: (code: string, type: string, due: string, left: string) =>
    `Nhắc hạn: ${type.toLowerCase()} ${code} cần quyết định thụ lý hoặc không thụ lý trước ngày ${due} (${left}). Gõ /xuly ${code} để xử lý.`,
  ticketAcceptOverdue: (code: string, type: string, due: string, late: number) =>
    `${type} ${code} đã quá hạn quyết định thụ lý ${late} ngày làm việc (hạn ${due}). Gõ /xuly ${code} để xem.`,
  /** One message for a run's tickets to one person: overdue first, then due soon, numbered on. */
  ticketDigestHeader: (day: string, count: number) =>
    `Hạn xử lý phản ánh, kiến nghị, khiếu nại, tố cáo (ngày ${day}): ${count} việc.`,
  ticketDigestOverdue: (count: number) => `Đã quá hạn (${count}):`,
  ticketDigestDue: (count: number) => `Sắp đến hạn (${count}):`,
  /** `accepting`: the deadline is the thụ lý decision's, else the answer's; `late` when overdue. */
  ticketDigestLine: (p: {
    n: number;
    code: string;
    type: string;
    accepting: boolean;
    due: string;
    left: string;
    late?: number;
  }) => {
    const what = p.accepting ? "quyết định thụ lý" : "trả lời";
    return p.late !== undefined
      ? `${p.n}. ${p.type} ${p.code}: quá hạn ${what} ${p.late} ngày làm việc (hạn ${p.due})`
      : `${p.n}. ${p.type} ${p.code}: hạn ${what} ${p.due} (${p.left})`;
  },
  ticketDigestFooter: (code: string) =>
    `Gõ /xuly MÃ để xem và xử lý từng việc (ví dụ /xuly ${code}); /phananh quá hạn để xem mọi việc đã quá hạn.`,
  weeklyDescription: "Tổng hợp tuần gửi Văn phòng Sở (sáng thứ Hai)",
  quarterlyDescription: "Tổng hợp quý gửi Lãnh đạo Sở (ngày làm việc đầu quý)",
  reminder: (p: {
    code: string;
    title: string;
    plan: string;
    unit: string;
    due: string;
    left: string;
    status: string;
    percent: number;
    reported: string | undefined;
  }) =>
    `Nhắc hạn nhiệm vụ ${p.code}: ${p.title}\n` +
    `Kế hoạch: ${p.plan}\nĐơn vị: ${p.unit}\nHạn: ${p.due} (${p.left})\n` +
    `Tình trạng đã báo cáo: ${p.status} ${p.percent}%${p.reported ? ` (ngày ${p.reported})` : " (chưa báo cáo)"}\n` +
    'Anh/chị chỉ cần trả lời (reply) tin này, ví dụ "đã xong" hoặc "được 70%, vướng kinh phí".',
  escalationHeader: (count: number) => `Nhiệm vụ quá hạn chưa hoàn thành (${count}):`,
  escalationLine: (p: {
    code: string;
    title: string;
    unit: string;
    due: string;
    late: number;
    status: string;
  }) =>
    `• ${p.code} — ${p.title}\n  ${p.unit} · hạn ${p.due} · quá hạn ${p.late} ngày làm việc · ${p.status}`,
  weeklyTitle: (day: string) => `Tổng hợp tiến độ thực hiện kế hoạch, tuần ${day}`,
  /** `period` as every summary names it (t.reports.periodLabel): "quý III năm 2026". */
  quarterlyTitle: (period: string) => `Tổng hợp kết quả thực hiện kế hoạch ${period}`,
  digestPlans: "Kế hoạch:",
  digestPlanLine: (code: string, done: number, total: number, percent: number) =>
    `• ${code}: ${done}/${total} việc hoàn thành (${percent}%)`,
  digestUnits: "Theo đơn vị:",
  digestUnitLine: (unit: string, s: Record<TaskStatus, number>, overdue: number, total: number) =>
    `• ${unit}: ${s.done}/${total} hoàn thành, ${s.in_progress} đang thực hiện, ${s.not_started} chưa bắt đầu, ` +
    `${s.blocked} vướng mắc, ${overdue} quá hạn`,
  digestRisk: (count: number) =>
    count === 0 ? "Không có việc nào sắp đến hạn hay quá hạn." : `Sắp đến hạn hoặc quá hạn (${count}):`,
  digestLateAtClose: (count: number) =>
    count === 0
      ? "Khi kết thúc kỳ, không có việc nào đã đến hạn mà chưa hoàn thành."
      : `Đã đến hạn mà chưa hoàn thành khi kết thúc kỳ (${count}):`,
  digestRiskLine: (code: string, unit: string, due: string, left: string) =>
    `• ${code} — ${unit} — hạn ${due} (${left})`,
  digestMore: (count: number) => `… và ${count} việc khác.`,
  listLine: (p: { name: string; cron: string; description: string; last: string; next: string }) =>
    `${p.name}\n  ${p.description}\n  lịch: ${p.cron} · lần chạy gần nhất: ${p.last} · lần tới: ${p.next}`,
  never: "chưa chạy",
  runUsage: "Cách dùng: npm run jobs:run TÊN_VIỆC [--at 2025-12-01T08:00:00+07:00]; npm run jobs:list",
  unknownJob: (name: string, names: string) => `Không có việc "${name}". Các việc: ${names}`,
  outcome: {
    idle: "Không đến lúc chạy (ngoài giờ hành chính hoặc ngày nghỉ).",
    "already-done": (slot: string) => `Đã chạy cho ${slot} rồi.`,
    busy: (slot: string) => `Một tiến trình khác đang chạy cho ${slot}.`,
    ran: (slot: string, count: number) => `Đã chạy cho ${slot}: ${count} tin nhắn mới trong hàng đợi gửi.`,
    failed: (slot: string, error: string) => `Lỗi khi chạy cho ${slot}: ${error}`,
  },
};

const ticketStatusLabels: Record<TicketStatus, string> = {
  new: "Mới tiếp nhận",
  assigned: "Đang xử lý",
  need_info: "Chờ bổ sung thông tin",
  answered: "Đã trả lời",
  rejected: "Không thụ lý",
  closed: "Đã đóng",
};

const ticketActionLabels: Record<TicketAction, string> = {
  filed: "gửi nội dung",
  accepted: "thụ lý",
  accept_extended: "gia hạn thời hạn thụ lý",
  second_round: "gửi khiếu nại lần hai",
  assigned: "giao đơn vị xử lý",
  asked_info: "đề nghị bổ sung thông tin",
  citizen_info: "người gửi bổ sung thông tin",
  answered: "trả lời",
  extended: "gia hạn",
  rejected: "không thụ lý",
  closed: "đóng",
  rated: "người gửi đánh giá",
};

const handleActionLabels = {
  accept: "Thụ lý",
  extend_accept: "Gia hạn thời hạn thụ lý",
  complex: "Vụ việc phức tạp: kéo dài thời hạn giải quyết",
  assign: "Giao đơn vị xử lý",
  ask: "Đề nghị bổ sung thông tin",
  answer: "Trả lời người gửi",
  extend: "Gia hạn",
  reject: "Không thụ lý (nêu lý do)",
  close: "Đóng",
} as const;

/** A type's label inside a sentence: only its first letter lowered, never a code it carries. */
const inSentence = (label: string) => label.charAt(0).toLowerCase() + label.slice(1);

const feedback = {
  fileDescription: "Gửi phản ánh, kiến nghị, khiếu nại, tố cáo hoặc góp ý",
  lookupDescription: "Tra cứu tình trạng phản ánh đã gửi",
  rateDescription: "Đánh giá câu trả lời của Sở",
  listDescription: "Danh sách phản ánh cần xử lý (lọc theo loại, trạng thái, quá hạn, đơn vị)",
  handleDescription: "Xem và xử lý một phản ánh",
  status: (status: TicketStatus) => ticketStatusLabels[status],
  /** A ticket's status as the people reading it know it: accepted (thụ lý) but not yet handed on reads so. */
  shownStatus: (ticket: { status: TicketStatus; acceptedDay?: string | null }) =>
    ticket.status === "new" && ticket.acceptedDay ? "Đã thụ lý" : ticketStatusLabels[ticket.status],
  action: (action: TicketAction) => ticketActionLabels[action],
  actionLabel: (action: keyof typeof handleActionLabels) => handleActionLabels[action],
  skipWords: ["bo qua", "khong", "khong co", "skip"],
  doneWords: [
    "xong",
    "da xong",
    "xong roi",
    "tiep",
    "tiep tuc",
    "het",
    "het roi",
    "du roi",
    "khong co",
    "bo qua",
  ],
  anonymousWords: ["an danh", "khong muon", "khong cung cap", "giau ten"],
  /**
   * Phrases that, anywhere in an answer to "your name?" or "your address?", mean the person
   * declines (folded: no diacritics, lower case): "Tôi không muốn cung cấp họ tên." is a refusal,
   * never a name.
   */
  refusalPhrases: [
    "khong muon",
    "khong cung cap",
    "khong the cung cap",
    "khong tien",
    "khong de lai",
    "khong khai",
    "khong co ten",
    "xin phep khong",
    "tu choi",
    "nac danh",
    "an danh",
    "giau ten",
    "giau danh",
    "bi mat",
    "bo qua",
  ],
  askType: "Anh/chị muốn gửi loại nào?",
  typeLine: (rule: { label: string; explain: string }) => `• ${rule.label}: ${rule.explain}.`,
  askField: "Nội dung thuộc lĩnh vực nào?",
  askContent: (type: string, max?: number) =>
    `Xin anh/chị trình bày nội dung ${type.toLowerCase()}: sự việc, thời gian, địa điểm, người hoặc cơ quan liên quan.` +
    (max
      ? ` Nội dung dài có thể gửi thành nhiều tin nhắn liên tiếp (tối đa ${max.toLocaleString("vi-VN")} ký tự).`
      : ""),
  contentSoFar: (chars: number, max: number) =>
    `Đã nhận nội dung (${chars.toLocaleString("vi-VN")}/${max.toLocaleString("vi-VN")} ký tự). ` +
    'Nếu còn, xin gửi tiếp phần còn lại; có ảnh hoặc tài liệu kèm theo thì gửi luôn. Gõ "xong" khi đã gửi đủ.',
  contentFull: (max: number, tail: string, dropped: number) =>
    `Nội dung đã đạt giới hạn ${max.toLocaleString("vi-VN")} ký tự cho một lần gửi. Sở giữ nguyên văn đến đoạn "…${tail}"; ` +
    `${dropped.toLocaleString("vi-VN")} ký tự sau đó chưa được ghi nhận. Anh/chị có thể gửi phần còn lại dưới dạng tệp đính kèm ` +
    'ngay bây giờ, hoặc gửi thành một nội dung mới sau khi gửi nội dung này. Gõ "xong" để tiếp tục.',
  contentAtLimit: (max: number) =>
    `Nội dung đã đạt giới hạn ${max.toLocaleString("vi-VN")} ký tự, tin nhắn này chưa được ghi nhận. Xin gửi tệp đính kèm, hoặc gõ "xong" để tiếp tục.`,
  contentTooShort: "Nội dung quá ngắn. Xin anh/chị trình bày rõ hơn (ít nhất 10 ký tự).",
  askFiles: 'Anh/chị có ảnh hoặc tài liệu kèm theo không? Gửi ngay bây giờ, hoặc gõ "bỏ qua".',
  filesCount: (count: number) => `Đã nhận ${count} tệp. Gửi thêm, hoặc gõ "xong" để tiếp tục.`,
  filesHint: 'Xin gửi ảnh hoặc tệp, hoặc gõ "xong" để tiếp tục.',
  askIdentify:
    "Anh/chị có muốn để lại họ tên và số điện thoại để Sở liên hệ và trả lời không? Anh/chị cũng có thể gửi ẩn danh.",
  giveContact: "Để lại thông tin liên hệ",
  anonymous: "Gửi ẩn danh",
  askName: "Họ và tên của anh/chị?",
  askNameRequired: (type: string, source: string) =>
    `Để Sở tiếp nhận ${type.toLowerCase()}, pháp luật yêu cầu họ tên và địa chỉ của người gửi; số điện thoại không bắt buộc (nếu có). ` +
    `Căn cứ: ${source}.\nThông tin chỉ người có thẩm quyền xử lý được xem. Họ và tên của anh/chị?`,
  badName: "Xin nhập họ và tên đầy đủ.",
  askAddress: "Địa chỉ liên hệ của anh/chị (số nhà, đường, xã/phường, tỉnh)?",
  badAddress: "Xin nhập địa chỉ đầy đủ hơn.",
  askPhone: 'Số điện thoại để Sở liên hệ? (gõ "bỏ qua" nếu không muốn để lại)',
  askPhoneOptional:
    'Số điện thoại để Sở liên hệ, nếu có (không bắt buộc; Sở vẫn liên hệ được qua tài khoản này). Gõ "bỏ qua" nếu không muốn để lại.',
  askPhoneRequired: "Số điện thoại để Sở liên hệ?",
  badPhone: "Số điện thoại chưa đúng. Xin nhập 10 chữ số, ví dụ 0912345678.",
  askConsent:
    "Anh/chị đồng ý để Sở sử dụng họ tên, số điện thoại vừa cung cấp chỉ nhằm liên hệ và trả lời nội dung này " +
    "(Luật Bảo vệ dữ liệu cá nhân 2025, điều 9)? Nếu không đồng ý, nội dung vẫn được gửi, không kèm thông tin cá nhân.",
  /** What a khiếu nại or tố cáo filer is told instead of being asked to consent. */
  dataNotice: (p: {
    law: string;
    article: string;
    retention: string;
    confidential: boolean;
    legal: boolean;
  }) =>
    `Về thông tin cá nhân: Sở lưu họ tên, địa chỉ và số điện thoại (nếu có) anh/chị vừa cung cấp, đã mã hóa, chỉ để xử lý ` +
    `và trả lời nội dung này. Người được xem: ${p.confidential ? "người có thẩm quyền giải quyết tố cáo của Sở; không bao giờ cho người, đơn vị bị tố cáo" : "Văn phòng Sở và đơn vị được giao xử lý"}; ` +
    `mỗi lần xem đều được ghi nhật ký. Thời gian lưu: ${p.retention}. ` +
    `Căn cứ: ${p.legal ? "pháp luật yêu cầu các thông tin này (xem trên)" : "quy định về phản ánh, kiến nghị"} và ${p.law}, ${p.article} — ` +
    "Sở xử lý theo nhiệm vụ luật giao nên không cần anh/chị đồng ý; anh/chị có quyền xem, yêu cầu sửa thông tin của mình.",
  consentYes: "Đồng ý",
  consentNo: "Không đồng ý",
  summary: (p: {
    type: string;
    field: string;
    content: string;
    files: number;
    identity: string | undefined;
    notice?: string;
  }) =>
    `Xin anh/chị kiểm tra lại:\nLoại: ${p.type}\nLĩnh vực: ${p.field}\n` +
    `Nội dung (toàn văn, ${Array.from(p.content).length.toLocaleString("vi-VN")} ký tự): ${p.content}\n` +
    `Tệp kèm theo: ${p.files}\nNgười gửi: ${p.identity ?? "ẩn danh"}${p.notice ? `\n\n${p.notice}` : ""}`,
  send: "Gửi",
  cancel: "Hủy",
  cancelled: "Đã hủy, nội dung chưa được gửi.",
  identityRefused: (type: string, source: string) =>
    `Sở chưa thể tiếp nhận ${type.toLowerCase()} khi không có họ tên, địa chỉ của người gửi. Căn cứ: ${source}.\n` +
    "Nếu có thông tin cụ thể, có căn cứ về vi phạm, anh/chị vẫn có thể gửi dưới dạng phản ánh (có thể ẩn danh) bằng lệnh /gopy.",
  consentRefused: "Vâng, nội dung sẽ được gửi không kèm thông tin cá nhân.",
  dailyLimit: (max: number) =>
    `Mỗi ngày mỗi tài khoản gửi được tối đa ${max} nội dung. Xin anh/chị gửi tiếp vào ngày mai hoặc liên hệ trực tiếp Văn phòng Sở.`,
  duplicate: (code: string) => `Nội dung này anh/chị vừa gửi, mã ${code}. Sở không ghi nhận trùng lần nữa.`,
  filed: (p: { code: string; type: string; due: string; legal: boolean; acceptBy?: string }) =>
    `Cảm ơn anh/chị đã gửi ${inSentence(p.type)}. Mã tra cứu: ${p.code}\n` +
    (p.acceptBy
      ? `Sở sẽ thông báo thụ lý hoặc không thụ lý (nêu rõ lý do) trước ngày ${p.acceptBy}; nếu được thụ lý, ` +
        `anh/chị nhận kết quả giải quyết chậm nhất ngày ${p.due} (theo thời hạn luật định, tính từ ngày thụ lý).\n`
      : `Dự kiến trả lời trước ngày ${p.due}${p.legal ? " (theo thời hạn luật định)" : " (theo mục tiêu của Sở)"}.\n`) +
    `Gõ /tracuu ${p.code} để xem tình trạng bất cứ lúc nào.`,
  newTicketNotice: (code: string, type: string, field: string, due: string, acceptance = false) =>
    `Có ${inSentence(type)} mới ${code} (lĩnh vực: ${field}), ${acceptance ? "hạn quyết định thụ lý" : "hạn trả lời"} ${due}. Gõ /xuly ${code} để xử lý.`,
  offer:
    "Tôi là trợ lý tự động nên chưa trả lời trực tiếp được tin nhắn này. Anh/chị có muốn gửi nội dung vừa nhắn tới Sở dưới dạng phản ánh hoặc góp ý không?",
  offerYes: "Có, gửi tới Sở",
  offerNo: "Không",
  offerDeclined: "Vâng. Gõ /help để xem những việc tôi có thể giúp.",
  lookupUsage:
    "Cách dùng: /tracuu <mã>, ví dụ /tracuu PA-2025-012345. Nếu tra từ tài khoản khác, thêm số điện thoại đã khai.",
  lookupNotFound: (code: string) =>
    `Không tìm thấy ${code} trong các nội dung anh/chị đã gửi. Nếu anh/chị gửi từ tài khoản khác, xin thêm số điện thoại đã khai: /tracuu ${code} 09xxxxxxxx`,
  card: (p: {
    code: string;
    type: string;
    field: string;
    status: string;
    unit: string | undefined;
    received: string;
    due: string;
    content: string;
    files: number;
    /** In place of the one due line: acceptance and resolution dates, each on its own line. */
    stages?: string[];
  }) =>
    [
      `${p.code} — ${p.type} (${p.field})`,
      `Tình trạng: ${p.status}`,
      ...(p.unit ? [`Đơn vị xử lý: ${p.unit}`] : []),
      `Ngày nhận: ${p.received}`,
      ...(p.stages ?? [`Hạn trả lời: ${p.due}`]),
      `Nội dung (toàn văn): ${p.content}`,
      ...(p.files > 0 ? [`Tệp kèm theo: ${p.files}`] : []),
    ].join("\n"),
  due: (day: string, legal: boolean, overdue: boolean) =>
    `${day}${legal ? " (luật định)" : " (mục tiêu của Sở)"}${overdue ? " — ĐÃ QUÁ HẠN" : ""}`,
  stage: {
    acceptBy: (due: string) => `Hạn quyết định thụ lý: ${due}`,
    accepted: (day: string) => `Đã thụ lý ngày: ${day}`,
    resolveBy: (due: string) => `Hạn giải quyết: ${due}`,
    resolveByIfAccepted: (due: string) => `Hạn giải quyết nếu thụ lý vào ngày cuối: ${due}`,
    expectAnswer: (due: string) => `Dự kiến nhận kết quả chậm nhất: ${due}`,
    acceptNotice: (due: string) => `Sở thông báo thụ lý hoặc không thụ lý trước ngày: ${due}`,
    round2: (first: string) => `Khiếu nại lần hai, tiếp theo ${first}`,
    wentOn: (second: string) => `Người gửi đã khiếu nại lần hai: ${second}`,
  },
  identityLine: (identity: { name?: string; address?: string; phone?: string }) =>
    `Người gửi: ${[identity.name, identity.address, identity.phone].filter(Boolean).join(", ")}`,
  identityHidden: "Người gửi: (thông tin được bảo mật)",
  anonymousLine: "Người gửi: ẩn danh",
  answerLine: (text: string) => `Trả lời của Sở: ${text}`,
  ratingLine: (score: number, comment: string) => `Đánh giá: ${score}/5${comment ? ` — ${comment}` : ""}`,
  historyHeader: "Quá trình xử lý:",
  filerLabel: "Người gửi",
  historyLine: (at: string, by: string, action: string, note: string | undefined) =>
    `• ${at} — ${by}: ${action}${note ? ` — ${note}` : ""}`,
  askAction: (code: string) => `Anh/chị xử lý ${code} thế nào?`,
  askUnit: "Giao cho đơn vị nào?",
  askText: (action: string) =>
    ({
      ask: "Nội dung cần người gửi bổ sung?",
      answer: "Nội dung trả lời người gửi?",
      extend: "Lý do gia hạn?",
      complex: "Lý do xác định vụ việc phức tạp?",
      extend_accept: "Lý do gia hạn thời hạn thụ lý (ví dụ: phải kiểm tra, xác minh tại nhiều địa điểm)?",
      reject: "Lý do không thụ lý?",
    })[action] ?? "Nội dung?",
  textTooShort: "Nội dung quá ngắn, xin ghi rõ hơn.",
  done: {
    assigned: (code: string, unit: string) => `Đã giao ${code} cho ${unit}.`,
    asked: (code: string) => `Đã gửi đề nghị bổ sung thông tin cho người gửi ${code}.`,
    answered: (code: string) => `Đã gửi trả lời ${code} tới người gửi.`,
    extended: (code: string, due: string) => `Đã gia hạn ${code} đến ngày ${due}.`,
    accepted: (code: string, due: string) =>
      `Đã thụ lý ${code} và báo người gửi. Hạn giải quyết (tính từ hôm nay, ngày thụ lý): ${due}.`,
    acceptExtended: (code: string, due: string) => `Đã gia hạn thời hạn thụ lý ${code} đến ngày ${due}.`,
    rejected: (code: string) => `Đã ghi nhận không thụ lý ${code} và báo người gửi.`,
    closed: (code: string) => `Đã đóng ${code}.`,
  },
  toFiler: {
    assigned: (code: string, unit: string) =>
      `${code}: nội dung của anh/chị đã được chuyển tới ${unit} để xử lý.`,
    ask: (code: string, question: string) =>
      `${code}: Sở đề nghị anh/chị bổ sung thông tin: ${question}\nXin anh/chị trả lời (reply) tin nhắn này.`,
    answer: (code: string, text: string) =>
      `${code}: Sở trả lời anh/chị như sau:\n${text}\n\nXin anh/chị đánh giá câu trả lời: gõ /danhgia ${code} hoặc trả lời (reply) tin này.`,
    extend: (code: string, due: string, reason: string) =>
      `${code}: thời hạn giải quyết được gia hạn đến ngày ${due}. Lý do: ${reason}`,
    reject: (code: string, reason: string) => `${code}: Sở không thụ lý nội dung này. Lý do: ${reason}`,
    accepted: (code: string, type: string, due: string) =>
      `${code}: Sở đã thụ lý ${type.toLowerCase()} của anh/chị. Anh/chị sẽ nhận kết quả giải quyết chậm nhất ngày ${due} (theo thời hạn luật định).`,
    acceptExtended: (code: string, due: string) =>
      `${code}: thời hạn Sở quyết định thụ lý được gia hạn đến ngày ${due} theo quy định của pháp luật.`,
    secondRoundHint: (code: string, until: string) =>
      `Nếu không đồng ý với kết quả giải quyết này, đến hết ngày ${until} anh/chị có thể khiếu nại lần hai ` +
      `(Luật Khiếu nại 2011, điều 33): gõ /khieunai2 ${code}; hoặc khởi kiện vụ án hành chính tại Tòa án.`,
    close: (code: string) => `${code}: hồ sơ đã được đóng. Cảm ơn anh/chị đã đóng góp.`,
  },
  /** `acceptance`: the ticket awaits its thụ lý decision, and `due` is the day it must be taken by. */
  toUnit: (code: string, type: string, due: string, acceptance = false) =>
    `Văn phòng Sở giao ${type.toLowerCase()} ${code} cho đơn vị xử lý, ${acceptance ? "hạn quyết định thụ lý" : "hạn trả lời"} ${due}. Gõ /xuly ${code} để xem và trả lời.`,
  answeredForOffice: (code: string, unit: string, answer: string) =>
    `${unit} đã trả lời ${code}: ${answer}\nGõ /xuly ${code} để xem và đóng hồ sơ.`,
  takenFromUnit: (code: string, type: string, unit: string) =>
    `Văn phòng Sở đã chuyển ${type.toLowerCase()} ${code} sang ${unit} xử lý; đơn vị anh/chị không cần xử lý tiếp.`,
  infoReceived: (code: string) => `Đã nhận thông tin bổ sung cho ${code}. Cảm ơn anh/chị.`,
  infoForHandler: (code: string, text: string) => `Người gửi ${code} đã bổ sung thông tin: ${text}`,
  replyNotExpected: "Tin nhắn này không cần trả lời. Gõ /help để xem những việc tôi có thể giúp.",
  askScore: (code: string) => `Anh/chị đánh giá câu trả lời cho ${code} thế nào?`,
  scoreLabel: (n: number) =>
    ({
      5: "5 — Rất hài lòng",
      4: "4 — Hài lòng",
      3: "3 — Bình thường",
      2: "2 — Chưa hài lòng",
      1: "1 — Không hài lòng",
    })[n] ?? String(n),
  askComment: 'Anh/chị có góp ý gì thêm không? (gõ nội dung, hoặc "bỏ qua")',
  rated: "Cảm ơn anh/chị đã đánh giá. Ý kiến của anh/chị giúp Sở phục vụ tốt hơn.",
  rateUsage: "Cách dùng: /danhgia <mã>, ví dụ /danhgia PA-2025-012345.",
  notAnsweredYet: "Nội dung này chưa được trả lời nên chưa đánh giá được.",
  listHeader: (count: number) => `Phản ánh cần xử lý (${count}):`,
  listLine: (p: {
    code: string;
    type: string;
    status: string;
    unit: string | undefined;
    due: string;
    overdue: boolean;
  }) =>
    `• ${p.code} — ${p.type} — ${p.status}${p.unit ? ` — ${p.unit}` : ""} — hạn ${p.due}${p.overdue ? " (QUÁ HẠN)" : ""}`,
  listFooter: "Gõ /xuly <mã> để xem và xử lý.",
  listEmpty: "Không có phản ánh nào phù hợp.",
  filterUnknown: (words: string) =>
    `Không hiểu bộ lọc "${words}". Dùng: loại (góp ý, phản ánh, kiến nghị, khiếu nại, tố cáo), trạng thái, "quá hạn", hoặc tên đơn vị.`,
  handleUsage: "Cách dùng: /xuly <mã>, ví dụ /xuly PA-2025-012345.",
  secondRound: {
    description: "Khiếu nại lần hai (không đồng ý kết quả lần đầu, hoặc quá hạn chưa được giải quyết)",
    usage: "Cách dùng: /khieunai2 <mã khiếu nại lần đầu>, ví dụ /khieunai2 PA-2026-012345.",
    refused: (reason: "not_khieu_nai" | "already" | "rejected" | "too_early" | "too_late", until?: string) =>
      ({
        not_khieu_nai: "Chỉ khiếu nại lần đầu mới có thể khiếu nại lần hai.",
        already: "Khiếu nại này đã được gửi lần hai rồi. Gõ /tracuu với mã lần hai để xem.",
        rejected:
          "Khiếu nại này không được thụ lý, nên chưa có kết quả giải quyết lần đầu để khiếu nại lần hai. Xin liên hệ Văn phòng Sở nếu anh/chị chưa rõ lý do.",
        too_early: `Khiếu nại lần đầu còn trong thời hạn giải quyết (đến hết ngày ${until ?? "…"}). Anh/chị có thể khiếu nại lần hai khi có kết quả mà không đồng ý, hoặc khi quá hạn này mà chưa được giải quyết (Luật Khiếu nại 2011, điều 33).`,
        too_late: `Thời hạn khiếu nại lần hai đã hết ngày ${until ?? "…"} (Luật Khiếu nại 2011, điều 33).`,
      })[reason],
    intro: (code: string, reason: "decided" | "late", until: string, resolver: string) =>
      `Khiếu nại lần hai tiếp theo ${code} (${reason === "decided" ? "anh/chị không đồng ý với kết quả giải quyết lần đầu" : "khiếu nại lần đầu quá hạn chưa được giải quyết"}; gửi đến hết ngày ${until}). ` +
      `Người giải quyết: ${resolver}. Họ tên, địa chỉ của anh/chị lấy theo khiếu nại lần đầu.`,
    summaryType: (first: string) => `Khiếu nại lần hai (tiếp theo ${first})`,
    sameFiler: (first: string) => `như khiếu nại lần đầu ${first} (họ tên, địa chỉ đã khai)`,
  },
  errors: {
    not_found: "Không tìm thấy nội dung này.",
    forbidden: "Anh/chị không có quyền thực hiện thao tác này với nội dung này.",
    bad_state: "Thao tác này không còn thực hiện được ở tình trạng hiện tại.",
    no_extension: "Pháp luật không cho phép gia hạn thêm với loại này.",
  },
};

const modelStatusLabels: Record<ModelStatus, string> = {
  registered: "Đã đăng ký",
  appraising: "Đang thẩm định",
  passed: "Đạt",
  needs_changes: "Cần bổ sung",
  failed: "Không đạt",
  implementing: "Đang triển khai",
  reported: "Đã báo cáo kết quả",
  recognised: "Được công nhận điển hình",
};

const modelFieldLabels = {
  name: "Tên mô hình",
  field: "Lĩnh vực",
  personInCharge: "Người phụ trách",
  targetGroup: "Đối tượng hướng tới",
  content: "Nội dung, giải pháp",
  expectedResults: "Kết quả dự kiến",
  startDay: "Ngày bắt đầu",
  endDay: "Ngày kết thúc",
};

const dvk = {
  registerDescription: 'Đăng ký mô hình "Dân vận khéo" của đơn vị',
  listDescription: 'Danh sách mô hình "Dân vận khéo" theo năm, đơn vị, trạng thái',
  decideDescription: "Thẩm định, cập nhật trạng thái một mô hình",
  editDescription: "Sửa và nộp lại mô hình cần bổ sung",
  resultDescription: "Báo cáo kết quả thực hiện mô hình",
  status: (status: ModelStatus) => modelStatusLabels[status],
  label: modelFieldLabels,
  ask: {
    name: 'Tên mô hình "Dân vận khéo"?',
    field: "Mô hình thuộc lĩnh vực nào?",
    personInCharge: "Người phụ trách mô hình (họ tên, chức vụ)?",
    targetGroup: "Đối tượng mô hình hướng tới (người dân, doanh nghiệp, ...)?",
    content: "Nội dung và giải pháp thực hiện?",
    expectedResults: "Kết quả dự kiến (nêu số liệu nếu có)?",
    startDay: "Ngày bắt đầu (ngày/tháng/năm, ví dụ 01/03/2025)?",
    endDay: "Ngày kết thúc (ngày/tháng/năm)?",
  },
  pickField: "Xin chọn một lĩnh vực trong danh sách.",
  badDate: "Ngày chưa đúng. Xin viết dạng ngày/tháng/năm, ví dụ 15/03/2025.",
  endBeforeStart: (start: string) => `Ngày kết thúc phải sau ngày bắt đầu (${start}).`,
  startAfterEnd: (end: string) => `Ngày bắt đầu phải trước ngày kết thúc (${end}).`,
  tooShort: (min: number) => `Nội dung quá ngắn, xin ghi ít nhất ${min} ký tự.`,
  summary: (p: {
    name: string;
    field: string;
    unit: string;
    personInCharge: string;
    targetGroup: string;
    content: string;
    expectedResults: string;
    period: string;
  }) =>
    [
      "Thông tin mô hình:",
      `${modelFieldLabels.name}: ${p.name}`,
      `${modelFieldLabels.field}: ${p.field}`,
      `Đơn vị: ${p.unit}`,
      `${modelFieldLabels.personInCharge}: ${p.personInCharge}`,
      `${modelFieldLabels.targetGroup}: ${p.targetGroup}`,
      `${modelFieldLabels.content}: ${p.content}`,
      `${modelFieldLabels.expectedResults}: ${p.expectedResults}`,
      `Thời gian: ${p.period}`,
    ].join("\n"),
  confirmPrompt: "Gửi đăng ký mô hình này tới Văn phòng Sở?",
  submit: "Gửi đăng ký",
  cancel: "Hủy",
  cancelled: "Đã hủy, chưa có gì được gửi.",
  lateWarning: (deadline: string, task: string, plan: string) =>
    `Lưu ý: hạn đăng ký mô hình năm nay là ${deadline} (hạn của nhiệm vụ ${task}, kế hoạch ${plan}). ` +
    "Đăng ký sau hạn vẫn được nhận nhưng sẽ được ghi chú là đăng ký muộn.",
  registered: (code: string, lateDeadline: string | undefined) =>
    `Đã gửi đăng ký mô hình, mã ${code}. Văn phòng Sở sẽ thẩm định và thông báo kết quả.` +
    (lateDeadline ? ` (Đăng ký sau hạn ${lateDeadline}.)` : ""),
  newForOffice: (code: string, name: string, late: boolean) =>
    `Mô hình mới đăng ký: ${code} — ${name}${late ? " (đăng ký muộn)" : ""}. Gõ /duyet ${code} để thẩm định.`,
  resubmittedForOffice: (code: string, name: string, version: number) =>
    `Mô hình ${code} — ${name} đã được đơn vị sửa và nộp lại (phiên bản ${version}). Gõ /duyet ${code} để thẩm định lại.`,
  pickEdit: 'Anh/chị sửa mục nào? Sửa xong chọn "Nộp lại".',
  resubmit: "Nộp lại",
  confirmResubmit: "Nộp lại mô hình với nội dung trên?",
  resubmitted: (code: string, version: number) => `Đã nộp lại mô hình ${code} (phiên bản ${version}).`,
  askDecision: (code: string) => `Kết quả thẩm định / trạng thái mới của ${code}?`,
  askComment: "Nhận xét của Văn phòng Sở (sẽ gửi tới đơn vị)?",
  decided: (code: string, status: string) => `Đã cập nhật ${code}: ${status}. Đơn vị đã được thông báo.`,
  decisionNotice: (code: string, name: string, status: string, comment: string, needsChanges: boolean) =>
    `Mô hình ${code} — ${name}: ${status}.\nNhận xét: ${comment}` +
    (needsChanges ? `\nĐơn vị sửa và nộp lại bằng lệnh /suamohinh ${code}.` : ""),
  askResult: (code: string) => `Kết quả thực hiện mô hình ${code} (việc đã làm, số liệu, hiệu quả)?`,
  askFiles: 'Gửi ảnh hoặc tệp minh chứng nếu có; gõ "xong" để lưu.',
  filesCount: (count: number) => `Đã nhận ${count} tệp. Gửi thêm, hoặc gõ "xong" để lưu.`,
  filesHint: 'Xin gửi ảnh hoặc tệp, hoặc gõ "xong" để lưu.',
  doneWords: ["xong", "luu", "bo qua", "khong co"],
  resultSaved: (code: string, count: number) => `Đã lưu báo cáo kết quả lần ${count} của mô hình ${code}.`,
  detailHeader: (code: string, name: string, status: string, late: boolean) =>
    `${code} — ${name}\nTrạng thái: ${status}${late ? " (đăng ký muộn)" : ""}`,
  unitLine: (unit: string) => `Đơn vị đăng ký: ${unit}`,
  historyHeader: "Quá trình:",
  historyLine: (at: string, by: string, status: string, comment: string | undefined) =>
    `• ${at} — ${by}: ${status}${comment ? ` — ${comment}` : ""}`,
  versions: (count: number) => `Đã nộp ${count} phiên bản; các phiên bản trước được lưu.`,
  resultsHeader: "Kết quả đã báo cáo:",
  resultLine: (at: string, by: string, text: string, files: number) =>
    `• ${at} — ${by}: ${text}${files > 0 ? ` (${files} tệp)` : ""}`,
  listHeader: (year: number, count: number) => `Mô hình "Dân vận khéo" năm ${year} (${count}):`,
  listLine: (code: string, name: string, unit: string, status: string, late: boolean) =>
    `• ${code} — ${name} — ${unit} — ${status}${late ? " — đăng ký muộn" : ""}`,
  listFooter: "Gõ /mohinh <mã> để xem chi tiết.",
  listEmpty: "Chưa có mô hình nào phù hợp.",
  filterUnknown: (words: string) => `Không hiểu bộ lọc "${words}". Dùng: năm, trạng thái hoặc tên đơn vị.`,
  codeUsage: "Xin ghi mã mô hình, ví dụ MH-2025-007.",
  errors: {
    not_found: "Không tìm thấy mô hình này.",
    forbidden: "Anh/chị không có quyền thực hiện thao tác này với mô hình này.",
    bad_state: "Thao tác này không thực hiện được ở trạng thái hiện tại của mô hình.",
  },
};

/** Sentences the channels need; adapters take them from here, never write their own. */
const channels = {
  numberedHint: "Trả lời bằng số thứ tự hoặc nội dung lựa chọn.",
  choiceTaken: (label: string) => `Đã chọn: ${label}`,
  staleButton: "Lựa chọn này đã hết hiệu lực.",
  unsupportedMessage: "Xin lỗi, trợ lý chưa đọc được loại tin nhắn này. Anh/chị vui lòng gửi chữ hoặc ảnh.",
  zaloTokenRefreshFailed: (detail: string) =>
    `Cảnh báo quản trị: không làm mới được mã truy cập Zalo OA (${detail}). ` +
    "Tin nhắn tới người dân qua Zalo OA đang chờ; xin kiểm tra ZALO_OA_REFRESH_TOKEN.",
  fileTooLarge: "Tệp quá lớn, trợ lý không nhận được. Xin anh/chị gửi tệp nhỏ hơn.",
  /** A file a platform cannot carry, sent as its download link under the text. */
  fileLink: (name: string | undefined, url: string) => `📎 ${name ? `${name}: ` : "Tệp đính kèm: "}${url}`,
  outboxPaused: (channel: string, reason: string) =>
    `Cảnh báo quản trị: kênh ${channel} từ chối mã truy cập (token) của trợ lý (${reason}). ` +
    `Tin nhắn gửi qua ${channel} đang được giữ lại, không mất; trợ lý thử lại vài phút một lần ` +
    "và tự gửi tiếp khi mã hợp lệ trở lại. Xin kiểm tra token của kênh này trong cấu hình.",
};

const dataFile = {
  unknownKey: (key: string) => `không có mục "${key}" trong loại tệp này (viết sai tên?)`,
};

const units = {
  badKey: "mã đơn vị (key) gồm 2–40 chữ thường không dấu, số và '-', ví dụ van-phong",
  reservedKey: (key: string) =>
    `mã đơn vị "${key}" đã dành để chỉ mọi đơn vị trong kế hoạch, xin chọn mã khác`,
  shortName: "tên đơn vị (name) cần ít nhất 2 ký tự",
  badKind: (kinds: readonly string[]) => `loại đơn vị (kind) phải là một trong: ${kinds.join(", ")}`,
  none: "tệp cần ít nhất một đơn vị trong units",
  duplicateKey: (key: string) => `mã đơn vị ${key} bị trùng`,
};

const cli = {
  adminUsage:
    'Cách dùng:\n  npm run admin -- add <kênh>:<mã tài khoản> [--name "Họ tên"]   (kênh: telegram, zalo, console)\n' +
    "  npm run admin -- list",
  keysUsage: "Cách dùng: npm run keys:rotate (sau khi đặt khóa mới đứng đầu DATA_ENCRYPTION_KEYS)",
  resealed: (tickets: number, messages: number) =>
    `Đã mã hóa lại bằng khóa mới: dữ liệu cá nhân của ${tickets} phản ánh, ${messages} tin nhắn và phiên trò chuyện.`,
  resealedOaTokens: (tokens: number) => `Đã mã hóa lại ${tokens} token Zalo OA.`,
  resealedPeople: (records: number) =>
    `Đã mã hóa lại tên người dùng, nhật ký truy cập dữ liệu cá nhân, mã mời và mã liên kết: ${records} bản ghi.`,
  notCompacted: (collections: string) =>
    `Máy chủ cơ sở dữ liệu không cho nén lại các bảng: ${collections}. Bản cũ (chưa mã hóa hoặc mã hóa bằng ` +
    "khóa cũ) của dữ liệu vừa mã hóa lại có thể còn trong vùng trống của tệp dữ liệu cho tới khi máy chủ tự ghi đè.",
  plansImportUsage: "Cách dùng: npm run plans:import [--dry-run] TỆP.yaml|TỆP.xlsx [...]",
  planImported: (code: string, tasks: number, created: boolean, archived: number) =>
    `${created ? "Đã nạp" : "Đã cập nhật"} kế hoạch ${code}: ${tasks} nhiệm vụ` +
    (archived > 0 ? `, ${archived} nhiệm vụ không còn trong tệp được lưu trữ.` : "."),
  seededUnits: (count: number) => `Đã nạp ${count} đơn vị mẫu.`,
  unitsImportUsage: "Cách dùng: npm run units:import [--dry-run] TỆP.yaml|TỆP.xlsx",
  unitsChecked: (file: string, count: number) => `${file}: ${count} đơn vị, không có lỗi.`,
  unitsImported: (created: number, updated: number, unchanged: number) =>
    `Đã nạp danh sách đơn vị: ${created} đơn vị mới, ${updated} đơn vị được cập nhật, ${unchanged} đơn vị không đổi.`,
  seededDemoPlan: (title: string, reports: number) =>
    `${title}: hạn các nhiệm vụ tính từ hôm nay, ${reports} báo cáo mẫu của các đơn vị.\n` +
    "Người dùng mẫu (chạy npm start, rồi gõ /as <mã> để đổi người nói):",
  seededPerson: (id: string, name: string, role: string) => `  /as ${id} — ${name} (${role})`,
  realPlansHint: (files: string[]) =>
    "Các kế hoạch thật năm 2025 không được nạp vào bản dùng thử (mọi nhiệm vụ của chúng đã quá hạn); " +
    `muốn xem thì nạp bằng: npm run plans:import ${files.join(" ")}`,
  outboxUsage:
    "Cách dùng:\n  npm run outbox -- dead [--channel <kênh>]   (liệt kê tin nhắn đã bỏ, không kèm nội dung)\n" +
    "  npm run outbox -- requeue --all | <mã> [<mã> ...]   (đưa tin đã bỏ về hàng chờ gửi)",
  outboxBadId: (id: string) =>
    `Mã tin nhắn không hợp lệ: ${id} (lấy mã ở cột đầu của npm run outbox -- dead).`,
  outboxNoDead: "Không có tin nhắn nào bị bỏ.",
  outboxDeadHeader: "MÃ TIN                    KÊNH      CUỘC TRÒ CHUYỆN   TUỔI     LỖI CUỐI",
  outboxDeadLine: (id: string, channel: string, chat: string, age: string, error: string, gone: boolean) =>
    `${id}  ${channel.padEnd(8)}  ${chat.padEnd(16)}  ${age.padEnd(7)}  ${error}` +
    (gone ? "  (đã quá hạn lưu, không gửi lại được)" : ""),
  outboxDeadTotal: (count: number) => `${count} tin nhắn đã bị bỏ.`,
  outboxAge: (hours: number) => (hours < 48 ? `${hours} giờ` : `${Math.floor(hours / 24)} ngày`),
  outboxRequeued: (count: number, asked: number | undefined) =>
    `Đã đưa ${count} tin nhắn về hàng chờ gửi; trợ lý đang chạy sẽ gửi theo thứ tự.` +
    (asked !== undefined && asked > count
      ? ` ${asked - count} mã không phải tin đã bỏ (hoặc nội dung đã quá hạn lưu) nên được bỏ qua.`
      : ""),
  outboxFailed: (detail: string) => `Không thực hiện được: ${detail}`,
  failed: (detail: string) => `Không thực hiện được: ${detail}`,
  startFailed: (detail: string) => `Không khởi động được trợ lý: ${detail}`,
  fileMissing: (file: string) => `Không tìm thấy tệp ${file}.`,
  fileDenied: (file: string) => `Không có quyền đọc hoặc ghi ${file}.`,
  fileIsFolder: (file: string) => `${file} là thư mục, không phải tệp.`,
  portBusy: (port: number, host: string) =>
    `Cổng ${port} trên ${host} đang có chương trình khác dùng: dừng chương trình đó, hoặc đặt PORT khác ` +
    "(PORT=0 để tự chọn cổng trống).",
  portDenied: (port: number, host: string) =>
    `Không được mở cổng ${port} trên ${host} (cổng dưới 1024 cần quyền quản trị): đặt PORT khác, ví dụ 8080.`,
  adminAdded: (name: string, ref: string, account: string) =>
    `Đã đặt ${name} (mã ${ref}, tài khoản ${account}) làm quản trị hệ thống.`,
};

/** Guessing codes: /tracuu with a phone, /lienket, /danhgia (src/domain/people/throttle.ts). */
const guesses = {
  wait: (at: string) =>
    `Anh/chị đã nhập sai quá nhiều lần. Để bảo vệ thông tin của người dân, xin thử lại sau ${at}.`,
  officeNotice: (channel: string, ref: string, command: string) =>
    `Cảnh báo: tài khoản ${channel} của người dùng ${ref} nhập sai mã nhiều lần với ${command} và vẫn ` +
    "tiếp tục thử khi đã bị tạm chặn. Có thể có người đang dò mã; xin kiểm tra nếu thấy bất thường.",
};

export const t = {
  guesses,
  config,
  db,
  engine,
  basics,
  people,
  console: console_,
  channels,
  dataFile,
  units,
  cli,
  officials,
  plans,
  jobs,
  feedback,
  dvk,
  reports,
  announcements,
  calendar,
  plansExcel,
  reminders,
};
