import path from "node:path";
import { describe, expect, it } from "vitest";
import { remindersJob } from "../../jobs/reminders.js";
import type { ChannelSender, Delivery } from "../../src/engine/channel.js";
import { importPlanFile, seedDemoPeople } from "../../src/seed.js";
import { t } from "../../src/text/vi.js";
import { buildApp, useDatabase } from "../support/db.js";
import { jobRunner } from "../support/jobs.js";
import { consoleInbound } from "../support/inbound.js";

const db = useDatabase(import.meta.filename);

describe("a unit's group chat", () => {
  it("is linked by the Office, gets the unit's reminders, and a reply there is a report", async () => {
    const { app, clock } = await buildApp(db.connection);
    clock.set("2025-12-01T02:00:00Z"); // 09:00 on a Monday
    await seedDemoPeople(app, clock.now());
    await importPlanFile(
      app,
      path.resolve(import.meta.dirname, "../fixtures/plans/two-units.yaml"),
      clock.now(),
    );
    const sent: (Delivery & { id: string })[] = [];
    const sender: ChannelSender = {
      channel: "console",
      async send(delivery) {
        const id = `g${sent.length + 1}`;
        sent.push({ ...delivery, id });
        return { messageIds: [id] };
      },
    };
    app.addChannel(sender);
    const inGroup = (senderId: string, text: string, replyToMessageId?: string) =>
      app.engine.handle(
        consoleInbound(senderId, text, {
          chatId: "grp-kh",
          chatType: "group",
          ...(replyToMessageId ? { replyToMessageId } : {}),
        }),
      );

    await app.engine.handle(consoleInbound("office", "/nhomdonvi ke hoach"));
    await inGroup("staff", "/nhomdonvi ke hoach");
    await inGroup("office", "/nhomdonvi ke hoach");
    await app.dispatchers.get("console")?.drain();
    expect(sent.map((d) => [d.chatId, d.text])).toEqual([
      ["office", t.officials.groupOnly],
      ["grp-kh", t.engine.forbidden("nhomdonvi")],
      ["grp-kh", t.officials.groupLinked("Phòng Kế hoạch – Tài chính")],
    ]);

    const { runner } = await jobRunner(app, clock, db.connection);
    await runner.runDue(remindersJob, clock.now());
    await app.dispatchers.get("console")?.drain();
    const reminder = sent.find((d) => d.chatId === "grp-kh" && d.text.includes("Nhắc hạn nhiệm vụ II.1"));
    expect(reminder).toBeDefined();

    await inGroup("staff", "đã hoàn thành", reminder?.id);
    const [report] = await app.plans.reportsOf("JOBS-Q4-2025:II.1");
    expect(report).toMatchObject({
      unitKey: "ke-hoach-tai-chinh",
      status: "done",
      personName: "Trần Văn Hùng",
    });

    await inGroup("office", "/nhomdonvi huy");
    await app.dispatchers.get("console")?.drain();
    expect(sent.at(-1)?.text).toBe(t.officials.groupUnlinked("Phòng Kế hoạch – Tài chính"));
    expect((await app.units.get("ke-hoach-tai-chinh"))?.groups).toEqual([]);
  });
});
