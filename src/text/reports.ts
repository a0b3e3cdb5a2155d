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
  chartAxis: "Số lượt nhiệm vụ của đơn vị (mỗi nhiệm vụ tính một lượt cho mỗi đơn vị được giao)",
  chartOverdue: "Quá hạn (trong số chưa hoàn thành)",
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
    "Thời hạn trả lời góp ý, phản ánh, kiến nghị là mục tiêu Sở tự đặt ra, " +
    "không phải thời hạn do pháp luật quy định.",

  ticketsUsage:
    "Cách dùng: /phananh thongke [quý N | 6 tháng | năm] [năm], ví dụ /phananh thongke quý 4 2025.",
  modelsUsage: "Cách dùng: /mohinh thongke [năm], ví dụ /mohinh thongke 2025.",
  modelsTitle: (year: number, unit: string | undefined) =>
    `Thống kê mô hình "Dân vận khéo" năm ${year}${unit ? ` — ${unit}` : ""}`,
  modelsNone: (year: number) => `Chưa có mô hình "Dân vận khéo" nào đăng ký năm ${year}.`,
  /** `late` only when some were late: "(đăng ký muộn: 0)" counts nothing. */
  modelsTotal: (count: string, late?: string) =>
    `Tổng số mô hình đã đăng ký: ${count}${late ? ` (đăng ký muộn: ${late})` : ""}.`,

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

  sheetFooter: '&L&"Times New Roman"&A&R&"Times New Roman"Trang &P/&N',
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
  /** Words for the codes stored in the database, as the workbook shows them. */
  channels: {
    telegram: "Telegram",
    zalo: "Zalo",
    zalo_oa: "Zalo OA",
    console: "Thử nghiệm trên máy chủ",
  } as Record<string, string>,
  config: {
    orgParent: "tên cơ quan cấp trên phải có ít nhất 3 ký tự, ví dụ UBND TỈNH ĐỒNG NAI",
    orgPlace: "địa danh phải có ít nhất 2 ký tự, ví dụ Đồng Nai",
    recipients:
      "nơi nhận ghi các cơ quan cách nhau bằng dấu chấm phẩy, ví dụ Ban Tuyên giáo và Dân vận Tỉnh ủy; UBND tỉnh",
  },
  render: {
    usage:
      "Cách dùng: npm run reports:render -- THƯ_MỤC [--plan TỆP …] [--period KỲ] [--today YYYY-MM-DD]\n" +
      "Không có --plan: dữ liệu dùng thử (data/demo). Kỳ mặc định: quý hiện tại (hoặc quý cuối của kế hoạch).",
    badToday: "--today phải viết dạng YYYY-MM-DD.",
    badPeriod: (text: string) =>
      `Không hiểu kỳ báo cáo "${text}" (ví dụ: "quý 4 2025", "6 tháng cuối năm 2025").`,
    noPlans: (period: string) => `Không có kế hoạch nào thực hiện trong ${period}.`,
    wrote: (file: string) => `Đã ghi ${file}`,
    pages: (file: string, pages: number) => `Đã ghi ${file} (${pages} trang PNG)`,
    noOffice:
      "Không tìm thấy LibreOffice (soffice) hoặc pdftoppm: chỉ ghi .docx, .xlsx và biểu đồ, không có PDF/PNG.",
    convertFailed: (file: string, detail: string) => `Không chuyển được ${file} sang PDF: ${detail}`,
  },

  doc: {
    nationalTitle: "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    motto: "Độc lập - Tự do - Hạnh phúc",
    number: "Số: …/BC-SKHCN",
    /** The parent body derived from "… tỉnh X" when ORG_PARENT is not set. */
    parent: (kind: string, place: string) => `UBND ${kind} ${place}`.toUpperCase(),
    parentUnknown: "UBND TỈNH ……",
    placeDate: (place: string, day: string, month: string, year: string) =>
      `${place}, ngày ${day} tháng ${month} năm ${year}`,
    placeUnknown: "……",
    title: "BÁO CÁO",
    subtitle: (period: string) => `Kết quả thực hiện công tác dân vận chính quyền ${period}`,
    intro: (org: string, plans: string, period: string, asOf: string) =>
      `${plans ? `Thực hiện ${plans}, ${org}` : capitalized(org)} báo cáo kết quả thực hiện công tác dân vận ` +
      `chính quyền ${period} (số liệu đến ngày ${asOf}) như sau:`,
    /** A plan cited by number, and by date only when the plan gives one. */
    planRef: (p: { number: string; date: string | undefined; issuer: string; about: string }) =>
      `Kế hoạch số ${p.number}${p.date ? ` ngày ${p.date}` : ""}${p.issuer ? ` của ${p.issuer}` : ""}` +
      `${p.about ? ` về ${p.about}` : ""}`,
    and: "; ",

    section1: "I. CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO, TRIỂN KHAI THỰC HIỆN",
    section1Text: (plans: string, tasks: string, units: string, pairs: string) =>
      `Trong kỳ, Sở triển khai ${plans} kế hoạch với ${tasks} nhiệm vụ, giao ${units} phòng, đơn vị thực hiện. ` +
      `Mỗi nhiệm vụ giao cho nhiều đơn vị được theo dõi riêng cho từng đơn vị, tổng cộng ${pairs} lượt nhiệm vụ ` +
      "của đơn vị; các số liệu dưới đây tính theo lượt nhiệm vụ của đơn vị.",
    tracking:
      "Văn phòng Sở theo dõi, đôn đốc tiến độ qua trợ lý tự động trên Telegram và Zalo: các đơn vị được nhắc " +
      "trước hạn và khi quá hạn, báo cáo tiến độ và kết quả trực tiếp qua trợ lý.",

    section2: "II. KẾT QUẢ THỰC HIỆN",
    progressHeading: "1. Kết quả chung",
    /** Only the parts that are not zero are said. */
    progressDone: (asOf: string, done: string, total: string, percent: string, onTime: string | undefined) =>
      `Đến ngày ${asOf}, các đơn vị đã hoàn thành ${done}/${total} lượt nhiệm vụ (đạt ${percent})` +
      (onTime ? `, trong đó ${onTime} lượt hoàn thành đúng hạn.` : ", chưa có lượt nào hoàn thành đúng hạn."),
    progressNoneDone: (asOf: string, total: string) =>
      `Đến ngày ${asOf}, chưa có lượt nhiệm vụ nào được báo cáo hoàn thành (trong tổng số ${total} lượt).`,
    progressRest: (parts: string[]) => `Số còn lại: ${parts.join("; ")}.`,
    inProgress: (count: string) => `${count} lượt đang thực hiện`,
    notStarted: (count: string) => `${count} lượt chưa bắt đầu hoặc chưa báo cáo`,
    blocked: (count: string) => `${count} lượt gặp vướng mắc`,
    overdueOf: (count: string) => `Trong số chưa hoàn thành, ${count} lượt đã quá hạn.`,
    tableCaption: "Kết quả theo đơn vị (đơn vị tính: lượt nhiệm vụ):",
    tableColumns: [
      "TT",
      "Đơn vị",
      "Số lượt được giao",
      "Hoàn thành",
      "Trong đó đúng hạn",
      "Đang thực hiện",
      "Chưa bắt đầu",
      "Vướng mắc",
      "Quá hạn",
    ],
    tableTotal: "Cộng",
    groupsHeading: "2. Kết quả thực hiện theo nội dung kế hoạch",
    planHeading: (title: string) => `${capitalized(title)}:`,
    group: (code: string, title: string | undefined, tasks: string, done: string, pairs: string) =>
      `Mục ${code}${title ? ` (${title})` : ""}: ${tasks} nhiệm vụ, hoàn thành ${done}/${pairs} lượt.`,
    groupNoneDone: (code: string, title: string | undefined, tasks: string, pairs: string) =>
      `Mục ${code}${title ? ` (${title})` : ""}: ${tasks} nhiệm vụ, ${pairs} lượt, chưa có lượt nào hoàn thành.`,
    task: (code: string, title: string, done: string, pairs: string) =>
      `- Nhiệm vụ ${code} (${title}): ${done}/${pairs} đơn vị đã hoàn thành. Các đơn vị báo cáo:`,
    taskNoneDone: (code: string, title: string) =>
      `- Nhiệm vụ ${code} (${title}): chưa đơn vị nào hoàn thành. Các đơn vị báo cáo:`,
    unitSaid: (unit: string, words: string) => `${unit}: “${words}”`,
    moreNotes: (count: string) => `${count} đơn vị khác đã báo cáo (xem tệp số liệu).`,
    silent: (codes: string) => `Chưa có đơn vị báo cáo kết quả các nhiệm vụ: ${codes}.`,
    silentOne: (code: string) => `Chưa có đơn vị báo cáo kết quả nhiệm vụ ${code}.`,

    ticketsHeading: "3. Tiếp nhận, xử lý phản ánh, kiến nghị của người dân, doanh nghiệp",
    ticketsText: (total: string, types: string) =>
      `Trong kỳ, Sở tiếp nhận ${total} phản ánh, kiến nghị của người dân, doanh nghiệp qua trợ lý tự động` +
      `${types ? ` (${types})` : ""}.`,
    ticketsNone: "Trong kỳ, Sở không tiếp nhận phản ánh, kiến nghị nào qua trợ lý tự động.",
    typeCount: (label: string, count: string) => `${label.toLowerCase()}: ${count}`,
    answered: (answered: string) => `Đã trả lời ${answered} phản ánh, kiến nghị`,
    answeredNone: "Chưa có phản ánh, kiến nghị nào được trả lời",
    onTimeShare: (onTime: string, due: string, share: string) =>
      `giải quyết đúng hạn ${onTime}/${due} phản ánh, kiến nghị đã đến hạn (đạt ${share})`,
    handlingDays: (days: string) => `thời gian xử lý bình quân ${days} ngày`,
    rating: (rating: string, rated: string) =>
      `mức độ hài lòng bình quân của người dân ${rating}/5 điểm (${rated} lượt đánh giá)`,
    ratingNone: "chưa có lượt đánh giá mức độ hài lòng",
    sentence: (parts: string[]) => `${parts.join("; ")}.`,
    targetNote:
      "Thời hạn trả lời nêu trên là mục tiêu Sở tự đặt ra, không phải thời hạn do pháp luật quy định.",

    modelsHeading: "4. Phong trào thi đua “Dân vận khéo”",
    modelsText: (year: number, total: string, statuses: string) =>
      `Năm ${year}, các đơn vị đăng ký ${total} mô hình “Dân vận khéo”, trong đó ${statuses}.`,
    modelsOneStatus: (year: number, total: string, status: string) =>
      `Năm ${year}, các đơn vị đăng ký ${total} mô hình “Dân vận khéo”, hiện ở bước: ${status.toLowerCase()}.`,
    modelsNone: (year: number) => `Năm ${year}, chưa có đơn vị nào đăng ký mô hình “Dân vận khéo”.`,
    statusCount: (label: string, count: string) => `${count} mô hình ${label.toLowerCase()}`,

    section3: "III. ĐÁNH GIÁ CHUNG",
    strengthsHeading: "1. Ưu điểm",
    /** Said after the figures, never above them: the tiers are the share of units' tasks done. */
    assessHigh: (percent: string) =>
      `Các đơn vị cơ bản hoàn thành nhiệm vụ theo kế hoạch (đạt ${percent} số lượt nhiệm vụ); việc báo cáo ` +
      "tiến độ qua trợ lý tự động giúp Văn phòng Sở theo dõi kịp thời.",
    assessMiddle: (percent: string) =>
      `Các đơn vị đã hoàn thành ${percent} số lượt nhiệm vụ; các nhiệm vụ còn lại đang được triển khai. ` +
      "Việc báo cáo tiến độ qua trợ lý tự động giúp Văn phòng Sở theo dõi kịp thời.",
    assessLow: (percent: string) =>
      `Tỷ lệ hoàn thành mới đạt ${percent} số lượt nhiệm vụ, còn thấp so với yêu cầu của kế hoạch. ` +
      "Văn phòng Sở đã theo dõi, nhắc hạn các đơn vị qua trợ lý tự động.",
    assessNone:
      "Đến nay chưa có lượt nhiệm vụ nào được các đơn vị báo cáo hoàn thành; việc triển khai và báo cáo " +
      "kết quả còn chậm so với yêu cầu của kế hoạch.",
    weaknessesHeading: "2. Tồn tại, hạn chế, khó khăn, vướng mắc",
    overdueIntro: (pairs: string, tasks: string) =>
      `Còn ${pairs} lượt nhiệm vụ của đơn vị quá hạn chưa hoàn thành, thuộc ${tasks} nhiệm vụ:`,
    overdueNone: "Không có nhiệm vụ nào quá hạn chưa hoàn thành.",
    overdueTask: (code: string, title: string, due: string, units: string) =>
      `- Nhiệm vụ ${code} (${title}), hạn ${due}: ${units}.`,
    overdueTasks: (count: string, codes: string, due: string, units: string, plan: string | undefined) =>
      `- ${count} nhiệm vụ ${codes}${plan ? ` (${plan})` : ""}, hạn ${due}: ${units}.`,
    overdueAll: (count: string) => `chưa hoàn thành tại cả ${count} đơn vị được giao`,
    overdueMore: (count: string) =>
      `- Và ${count} nhiệm vụ khác (chi tiết trong tệp số liệu kèm theo, trang “Nhiệm vụ”).`,
    soon: (pairs: string, tasks: string) =>
      `Có ${pairs} lượt nhiệm vụ sắp đến hạn (trong 7 ngày làm việc tới) chưa hoàn thành, thuộc ${tasks} nhiệm vụ: `,
    soonTask: (code: string, due: string) => `${code} (hạn ${due})`,
    blockedIntro: "Khó khăn, vướng mắc các đơn vị nêu:",
    blockedLine: (unit: string, code: string, words: string) => `- ${unit} (nhiệm vụ ${code}): “${words}”`,
    blockedSilent: (count: string) =>
      `${count} lượt nhiệm vụ được báo cáo gặp vướng mắc nhưng đơn vị chưa nêu cụ thể.`,

    section4: "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ KỲ TỚI",
    directionOverdue: (count: string) =>
      `Tập trung chỉ đạo hoàn thành ${count} lượt nhiệm vụ quá hạn; tiếp tục đôn đốc các đơn vị thực hiện các nhiệm vụ còn lại đúng hạn.`,
    directionOnTrack: "Tiếp tục đôn đốc các đơn vị thực hiện các nhiệm vụ còn lại đúng hạn.",
    directionTickets:
      "Nâng cao chất lượng tiếp nhận, giải quyết phản ánh, kiến nghị của người dân, doanh nghiệp.",
    directionModels:
      "Theo dõi, hỗ trợ các đơn vị triển khai và nhân rộng các mô hình “Dân vận khéo” hiệu quả.",
    directionModelsNone:
      "Đôn đốc các đơn vị đăng ký, xây dựng mô hình “Dân vận khéo” gắn với nhiệm vụ chuyên môn.",
    directionPlaceholder: "[Văn phòng Sở bổ sung nhiệm vụ cụ thể của kỳ tới.]",
    section5: "V. ĐỀ XUẤT, KIẾN NGHỊ",
    proposalsPlaceholder: "[Văn phòng Sở tổng hợp đề xuất, kiến nghị của các đơn vị (nếu có).]",
    closingLine: (period: string, org: string) =>
      `Trên đây là báo cáo kết quả thực hiện công tác dân vận chính quyền ${period} của ${org}./.`,

    recipientsTitle: "Nơi nhận:",
    recipient: (body: string, last: boolean) => `- ${body}${last ? "." : ";"}`,
    recipientUnknown: "……… (để báo cáo)",
    recipientsInternal: ["Lãnh đạo Sở", "Lưu: VT, VP"],
    signerTitle: "GIÁM ĐỐC",
    signerPlaceholder: "……………………",
  },
};
