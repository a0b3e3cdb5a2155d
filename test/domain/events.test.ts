import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { escalationJob } from "../../jobs/escalation.js";
import type { Job } from "../../jobs/job.js";
import { remindersJob } from "../../jobs/reminders.js";
import { quarterlySummaryJob, weeklyDigestJob } from "../../jobs/digests.js";
import { ticketDeadlinesJob } from "../../jobs/ticket-deadlines.js";
import type { App } from "../../src/app.js";
import type { FixedClock } from "../../src/clock.js";
import type { Inbound } from "../../src/engine/message.js";
import { importPlanFile, seedDemoPeople } from "../../src/seed.js";
import { buildApp, useDatabase } from "../support/db.js";
import { consoleInbound } from "../support/inbound.js";
import { jobRunner } from "../support/jobs.js";
import { RecordingSender } from "../support/recording-sender.js";

/*
 * The table "Ai được báo khi nào" of docs/huong-dan-su-dung.md, row by row: each test drives the
 * bot as people do (commands and flows through the engine, jobs through their runner) and checks
 * who, besides the person acting, got a message, and that each got exactly one.
 */

const db = useDatabase(import.meta.filename);
const plans = path.resolve(import.meta.dirname, "../fixtures/plans");

let app: App;
let clock: FixedClock;
let sender: RecordingSender;

/** Local time in the Department's zone. */
const at = (local: string) => new Date(`${local}+07:00`);

async function fresh(plan: string, now = "2025-10-06T09:00:00") {
  await db.connection.dropDatabase();
  ({ app, clock } = await buildApp(db.connection, undefined));
  clock.set(at(now));
  sender = new RecordingSender();
  app.addChannel(sender);
  await seedDemoPeople(app, clock.now());
  await importPlanFile(app, path.join(plans, plan), clock.now());
}

const deliver = () => app.dispatchers.get("console")!.drain();

async function say(who: string, text: string, extra: Partial<Inbound> = {}) {
  await app.engine.handle(consoleInbound(who, text, { receivedAt: clock.now(), ...extra }));
  await deliver();
}

/** Replies to the last message the bot delivered to `who`. */
async function reply(who: string, text: string) {
  const ids = await app.models.Outbox.find({ chatId: who, platformMessageIds: { $exists: true } })
    .sort({ _id: -1 })
    .limit(1)
    .lean();
  const id = (ids[0] as { platformMessageIds?: string[] } | undefined)?.platformMessageIds?.[0];
  await say(who, text, { replyToMessageId: id ?? "" });
}

/** How many messages each chat but `actor`'s got while `action` ran. */
async function told(
  actor: string | undefined,
  action: () => Promise<unknown>,
): Promise<Record<string, number>> {
  const before = sender.delivered.length;
  await action();
  await deliver();
  const counts: Record<string, number> = {};
  for (const d of sender.delivered.slice(before)) {
    if (d.chatId !== actor) counts[d.chatId] = (counts[d.chatId] ?? 0) + 1;
  }
  return counts;
}

async function runJob(job: Job, local: string) {
  clock.set(at(local));
  const { runner } = await jobRunner(app, clock, db.connection);
  await runner.runDue(job, clock.now());
}

/** A citizen files a góp ý by /gopy; its code. */
async function fileTicket(citizen = "citizen"): Promise<string> {
  await say(citizen, "/gopy");
  await say(citizen, "gop y");
  await say(citizen, "chuyen doi so");
  await say(citizen, "Cổng dịch vụ công của Sở nên có video hướng dẫn cho từng thủ tục.");
  await say(citizen, "bỏ qua");
  await say(citizen, "Gửi ẩn danh");
  await say(citizen, "Gửi");
  const code = /Mã tra cứu: (\S+)/.exec(sender.to(citizen).join("\n"))?.[1];
  if (!code) throw new Error(`no ticket filed:\n${sender.to(citizen).join("\n---\n")}`);
  return code.replace(/[.,]$/, "");
}

async function assign(code: string, unit: string) {
  await say("office", `/xuly ${code}`);
  await say("office", "Giao đơn vị xử lý");
  await say("office", unit);
}

/** A unit registers a model by /dangkymohinh; its code. */
async function registerModel(): Promise<string> {
  for (const text of [
    "/dangkymohinh",
    "Một cửa không giấy tờ cho doanh nghiệp khoa học và công nghệ",
    "cai cach hanh chinh",
    "Trần Văn Hùng, chuyên viên",
    "Doanh nghiệp khoa học và công nghệ trên địa bàn tỉnh",
    "Hướng dẫn doanh nghiệp nộp hồ sơ trực tuyến, hỗ trợ qua Zalo trong giờ hành chính.",
    "100% hồ sơ được tiếp nhận trực tuyến, rút ngắn 30% thời gian.",
    "01/03/2025",
    "31/12/2025",
    "Gửi đăng ký",
  ]) {
    await say("staff", text);
  }
  const code = /mã (\S+?)\.?(\s|$)/.exec(sender.to("staff").at(-1) ?? "")?.[1];
  if (!code) throw new Error(`no model registered: ${sender.to("staff").at(-1)}`);
  return code;
}

async function decide(code: string, decision: string) {
  await say("office", `/duyet ${code}`);
  await say("office", decision);
  await say("office", "Đề nghị bổ sung số liệu năm 2024 để so sánh.");
}

describe("who is told of what (the user guide's table)", () => {
  describe("citizen tickets", () => {
    let code: string;
    beforeAll(async () => {
      await fresh("small.yaml");
    });

    it("a ticket filed: the Office", async () => {
      expect(await told("citizen", async () => (code = await fileTicket()))).toEqual({ office: 1 });
    });

    it("a ticket assigned: the unit's officials and the citizen", async () => {
      expect(await told("office", () => assign(code, "ke hoach tai chinh"))).toEqual({
        staff: 1,
        unit_head: 1,
        citizen: 1,
      });
    });

    it("a ticket reassigned: the new unit, the unit that had it, and the citizen", async () => {
      expect(await told("office", () => assign(code, "quan ly khoa hoc"))).toEqual({
        "staff-khoahoc": 1,
        staff: 1,
        unit_head: 1,
        citizen: 1,
      });
    });

    it("more information asked: the citizen; the citizen's answer: whoever asked", async () => {
      expect(
        await told("staff-khoahoc", async () => {
          await say("staff-khoahoc", `/xuly ${code}`);
          await say("staff-khoahoc", "Đề nghị bổ sung thông tin");
          await say("staff-khoahoc", "Anh/chị gặp khó khăn ở thủ tục nào?");
        }),
      ).toEqual({ citizen: 1 });
      expect(
        await told("citizen", () => reply("citizen", "Thủ tục đăng ký hoạt động khoa học và công nghệ.")),
      ).toEqual({ "staff-khoahoc": 1 });
    });

    it("a ticket answered by a unit: the citizen, and the Office, which closes it", async () => {
      expect(
        await told("staff-khoahoc", async () => {
          await say("staff-khoahoc", `/xuly ${code}`);
          await say("staff-khoahoc", "Trả lời người gửi");
          await say("staff-khoahoc", "Sở sẽ bổ sung video hướng dẫn trong quý tới.");
        }),
      ).toEqual({ citizen: 1, office: 1 });
    });
  });

  describe("tickets the Office ends", () => {
    beforeAll(async () => {
      await fresh("small.yaml");
    });

    it("a ticket refused: the citizen", async () => {
      const code = await fileTicket();
      expect(
        await told("office", async () => {
          await say("office", `/xuly ${code}`);
          await say("office", "Không thụ lý (nêu lý do)");
          await say("office", "Nội dung không thuộc thẩm quyền của Sở.");
        }),
      ).toEqual({ citizen: 1 });
    });

    it("a ticket answered by the Office, then closed: the citizen, each time", async () => {
      const code = await fileTicket("citizen-2");
      // Answered by the Office itself: the citizen only.
      expect(
        await told("office", async () => {
          await say("office", `/xuly ${code}`);
          await say("office", "Trả lời người gửi");
          await say("office", "Sở đã tiếp thu góp ý và sẽ bổ sung video hướng dẫn.");
        }),
      ).toEqual({ "citizen-2": 1 });
      expect(
        await told("office", async () => {
          await say("office", `/xuly ${code}`);
          await say("office", "Đóng");
        }),
      ).toEqual({ "citizen-2": 1 });
    });
  });

  describe("ticket deadlines", () => {
    // Two tickets with the same deadline: each person still hears once, of both.
    let codes: string[];
    beforeAll(async () => {
      await fresh("small.yaml");
      codes = [await fileTicket(), await fileTicket("citizen-3")];
      for (const code of codes) await assign(code, "ke hoach tai chinh");
    });

    it("tickets near their deadline: the handling unit", async () => {
      const ticket = await app.feedback.byCode(codes[0]!);
      const threeBefore = app.plans.calendar.addWorkingDays(ticket!.dueDay, -3);
      expect(await told(undefined, () => runJob(ticketDeadlinesJob, `${threeBefore}T10:00:00`))).toEqual({
        staff: 1,
        unit_head: 1,
      });
      for (const code of codes) expect(sender.to("staff").at(-1)).toContain(code);
    });

    it("tickets past their deadline: the Office and the handling unit", async () => {
      const ticket = await app.feedback.byCode(codes[0]!);
      const dayAfter = app.plans.calendar.addWorkingDays(ticket!.dueDay, 1);
      expect(await told(undefined, () => runJob(ticketDeadlinesJob, `${dayAfter}T10:00:00`))).toEqual({
        office: 1,
        staff: 1,
        unit_head: 1,
      });
      for (const code of codes) expect(sender.to("office").at(-1)).toContain(code);
    });
  });

  describe("Dân vận khéo models", () => {
    let code: string;
    beforeAll(async () => {
      await fresh("small.yaml");
    });

    it("a model registered: the Office", async () => {
      expect(await told("staff", async () => (code = await registerModel()))).toEqual({ office: 1 });
    });

    it("a model appraised: who registered it and the unit's head", async () => {
      expect(await told("office", () => decide(code, "Cần bổ sung"))).toEqual({ staff: 1, unit_head: 1 });
    });

    it("a model resubmitted after 'cần bổ sung': the Office", async () => {
      expect(
        await told("staff", async () => {
          await say("staff", `/suamohinh ${code}`);
          await say("staff", "Nộp lại");
          await say("staff", "Nộp lại");
        }),
      ).toEqual({ office: 1 });
    });
  });

  describe("plan tasks", () => {
    // One plan with one task, TEST-B-2025 II.3 of Phòng Kế hoạch – Tài chính, due Friday 14/11/2025.
    beforeAll(async () => {
      await fresh("small-second.yaml");
    });

    it("a task near its deadline: the unit's officials", async () => {
      expect(await told(undefined, () => runJob(remindersJob, "2025-11-11T10:00:00"))).toEqual({
        staff: 1,
        unit_head: 1,
      });
    });

    it("a progress report: nobody but the official who made it", async () => {
      expect(await told("staff", () => reply("staff", "đã xong"))).toEqual({});
      // Reopened a minute later, so that the rows below find it overdue.
      clock.advance(60_000);
      expect(await told("staff", () => reply("staff", "chưa xong, được 50%"))).toEqual({});
    });

    it("a task overdue: the unit's head, then the Office", async () => {
      // ESCALATE_HEAD_AFTER 3 and ESCALATE_OFFICE_AFTER 5 working days (the defaults).
      expect(
        await told(undefined, () => runJob(escalationJob(db.connection), "2025-11-19T10:00:00")),
      ).toEqual({
        unit_head: 1,
      });
      expect(
        await told(undefined, () => runJob(escalationJob(db.connection), "2025-11-21T10:00:00")),
      ).toEqual({
        office: 1,
      });
    });

    it("the weekly digest: the Office; the quarterly summary: the leadership and the Office", async () => {
      expect(await told(undefined, () => runJob(weeklyDigestJob, "2025-11-24T09:00:00"))).toEqual({
        office: 1,
      });
      expect(await told(undefined, () => runJob(quarterlySummaryJob, "2026-01-05T09:00:00"))).toEqual({
        leader: 1,
        office: 1,
      });
    });
  });

  describe("people", () => {
    beforeAll(async () => {
      await fresh("small.yaml");
    });

    it("a role granted: the person", async () => {
      await say("lan", "xin chào");
      const account = await app.models.ChannelAccount.findOne({ externalId: "lan" }).lean();
      const lan = await app.models.Person.findById(account?.personId).lean();
      expect(
        await told("admin", async () => {
          await say("admin", "/phanquyen");
          await say("admin", String(lan?.ref));
          await say("admin", "van phong so");
          await say("admin", "dong y");
        }),
      ).toEqual({ lan: 1 });
    });

    it("an official moved to another unit: the official", async () => {
      const staff = await app.models.Person.findOne({ role: "staff", unitId: "ke-hoach-tai-chinh" }).lean();
      expect(await told("office", () => say("office", `/canbo chuyen ${staff?.ref} chuyen doi so`))).toEqual({
        staff: 1,
      });
    });
  });
});
