import { describe, expect, it } from "vitest";
import { seedDemoPeople } from "../../src/seed.js";
import { buildApp, consoleSpeaker, fileTicket, useDatabase } from "../support/db.js";
import { consoleInbound } from "../support/inbound.js";

const db = useDatabase(import.meta.filename);

describe("a ticket deadline the calendar cannot count for sure yet", () => {
  it("is shown to the Office as provisional, with why, and to the filer as it is", async () => {
    const { app, clock } = await buildApp(db.connection);
    clock.set(new Date("2027-01-25T09:00:00+07:00"));
    await seedDemoPeople(app, clock.now());
    const say = async (id: string, text: string) => {
      const inbound = consoleInbound(id, text, { receivedAt: clock.now() });
      await app.engine.handle(inbound);
      const docs = await app.models.Outbox.find({ dedupeKey: { $regex: `^${inbound.dedupeKey}#r` } }).lean();
      return docs.map((doc) => app.outbox.textOf(doc)).join("\n");
    };
    const citizen = await consoleSpeaker(app, "citizen");
    // 10 working days from Monday 25/01/2027 run across Tết Đinh Mùi, not decreed yet.
    const acrossTet = await fileTicket(
      app,
      citizen,
      "t-tet",
      "Đề nghị niêm yết lịch tiếp công dân.",
      "phan_anh",
    );
    const ticket = await app.feedback.byCode(acrossTet);
    expect(ticket?.dueDay).toBe("2027-02-15");

    const office = await say("office", `/xuly ${acrossTet}`);
    expect(office).toContain("15/02/2027");
    expect(office).toContain("(tạm tính: lịch nghỉ 01/02/2027–14/02/2027 chưa có quyết định)");
    expect(await say("office", "/phananh")).toContain("15/02/2027 (tạm tính)");
    const filer = await say("citizen", `/tracuu ${acrossTet}`);
    expect(filer).toContain("15/02/2027");
    expect(filer).not.toContain("tạm tính");

    // Once the Office enters the decision and closes 2027, the same deadline is firm.
    await say("office", "/ngaynghi chốt 2027 Công văn số 1234/VPCP-KGVX");
    expect(await say("office", `/xuly ${acrossTet}`)).not.toContain("tạm tính");
  });
});
