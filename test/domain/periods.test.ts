import path from "node:path";
import { describe, expect, it } from "vitest";
import type { App } from "../../src/app.js";
import { FixedClock } from "../../src/clock.js";
import { importPlanFile, seedDemoPeople } from "../../src/seed.js";
import { t } from "../../src/text/vi.js";
import { buildApp, consoleSpeaker, useDatabase, withTexts } from "../support/db.js";
import { consoleInbound } from "../support/inbound.js";
import { jobRunner } from "../support/jobs.js";
import { quarterlySummaryJob } from "../../jobs/digests.js";

const db = useDatabase(import.meta.filename);
const fixture = path.resolve(import.meta.dirname, "../fixtures/plans/small.yaml");

/** A report by the demo official of Phòng Kế hoạch – Tài chính, made at `at` (local time +07:00). */
async function report(app: App, taskKey: string, status: "done" | "in_progress", at: string) {
  const staff = await consoleSpeaker(app, "staff");
  const now = new Date(`${at}+07:00`);
  await app.plans.addReport({
    idempotencyKey: `report:${taskKey}:${at}`,
    task: (await app.plans.task(taskKey))!,
    unitKey: "ke-hoach-tai-chinh",
    personId: staff.personId,
    personName: staff.name,
    channel: "console",
    status,
    percent: status === "done" ? 100 : 50,
    note: "",
    attachments: [],
    source: "flow",
    now,
    today: at.slice(0, 10),
  });
}

async function ask(app: App, clock: FixedClock, text: string, at: string): Promise<string> {
  clock.set(new Date(`${at}+07:00`));
  await app.engine.handle(consoleInbound("office", text, { receivedAt: clock.now() }));
  const [reply] = withTexts(
    app,
    await app.models.Outbox.find({ chatId: "office" }).sort({ _id: -1 }).limit(1).lean(),
  );
  return reply?.text ?? "";
}

describe("a summary of a past period reads as of its end", () => {
  it("/tonghop quý 4 2025 asked in 2026 counts overdue at 31/12/2025 and leaves out later reports", async () => {
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection, new FixedClock("2025-10-01T02:00:00Z"));
    await seedDemoPeople(app, clock.now());
    await importPlanFile(app, fixture, clock.now());
    // II.3 (due 28/11/2025) done on time; II.1 (due 31/12/2025) done only in January, after the
    // quarter closed; the quarterly III.1 never reported.
    await report(app, "TEST-2025:II.3", "done", "2025-11-20T10:00:00");
    await report(app, "TEST-2025:II.1", "done", "2026-01-05T10:00:00");

    const text = await ask(app, clock, "/tonghop quý 4 2025", "2026-11-30T09:00:00");
    expect(text).toContain(t.reports.summaryTitle("quý IV năm 2025"));
    expect(text).toContain(t.reports.asOfClose("31/12/2025"));
    expect(text).not.toContain("hôm nay");
    // Phòng Kế hoạch – Tài chính answers for II.1, II.3 and III.1: one done (on time), two not
    // done when the quarter closed, both overdue then.
    expect(text).toContain(
      t.reports.unitLine({
        unit: "Phòng Kế hoạch – Tài chính",
        total: "3",
        done: "1",
        onTime: "1",
        inProgress: "0",
        notStarted: "2",
        blocked: "0",
        overdue: "2",
      }),
    );
    expect(text).toContain(
      t.reports.riskLine("II.1", "Phòng Kế hoạch – Tài chính", "31/12/2025", t.plans.lateAtClose(0)),
    );
    // Văn phòng Sở's II.2 was due 15/12/2025: 12 working days before the close.
    expect(text).toContain(t.reports.riskLine("II.2", "Văn phòng Sở", "15/12/2025", t.plans.lateAtClose(12)));
    expect(text).not.toMatch(/II\.3 — Phòng Kế hoạch – Tài chính/);

    // Asked while the quarter runs, the same command counts from today, as before.
    const running = await ask(app, clock, "/tonghop quý 4 2025", "2025-12-31T09:00:00");
    expect(running).toContain(t.reports.asOf("31/12/2025"));
    expect(running).toContain(t.plans.daysLeft(0));
  });

  it("the quarterly summary names the quarter as /tonghop does and reads it as of its end", async () => {
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection, new FixedClock("2025-10-01T02:00:00Z"));
    await seedDemoPeople(app, clock.now());
    await importPlanFile(app, fixture, clock.now());
    const { runner } = await jobRunner(app, clock, db.connection);
    const quarterly = async (day: string) => {
      clock.set(new Date(`${day}T09:30:00+07:00`));
      await runner.runDue(quarterlySummaryJob, clock.now());
      const [sent] = withTexts(
        app,
        await app.models.Outbox.find({ chatId: "leader" }).sort({ _id: -1 }).limit(1).lean(),
      );
      return sent?.text ?? "";
    };
    const q4 = await quarterly("2026-01-05");
    expect(q4).toContain(t.jobs.quarterlyTitle("quý IV năm 2025"));
    expect(q4).toContain(t.jobs.digestLateAtClose(19));
    expect(q4).not.toContain("hôm nay");
    // No plan ran in the first quarter of 2026: the leadership reads so, not empty headings.
    expect(await quarterly("2026-04-01")).toBe(
      `${t.jobs.quarterlyTitle("quý I năm 2026")}\n\n${t.reports.noPlans("quý I năm 2026")}`,
    );
  });
});
