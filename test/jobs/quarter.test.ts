import path from "node:path";
import { describe, expect, it } from "vitest";
import { allJobs } from "../../jobs/index.js";
import type { Job, JobContext } from "../../jobs/job.js";
import { reminderStep } from "../../jobs/reminders.js";
import { JobRunner } from "../../jobs/runner.js";
import { App } from "../../src/app.js";
import { FixedClock } from "../../src/clock.js";
import { DEFAULT_JOB_SETTINGS } from "../../src/config.js";
import { WorkCalendar } from "../../src/domain/calendar/work-calendar.js";
import type { Role } from "../../src/domain/people/roles.js";
import { silentLogger } from "../../src/log.js";
import { importPlanFile } from "../../src/seed.js";
import { ORG, TEST_SEALER, useDatabase, withTexts } from "../support/db.js";

const db = useDatabase(import.meta.filename);
const fixture = path.resolve(import.meta.dirname, "../fixtures/plans/two-units.yaml");
// Q4 2025 has no public holiday, so the test gives it one: Thursday 20/11.
const calendar = new WorkCalendar([
  { year: 2025, holidays: [{ date: "2025-11-20", name: "Ngày nghỉ thử nghiệm" }], workingWeekendDays: [] },
]);

function instance(clock: FixedClock) {
  const log = silentLogger();
  const app = new App({
    connection: db.connection,
    clock,
    log,
    orgName: ORG,
    timeZone: "Asia/Ho_Chi_Minh",
    calendar,
    sealer: TEST_SEALER,
  });
  const ctx: JobContext = { app, clock, settings: DEFAULT_JOB_SETTINGS, timeZone: "Asia/Ho_Chi_Minh", log };
  return { app, runner: new JobRunner(ctx, db.connection), jobs: allJobs(db.connection) };
}

/** 09:00 and 20:00 local time on `day`. */
const at = (day: string, hour: number) => new Date(`${day}T${String(hour).padStart(2, "0")}:00:00+07:00`);

function* days(from: string, to: string) {
  for (
    let d = new Date(`${from}T00:00:00Z`);
    d <= new Date(`${to}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() + 1)
  ) {
    yield d.toISOString().slice(0, 10);
  }
}

describe("reminder steps", () => {
  it("picks the latest offset crossed, then one every few working days while overdue", () => {
    const s = DEFAULT_JOB_SETTINGS;
    expect([20, 15, 14, 8, 7, 6, 3, 2, 1, 0].map((d) => reminderStep(d, s))).toEqual([
      undefined,
      undefined,
      "d14",
      "d14",
      "d7",
      "d7",
      "d3",
      "d3",
      "d1",
      "d0",
    ]);
    expect([-1, -2, -3, -4, -13, -15, -16].map((d) => reminderStep(d, s))).toEqual([
      "o0",
      "o0",
      "o0",
      "o1",
      "o4",
      "o4",
      undefined,
    ]);
  });
});

describe("a whole quarter of jobs", () => {
  // A whole quarter, twice a day, on two instances: longer than one test's default 30 s on a
  // loaded machine.
  it(
    "sends each reminder, escalation and digest once, to the right people, across a restart and two instances",
    { timeout: 120_000 },
    async () => {
      const clock = new FixedClock(at("2025-09-30", 9));
      let { app, runner, jobs } = instance(clock);
      await app.ensureIndexes();
      await runner.init();
      await app.units.upsert([
        { key: "van-phong", name: "Văn phòng Sở", kind: "office" },
        { key: "ke-hoach-tai-chinh", name: "Phòng Kế hoạch – Tài chính", kind: "division" },
      ]);
      await importPlanFile(app, fixture, clock.now());
      const person = (id: string, fields: { role: Role; unitId?: string; name: string }) =>
        app.people.ensurePerson("console", id, fields, clock.now());
      const people = {
        vp: await person("vp-staff", { role: "staff", unitId: "van-phong", name: "Cán bộ VP" }),
        kh: await person("kh-staff", { role: "staff", unitId: "ke-hoach-tai-chinh", name: "Cán bộ KH" }),
        head: await person("kh-head", {
          role: "unit_head",
          unitId: "ke-hoach-tai-chinh",
          name: "Trưởng phòng KH",
        }),
        office: await person("office", { role: "office", unitId: "van-phong", name: "Văn phòng" }),
        leader: await person("leader", { role: "leader", name: "Giám đốc" }),
      };

      let second: { runner: JobRunner; jobs: Job[] } | undefined;
      for (const day of days("2025-10-01", "2025-12-31")) {
        if (day === "2025-11-05") {
          // Văn phòng reports the shared task done early; Kế hoạch – Tài chính never reports.
          const task = (await app.plans.task("JOBS-Q4-2025:II.1"))!;
          await app.plans.addReport({
            idempotencyKey: "early",
            task,
            unitKey: "van-phong",
            personId: people.vp.personId,
            personName: "Cán bộ VP",
            channel: "console",
            status: "done",
            percent: 100,
            note: "đã xong",
            attachments: [],
            source: "reply",
            now: at(day, 8),
            today: day,
          });
        }
        if (day === "2025-11-17") {
          // A restart: new engine, new runner, same database; from now on a second instance runs too.
          ({ app, runner, jobs } = instance(clock));
          second = instance(clock);
        }
        for (const hour of [9, 20]) {
          clock.set(at(day, hour));
          for (const [index, job] of jobs.entries()) {
            await Promise.all([
              runner.runDue(job, clock.now()),
              second?.runner.runDue(second.jobs[index]!, clock.now()),
            ]);
          }
        }
      }

      const sent = withTexts(app, await app.models.Outbox.find().sort({ createdAt: 1 }).lean());
      const keys = sent.map((m) => m.dedupeKey);
      expect(new Set(keys).size).toBe(keys.length);
      const local = (d: Date) => new Date(d.getTime() + 7 * 3_600_000).toISOString().slice(0, 10);
      // Which reminders each chat got, and when: the items of the digests sent to it.
      const digests = await app.digests.model.find().sort({ createdAt: 1 }).lean();
      const to = (chatId: string, prefix: string) =>
        digests
          .filter((d) => d.chatId === chatId)
          .flatMap((d) =>
            d.items
              .filter((item) => item.itemKey.startsWith(prefix))
              .map((item) => `${local(d.createdAt)} ${item.itemKey.split(":").pop()}`),
          );
      // However many tasks are due, one reminder message per person per run.
      const reminders = sent.filter((m) => m.dedupeKey.startsWith("reminders:"));
      const perRun = new Set(reminders.map((m) => `${m.chatId} ${local(m.createdAt)}`));
      expect(perRun.size).toBe(reminders.length);
      expect(reminders.length).toBe(digests.filter((d) => d.items[0]?.itemKey.startsWith("remind:")).length);

      const taskReminders = [
        "2025-11-07 d14",
        "2025-11-18 d7",
        "2025-11-25 d3",
        "2025-11-27 d1",
        "2025-11-28 d0",
        "2025-12-01 o0",
        "2025-12-04 o1",
        "2025-12-09 o2",
        "2025-12-12 o3",
        "2025-12-17 o4",
      ];
      const obligationReminders = [
        "2025-12-11 d14",
        "2025-12-22 d7",
        "2025-12-26 d3",
        "2025-12-30 d1",
        "2025-12-31 d0",
      ];
      expect(to("kh-staff", "remind:JOBS-Q4-2025:II.1:")).toEqual(taskReminders);
      expect(to("kh-head", "remind:JOBS-Q4-2025:II.1:")).toEqual(taskReminders);
      expect(to("vp-staff", "remind:JOBS-Q4-2025:II.1:")).toEqual([]);
      for (const chat of ["kh-staff", "kh-head", "vp-staff"]) {
        expect(to(chat, "remind:JOBS-Q4-2025:III.1:")).toEqual(obligationReminders);
      }
      expect(to("office", "remind:")).toEqual([]);
      // Overdue 3 working days: the unit head; 5: the Office. Once each.
      expect(
        sent
          .filter((m) => m.dedupeKey.startsWith("escalate:"))
          .map((m) => `${m.chatId} ${local(m.createdAt)}`),
      ).toEqual(["kh-head 2025-12-03", "office 2025-12-05"]);
      const escalation = sent.find((m) => m.chatId === "office" && m.dedupeKey.startsWith("escalate:"));
      expect(escalation?.text).toContain("II.1 — Rà soát thủ tục hành chính");
      expect(escalation?.text).toContain(
        "Phòng Kế hoạch – Tài chính · hạn 28/11/2025 · quá hạn 5 ngày làm việc",
      );
      // No message on the holiday, on weekends or at night.
      expect(sent.filter((m) => local(m.createdAt) === "2025-11-20")).toEqual([]);
      expect(sent.every((m) => new Date(m.createdAt.getTime() + 7 * 3_600_000).getUTCHours() < 17)).toBe(
        true,
      );
      expect(
        sent.every((m) => ![0, 6].includes(new Date(`${local(m.createdAt)}T00:00:00Z`).getUTCDay())),
      ).toBe(true);
      // Reminders carry what they are about, so a reply finds the task.
      const listed = digests.find((d) => d.chatId === "kh-staff" && d.items[0]?.itemKey.endsWith(":d14"));
      expect(listed?.items.map((item) => item.taskKey)).toEqual(["JOBS-Q4-2025:II.1"]);
      const first = sent.find((m) => m.dedupeKey.endsWith(`:${listed?.key}`));
      expect(first?.subject).toEqual({ kind: "task", id: `digest:${listed?.key}` });
      expect(first?.text).toContain("Hạn: 28/11/2025 (còn 14 ngày làm việc)");
      expect(first?.text).toContain("Tình trạng đã báo cáo: Chưa bắt đầu 0% (chưa báo cáo)");
      // Digests: the Office weekly (14 ISO weeks touch Q4 2025), the leadership once for Q3.
      expect(sent.filter((m) => m.chatId === "office" && m.dedupeKey.startsWith("digest:"))).toHaveLength(14);
      const quarterly = sent.filter((m) => m.dedupeKey.startsWith("quarterly:"));
      expect(quarterly.map((m) => `${m.chatId} ${local(m.createdAt)}`).sort()).toEqual([
        "leader 2025-10-01",
        "office 2025-10-01",
      ]);
      expect(quarterly[0]?.text).toContain("quý III năm 2025");
    },
  );
});
