import { Types } from "mongoose";
import { describe, expect, it } from "vitest";
import { ticketDeadlinesJob } from "../../jobs/ticket-deadlines.js";
import { seedDemoPeople } from "../../src/seed.js";
import { buildApp, useDatabase } from "../support/db.js";
import { jobRunner } from "../support/jobs.js";
import { t } from "../../src/text/vi.js";

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

    const { runner } = await jobRunner(app, clock, db.connection);
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
      // Past the deadline: the Office, and the unit that still has to answer.
      "office 2025-10-21 o0",
      "staff 2025-10-21 o0",
      "unit_head 2025-10-21 o0",
    ]);
    expect(app.outbox.textOf(sent.at(-1) ?? { textSealed: "" })).toContain(
      "đã quá hạn trả lời 1 ngày làm việc (hạn 20/10/2025)",
    );
  });

  it("reminds of every open ticket near or past its deadline, however many are overdue", async () => {
    // Only this test's tickets: the one the test above leaves open would be reminded of too.
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection);
    clock.set(at("2025-11-03")); // a Monday
    await seedDemoPeople(app, clock.now());
    const citizen = await app.people.resolveSpeaker({
      channel: "console",
      senderId: "backlog-citizen",
      chatId: "backlog-citizen",
      chatType: "private",
      now: clock.now(),
    });
    const filed = await app.feedback.file({
      idempotencyKey: "backlog-0",
      type: "phan_anh",
      field: "khac",
      content: "Đèn đường trước chợ không sáng.",
      attachments: [],
      filer: { ...citizen, channel: "console", chatId: "backlog-citizen" },
      now: clock.now(),
    });
    if (filed.kind !== "filed") throw new Error("not filed");
    // A backlog past the page a person reads (50): 64 overdue, some assigned to a unit, then three
    // due within the reminder window and one far off. Copies of a filed ticket stand for them.
    const { _id: _unused, ...base } = filed.ticket;
    const overdue = Array.from({ length: 64 }, (_, i) => ({
      code: `PA-2025-9${String(i).padStart(5, "0")}`,
      dueDay: `2025-10-${String(1 + (i % 28)).padStart(2, "0")}`,
      unitKey: i % 2 ? "ke-hoach-tai-chinh" : undefined,
    }));
    const soon = [
      { code: "PA-2025-800000", dueDay: "2025-11-03", unitKey: "ke-hoach-tai-chinh" }, // d0
      { code: "PA-2025-800001", dueDay: "2025-11-04", unitKey: "ke-hoach-tai-chinh" }, // d1
      { code: "PA-2025-800002", dueDay: "2025-11-06", unitKey: undefined }, // d3, the Office's
    ];
    const far = { code: "PA-2025-800003", dueDay: "2025-11-07", unitKey: "ke-hoach-tai-chinh" }; // 4 left
    await app.models.Ticket.updateOne({ _id: filed.ticket._id }, { $set: { status: "answered" } });
    await app.models.Ticket.insertMany(
      [...overdue, ...soon, far].map((t, i) => ({
        ...base,
        _id: new Types.ObjectId(),
        idempotencyKey: `backlog-${i + 1}`,
        code: t.code,
        dueDay: t.dueDay,
        status: t.unitKey ? "assigned" : "new",
        ...(t.unitKey ? { unitKey: t.unitKey } : {}),
      })),
    );
    const { runner } = await jobRunner(app, clock, db.connection);
    expect(await runner.runDue(ticketDeadlinesJob, clock.now())).toMatchObject({ kind: "ran" });

    const sent = await app.models.Outbox.find({ dedupeKey: /^ticket-due:PA-2025-[89]/ }).lean();
    const got = sent
      .map((m) => `${m.dedupeKey.split(":")[1]} ${m.dedupeKey.split(":")[3]} ${m.chatId}`)
      .sort();
    const want = [
      ...overdue.flatMap((t) => [
        `${t.code} o0 office`,
        ...(t.unitKey ? [`${t.code} o0 staff`, `${t.code} o0 unit_head`] : []),
      ]),
      "PA-2025-800000 d0 staff",
      "PA-2025-800000 d0 unit_head",
      "PA-2025-800001 d1 staff",
      "PA-2025-800001 d1 unit_head",
      "PA-2025-800002 d3 office",
    ].sort();
    expect(got).toEqual(want);
    // The next day: nothing twice, only what newly became due (800002, 2 days left, had its d3).
    clock.set(at("2025-11-04"));
    await runner.runDue(ticketDeadlinesJob, clock.now());
    const again = await app.models.Outbox.find({ dedupeKey: /^ticket-due:PA-2025-[89]/ }).lean();
    const added = again.filter((m) => !sent.some((s) => s.dedupeKey === m.dedupeKey));
    expect(
      added.map((m) => `${m.dedupeKey.split(":")[1]} ${m.dedupeKey.split(":")[3]} ${m.chatId}`).sort(),
    ).toEqual([
      "PA-2025-800000 o0 office",
      "PA-2025-800000 o0 staff",
      "PA-2025-800000 o0 unit_head",
      "PA-2025-800001 d0 staff",
      "PA-2025-800001 d0 unit_head",
      "PA-2025-800003 d3 staff",
      "PA-2025-800003 d3 unit_head",
    ]);
  });

  it("warns of the thụ lý decision on the accept-by day, then of the answer on the resolve-by day", async () => {
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection);
    clock.set(at("2026-11-30")); // a Monday
    await seedDemoPeople(app, clock.now());
    const speaker = (id: string) =>
      app.people.resolveSpeaker({
        channel: "console",
        senderId: id,
        chatId: id,
        chatType: "private",
        now: clock.now(),
      });
    const office = await speaker("office");
    const filed = await app.feedback.file({
      idempotencyKey: "kn1",
      type: "khieu_nai",
      field: "khac",
      content: "Khiếu nại quyết định xử phạt vi phạm hành chính về đo lường.",
      attachments: [],
      filer: { ...(await speaker("citizen")), channel: "console", chatId: "citizen" },
      now: clock.now(),
    });
    if (filed.kind !== "filed") throw new Error("not filed");
    const { code } = filed.ticket;
    expect(filed.ticket.acceptBy).toBe("2026-12-10"); // Luật Khiếu nại 2011, art. 27: 10 days
    await app.feedback.assign(code, { key: "ke-hoach-tai-chinh", name: "KH-TC" }, office, clock.now());

    const { runner } = await jobRunner(app, clock, db.connection);
    for (let d = new Date("2026-11-30T00:00:00Z"); d <= new Date("2027-01-08T00:00:00Z");) {
      const day = d.toISOString().slice(0, 10);
      clock.set(at(day));
      await runner.runDue(ticketDeadlinesJob, clock.now());
      // Accepted the day after its accept-by day, past the thụ lý limit: answer by 10/01/2027, a
      // Sunday, so Monday 11/01 (30 days, art. 28; BLDS 2015 art. 148).
      if (day === "2026-12-11")
        expect((await app.feedback.accept(code, office, clock.now())).dueDay).toBe("2027-01-11");
      d.setUTCDate(d.getUTCDate() + 1);
    }
    const sent = await app.models.Outbox.find({ dedupeKey: new RegExp(`^ticket-due:${code}:`) })
      .sort({ createdAt: 1, chatId: 1 })
      .lean();
    const local = (date: Date) => new Date(date.getTime() + 7 * 3_600_000).toISOString().slice(0, 10);
    const lines = sent.map((m) => {
      const [, , due, step] = m.dedupeKey.split(":");
      const text = app.outbox.textOf(m);
      const kind = text.includes("thụ lý") ? "thụ lý" : text.includes("trả lời") ? "trả lời" : text;
      return `${local(m.createdAt)} ${step} ${due} ${m.chatId} ${kind}`;
    });
    expect(lines).toEqual([
      // The thụ lý decision is the Office's: it hears of it with the unit the ticket was handed to.
      ...["office", "staff", "unit_head"].map((who) => `2026-12-07 d3 2026-12-10 ${who} thụ lý`),
      ...["office", "staff", "unit_head"].map((who) => `2026-12-09 d1 2026-12-10 ${who} thụ lý`),
      ...["office", "staff", "unit_head"].map((who) => `2026-12-10 d0 2026-12-10 ${who} thụ lý`),
      ...["office", "staff", "unit_head"].map((who) => `2026-12-11 o0 2026-12-10 ${who} thụ lý`),
      // Accepted: the unit answers by the resolve-by day.
      ...["staff", "unit_head"].map((who) => `2027-01-06 d3 2027-01-11 ${who} trả lời`),
      ...["staff", "unit_head"].map((who) => `2027-01-08 d1 2027-01-11 ${who} trả lời`),
    ]);
    expect(app.outbox.textOf(sent[0] ?? { textSealed: "" })).toBe(
      t.jobs.ticketAcceptDue(code, "Khiếu nại", "10/12/2026", t.plans.daysLeft(3)),
    );
    expect(app.outbox.textOf(sent[9] ?? { textSealed: "" })).toBe(
      t.jobs.ticketAcceptOverdue(code, "Khiếu nại", "10/12/2026", 1),
    );
  });
});
