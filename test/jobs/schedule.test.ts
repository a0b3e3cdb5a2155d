import cron from "node-cron";
import { describe, expect, it } from "vitest";
import { allJobs } from "../../jobs/index.js";
import { cronOf, type JobContext } from "../../jobs/job.js";
import { JobRunner } from "../../jobs/runner.js";
import { Scheduler } from "../../jobs/scheduler.js";
import { formatDateTime } from "../../src/clock.js";
import { ConfigError, loadConfig } from "../../src/config.js";
import { silentLogger } from "../../src/log.js";
import { buildApp, useDatabase } from "../support/db.js";

const db = useDatabase(import.meta.filename);
const TZ = "Asia/Ho_Chi_Minh";

async function setup(officeHours: string) {
  const { app, clock } = await buildApp(db.connection);
  const settings = loadConfig({ OFFICE_HOURS: officeHours }).jobs;
  const ctx: JobContext = { app, clock, settings, timeZone: TZ, log: silentLogger() };
  const runner = new JobRunner(ctx, db.connection);
  await runner.init();
  await runner.model.deleteMany({});
  return { app, ctx, clock, runner, jobs: allJobs(db.connection) };
}

describe("job times follow OFFICE_HOURS", () => {
  it("office hours that end before they start are refused at start, not left to switch jobs off", () => {
    for (const hours of ["17:00-07:30", "08:00-08:00"]) {
      expect(() => loadConfig({ OFFICE_HOURS: hours })).toThrow(ConfigError);
    }
  });

  for (const hours of ["07:30-17:00", "09:00-17:00", "13:00-13:40"]) {
    it(`with OFFICE_HOURS=${hours}, every job fires once on the first working day of a quarter`, async () => {
      const { clock, ctx, runner, jobs } = await setup(hours);
      const ran = new Map<string, string[]>();
      // Wednesday 1/10/2025: a working day that opens a week's digest and a quarter's summary.
      const midnight = new Date("2025-10-01T00:00:00+07:00").getTime();
      const triggers = jobs.map((job) =>
        cron.createTask(cronOf(job, ctx.settings.officeHours), () => undefined, { timezone: TZ }),
      );
      for (let minute = 0; minute < 24 * 60; minute += 1) {
        const at = new Date(midnight + minute * 60_000);
        clock.set(at);
        for (const [index, job] of jobs.entries()) {
          if (!triggers[index]!.match(at)) continue;
          const outcome = await runner.runDue(job, at);
          if (outcome.kind === "ran")
            ran.set(job.name, [...(ran.get(job.name) ?? []), formatDateTime(at, TZ)]);
        }
      }
      for (const trigger of triggers) await trigger.destroy();
      const [start, end] = hours.split("-") as [string, string];
      for (const job of jobs) {
        const times = ran.get(job.name) ?? [];
        expect(times, job.name).toHaveLength(1);
        const time = times[0]!.slice(0, 5);
        expect(time >= start && time < end, `${job.name} at ${time}`).toBe(true);
      }
    });
  }

  it("jobs:list's next run is the next look that will act", async () => {
    const { runner, jobs } = await setup("09:00-17:00");
    const job = (name: string) => jobs.find((j) => j.name === name)!;
    const next = async (name: string, from: string) => {
      const at = await runner.nextRun(job(name), new Date(`${from}+07:00`));
      return at ? formatDateTime(at, TZ) : undefined;
    };
    // Tuesday 30/9/2025, early morning: each job's first look of the day, staggered.
    expect(await Promise.all(jobs.map((j) => next(j.name, "2025-09-30T06:00:00")))).toEqual([
      "09:30 30/09/2025",
      "10:00 30/09/2025",
      "09:45 30/09/2025",
      "09:15 30/09/2025",
      "09:30 30/09/2025", // Q3's summary has not run in this database either
      "09:05 30/09/2025",
    ]);
    // Past the first look with the day not run yet: the next hourly look; at night, the next day.
    expect(await next("ticket-deadlines", "2025-09-30T11:00:00")).toBe("11:45 30/09/2025");
    expect(await next("ticket-deadlines", "2025-09-30T17:30:00")).toBe("09:45 01/10/2025");
    // Friday evening: Monday (a weekend has no office day).
    expect(await next("reminders", "2025-10-03T18:00:00")).toBe("09:30 06/10/2025");
    // A week's digest done on Tuesday: next Monday.
    const tuesday = new Date("2025-09-30T09:15:00+07:00");
    expect(await runner.runDue(job("weekly-digest"), tuesday)).toMatchObject({ kind: "ran" });
    expect(await next("weekly-digest", "2025-09-30T10:00:00")).toBe("09:15 06/10/2025");
    // Q4's summary done on 1/10: the first working day of 2026 (1/1 and 2/1 are days off).
    expect(
      await runner.runDue(job("quarterly-summary"), new Date("2025-10-01T09:30:00+07:00")),
    ).toMatchObject({
      kind: "ran",
    });
    expect(await next("quarterly-summary", "2025-10-01T10:00:00")).toBe("09:30 05/01/2026");
  });

  it("a start after downtime runs every job missed today once, past a claim left by a dead process", async () => {
    const { app, ctx, clock, runner, jobs } = await setup("09:00-17:00");
    clock.set("2025-10-01T07:30:00+07:00");
    // A process took the ticket job's claim at 09:45 and died before writing its record.
    await app.models.Claim.deleteMany({ key: /^job:/ });
    await app.models.Claim.create({
      key: "job:ticket-deadlines:2025-10-01:0",
      owner: "dead",
      createdAt: new Date("2025-10-01T09:45:00+07:00"),
    });
    clock.set("2025-10-01T14:00:00+07:00");
    for (const round of [1, 2]) {
      const scheduler = new Scheduler(ctx, runner, jobs);
      await scheduler.start();
      await scheduler.stop();
      const records = await runner.model.find().lean();
      expect(records.map((r) => `${r.job} ${r.slot} ${r.status}`).sort(), `start ${round}`).toEqual([
        "calendar-check 2025-W40-quiet done",
        "escalation 2025-10-01 done",
        "quarterly-summary 2025-Q4 done",
        "reminders 2025-10-01 done",
        "ticket-deadlines 2025-10-01 done",
        "weekly-digest 2025-W40 done",
      ]);
      expect(records.every((r) => r.claimSeq === (r.job === "ticket-deadlines" ? 2 : 1))).toBe(true);
    }
  });
});
