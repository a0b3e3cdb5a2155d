import type { ReportPeriod } from "../domain/reports/period.js";

/**
 * Every sentence of the Office's summaries and report files (/tonghop, /xuatbaocao,
 * /phananh thongke, /mohinh thongke, the .xlsx and the .docx). Numbers and dates arrive already
 * formatted the Vietnamese way (1.234; 12,5%; 31/12/2025).
 */

const ROMAN = ["I", "II", "III", "IV"];

const periodLabel = (p: Pick<ReportPeriod, "kind" | "index" | "year">): string =>
  p.kind === "quarter"
    ? `quý ${ROMAN[p.index - 1] ?? p.index} năm ${p.year}`
    : p.kind === "half"
      ? `6 tháng ${p.index === 1 ? "đầu" : "cuối"} năm ${p.year}`
      : `năm ${p.year}`;

const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

export const reports = {
  periodLabel,
  fileLinkSecret: "phải dài ít nhất 32 ký tự (ví dụ tạo bằng lệnh: openssl rand -hex 32)",
  summaryDescription: "Tổng hợp tiến độ thực hiện kế hoạch theo đơn vị (quý, 6 tháng, năm)",
  summaryUsage: "/tonghop [quý N | 6 tháng | năm] [năm]",
  exportDescription: "Xuất báo cáo: tệp Excel số liệu và dự thảo báo cáo Word",
  exportUsage: "/xuatbaocao [quý N | 6 tháng | năm] [năm]",
  periodUsage: (command: string) =>
    `Xin ghi kỳ báo cáo, ví dụ: /${command} (quý hiện tại), /${command} quý 3, /${command} quý 4 2025, ` +
    `/${command} 6 tháng, /${command} 6 tháng cuối năm, /${command} năm 2025.`,
  periodFuture: "Kỳ này chưa bắt đầu nên chưa có số liệu. Xin chọn kỳ đã hoặc đang diễn ra.",
  noPlans: (period: string) => `Không có kế hoạch nào thực hiện trong ${period}.`,
  noUnit: "Tài khoản của anh/chị chưa gắn với đơn vị nào. Xin liên hệ Văn phòng Sở.",
  forbidden: "Xin lỗi, tài khoản của anh/chị không xem được số liệu tổng hợp này.",

  summaryTitle: (period: string) => `Tổng hợp kết quả thực hiện kế hoạch ${period}`,
  asOf: (day: string) => `Số liệu đến ngày ${day}.`,
  asOfClose: (day: string) => `Số liệu tại thời điểm kết thúc kỳ (hết ngày ${day}).`,
  plansHeader: "Kế hoạch:",
  planLine: (code: string, title: string, done: string, total: string, percent: string) =>
    `• ${code} — ${title}: ${done}/${total} việc hoàn thành (${percent})`,
  unitsHeader: "Theo đơn vị:",
  unitLine: (p: {
    unit: string;
    total: string;
    done: string;
    onTime: string;
    inProgress: string;
    notStarted: string;
    blocked: string;
    overdue: string;
  }) =>
    `• ${p.unit}: ${p.total} việc — hoàn thành ${p.done} (đúng hạn ${p.onTime}), đang thực hiện ${p.inProgress}, ` +
    `chưa bắt đầu ${p.notStarted}, vướng mắc ${p.blocked}, quá hạn ${p.overdue}`,
  totalLine: (done: string, total: string, percent: string, onTime: string, overdue: string) =>
    `Cộng: ${done}/${total} việc hoàn thành (${percent}), đúng hạn ${onTime}, quá hạn ${overdue}.`,
  riskHeader: (count: string) =>
    `Sắp đến hạn (trong 7 ngày làm việc) hoặc quá hạn, chưa hoàn thành (${count}):`,
  riskNone: "Không có việc nào sắp đến hạn hay quá hạn mà chưa hoàn thành.",
  lateAtCloseHeader: (count: string) => `Đã đến hạn mà chưa hoàn thành khi kết thúc kỳ (${count}):`,
  lateAtCloseNone: "Khi kết thúc kỳ, không có việc nào đã đến hạn mà chưa hoàn thành.",
  riskLine: (code: string, unit: string, due: string, left: string) =>
    `• ${code} — ${unit} — hạn ${due} (${left})`,
  riskMore: (count: string) => `… và ${count} việc khác (xem đủ trong /xuatbaocao).`,
  summaryFooter:
    "Xem thêm: /phananh thongke (phản ánh, kiến nghị), /mohinh thongke (mô hình), " +
    "/xuatbaocao (tệp Excel và dự thảo báo cáo).",
  chartTitle: (period: string) => `Tiến độ thực hiện nhiệm vụ theo đơn vị — ${period}`,
  chartAxis: "Số việc (nhiệm vụ × đơn vị)",
  chartName: (period: string) => `Biểu đồ tiến độ ${period}`,

  ticketsTitle: (period: string, unit: string | undefined) =>
    `Thống kê phản ánh, kiến nghị ${period}${unit ? ` — ${unit}` : ""}`,
  ticketsNone: (period: string) => `Không có phản ánh, kiến nghị nào được tiếp nhận trong ${period}.`,
  ticketsTotal: (count: string) => `Tổng số đã tiếp nhận: ${count}.`,
  byType: "Theo loại:",
  byField: "Theo lĩnh vực:",
  byStatus: "Theo trạng thái:",
  byUnit: "Theo đơn vị xử lý:",
  countLine: (label: string, count: string, share: string) => `• ${label}: ${count} (${share})`,
  unassigned: "Chưa giao đơn vị",
  onTime: (onTime: string, due: string, share: string | undefined) =>
    share
      ? `Giải quyết đúng hạn: ${onTime}/${due} phản ánh đã đến hạn (${share}).`
      : "Giải quyết đúng hạn: chưa có phản ánh nào đến hạn trả lời.",
  handling: (days: string | undefined, answered: string) =>
    days
      ? `Thời gian xử lý bình quân: ${days} ngày (từ khi tiếp nhận đến khi trả lời, ${answered} phản ánh đã trả lời).`
      : "Thời gian xử lý bình quân: chưa có phản ánh nào được trả lời.",
  rating: (average: string | undefined, count: string) =>
    average
      ? `Mức độ hài lòng bình quân: ${average}/5 (${count} lượt đánh giá).`
      : "Mức độ hài lòng: chưa có lượt đánh giá nào.",
  targetNote:
    "Thời hạn trả lời góp ý, phản ánh, kiến nghị là mục tiêu của Sở (data/feedback/rules.yaml), " +
    "không phải thời hạn do pháp luật quy định.",

  ticketsUsage:
    "Cách dùng: /phananh thongke [quý N | 6 tháng | năm] [năm], ví dụ /phananh thongke quý 4 2025.",
  modelsUsage: "Cách dùng: /mohinh thongke [năm], ví dụ /mohinh thongke 2025.",
  modelsTitle: (year: number, unit: string | undefined) =>
    `Thống kê mô hình "Dân vận khéo" năm ${year}${unit ? ` — ${unit}` : ""}`,
  modelsNone: (year: number) => `Chưa có mô hình "Dân vận khéo" nào đăng ký năm ${year}.`,
  modelsTotal: (count: string, late: string) =>
    `Tổng số mô hình đã đăng ký: ${count} (đăng ký muộn: ${late}).`,

  exportProgress: (period: string) =>
    `Đang tạo báo cáo ${period}… Xin anh/chị chờ trong giây lát, tệp sẽ được gửi ngay khi xong.`,
  exportDone: (period: string) =>
    `Báo cáo ${period}:\n` +
    "• Tệp Excel: số liệu nhiệm vụ, báo cáo tiến độ, phản ánh (không có thông tin cá nhân) và mô hình;\n" +
    "• Tệp Word: dự thảo báo cáo theo thể thức Nghị định 30/2020/NĐ-CP, để Văn phòng Sở rà soát, hoàn thiện.",
  exportLinks: (period: string, xlsx: string, docx: string, hours: number) =>
    `Báo cáo ${period} đã sẵn sàng. Kênh này không gửi được tệp, anh/chị tải về tại các liên kết dưới đây ` +
    `(dùng được trong ${hours} giờ):\n• Số liệu (Excel): ${xlsx}\n• Dự thảo báo cáo (Word): ${docx}`,
  exportNoLinks: (period: string) =>
    `Báo cáo ${period} đã được tạo, nhưng kênh này chưa gửi được tệp. ` +
    "Xin anh/chị gõ /xuatbaocao trên Telegram để nhận tệp. Cảm ơn anh/chị!",
  xlsxName: (period: string) => `Số liệu ${period}.xlsx`,
  docxName: (period: string) => `Dự thảo báo cáo ${period}.docx`,
  linkInvalid:
    "Liên kết tải tệp không hợp lệ hoặc đã hết hạn. Xin anh/chị gõ lại /xuatbaocao để nhận liên kết mới.",
  linkGone: "Tệp này không còn lưu trên máy chủ. Xin anh/chị gõ lại /xuatbaocao để tạo lại.",

  yes: "Có",
  no: "Không",
  sheets: { tasks: "Nhiệm vụ", reports: "Báo cáo", tickets: "Phản ánh", models: "Mô hình" },
  taskColumns: [
    "Kế hoạch",
    "Mã nhiệm vụ",
    "Nhiệm vụ",
    "Đơn vị",
    "Hạn",
    "Kỳ báo cáo",
    "Tình trạng",
    "Tiến độ (%)",
    "Quá hạn",
    "Ngày hoàn thành",
    "Đúng hạn",
    "Báo cáo gần nhất",
    "Nội dung báo cáo gần nhất",
  ],
  reportColumns: [
    "Thời gian",
    "Kế hoạch",
    "Mã nhiệm vụ",
    "Đơn vị",
    "Kỳ báo cáo",
    "Người báo cáo",
    "Kênh",
    "Hình thức",
    "Tình trạng",
    "Tiến độ (%)",
    "Nội dung",
    "Số minh chứng",
  ],
  ticketColumns: [
    "Mã",
    "Loại",
    "Lĩnh vực",
    "Trạng thái",
    "Đơn vị xử lý",
    "Ngày tiếp nhận",
    "Hạn trả lời",
    "Số lần gia hạn",
    "Ngày trả lời",
    "Số ngày xử lý",
    "Đúng hạn",
    "Đánh giá (1–5)",
  ],
  modelColumns: [
    "Mã",
    "Tên mô hình",
    "Lĩnh vực",
    "Đơn vị",
    "Người phụ trách",
    "Trạng thái",
    "Đăng ký muộn",
    "Ngày bắt đầu",
    "Ngày kết thúc",
    "Số lần báo cáo kết quả",
  ],
  reportSource: { flow: "Theo mẫu (/baocao)", reply: "Trả lời tin nhắc", confirm: "Xác nhận" } as Record<
    string,
    string
  >,
  periodOnce: "Theo hạn",

  doc: {
    parent: (kind: string, place: string) => `UBND ${kind} ${place}`.toUpperCase(),
    nationalTitle: "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    motto: "Độc lập - Tự do - Hạnh phúc",
    number: "Số: …/BC-SKHCN",
    placeDate: (place: string, day: string, month: string, year: string) =>
      `${place}, ngày ${day} tháng ${month} năm ${year}`,
    placeUnknown: "……",
    draftNote: (asOf: string) =>
      `DỰ THẢO — số liệu do trợ lý tự động tổng hợp đến ngày ${asOf}; Văn phòng Sở rà soát, hoàn thiện trước khi trình ký.`,
    title: "BÁO CÁO",
    subtitle: (period: string) => `Kết quả thực hiện công tác dân vận chính quyền ${period}`,
    intro: (org: string, plans: string, period: string) =>
      `${plans ? `Thực hiện ${plans}, ${org}` : capitalized(org)} báo cáo kết quả thực hiện công tác dân vận ` +
      `chính quyền ${period} như sau:`,
    planRef: (p: { number: string; date: string | undefined; issuer: string }) =>
      `Kế hoạch số ${p.number}${p.date ? ` ngày ${p.date}` : ""}${p.issuer ? ` của ${p.issuer}` : ""}`,
    and: " và ",
    section1: "I. CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO, TRIỂN KHAI THỰC HIỆN",
    section1Text: (plans: string, tasks: string, units: string, pairs: string) =>
      `Trong kỳ, Sở triển khai ${plans} kế hoạch với ${tasks} nhiệm vụ, giao ${units} phòng, đơn vị thực hiện ` +
      `(${pairs} lượt việc giao cho các đơn vị). Văn phòng Sở theo dõi, đôn đốc tiến độ qua trợ lý tự động ` +
      "trên Telegram và Zalo: nhắc hạn trước 14, 7, 3, 1 ngày làm việc và khi quá hạn; các đơn vị báo cáo tiến độ trực tiếp.",
    planLine: (title: string, done: string, total: string, percent: string) =>
      `- ${capitalized(title)}: hoàn thành ${done}/${total} việc (${percent}).`,
    section2: "II. KẾT QUẢ THỰC HIỆN",
    progressHeading: "1. Tiến độ thực hiện nhiệm vụ",
    progressText: (p: {
      asOf: string;
      done: string;
      total: string;
      percent: string;
      onTime: string;
      inProgress: string;
      notStarted: string;
      blocked: string;
      overdue: string;
    }) =>
      `Đến ngày ${p.asOf}, các đơn vị đã hoàn thành ${p.done}/${p.total} việc (đạt ${p.percent}), ` +
      `trong đó ${p.onTime} việc hoàn thành đúng hạn; ${p.inProgress} việc đang thực hiện; ` +
      `${p.notStarted} việc chưa bắt đầu; ${p.blocked} việc gặp vướng mắc; ${p.overdue} việc quá hạn chưa hoàn thành.`,
    tableCaption: "Kết quả theo đơn vị:",
    tableColumns: [
      "TT",
      "Đơn vị",
      "Tổng số",
      "Hoàn thành",
      "Đúng hạn",
      "Đang thực hiện",
      "Chưa bắt đầu",
      "Vướng mắc",
      "Quá hạn",
    ],
    tableTotal: "Cộng",
    ticketsHeading: "2. Tiếp nhận, xử lý phản ánh, kiến nghị của người dân, doanh nghiệp",
    ticketsText: (total: string, types: string) =>
      `Trong kỳ, Sở tiếp nhận ${total} ý kiến của người dân, doanh nghiệp qua trợ lý tự động${types ? ` (${types})` : ""}.`,
    ticketsNone: "Trong kỳ, Sở không tiếp nhận phản ánh, kiến nghị nào qua trợ lý tự động.",
    typeCount: (label: string, count: string) => `${label.toLowerCase()}: ${count}`,
    ticketsResult: (p: {
      answered: string;
      onTime: string;
      due: string;
      share: string | undefined;
      days: string | undefined;
      rating: string | undefined;
      rated: string;
    }) =>
      `Đã trả lời ${p.answered} ý kiến; ` +
      (p.share ? `giải quyết đúng hạn ${p.onTime}/${p.due} ý kiến đã đến hạn (đạt ${p.share}); ` : "") +
      (p.days ? `thời gian xử lý bình quân ${p.days} ngày; ` : "") +
      (p.rating
        ? `mức độ hài lòng bình quân của người dân ${p.rating}/5 điểm (${p.rated} lượt đánh giá).`
        : "chưa có lượt đánh giá mức độ hài lòng."),
    modelsHeading: '3. Phong trào thi đua "Dân vận khéo"',
    modelsText: (year: number, total: string, statuses: string) =>
      `Năm ${year}, các đơn vị đăng ký ${total} mô hình "Dân vận khéo"${statuses ? `, trong đó ${statuses}` : ""}.`,
    modelsNone: (year: number) => `Năm ${year}, chưa có đơn vị nào đăng ký mô hình "Dân vận khéo".`,
    statusCount: (label: string, count: string) => `${count} ${label.toLowerCase()}`,
    section3: "III. ĐÁNH GIÁ CHUNG, PHƯƠNG HƯỚNG NHIỆM VỤ KỲ TỚI",
    assessmentHeading: "1. Đánh giá chung",
    assessmentText: (percent: string, overdue: string, atRisk: string) =>
      `Các đơn vị cơ bản triển khai nhiệm vụ theo kế hoạch, tỷ lệ hoàn thành đạt ${percent}. ` +
      `Tuy nhiên, còn ${overdue} việc quá hạn chưa hoàn thành và ${atRisk} việc sắp đến hạn hoặc quá hạn cần tập trung chỉ đạo.`,
    riskLine: (code: string, title: string, unit: string, due: string) =>
      `- Nhiệm vụ ${code} (${title}) — ${unit}, hạn ${due}.`,
    riskMore: (count: string) => `- Và ${count} việc khác (chi tiết trong tệp số liệu kèm theo).`,
    directionHeading: "2. Phương hướng, nhiệm vụ kỳ tới",
    directionText:
      "Tiếp tục đôn đốc các đơn vị hoàn thành các nhiệm vụ còn lại đúng hạn; nâng cao chất lượng tiếp nhận, " +
      'giải quyết phản ánh, kiến nghị của người dân, doanh nghiệp; nhân rộng các mô hình "Dân vận khéo" hiệu quả.',
    directionPlaceholder: "[Văn phòng Sở bổ sung nhiệm vụ cụ thể của kỳ tới.]",
    recipientsTitle: "Nơi nhận:",
    recipients: ["- Lãnh đạo Sở;", "- Các phòng, đơn vị thuộc Sở;", "- Lưu: VT, VP."],
    signerTitle: "GIÁM ĐỐC",
    signerPlaceholder: "……………………",
  },
};
