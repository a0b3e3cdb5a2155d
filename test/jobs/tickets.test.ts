import { describe, expect, it } from "vitest";
import type { JobContext } from "../../jobs/job.js";
import { JobRunner } from "../../jobs/runner.js";
import { ticketDeadlinesJob } from "../../jobs/ticket-deadlines.js";
import { DEFAULT_JOB_SETTINGS } from "../../src/config.js";
import { silentLogger } from "../../src/log.js";
import { seedDemoPeople } from "../../src/seed.js";
import { buildApp, useDatabase } from "../support/db.js";

const db = useDatabase(import.meta.filename);
const at = (day: string) => new Date(`${day}T09:00:00+07:00`);

describe("ticket deadlines", () => {
  it("reminds the handling unit before the deadline and tells the Office once it has passed", async () => {
    const { app, clock } = await buildApp(db.connection);
    clock.set(at("2025-10-06"));
    await seedDemoPeople(app, clock.now());
    const speaker = (id: string) =>
      app.people.resolveSpeaker({
        channel: "console",
        senderId: id,
        chatId: id,
        chatType: "private",
        now: clock.now(),
      });
    const citizen = await speaker("citizen");
    const filed = await app.feedback.file({
      idempotencyKey: "t1",
      type: "phan_anh",
      field: "khac",
      content: "Biển chỉ dẫn trước trụ sở bị đổ.",
      attachments: [],
      filer: { ...citizen, channel: "console", chatId: "citizen" },
      now: clock.now(),
    });
    if (filed.kind !== "filed") throw new Error("not filed");
    expect(filed.ticket.dueDay).toBe("2025-10-20"); // 10 working days
    await app.feedback.assign(
      filed.ticket.code,
      { key: "ke-hoach-tai-chinh", name: "KH-TC" },
      await speaker("office"),
      clock.now(),
    );

    const ctx: JobContext = {
      app,
      clock,
      settings: DEFAULT_JOB_SETTINGS,
      timeZone: "Asia/Ho_Chi_Minh",
      log: silentLogger(),
    };
    const runner = new JobRunner(ctx, db.connection);
    await runner.init();
    for (
      let d = new Date("2025-10-06T00:00:00Z");
      d <= new Date("2025-10-31T00:00:00Z");
      d.setUTCDate(d.getUTCDate() + 1)
    ) {
      clock.set(at(d.toISOString().slice(0, 10)));
      await runner.runDue(ticketDeadlinesJob, clock.now());
    }
    const sent = await app.models.Outbox.find({ dedupeKey: /^ticket-due:/ })
      .sort({ createdAt: 1 })
      .lean();
    const local = (date: Date) => new Date(date.getTime() + 7 * 3_600_000).toISOString().slice(0, 10);
    expect(sent.map((m) => `${m.chatId} ${local(m.createdAt)} ${m.dedupeKey.split(":")[3]}`)).toEqual([
      "staff 2025-10-15 d3",
      "unit_head 2025-10-15 d3",
      "staff 2025-10-17 d1",
      "unit_head 2025-10-17 d1",
      "staff 2025-10-20 d0",
      "unit_head 2025-10-20 d0",
      "office 2025-10-21 o0",
    ]);
    expect(app.outbox.textOf(sent.at(-1) ?? { textSealed: "" })).toContain(
      "đã quá hạn trả lời 1 ngày làm việc (hạn 20/10/2025)",
    );
  });
});
