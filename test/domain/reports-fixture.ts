import path from "node:path";
import { inflateRawSync } from "node:zlib";
import type { Connection } from "mongoose";
import type { App } from "../../src/app.js";
import { FixedClock } from "../../src/clock.js";
import { dayOf } from "../../src/domain/calendar/work-calendar.js";
import type { FeedbackType } from "../../src/domain/feedback/rules.js";
import type { Speaker } from "../../src/domain/people/service.js";
import type { TaskStatus } from "../../src/domain/plans/status.js";
import { importPlanFile } from "../../src/seed.js";
import { buildApp } from "../support/db.js";

/**
 * The fixed data behind the reports tests, small enough to count by hand.
 *
 * Plan test/fixtures/plans/small.yaml with only its own two units (no demo seed): II.1 (all,
 * due 31/12), II.2 (Văn phòng, due 15/12), II.3 (both, due 28/11), III.1 (all, quarterly → 31/12):
 * 7 (task, unit) pairs. Today is Monday 22/12/2025, 09:00 in Hà Nội; 31/12 is 7 working days away.
 */
export const TODAY = "2025-12-22";
export const NOW = "2025-12-22T02:00:00Z";
export const TZ = "Asia/Ho_Chi_Minh";
const fixture = path.resolve(import.meta.dirname, "../fixtures/plans/small.yaml");

/** The filer's personal data: it must never appear in a report. */
export const IDENTITY = {
  name: "Nguyễn Văn Bình",
  address: "12 Lê Lợi, phường Trung tâm",
  phone: "0912345678",
};
export const SECRET_CONTENT = "Nội dung tố cáo cán bộ X nhận tiền của doanh nghiệp Y.";

const at = (day: string, hour = 9) => new Date(`${day}T${String(hour).padStart(2, "0")}:00:00+07:00`);

export interface Fixture {
  app: App;
  clock: FixedClock;
  office: Speaker;
  staffPlan: Speaker;
  citizen: Speaker;
  codes: Record<"t1" | "t2" | "t3" | "t4" | "t5", string>;
}

export async function buildFixture(connection: Connection): Promise<Fixture> {
  await connection.dropDatabase();
  const { app, clock } = await buildApp(connection, new FixedClock(at("2025-10-01")));
  await importPlanFile(app, fixture, clock.now());
  const person = (id: string, role: Speaker["role"], unitId?: string) =>
    app.people.ensurePerson(
      "console",
      id,
      { role, name: `Người ${id}`, ...(unitId ? { unitId } : {}) },
      clock.now(),
    );
  const office = await person("office", "office", "van-phong");
  const staffPlan = await person("staff", "staff", "ke-hoach-tai-chinh");
  const staffOffice = await person("staff-vanphong", "staff", "van-phong");
  const citizen = await person("citizen", "citizen");

  // Progress reports: [task, unit, status (or a note only), percent, day].
  const reports: [string, string, TaskStatus | undefined, number, string][] = [
    ["II.1", "van-phong", "in_progress", 50, "2025-11-10"],
    ["II.2", "van-phong", "done", 100, "2025-11-20"],
    ["II.2", "van-phong", "done", 100, "2025-11-30"], // said again: still done since 20/11, on time
    ["II.3", "van-phong", "done", 100, "2025-11-20"],
    ["II.3", "van-phong", "in_progress", 80, "2025-11-24"], // reopened…
    ["II.3", "van-phong", "done", 100, "2025-12-01"], // …and done after the 28/11 deadline: late
    ["II.1", "ke-hoach-tai-chinh", "blocked", 20, "2025-11-15"],
    ["II.3", "ke-hoach-tai-chinh", "in_progress", 60, "2025-11-05"], // overdue since 28/11
    ["III.1", "ke-hoach-tai-chinh", "done", 100, "2025-10-20"],
    ["III.1", "ke-hoach-tai-chinh", "in_progress", 50, "2025-10-25"],
    ["III.1", "ke-hoach-tai-chinh", "done", 100, "2025-11-25"], // on time for the quarter
    ["II.3", "ke-hoach-tai-chinh", undefined, 0, "2025-12-10"], // a note without a status
  ];
  for (const [i, [code, unitKey, status, percent, day]] of reports.entries()) {
    const task = await app.plans.task(`TEST-2025:${code}`);
    if (!task) throw new Error(`no task ${code}`);
    const by = unitKey === "van-phong" ? staffOffice : staffPlan;
    await app.plans.addReport({
      idempotencyKey: `fixture-report-${i}`,
      task,
      unitKey,
      personId: by.personId,
      personName: by.name,
      channel: "console",
      ...(status ? { status, percent } : {}),
      note: status ? `Báo cáo ${code} ngày ${day}` : "Đang chờ ý kiến của Sở Tài chính",
      attachments: [],
      source: "flow",
      now: at(day),
      today: day,
    });
  }

  // Tickets: received Monday 06/10/2025 unless said.
  const file = async (
    key: string,
    type: FeedbackType,
    field: string,
    content: string,
    day = "2025-10-06",
  ) => {
    const result = await app.feedback.file({
      idempotencyKey: key,
      type,
      field,
      content,
      attachments: [],
      ...(type === "to_cao" ? { identity: IDENTITY, consentAt: at(day) } : {}),
      filer: { ...citizen, channel: "console", chatId: "citizen" },
      now: at(day),
    });
    if (result.kind !== "filed") throw new Error(`ticket ${key} not filed`);
    return result.ticket.code;
  };
  const unit = (key: string) => ({ key, name: key });
  // t1 góp ý, due 27/10 (15 working days): answered 09/10, 3 days later → on time; rated 5.
  const t1 = await file("t1", "gop_y", "chuyen_doi_so", "Đề nghị mở thêm dịch vụ công trực tuyến.");
  await app.feedback.assign(t1, unit("ke-hoach-tai-chinh"), office, at("2025-10-07"));
  await app.feedback.answer(t1, "Sở đã tiếp thu.", staffPlan, at("2025-10-09"));
  await app.feedback.rate(t1, 5, "Rất tốt", citizen, at("2025-10-10"));
  // t2 phản ánh, due 20/10 (10 working days): answered 24/10, 18 days later → late; rated 2.
  const t2 = await file("t2", "phan_anh", "thai_do_phuc_vu", "Cán bộ tiếp dân đến muộn.");
  await app.feedback.assign(t2, unit("van-phong"), office, at("2025-10-07"));
  await app.feedback.answer(t2, "Sở đã chấn chỉnh.", staffOffice, at("2025-10-24"));
  await app.feedback.rate(t2, 2, "", citizen, at("2025-10-25"));
  // t3 tố cáo, due 14/11 (7 working days + 30 days): still assigned on 22/12 → due and late.
  const t3 = await file("t3", "to_cao", "khac", SECRET_CONTENT);
  await app.feedback.assign(t3, unit("ke-hoach-tai-chinh"), office, at("2025-10-07"));
  // t5 góp ý refused (không thụ lý): not counted as due.
  const t5 = await file("t5", "gop_y", "khac", "Nội dung không thuộc thẩm quyền của Sở.");
  await app.feedback.reject(t5, "Không thuộc thẩm quyền.", office, at("2025-10-08"));
  // t4 kiến nghị received 15/12, due 29/12: open, not yet due.
  const t4 = await file("t4", "kien_nghi", "thu_tuc_hanh_chinh", "Kiến nghị rút gọn hồ sơ.", "2025-12-15");

  // "Dân vận khéo" models of 2025 (no plan task sets their deadline here: none late); one passed.
  const content = (name: string, unitKey: string, field: string) => ({
    name,
    field,
    unitKey,
    personInCharge: "Trần Văn Hùng",
    targetGroup: "Doanh nghiệp",
    content: "Hướng dẫn doanh nghiệp nộp hồ sơ trực tuyến.",
    expectedResults: "100% hồ sơ trực tuyến.",
    startDay: "2025-06-01",
    endDay: "2025-12-31",
  });
  const m1 = await app.dvk.register(
    content("Một cửa không giấy", "ke-hoach-tai-chinh", "cai_cach_hanh_chinh"),
    staffPlan,
    "2025-05-05",
    at("2025-05-05"),
    "m1",
  );
  await app.dvk.register(
    content("Hỗ trợ khởi nghiệp", "ke-hoach-tai-chinh", "khoi_nghiep"),
    staffPlan,
    "2025-05-06",
    at("2025-05-06"),
    "m2",
  );
  await app.dvk.register(
    content("Tiếp dân thân thiện", "van-phong", "cai_cach_hanh_chinh"),
    staffOffice,
    "2025-05-07",
    at("2025-05-07"),
    "m3",
  );
  await app.dvk.decide(m1.code, "passed", "Đạt yêu cầu.", office, at("2025-06-01"));

  clock.set(NOW);
  expectDay(dayOf(clock.now(), TZ));
  return { app, clock, office, staffPlan, citizen, codes: { t1, t2, t3, t4, t5 } };
}

function expectDay(day: string): void {
  if (day !== TODAY) throw new Error(`fixture clock on ${day}, expected ${TODAY}`);
}

/** The entries of a zip archive (.xlsx and .docx are zips), read from its central directory. */
export function unzip(zip: Buffer): Map<string, Buffer> {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const entries = new Map<string, Buffer>();
  let at = zip.readUInt32LE(end + 16);
  for (let i = 0; i < zip.readUInt16LE(end + 10); i += 1) {
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString("utf8", at + 46, at + 46 + nameLength);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + size);
    entries.set(name, method === 8 ? inflateRawSync(data) : data);
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return entries;
}

/** The text of a Word document, one paragraph a line. */
export function paragraphs(documentXml: string): string[] {
  return documentXml
    .split("</w:p>")
    .map((p) =>
      [...p.matchAll(/<w:t(?:\s[^>]*)?>([^<]*)<\/w:t>/g)]
        .map((m) => m[1] ?? "")
        .join("")
        .replace(/&amp;/g, "&")
        .replace(/&quot;/g, '"')
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">"),
    )
    .filter(Boolean);
}
