import { Types } from "mongoose";
import { describe, expect, it } from "vitest";
import { ticketDeadlinesJob } from "../../jobs/ticket-deadlines.js";
import { seedDemoPeople } from "../../src/seed.js";
import { buildApp, consoleSpeaker, filedTicket, useDatabase } from "../support/db.js";
import { jobRunner } from "../support/jobs.js";
import type { App } from "../../src/app.js";
import { splitText } from "../../src/engine/split.js";
import { t } from "../../src/text/vi.js";

const db = useDatabase(import.meta.filename);
const at = (day: string) => new Date(`${day}T09:00:00+07:00`);

/**
 * Open tickets with these codes, deadlines and units (none: not yet handed to a unit), as copies
 * of one a citizen filed (itself answered, so out of the way); their codes, sorted.
 */
async function backlog(
  app: App,
  now: Date,
  tickets: { code: string; dueDay: string; unitKey: string | undefined }[],
): Promise<string[]> {
  const citizen = await consoleSpeaker(app, "backlog-citizen");
  const filed = await filedTicket(app, citizen, {
    idempotencyKey: "backlog-0",
    type: "phan_anh",
    content: "Đèn đường trước chợ không sáng.",
    chatId: "backlog-citizen",
    now,
  });
  const { _id: _unused, ...base } = filed;
  await app.models.Ticket.updateOne({ _id: filed._id }, { $set: { status: "answered" } });
  await app.models.Ticket.insertMany(
    tickets.map((x, i) => ({
      ...base,
      _id: new Types.ObjectId(),
      idempotencyKey: `backlog-${i + 1}`,
      code: x.code,
      dueDay: x.dueDay,
      status: x.unitKey ? "assigned" : "new",
      ...(x.unitKey ? { unitKey: x.unitKey } : {}),
    })),
  );
  return tickets.map((x) => x.code).sort();
}

/** The texts of the deadline job's messages to each chat, oldest first, leaving out `seen`'s. */
async function byChat(app: App, seen = new Map<string, string[]>()): Promise<Map<string, string[]>> {
  const docs = await app.models.Outbox.find({ dedupeKey: /^ticket-(due|digest):/ })
    .sort({ createdAt: 1, _id: 1 })
    .lean();
  const chats = new Map<string, string[]>();
  for (const doc of docs) {
    const text = app.outbox.textOf(doc);
    if (seen.get(doc.chatId)?.includes(text)) continue;
    chats.set(doc.chatId, [...(chats.get(doc.chatId) ?? []), text]);
  }
  return new Map([...chats].sort(([x], [y]) => x.localeCompare(y)));
}

/** The ticket codes some messages name, sorted. */
const codesIn = (texts: string[] | undefined) =>
  [...new Set((texts ?? []).flatMap((text) => text.match(/PA-\d{4}-\d{6}/g) ?? []))].sort();

describe("ticket deadlines", () => {
  it("reminds the handling unit before the deadline and tells the Office and the unit once it has passed", async () => {
    const { app, clock } = await buildApp(db.connection);
    clock.set(at("2025-10-06"));
    await seedDemoPeople(app, clock.now());
    const speaker = (id: string) => consoleSpeaker(app, id);
    const citizen = await speaker("citizen");
    const filed = await filedTicket(app, citizen, {
      idempotencyKey: "t1",
      type: "phan_anh",
      content: "Biển chỉ dẫn trước trụ sở bị đổ.",
    });
    expect(filed.dueDay).toBe("2025-10-20"); // 10 working days
    await app.feedback.assign(
      filed.code,
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
    // A backlog past the page a person reads (50): 64 overdue, some assigned to a unit, then three
    // due within the reminder window and one far off.
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
    await backlog(app, clock.now(), [...overdue, ...soon, far]);
    const { runner } = await jobRunner(app, clock, db.connection);
    expect(await runner.runDue(ticketDeadlinesJob, clock.now())).toMatchObject({ kind: "ran" });

    // One message to each person, listing every ticket due for them: the Office the overdue ones
    // and the one not handed to a unit, the unit's officials their unit's.
    const first = await byChat(app);
    expect(Object.fromEntries([...first].map(([chat, texts]) => [chat, texts.length]))).toEqual({
      office: 1,
      staff: 1,
      unit_head: 1,
    });
    const assigned = overdue.filter((x) => x.unitKey).map((x) => x.code);
    expect(codesIn(first.get("office"))).toEqual([...overdue.map((x) => x.code), "PA-2025-800002"].sort());
    for (const official of ["staff", "unit_head"])
      expect(codesIn(first.get(official))).toEqual([...assigned, "PA-2025-800000", "PA-2025-800001"].sort());
    const [office] = first.get("office") ?? [];
    expect(office).toContain("Đã quá hạn (64):");
    expect(office).toContain("65. Phản ánh PA-2025-800002: hạn trả lời 06/11/2025 (còn 3 ngày làm việc)");
    const [staff] = first.get("staff") ?? [];
    expect(staff).toContain("33. Phản ánh PA-2025-800000: hạn trả lời 03/11/2025 (đến hạn hôm nay)");
    // Too long for one Zalo message: cut between tickets, never inside one, nor under the heading.
    for (const limit of [2000, 4096]) {
      const parts = splitText(office ?? "", limit);
      if (limit === 2000) expect(parts.length).toBeGreaterThan(1);
      expect(parts.flatMap((part) => part.split("\n"))).toEqual(office?.split("\n"));
      for (const part of parts.slice(1)) expect(part).toMatch(/^(\d+\. |Sắp đến hạn|Gõ \/xuly)/);
    }

    // The next day: nothing twice, only what newly became due (800002, 2 days left, had its d3).
    clock.set(at("2025-11-04"));
    await runner.runDue(ticketDeadlinesJob, clock.now());
    const next = await byChat(app, first);
    expect(Object.fromEntries([...next].map(([chat, texts]) => [chat, codesIn(texts)]))).toEqual({
      office: ["PA-2025-800000"],
      staff: ["PA-2025-800000", "PA-2025-800001", "PA-2025-800003"],
      unit_head: ["PA-2025-800000", "PA-2025-800001", "PA-2025-800003"],
    });
    // One ticket alone reads as the one-ticket notice it always was.
    expect(next.get("office")).toEqual([t.jobs.ticketOverdue("PA-2025-800000", "Phản ánh", "03/11/2025", 1)]);
  });

  it("tells each person of 20 tickets past their deadline in one message, once, after a crash too", async () => {
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection);
    clock.set(at("2025-11-04")); // a Tuesday: due Monday, 1 working day late
    await seedDemoPeople(app, clock.now());
    const units = ["ke-hoach-tai-chinh", "quan-ly-khoa-hoc"];
    const codes = await backlog(
      app,
      clock.now(),
      Array.from({ length: 20 }, (_, i) => ({
        code: `PA-2025-7${String(i).padStart(5, "0")}`,
        dueDay: "2025-11-03",
        unitKey: units[i % 2],
      })),
    );
    const { ctx, runner } = await jobRunner(app, clock, db.connection);
    expect(await runner.runDue(ticketDeadlinesJob, clock.now())).toMatchObject({ kind: "ran", messages: 4 });
    const sent = await byChat(app);
    expect(Object.fromEntries([...sent].map(([chat, texts]) => [chat, texts.length]))).toEqual({
      office: 1,
      staff: 1,
      unit_head: 1,
      "staff-khoahoc": 1,
    });
    expect(codesIn(sent.get("office"))).toEqual(codes);
    const [office] = sent.get("office") ?? [];
    expect(office?.split("\n").slice(0, 2)).toEqual([
      t.jobs.ticketDigestHeader("04/11/2025", 20),
      t.jobs.ticketDigestOverdue(20),
    ]);
    expect(office).toContain("20. Phản ánh PA-2025-700019: quá hạn trả lời 1 ngày làm việc (hạn 03/11/2025)");
    // Codes, types and dates only: nothing the filer wrote or is.
    expect(office).not.toMatch(/Đèn đường|backlog-citizen/);
    for (const [chat, unit] of [
      ["staff", 0],
      ["unit_head", 0],
      ["staff-khoahoc", 1],
    ] as const)
      expect(codesIn(sent.get(chat))).toEqual(codes.filter((_, i) => i % 2 === unit));

    // A rerun of the day (a replay, a second instance) writes nothing.
    expect(await ticketDeadlinesJob.run(ctx, clock.now(), "2025-11-04")).toEqual({ messages: 0 });
    // A run that died after recording its notices but before the outbox had the Office's message:
    // the next run gives the Office that list, and nobody anything twice.
    await app.models.Outbox.deleteOne({ chatId: "office", dedupeKey: /^ticket-digest:/ });
    expect(await ticketDeadlinesJob.run(ctx, clock.now(), "2025-11-04")).toEqual({ messages: 1 });
    const after = await byChat(app);
    expect(codesIn(after.get("office"))).toEqual(codes);
    expect([...after.values()].map((texts) => texts.length)).toEqual([1, 1, 1, 1]);
  });

  it("warns of the thụ lý decision on the accept-by day, then of the answer on the resolve-by day", async () => {
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection);
    clock.set(at("2026-11-30")); // a Monday
    await seedDemoPeople(app, clock.now());
    const speaker = (id: string) => consoleSpeaker(app, id);
    const office = await speaker("office");
    const filed = await filedTicket(app, await speaker("citizen"), {
      idempotencyKey: "kn1",
      type: "khieu_nai",
      content: "Khiếu nại quyết định xử phạt vi phạm hành chính về đo lường.",
    });
    const { code } = filed;
    expect(filed.acceptBy).toBe("2026-12-10"); // Luật Khiếu nại 2011, art. 27: 10 days
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
