import { describe, expect, inject, it } from "vitest";
import type { JobContext } from "../../jobs/job.js";
import { allJobs } from "../../jobs/index.js";
import { JobRunner } from "../../jobs/runner.js";
import { FixedClock } from "../../src/clock.js";
import { DEFAULT_JOB_SETTINGS } from "../../src/config.js";
import { dayOf } from "../../src/domain/calendar/work-calendar.js";
import { periodOf } from "../../src/domain/plans/periods.js";
import { assignments } from "../../src/domain/plans/summary.js";
import type { ChannelSender, Delivery } from "../../src/engine/channel.js";
import { silentLogger } from "../../src/log.js";
import { seedDemoPeople, seedDemoPlan } from "../../src/seed.js";
import { buildApp, databaseName, useDatabase } from "../support/db.js";
import { runScript, serverSecrets } from "./spawn.js";

const db = useDatabase(import.meta.filename);
const TZ = "Asia/Ho_Chi_Minh";

const ROMAN = ["I", "II", "III", "IV"];
function quarterOf(now: Date): string {
  const id = periodOf("quarterly", dayOf(now, TZ)).id;
  return `quý ${ROMAN[Number(id.slice(-1)) - 1]} năm ${id.slice(0, 4)}`;
}

describe("the demo of npm run seed:demo lives in the present", () => {
  // A Monday mid-quarter, the last working day of a quarter, the first day of a year (a holiday),
  // and a Saturday: wherever today falls, the same picture.
  for (const at of [
    "2026-11-30T02:00:00Z",
    "2026-06-30T02:00:00Z",
    "2027-01-01T02:00:00Z",
    "2026-10-03T02:00:00Z",
  ]) {
    it(`seeded on ${at}: some done, some due soon, a few overdue, and a first start that does not flood`, async () => {
      await db.connection.dropDatabase();
      const clock = new FixedClock(at);
      const { app } = await buildApp(db.connection, clock);
      try {
        await seedDemoPeople(app, clock.now());
        const seeded = await seedDemoPlan(app, clock.now(), TZ);
        const today = dayOf(clock.now(), TZ);
        expect(seeded.plan.period.from <= today && today <= seeded.plan.period.to).toBe(true);
        expect(seeded.plan.title).toContain(quarterOf(clock.now()));
        // Seeding again (the next day, say) adds no report twice.
        await seedDemoPlan(app, clock.now(), TZ);
        expect(await app.models.Report.countDocuments()).toBe(seeded.reports);

        const pairs = await assignments(app.plans, today);
        const done = pairs.filter((a) => a.state.status === "done");
        const overdue = pairs.filter((a) => a.overdue);
        const soon = pairs.filter((a) => a.state.status !== "done" && a.daysLeft >= 0 && a.daysLeft <= 7);
        expect(done.length).toBeGreaterThanOrEqual(3);
        expect(overdue.length).toBeGreaterThanOrEqual(2);
        expect(overdue.length).toBeLessThanOrEqual(5);
        expect(soon.length).toBeGreaterThanOrEqual(3);
        // Every demo unit's official has a handful of tasks, not 46.
        expect((await app.plans.tasksForUnit("ke-hoach-tai-chinh")).length).toBeLessThanOrEqual(8);

        // The first start: every job looks once. Nobody gets a wall of text.
        const sent: Delivery[] = [];
        const sender: ChannelSender = {
          channel: "console",
          async send(delivery) {
            sent.push(delivery);
            return { messageIds: [`d${sent.length}`] };
          },
        };
        const dispatcher = app.addChannel(sender);
        const ctx: JobContext = {
          app,
          clock,
          settings: DEFAULT_JOB_SETTINGS,
          timeZone: TZ,
          log: silentLogger(),
        };
        const runner = new JobRunner(ctx, db.connection);
        await runner.init();
        for (const job of allJobs(db.connection)) await runner.runDue(job, clock.now());
        await dispatcher.drain();
        const toOffice = sent.filter((d) => d.chatId === "office");
        expect(toOffice.length).toBeLessThanOrEqual(4);
        for (const message of toOffice) expect(message.text.split("\n").length).toBeLessThanOrEqual(30);
        expect(sent.length).toBeLessThanOrEqual(20);
      } finally {
        await app.stop();
      }
    });
  }
});

describe("a newcomer's first steps: npm run seed:demo, then npm start", () => {
  it("/tonghop shows this quarter's demo plan and /baocao offers a handful of tasks", async () => {
    const env = {
      MONGODB_URI: inject("mongoUri"),
      MONGODB_DB: databaseName("seed-demo"),
      ...serverSecrets(),
    };
    const seed = await runScript("src/cli/seed-demo.ts", [], env);
    expect(seed.stderr).toBe("");
    expect(seed.code).toBe(0);
    expect(seed.stdout).toContain("Đã nạp kế hoạch DVCQ-DEMO");
    expect(seed.stdout).toContain("npm run plans:import data/plans/");
    expect(seed.stdout).not.toContain("DVCQ-2025-HY");

    const start = await runScript(
      "src/main.ts",
      [],
      { ...env, PORT: "0", JOBS: "off" },
      "/as office\n/tonghop\n/as staff\n/baocao\n",
    );
    expect(start.stderr).toBe("");
    expect(start.code).toBe(0);
    const [summary, choose] = start.stdout.split(/\n(?=\[c\d+ → )/).slice(1);
    expect(summary).toContain(quarterOf(new Date()));
    expect(summary).toContain("DVCQ-DEMO");
    expect(summary).not.toContain("Không có kế hoạch");
    expect(choose).toContain("Anh/chị báo cáo nhiệm vụ nào?");
    const options = (choose ?? "").split("\n").filter((line) => /^ {2}\d+\. /.test(line));
    expect(options.length).toBeGreaterThanOrEqual(3);
    expect(options.length).toBeLessThanOrEqual(8);
  });
});
