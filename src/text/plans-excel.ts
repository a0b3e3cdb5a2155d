/**
 * Every sentence of the Excel templates and of loading plans, units and officials from them
 * (/maukehoach, /taikehoach, /maudonvi, /maucanbo, npm run plans:import|plans:export).
 */

const ROMAN = ["I", "II", "III", "IV"];

/** "Trang tính "Nhiệm vụ", dòng 14, cột Hạn: …": where a mistake is, as Excel shows it. */
const at = (sheet: string, row?: number, column?: string) =>
  [`Trang "${sheet}"`, row ? `dòng ${row}` : "", column ? `cột ${column}` : ""].filter(Boolean).join(", ");

export const plansExcel = {
  sheets: {
    plan: "Kế hoạch",
    tasks: "Nhiệm vụ",
    units: "Đơn vị",
    officials: "Cán bộ",
    guide: "Hướng dẫn",
  },
  /** The plan sheet: one row per field, "Mục | Nội dung | Ghi chú". */
  planHeaders: ["Mục", "Nội dung", "Cách ghi"],
  planFields: {
    code: "Mã kế hoạch",
    number: "Số ký hiệu",
    date: "Ngày ban hành",
    title: "Trích yếu",
    period: "Kỳ kế hoạch",
    organisation: "Cơ quan",
    issuer: "Cơ quan ban hành",
  },
  planHints: {
    code: "Chữ in hoa không dấu, số và '-', không đổi giữa các lần nạp. Ví dụ: DVCQ-2026",
    number: "Ví dụ: 15/KH-SKHCN",
    date: "Ngày/tháng/năm, ví dụ 20/01/2026. Văn bản để trống ngày thì ghi tháng, ví dụ: tháng 11 năm 2025; chưa ghi gì thì để trống.",
    title: "Tên kế hoạch như trên văn bản",
    period: "Năm 2026 · Quý 1/2026 · 6 tháng đầu năm 2026 · hoặc 01/01/2026 - 30/06/2026",
    organisation: "Tên đầy đủ, ví dụ: Sở Khoa học và Công nghệ tỉnh Đồng Nai",
    issuer: "Ví dụ: Sở Khoa học và Công nghệ",
  },
  taskHeaders: {
    code: "Mã",
    title: "Tên nhiệm vụ",
    content: "Nội dung",
    lead: "Đơn vị chủ trì",
    units: "Đơn vị phối hợp",
    deadline: "Hạn",
    recurrence: "Kỳ báo cáo",
    note: "Ghi chú",
  },
  unitHeaders: { key: "Mã đơn vị", name: "Tên đơn vị", kind: "Loại" },
  officialHeaders: { name: "Họ và tên", unit: "Đơn vị", role: "Vai trò", note: "Ghi chú" },
  allUnits: "Tất cả các đơn vị",
  recurrences: { quarterly: "Quý", "six-monthly": "6 tháng", yearly: "Năm" } as const,
  unitKinds: {
    office: "Văn phòng",
    division: "Phòng",
    subdepartment: "Chi cục",
    center: "Trung tâm",
    other: "Khác",
  } as const,
  example: {
    code: "VD-1",
    title: "Ví dụ: Tuyên truyền Quy chế dân chủ ở cơ sở",
    content: "Ví dụ: xóa dòng này trước khi gửi lại. Nội dung nhiệm vụ như trong kế hoạch.",
    note: "Dòng ví dụ",
  },
  exampleOfficial: { name: "Nguyễn Văn Ví Dụ", note: "Dòng ví dụ: xóa trước khi gửi lại" },
  validationTitle: "Giá trị chưa có trong danh sách",
  validationUnits: "Chọn đơn vị trong danh sách (trang Đơn vị). Nhiều đơn vị: ngăn cách bằng dấu ;",
  validationKinds: "Chọn Văn phòng, Phòng, Chi cục, Trung tâm hoặc Khác",
  validationRoles: "Chọn vai trò trong danh sách",
  validationRecurrence: "Chọn Quý, 6 tháng hoặc Năm; để trống nếu nhiệm vụ có hạn",
  planGuide: [
    "CÁCH ĐIỀN MẪU KẾ HOẠCH",
    "1. Trang «Kế hoạch»: điền cột «Nội dung» cho từng mục. «Ngày ban hành» có thể để trống.",
    "2. Trang «Nhiệm vụ»: mỗi dòng một nhiệm vụ. «Mã» không trùng nhau, giữ nguyên giữa các lần nạp (ví dụ II.1, III.2.a).",
    "3. Mỗi nhiệm vụ có đúng một trong hai: «Hạn» (ngày/tháng/năm, ví dụ 30/06/2026) hoặc «Kỳ báo cáo» (Quý, 6 tháng, Năm).",
    "4. «Đơn vị chủ trì»: một đơn vị. «Đơn vị phối hợp»: các đơn vị cùng thực hiện và báo cáo, ngăn cách bằng dấu ;",
    "   Ghi «Tất cả các đơn vị» nếu mọi phòng, đơn vị cùng thực hiện. Để trống nếu chỉ đơn vị chủ trì thực hiện.",
    "5. Tên đơn vị lấy từ trang «Đơn vị». Đơn vị chưa có trong danh sách: bot sẽ hỏi trước khi tạo mới.",
    "6. Xóa dòng ví dụ (mã VD-1). Không gộp ô, không dùng công thức, không ẩn trang tính; lưu dạng .xlsx.",
    "7. Gửi lại tệp cho bot: trên Telegram gửi tệp vào khung chat; trên Zalo gõ /taikehoach để nhận liên kết gửi tệp.",
    "   Bot kiểm tra từng dòng, cho xem trước rồi mới nạp khi anh/chị bấm «Nạp».",
    "8. Nạp lại tệp đã sửa: nhiệm vụ cùng mã được cập nhật, báo cáo đã có được giữ; nhiệm vụ bị xóa khỏi tệp",
    "   được đóng lại (không xóa) và bot báo cho anh/chị biết.",
  ],
  unitsGuide: [
    "CÁCH ĐIỀN DANH SÁCH ĐƠN VỊ",
    "1. Mỗi dòng một đơn vị. «Mã đơn vị»: chữ thường không dấu, số và '-', ví dụ phong-chuyen-doi-so; không đổi sau khi đã dùng.",
    "2. «Loại»: Văn phòng, Phòng, Chi cục, Trung tâm hoặc Khác.",
    "3. Nạp lại: đơn vị cùng mã được cập nhật tên, loại; đơn vị không có trong tệp giữ nguyên.",
  ],
  officialsGuide: [
    "CÁCH ĐIỀN DANH SÁCH CÁN BỘ CẦN MỜI",
    "1. Mỗi dòng một người: họ tên, đơn vị (chọn trong danh sách), vai trò (Công chức, viên chức hoặc Trưởng đơn vị).",
    "2. Bot tạo cho mỗi người một mã mời dùng một lần, hiệu lực 7 ngày; Văn phòng chuyển mã cho từng người.",
    "3. Xóa dòng ví dụ trước khi gửi lại.",
  ],

  // The chat: templates and loading.
  templateDescription: "Tải mẫu Excel để lập kế hoạch mới",
  uploadDescription: "Nạp kế hoạch từ tệp Excel đã điền",
  unitsTemplateDescription: "Tải mẫu Excel danh sách đơn vị",
  officialsTemplateDescription: "Tải mẫu Excel danh sách cán bộ cần mời",
  templateName: "Mau-ke-hoach.xlsx",
  unitsTemplateName: "Mau-don-vi.xlsx",
  officialsTemplateName: "Mau-can-bo.xlsx",
  templateSent: (kind: string) =>
    `Mẫu ${kind} đính kèm. Điền xong, anh/chị gửi lại tệp vào đây; bot sẽ kiểm tra từng dòng và cho xem trước khi nạp.`,
  templateLink: (kind: string, link: string, hours: number) =>
    `Tải mẫu ${kind} tại: ${link} (liên kết dùng trong ${hours} giờ). ` +
    "Điền xong, gõ /taikehoach để nhận liên kết gửi tệp lên.",
  uploadLinkSent: (link: string, hours: number) =>
    `Mở liên kết này để gửi tệp Excel đã điền: ${link} (dùng trong ${hours} giờ). ` +
    "Bot sẽ kiểm tra từng dòng và gửi bản xem trước vào đây trước khi nạp.",
  uploadPage: {
    title: "Gửi tệp Excel cho bot",
    intro:
      "Chọn tệp .xlsx đã điền theo mẫu (kế hoạch, danh sách đơn vị hoặc cán bộ) rồi bấm Gửi. Kết quả kiểm tra và bản xem trước sẽ đến trong khung chat.",
    send: "Gửi",
    noFile: "Chưa chọn tệp. Xin chọn tệp .xlsx rồi bấm Gửi.",
    received: "Đã nhận tệp. Xin quay lại khung chat để xem kết quả kiểm tra và bấm Nạp.",
    invalid:
      "Liên kết không đúng hoặc đã hết hạn. Xin gõ lại /taikehoach trong khung chat để nhận liên kết mới.",
  },
  templateNoLinks: (kind: string) =>
    `Kênh này không gửi được tệp và máy chủ chưa có địa chỉ công khai (PUBLIC_URL) để tải mẫu ${kind}. ` +
    "Xin dùng Telegram.",
  kinds: { plan: "kế hoạch", units: "danh sách đơn vị", officials: "danh sách cán bộ" },
  askFile: (kind: string) =>
    `Xin gửi tệp Excel (.xlsx) ${kind} đã điền theo mẫu. Chưa có mẫu: gõ /maukehoach, /maudonvi hoặc /maucanbo.`,
  noUploadHere:
    "Kênh này chưa nhận được tệp gửi lên. Xin gửi tệp Excel qua Telegram, hoặc nhờ quản trị nạp bằng lệnh npm run plans:import.",
  notAFile: "Tin nhắn chưa có tệp đính kèm. Xin gửi tệp .xlsx, hoặc gõ /huy để dừng.",
  chooseOrFile: "Xin bấm «Nạp» hoặc «Hủy», hoặc gửi tệp đã sửa.",
  load: "Nạp",
  cancel: "Hủy",
  cancelled: "Đã hủy, không nạp gì.",
  unreadable: "Không tải được tệp từ nền tảng. Xin gửi lại sau ít phút.",

  // Checking a file: each mistake with its place.
  problem: (sheet: string, row: number | undefined, column: string | undefined, message: string) =>
    `${at(sheet, row, column)}: ${message}`,
  fileProblems: (count: number) => `Tệp có ${count} lỗi, chưa nạp gì. Xin sửa rồi gửi lại cả tệp:`,
  moreProblems: (count: number) => `… và ${count} lỗi khác.`,
  notXlsx: (name: string) =>
    `Tệp «${name}» không phải tệp Excel .xlsx. Trong Excel hoặc LibreOffice, chọn Lưu thành (Save As) → Excel Workbook (.xlsx).`,
  oldXls:
    "Đây là tệp Excel đời cũ (.xls). Xin mở tệp, chọn Lưu thành (Save As) → Excel Workbook (.xlsx) rồi gửi lại.",
  tooBig: (mb: number) =>
    `Tệp lớn quá ${mb} MB. Xin bỏ các trang tính, hình ảnh không cần thiết rồi gửi lại.`,
  broken:
    "Không đọc được tệp: tệp hỏng hoặc không phải .xlsx. Xin lưu lại bằng Excel/LibreOffice rồi gửi lại.",
  missingSheet: (name: string) => `thiếu trang tính «${name}» (xin dùng đúng mẫu: /maukehoach)`,
  hiddenSheet: "trang tính đang bị ẩn. Xin bỏ ẩn (chuột phải vào tên trang → Bỏ ẩn) hoặc xóa trang đó.",
  mergedHeader: (range: string) => `ô tiêu đề ${range} đang bị gộp. Xin bỏ gộp ô (Unmerge).`,
  mergedCells: (range: string) => `các ô ${range} đang bị gộp. Mỗi ô một giá trị: xin bỏ gộp ô.`,
  missingColumn: (name: string) => `thiếu cột «${name}» ở dòng tiêu đề`,
  formula: (formula: string) =>
    `ô có công thức (=${formula}). Xin thay bằng giá trị (Dán đặc biệt → Giá trị).`,
  required: "chưa điền",
  noTasks: "chưa có nhiệm vụ nào",
  exampleRow: "đây vẫn là dòng ví dụ của mẫu. Xin xóa dòng này.",
  badDate: (text: string) => `${text} không phải ngày hợp lệ`,
  monthFirstDate: (text: string, fixed: string) =>
    `${text} không phải ngày hợp lệ (có vẻ viết kiểu tháng/ngày/năm; xin viết ngày/tháng/năm: ${fixed})`,
  dateHint: "viết ngày/tháng/năm, ví dụ 31/12/2026",
  badYearRange: (text: string) => `${text} nằm ngoài khoảng năm 2000–2099`,
  badPeriod: (text: string) =>
    `«${text}» không phải kỳ hợp lệ. Ví dụ: Năm 2026 · Quý 1/2026 · 6 tháng đầu năm 2026 · 01/01/2026 - 30/06/2026`,
  periodOrder: "ngày bắt đầu sau ngày kết thúc",
  badRecurrence: (text: string) => `«${text}» không phải kỳ báo cáo; chọn Quý, 6 tháng hoặc Năm`,
  deadlineOrRecurrence: "mỗi nhiệm vụ có đúng một trong hai: Hạn hoặc Kỳ báo cáo",
  duplicateCode: (code: string, first: number) => `mã ${code} trùng với dòng ${first}`,
  badCode: (code: string) => `mã «${code}» chỉ được gồm chữ, số, '.', '-', '_' (tối đa 40 ký tự)`,
  badPlanCode: (code: string) =>
    `mã kế hoạch «${code}» chỉ được gồm chữ in hoa không dấu, số và '-', ví dụ DVCQ-2026`,
  tooShort: (min: number) => `quá ngắn (ít nhất ${min} ký tự)`,
  tooLong: (max: number) => `dài quá ${max} ký tự`,
  oneLead: "chỉ ghi một đơn vị chủ trì",
  noUnit: "cần đơn vị chủ trì hoặc đơn vị phối hợp",
  badUnitKey: (key: string) =>
    `mã đơn vị «${key}» chỉ được gồm chữ thường không dấu, số và '-' (2–40 ký tự), và không được là "all"`,
  badKind: (text: string) =>
    `«${text}» không phải loại đơn vị; chọn Văn phòng, Phòng, Chi cục, Trung tâm hoặc Khác`,
  duplicateUnit: (key: string, first: number) => `mã đơn vị ${key} trùng với dòng ${first}`,
  unknownUnit: (name: string) =>
    `đơn vị «${name}» chưa có. Xin tạo trước bằng /maudonvi hoặc sửa tên cho đúng danh sách.`,
  badRole: (text: string, allowed: string[]) =>
    `«${text}» không phải vai trò được mời; chọn ${allowed.join(", ")}`,
  skippedRows: (rows: number[]) =>
    `Bỏ qua ${rows.length} dòng trống (dòng ${rows.slice(0, 10).join(", ")}${rows.length > 10 ? ", …" : ""}).`,
  emptyRowsOnly: "không có dòng dữ liệu nào",

  // The preview and the result.
  quarter: (q: number, year: number) => `Quý ${ROMAN[q - 1] ?? q}/${year}`,
  /** A document's date when it printed the month and left the day blank. */
  monthOnly: (month: number, year: string) => `tháng ${month} năm ${year}`,
  preview: {
    title: (code: string, title: string) => `XEM TRƯỚC KẾ HOẠCH ${code}\n${title}`,
    document: (number: string, date: string | undefined, issuer: string) =>
      `Văn bản: số ${number}${date ? `, ngày ${date}` : ", chưa ghi ngày ban hành"} — ${issuer}`,
    period: (from: string, to: string) => `Kỳ kế hoạch: ${from} – ${to}`,
    tasks: (count: number) => `Số nhiệm vụ: ${count}`,
    perUnitHeading: "Nhiệm vụ theo đơn vị:",
    perUnit: (unit: string, count: number) => `• ${unit}: ${count}`,
    perQuarterHeading: "Hạn theo quý:",
    perQuarter: (label: string, count: number) => `• ${label}: ${count} nhiệm vụ`,
    recurring: (label: string, count: number) =>
      `• Báo cáo định kỳ ${label.toLowerCase()}: ${count} nhiệm vụ`,
    newPlan: "Thay đổi: kế hoạch mới, chưa nạp lần nào.",
    changesHeading: "Thay đổi so với kế hoạch đã nạp:",
    added: (codes: string[]) => `• Thêm ${codes.length}: ${codes.join(", ")}`,
    updated: (codes: string[]) => `• Sửa ${codes.length}: ${codes.join(", ")}`,
    closed: (codes: string[]) =>
      `• Đóng ${codes.length} (không còn trong tệp; báo cáo đã có vẫn giữ): ${codes.join(", ")}`,
    reopened: (codes: string[]) => `• Mở lại ${codes.length}: ${codes.join(", ")}`,
    unchanged: (count: number) => `• Không đổi: ${count}`,
    planFields: "• Thông tin chung của kế hoạch thay đổi",
    newUnits: (names: string[]) =>
      `Đơn vị chưa có, sẽ được tạo khi nạp: ${names.join("; ")}. Nếu là gõ nhầm, xin bấm Hủy, sửa tên rồi gửi lại.`,
    confirm: "Bấm «Nạp» để nạp, «Hủy» để bỏ, hoặc gửi tệp đã sửa.",
  },
  nothingChanged: (code: string) =>
    `Tệp giống hệt kế hoạch ${code} đã nạp: không có gì thay đổi, không cần nạp lại.`,
  loaded: (code: string, created: boolean, tasks: number) =>
    `${created ? "Đã nạp" : "Đã cập nhật"} kế hoạch ${code}: ${tasks} nhiệm vụ.`,
  loadedClosed: (codes: string[]) =>
    `Các nhiệm vụ không còn trong tệp đã được đóng (không xóa, báo cáo cũ vẫn giữ): ${codes.join(", ")}.`,
  loadedUnits: (names: string[]) => `Đã tạo đơn vị mới: ${names.join("; ")}.`,

  // Units and officials from Excel.
  unitsPreview: (created: string[], updated: string[], unchanged: number) =>
    [
      "XEM TRƯỚC DANH SÁCH ĐƠN VỊ",
      created.length ? `• Thêm ${created.length}: ${created.join("; ")}` : "",
      updated.length ? `• Sửa ${updated.length}: ${updated.join("; ")}` : "",
      `• Không đổi: ${unchanged}`,
    ]
      .filter(Boolean)
      .join("\n"),
  unitsLoaded: (created: number, updated: number, unchanged: number) =>
    `Đã nạp danh sách đơn vị: ${created} đơn vị mới, ${updated} đơn vị được cập nhật, ${unchanged} đơn vị không đổi.`,
  officialsPreview: (rows: { name: string; unit: string; role: string }[]) =>
    [`XEM TRƯỚC: tạo ${rows.length} mã mời`, ...rows.map((r) => `• ${r.name} — ${r.unit}, ${r.role}`)].join(
      "\n",
    ),
  invitesMade: (count: number, days: number) =>
    `Đã tạo ${count} mã mời, mỗi mã dùng một lần, hiệu lực ${days} ngày. ` +
    "Anh/chị chuyển tiếp từng dòng dưới đây cho đúng người:",
  inviteLine: (name: string, unit: string, role: string, code: string, link: string | undefined) =>
    `• ${name} (${unit}, ${role}): mã ${code} — gửi cho bot lệnh /start ${code}${link ? ` hoặc mở ${link}` : ""}`,

  // The command line.
  cli: {
    exportUsage:
      "Cách dùng: npm run plans:export -- NGUỒN RA.xlsx   (NGUỒN: mã kế hoạch trong cơ sở dữ liệu, hoặc tệp .yaml)",
    checked: (code: string, tasks: number) => `${code}: ${tasks} tasks`,
    newUnits: (names: string[]) => `  đơn vị chưa có trong tệp, sẽ được tạo khi nạp: ${names.join("; ")}`,
    exported: (code: string, tasks: number, file: string) =>
      `Đã xuất kế hoạch ${code} (${tasks} nhiệm vụ) ra ${file}.`,
    noSuchPlan: (code: string) => `Không có kế hoạch ${code} trong cơ sở dữ liệu.`,
  },
};
