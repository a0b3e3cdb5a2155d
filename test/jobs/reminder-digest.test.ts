import { describe, expect, it } from "vitest";
import { escalationJob } from "../../jobs/escalation.js";
import { remindersJob } from "../../jobs/reminders.js";
import type { App } from "../../src/app.js";
import type { FixedClock } from "../../src/clock.js";
import type { ChannelSender, Delivery } from "../../src/engine/channel.js";
import type { ChannelName, Inbound } from "../../src/engine/message.js";
import { splitText } from "../../src/engine/split.js";
import { importPlanFile, seedDemoPeople, shippedPlanFiles } from "../../src/seed.js";
import { t } from "../../src/text/vi.js";
import { digestReplies } from "../../src/domain/plans/digest-replies.js";
import { Turn } from "../../src/engine/turn.js";
import { buildApp, consoleSpeaker, useDatabase, withTexts } from "../support/db.js";
import { consoleInbound } from "../support/inbound.js";
import { jobRunner } from "../support/jobs.js";

const db = useDatabase(import.meta.filename);
const nine = (day: string) => `${day}T02:00:00Z`; // 09:00 in Hà Nội

/** Records what each channel was handed, with the platform ids it answered. */
function recorder(app: App, channel: ChannelName) {
  const sent: (Delivery & { id: string })[] = [];
  const sender: ChannelSender = {
    channel,
    async send(delivery) {
      const id = `${channel[0]}${sent.length + 1}`;
      sent.push({ ...delivery, id });
      return { messageIds: [id] };
    },
  };
  app.addChannel(sender);
  return sent;
}

/** The demo people and the two shipped 2025 plans (46 tasks for Kế hoạch – Tài chính, 52 for Văn phòng). */
async function setUp(clock: FixedClock, app: App) {
  clock.set(nine("2025-12-01"));
  await seedDemoPeople(app, clock.now());
  for (const file of shippedPlanFiles()) await importPlanFile(app, file, clock.now());
}

async function runReminders(app: App, clock: FixedClock, day: string) {
  clock.set(nine(day));
  const { runner } = await jobRunner(app, clock, db.connection);
  return runner.runDue(remindersJob, clock.now());
}

async function digestsTo(app: App, chatId: string) {
  return withTexts(
    app,
    await app.models.Outbox.find({ chatId, dedupeKey: /^reminders:/ })
      .sort({ _id: 1 })
      .lean(),
  );
}

describe("the reminder digest", () => {
  it("sends each official one numbered message per run, split at the platform's limit with the numbers running on", async () => {
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection);
    await setUp(clock, app);

    // 11/12/2025: every task due 31/12 is 14 working days away: the first reminder of all of them.
    await runReminders(app, clock, "2025-12-11");
    const all = withTexts(app, await app.models.Outbox.find().lean());
    const perChat = new Map<string, number>();
    for (const m of all) perChat.set(m.chatId, (perChat.get(m.chatId) ?? 0) + 1);
    expect(Object.fromEntries(perChat)).toEqual({
      staff: 1,
      unit_head: 1,
      "staff-khoahoc": 1,
      "staff-vanphong": 1,
    });

    const [digest] = await digestsTo(app, "staff");
    const text = digest?.text ?? "";
    expect(text).toContain(t.reminders.digestHeader("11/12/2025", 46, "Phòng Kế hoạch – Tài chính"));
    expect(text).toContain("Hạn 31/12/2025 (còn 14 ngày làm việc) · Chưa bắt đầu 0%");
    expect(text).toContain("\n\n46. ");
    expect(text).not.toContain("\n\n47. ");
    expect(text).toContain('"1 xong, 2 được 50%, 3 vướng kinh phí"');
    // The console has no buttons: none are offered (they would read as a second numbered list).
    expect(digest?.choices).toEqual([]);

    // Over Telegram's 4096 and Zalo's 2000 characters, the parts cut between tasks, numbered on.
    for (const limit of [4096, 2000]) {
      const parts = splitText(text, limit);
      expect(parts.length).toBeGreaterThan(1);
      const numbers = parts.flatMap((part) => [...part.matchAll(/^(\d+)\. /gm)].map((m) => Number(m[1])));
      expect(numbers).toEqual(Array.from({ length: 46 }, (_, i) => i + 1));
      for (const part of parts) {
        expect(part.length).toBeLessThanOrEqual(limit);
        // Never a task's first line without its deadline line.
        expect(part.split("\n").at(-1)).not.toMatch(/^\d+\. /);
      }
    }

    // The next day no step is new: nothing. A week later (7 days left) one message again.
    await runReminders(app, clock, "2025-12-12");
    expect(await digestsTo(app, "staff")).toHaveLength(1);
    await runReminders(app, clock, "2025-12-22");
    const later = await digestsTo(app, "staff");
    expect(later).toHaveLength(2);
    expect(later[1]?.text).toContain("(còn 7 ngày làm việc)");
  });

  it("takes several answers in one reply, once, after a restart too; asks when unclear", async () => {
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection);
    await setUp(clock, app);
    const sent = recorder(app, "console");
    await runReminders(app, clock, "2025-12-11");
    await app.dispatchers.get("console")?.drain();
    const digest = sent.find((d) => d.chatId === "staff");
    const record = await app.digests.latest("console", "staff");
    if (!digest || !record) throw new Error("no digest");
    const taskOf = (n: number) => record.items[n - 1]?.taskKey ?? "";
    const reply = async (text: string, dedupeKey?: string, to = app) => {
      await to.engine.handle(
        consoleInbound("staff", text, { replyToMessageId: digest.id, ...(dedupeKey ? { dedupeKey } : {}) }),
      );
      await to.dispatchers.get("console")?.drain();
      return sent.at(-1)?.text ?? "";
    };
    const reports = () => app.models.Report.find().sort({ _id: 1 }).lean();

    // Unclear: nothing is recorded, and the person is told why.
    expect(await reply("1 xong 2 duoc 50%")).toBe(t.reminders.ambiguous);
    expect(await reply("47 xong, 2 được 50%")).toBe(t.reminders.outOfRange([47], 46));
    expect(await reply("xong")).toBe(t.reminders.whichNumber(46));
    expect(await reply("1 xong, 2 hỏi lại sau")).toContain('việc số 2 ("hỏi lại sau")');
    expect(await reports()).toEqual([]);

    const answer = "1 xong, 2 được 50%, 3 vướng kinh phí";
    const confirmation = await reply(answer, "telegram:redelivered");
    await reply(answer, "telegram:redelivered");
    const saved = await reports();
    expect(saved.map((r) => [r.taskKey, r.unitKey, r.status, r.percent])).toEqual([
      [taskOf(1), "ke-hoach-tai-chinh", "done", 100],
      [taskOf(2), "ke-hoach-tai-chinh", "in_progress", 50],
      [taskOf(3), "ke-hoach-tai-chinh", "blocked", undefined],
    ]);
    expect(saved.map((r) => r.personName)).toEqual(["Trần Văn Hùng", "Trần Văn Hùng", "Trần Văn Hùng"]);
    // Past the inbox (a replay by recovery runs the turn again): each report's key is derived from
    // the update and the task, so the same answer is recorded once.
    const update = consoleInbound("staff", answer, {
      replyToMessageId: digest.id,
      dedupeKey: "telegram:redelivered",
    });
    const speaker = await consoleSpeaker(app, "staff");
    for (let i = 0; i < 2; i += 1) {
      const turn = new Turn(update, speaker, app.engine.services, clock.now());
      await digestReplies(app.plans, app.units, app.digests).reply(turn, `digest:${record.key}`, {
        text: answer,
        attachments: [],
      });
      expect(turn.outbound[0]?.text).toContain(t.reminders.recordedHeader);
    }
    expect(await reports()).toHaveLength(3);
    const task1 = await app.plans.task(taskOf(1));
    expect(confirmation).toContain(t.reminders.recordedHeader);
    expect(confirmation).toContain(
      `1. ${task1?.code} (${task1?.planCode}) — Phòng Kế hoạch – Tài chính: Hoàn thành, 100%`,
    );
    expect(confirmation).toContain("— Phòng Kế hoạch – Tài chính: Gặp vướng mắc\n");

    // After a restart the same message still answers to its own list, one per line, marks aside.
    await app.stop();
    const { app: again } = await buildApp(db.connection, clock);
    again.addChannel({
      channel: "console",
      async send(delivery) {
        const id = `c${sent.length + 1}`;
        sent.push({ ...delivery, id });
        return { messageIds: [id] };
      },
    });
    await reply("4. xong\n5: 30%", undefined, again);
    expect((await reports()).slice(3).map((r) => [r.taskKey, r.status, r.percent])).toEqual([
      [taskOf(4), "done", 100],
      [taskOf(5), "in_progress", 30],
    ]);
    // Numbered answers typed without quoting the digest answer the latest one.
    await again.engine.handle(consoleInbound("staff", "6 đang làm"));
    await again.dispatchers.get("console")?.drain();
    expect((await reports()).at(-1)).toMatchObject({ taskKey: taskOf(6), status: "in_progress" });
    await again.stop();
  });

  it("on Zalo, where a reply carries no quote, answers go to the latest digest without asking which", async () => {
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection);
    await setUp(clock, app);
    // An official who reads their messages on Zalo.
    await app.people.ensurePerson(
      "zalo",
      "z-staff",
      { role: "staff", unitId: "ke-hoach-tai-chinh", name: "Cán bộ Zalo" },
      clock.now(),
    );
    const sent = recorder(app, "zalo");
    await runReminders(app, clock, "2025-12-11");
    await runReminders(app, clock, "2025-12-22");
    await app.dispatchers.get("zalo")?.drain();
    expect(sent.filter((d) => d.chatId === "z-staff")).toHaveLength(2);
    const latest = await app.digests.latest("zalo", "z-staff");
    const zalo = (text: string): Inbound => ({
      ...consoleInbound("z-staff", text),
      channel: "zalo",
    });
    await app.engine.handle(zalo("2 xong, 3 được 20%"));
    await app.dispatchers.get("zalo")?.drain();
    expect(sent.at(-1)?.text).toContain(t.reminders.recordedHeader);
    expect((await app.models.Report.find().lean()).map((r) => [r.taskKey, r.status])).toEqual([
      [latest?.items[1]?.taskKey, "done"],
      [latest?.items[2]?.taskKey, "in_progress"],
    ]);
  });

  it("on Telegram a short list has a button per task; a press records it and offers the others", async () => {
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection);
    await setUp(clock, app);
    await app.people.ensurePerson(
      "telegram",
      "7001",
      { role: "staff", unitId: "chi-cuc-tdc", name: "Cán bộ Chi cục" },
      clock.now(),
    );
    // Chi cục answers for the tasks of all units only; give it a short list: all but 3 done.
    await runReminders(app, clock, "2025-12-11");
    const [first] = withTexts(app, await app.models.Outbox.find({ chatId: "7001" }).lean());
    expect(first?.choices).toEqual([]); // 46 tasks: too many buttons, answers are typed
    const listed = await app.digests.latest("telegram", "7001");
    const tasks = listed?.items ?? [];
    for (const [index, item] of tasks.slice(3).entries()) {
      await app.plans.addReport({
        idempotencyKey: `done-${index}`,
        task: (await app.plans.task(item.taskKey))!,
        unitKey: item.unitKey,
        personId: (await app.people.list({ role: "staff" }))[0]!._id.toString(),
        personName: "Cán bộ Chi cục",
        channel: "telegram",
        status: "done",
        percent: 100,
        note: "xong",
        attachments: [],
        source: "reply",
        now: clock.now(),
        today: "2025-12-11",
      });
    }
    await runReminders(app, clock, "2025-12-22");
    const digest = withTexts(
      app,
      await app.models.Outbox.find({ chatId: "7001" }).sort({ _id: 1 }).lean(),
    ).at(-1);
    const record = await app.digests.latest("telegram", "7001");
    expect(record?.items.map((i) => i.taskKey)).toEqual(tasks.slice(0, 3).map((i) => i.taskKey));
    const buttons = digest?.choices ?? [];
    expect(buttons.map((c) => c.label)).toHaveLength(4);
    expect(buttons.at(-1)).toEqual({ label: t.reminders.reportButton, value: "/baocao" });
    for (const { value } of buttons) expect(Buffer.byteLength(value)).toBeLessThanOrEqual(64);

    const sent = recorder(app, "telegram");
    const press: Inbound = {
      ...consoleInbound("7001", buttons[1]?.label ?? ""),
      channel: "telegram",
      choice: buttons[1]?.value ?? "",
    };
    await app.engine.handle(press);
    await app.engine.handle(press); // Telegram delivers the same update again
    await app.dispatchers.get("telegram")?.drain();
    const reports = await app.models.Report.find({ channel: "telegram", idempotencyKey: /^test:/ }).lean();
    expect(reports.map((r) => [r.taskKey, r.status])).toEqual([[record?.items[1]?.taskKey, "done"]]);
    const answer = sent.find((d) => d.chatId === "7001" && d.text.startsWith(t.reminders.recordedHeader));
    expect(answer?.text).toContain("2. ");
    expect(answer?.text).toContain("Chi cục Tiêu chuẩn Đo lường Chất lượng: Hoàn thành, 100%");
    // The confirmation carries the buttons of the tasks still open: 1 and 3.
    expect(answer?.choices.map((c) => c.value)).toEqual([buttons[0]?.value, buttons[2]?.value, "/baocao"]);
  });

  it("an escalation is one message: numbered for the unit head, by unit for the Office", async () => {
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection);
    await setUp(clock, app);
    const sent = recorder(app, "console");
    // 12/01/2026: the tasks due 31/12/2025 are over 5 working days overdue: unit heads and the Office.
    clock.set(nine("2026-01-12"));
    const { runner } = await jobRunner(app, clock, db.connection);
    await runner.runDue(escalationJob(db.connection), clock.now());
    await app.dispatchers.get("console")?.drain();
    const perChat = new Map<string, string[]>();
    for (const d of sent) perChat.set(d.chatId, [...(perChat.get(d.chatId) ?? []), d.text]);
    expect([...perChat.keys()].sort()).toEqual(["office", "unit_head"]);
    const [office] = perChat.get("office") ?? [];
    const [head] = perChat.get("unit_head") ?? [];
    expect(perChat.get("office")).toHaveLength(1);
    expect(perChat.get("unit_head")).toHaveLength(1);
    // The Office: one line per unit, not one per (task, unit) pair.
    expect(office).toContain(t.reminders.escalationOfficeFooter);
    expect(office?.split("\n").length).toBeLessThan(20);
    expect(office).toContain(t.reminders.escalationOfficeHeader(374, 8));
    expect(office).toMatch(/\n• Phòng Kế hoạch – Tài chính \(46\): II\.1, [^\n]+ và 38 việc khác\n/);
    // The unit head: numbered, and answered like a reminder.
    expect(head).toContain(t.reminders.escalationHeadHeader(46, "Phòng Kế hoạch – Tài chính"));
    expect(head).toMatch(/Hạn 31\/12\/2025 \(quá hạn \d ngày làm việc\)/);
    const headDigest = sent.find((d) => d.chatId === "unit_head");
    await app.engine.handle(
      consoleInbound("unit_head", "1 xong; 2 được 80%", { replyToMessageId: headDigest?.id ?? "" }),
    );
    const record = await app.digests.latest("console", "unit_head");
    expect(
      (await app.models.Report.find().sort({ _id: 1 }).lean()).map((r) => [
        r.taskKey,
        r.percent,
        r.personName,
      ]),
    ).toEqual([
      [record?.items[0]?.taskKey, 100, "Lê Thị Hoa"],
      [record?.items[1]?.taskKey, 80, "Lê Thị Hoa"],
    ]);
  });

  it("a unit's group chat gets one list too; only that unit's officials answer it", async () => {
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection);
    await setUp(clock, app);
    await app.units.linkGroup("ke-hoach-tai-chinh", { channel: "console", chatId: "grp-kh" });
    const sent = recorder(app, "console");
    await runReminders(app, clock, "2025-12-11");
    await app.dispatchers.get("console")?.drain();
    const inGroup = sent.filter((d) => d.chatId === "grp-kh");
    expect(inGroup).toHaveLength(1);
    expect(inGroup[0]?.text).toContain(
      t.reminders.digestHeader("11/12/2025", 46, "Phòng Kế hoạch – Tài chính"),
    );
    const say = async (senderId: string, text: string) => {
      await app.engine.handle(
        consoleInbound(senderId, text, {
          chatId: "grp-kh",
          chatType: "group",
          replyToMessageId: inGroup[0]?.id ?? "",
        }),
      );
      await app.dispatchers.get("console")?.drain();
      return sent.at(-1)?.text ?? "";
    };
    const record = await app.digests.latest("console", "grp-kh");
    const code = (n: number) => record?.items[n - 1]?.taskKey.split(":").pop();
    expect(await say("staff-khoahoc", "1 xong, 2 được 40%")).toBe(t.reminders.notYours([code(1)!, code(2)!]));
    expect(await say("citizen", "1 xong")).toBe(t.plans.officialsOnly);
    expect(await app.models.Report.countDocuments()).toBe(0);
    expect(await say("unit_head", "1 xong, 2 được 40%")).toContain(t.reminders.recordedHeader);
    expect((await app.models.Report.find().lean()).map((r) => [r.unitKey, r.personName])).toEqual([
      ["ke-hoach-tai-chinh", "Lê Thị Hoa"],
      ["ke-hoach-tai-chinh", "Lê Thị Hoa"],
    ]);
  });

  it("a list recorded but never written (a crash between the two) lists nothing: the next run sends its tasks", async () => {
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection);
    await setUp(clock, app);
    await runReminders(app, clock, "2025-12-11");
    // As a crash right after recording would leave it: the lists are there, their messages not.
    const before = await app.digests.model.countDocuments();
    expect(before).toBe(4);
    await app.models.Outbox.deleteMany({ dedupeKey: /^reminders:/ });
    expect(await app.digests.latest("console", "staff")).toBeUndefined();

    // The same run again, as the runner retries a run that crashed.
    const { ctx } = await jobRunner(app, clock, db.connection);
    await remindersJob.run(ctx, clock.now(), remindersJob.slot(clock.now(), ctx) ?? "");
    const [digest] = await digestsTo(app, "staff");
    expect(digest?.text).toContain(t.reminders.digestHeader("11/12/2025", 46, "Phòng Kế hoạch – Tài chính"));
    // Its list is found again for a reply, and it is the same list (same key, recorded once).
    expect(await app.digests.latest("console", "staff")).toBeDefined();
    expect(await app.digests.model.countDocuments()).toBe(before);
  });
});
