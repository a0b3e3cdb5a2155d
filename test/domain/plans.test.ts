import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { App } from "../../src/app.js";
import type { FixedClock } from "../../src/clock.js";
import { DataFileError } from "../../src/domain/data-file.js";
import { readPlanFile } from "../../src/domain/plans/plan-file.js";
import { stateKey } from "../../src/domain/plans/service.js";
import type { ChannelSender, Delivery } from "../../src/engine/channel.js";
import type { Inbound } from "../../src/engine/message.js";
import { importPlanFile, seedDemoPeople } from "../../src/seed.js";
import { t } from "../../src/text/vi.js";
import { buildApp, useDatabase } from "../support/db.js";
import { consoleInbound } from "../support/inbound.js";

const db = useDatabase(import.meta.filename);
const fixture = path.resolve(import.meta.dirname, "../fixtures/plans/small.yaml");

let seq = 0;
function say(app: App, senderId: string, text: string, extra: Partial<Inbound> = {}) {
  return app.engine.handle(consoleInbound(senderId, text, extra));
}

class Inbox implements ChannelSender {
  readonly channel = "console" as const;
  readonly delivered: (Delivery & { id: string })[] = [];
  async send(delivery: Delivery) {
    const id = `p${this.delivered.length + 1}`;
    this.delivered.push({ ...delivery, id });
    return { messageIds: [id] };
  }
  last(chatId: string) {
    return this.delivered.filter((d) => d.chatId === chatId).at(-1);
  }
}

async function setup(): Promise<{ app: App; clock: FixedClock; inbox: Inbox }> {
  await db.connection.dropDatabase();
  const { app, clock } = await buildApp(db.connection);
  const inbox = new Inbox();
  app.addChannel(inbox);
  await seedDemoPeople(app, clock.now());
  await importPlanFile(app, fixture, clock.now());
  return { app, clock, inbox };
}

const deliver = (app: App) => app.dispatchers.get("console")!.drain();

/** The bot sends a reminder about a task to an official, as the jobs will. */
async function remind(app: App, inbox: Inbox, chatId: string, taskKey: string): Promise<string> {
  await app.outbox.enqueue([
    {
      to: { channel: "console", chatId },
      text: `Nhắc hạn ${taskKey}`,
      subject: { kind: "task", id: taskKey },
      dedupeKey: `remind:${chatId}:${taskKey}:${seq++}`,
    },
  ]);
  await deliver(app);
  return inbox.last(chatId)!.id;
}

describe("plan files", () => {
  it("reads the fixture plan", () => {
    const plan = readPlanFile(readFileSync(fixture, "utf8"), "small.yaml");
    expect(plan.code).toBe("TEST-2025");
    expect(plan.tasks.map((task) => task.code)).toEqual(["II.1", "II.2", "II.3", "III.1"]);
  });

  it("points at the line of each problem", () => {
    const text = readFileSync(fixture, "utf8")
      .replace("deadline: 2025-12-15", "deadline: 2025-13-45")
      .replace("units: [van-phong, ke-hoach-tai-chinh]", "units: [van-phong, phong-ma]")
      .replace("    recurrence: quarterly", "    recurrence: monthly");
    let error: DataFileError | undefined;
    try {
      readPlanFile(text, "bad.yaml");
    } catch (e) {
      error = e as DataFileError;
    }
    expect(error).toBeInstanceOf(DataFileError);
    const lines = text.split("\n");
    const lineOf = (needle: string) => lines.findIndex((l) => l.includes(needle)) + 1;
    expect(error?.message).toContain(
      `bad.yaml:${lineOf("2025-13-45")}: tasks[1].deadline: ngày không tồn tại`,
    );
    expect(error?.message).toContain(`bad.yaml:${lineOf("recurrence: monthly")}: tasks[3].recurrence:`);
    expect(error?.problems).toHaveLength(2);
    // Unknown units are checked once the shape is right.
    const units = readFileSync(fixture, "utf8").replace(
      "units: [van-phong, ke-hoach-tai-chinh]",
      "units: [van-phong, phong-ma]",
    );
    expect(() => readPlanFile(units, "u.yaml")).toThrow(
      `u.yaml:${lineOf("phong-ma")}: tasks[2].units: đơn vị "phong-ma" chưa khai báo trong units`,
    );
  });

  it("refuses a task with both a deadline and a recurrence, and a YAML syntax error", () => {
    const both = readFileSync(fixture, "utf8").replace(
      "    recurrence: quarterly",
      "    recurrence: quarterly\n    deadline: 2025-12-31",
    );
    expect(() => readPlanFile(both, "x.yaml")).toThrow(/đúng một trong hai/);
    expect(() => readPlanFile("code: [unclosed", "y.yaml")).toThrow(/^y\.yaml:1: YAML:/);
  });
});

describe("plans, tasks and reports", () => {
  it("re-imports a plan without duplicating, archiving tasks removed from the file", async () => {
    const { app, clock } = await setup();
    const again = await importPlanFile(app, fixture, clock.now());
    expect(again).toMatchObject({ created: false, tasks: 4, archived: 0 });
    expect(await app.models.Task.countDocuments()).toBe(4);
    const plan = readPlanFile(readFileSync(fixture, "utf8"), "small.yaml");
    const shorter = { ...plan, tasks: plan.tasks.filter((task) => task.code !== "II.2") };
    expect(await app.plans.importPlan(shorter, "small.yaml", clock.now())).toMatchObject({
      tasks: 3,
      archived: 1,
    });
    expect(await app.models.Task.countDocuments({ archived: false })).toBe(3);
    expect(await app.models.Plan.countDocuments()).toBe(1);
  });

  it("tracks a task shared by two units separately for each", async () => {
    const { app, inbox } = await setup();
    const toStaff = await remind(app, inbox, "staff", "TEST-2025:II.3");
    await say(app, "staff", "được 70%", { replyToMessageId: toStaff });
    const toOffice = await remind(app, inbox, "staff-vanphong", "TEST-2025:II.3");
    await say(app, "staff-vanphong", "đã hoàn thành", { replyToMessageId: toOffice });
    await deliver(app);
    const task = (await app.plans.task("TEST-2025:II.3"))!;
    const states = await app.plans.states(
      [
        { task, unitKey: "ke-hoach-tai-chinh" },
        { task, unitKey: "van-phong" },
      ],
      "2025-10-06",
    );
    expect(states.get(stateKey(task.key, "ke-hoach-tai-chinh"))).toMatchObject({
      status: "in_progress",
      percent: 70,
    });
    expect(states.get(stateKey(task.key, "van-phong"))).toMatchObject({ status: "done", percent: 100 });
    const reports = await app.plans.reportsOf(task.key);
    expect(reports.map((r) => [r.unitKey, r.personName, r.source, r.note]).sort()).toEqual([
      ["ke-hoach-tai-chinh", "Trần Văn Hùng", "reply", "được 70%"],
      ["van-phong", "Đỗ Thu Trang", "reply", "đã hoàn thành"],
    ]);
  });

  it("refuses a report from an official of a unit the task does not concern", async () => {
    const { app, inbox } = await setup();
    const reminder = await remind(app, inbox, "staff", "TEST-2025:II.2");
    await say(app, "staff", "xong", { replyToMessageId: reminder });
    await deliver(app);
    expect(inbox.last("staff")?.text).toBe(t.plans.notYourTask("II.2"));
    expect(await app.models.Report.countDocuments()).toBe(0);
  });

  it("keeps a photo sent in reply to a reminder as evidence", async () => {
    const { app, inbox } = await setup();
    const reminder = await remind(app, inbox, "staff", "TEST-2025:II.1");
    await say(app, "staff", "đã tuyên truyền xong", {
      replyToMessageId: reminder,
      attachments: [{ kind: "photo", ref: "file-123", name: "hop.jpg" }],
    });
    const [report] = await app.plans.reportsOf("TEST-2025:II.1");
    expect(report).toMatchObject({
      status: "done",
      attachments: [{ kind: "photo", ref: "file-123", name: "hop.jpg" }],
    });
  });

  it("saves a replayed reply once", async () => {
    const { app, inbox } = await setup();
    const reminder = await remind(app, inbox, "staff", "TEST-2025:II.1");
    await say(app, "staff", "được 40%", { replyToMessageId: reminder, dedupeKey: "same-update" });
    await say(app, "staff", "được 40%", { replyToMessageId: reminder, dedupeKey: "same-update" });
    await app.models.InboundRecord.updateOne(
      { dedupeKey: "same-update" },
      { $set: { status: "received", claimedUntil: new Date(0) } },
    );
    await app.engine.recoverAbandoned();
    expect(await app.models.Report.countDocuments()).toBe(1);
  });
});

describe("invites", () => {
  it("binds an account to a unit and role once; refuses wrong, used and expired codes; slows guessing", async () => {
    const { app, clock, inbox } = await setup();
    const office = await app.people.ensurePerson("console", "office", { role: "office" }, clock.now());
    const invite = await app.invites.create("quan-ly-khoa-hoc", "unit_head", office.personId, clock.now());
    await say(app, "new-official", `/start ${invite.code}`);
    await deliver(app);
    expect(inbox.last("new-official")?.text).toBe(
      t.officials.joined(t.people.role("unit_head"), "Phòng Quản lý khoa học"),
    );
    const joined = await app.models.ChannelAccount.findOne({ externalId: "new-official" }).lean();
    expect(await app.models.Person.findById(joined?.personId).lean()).toMatchObject({
      role: "unit_head",
      unitId: "quan-ly-khoa-hoc",
    });

    await say(app, "someone-else", `/start ${invite.code.toLowerCase()}`);
    await deliver(app);
    expect(inbox.last("someone-else")?.text).toBe(t.officials.inviteRefused.used);

    const old = await app.invites.create("van-phong", "staff", office.personId, clock.now());
    clock.advance(8 * 86_400_000);
    await say(app, "late", `/start ${old.code}`);
    await deliver(app);
    expect(inbox.last("late")?.text).toBe(t.officials.inviteRefused.expired);

    for (let i = 0; i < 5; i += 1) await say(app, "guesser", `/start WRONG${i}XYZ`);
    await deliver(app);
    expect(inbox.last("guesser")?.text).toBe(t.officials.inviteRefused.invalid);
    const good = await app.invites.create("van-phong", "staff", office.personId, clock.now());
    await say(app, "guesser", `/start ${good.code}`);
    await deliver(app);
    expect(inbox.last("guesser")?.text).toMatch(/^Anh\/chị đã nhập sai mã quá nhiều lần/);
    clock.advance(16 * 60_000);
    await say(app, "guesser", `/start ${good.code}`);
    await deliver(app);
    expect(inbox.last("guesser")?.text).toContain("Chào mừng");
  });

  it("the Office creates an invite with /moi and moves and deactivates officials with /canbo", async () => {
    const { app, inbox } = await setup();
    await say(app, "office", "/moi");
    await say(app, "office", "Chuyển đổi số");
    await say(app, "office", "2");
    await deliver(app);
    const created = inbox.last("office")?.text ?? "";
    expect(created).toContain("Đơn vị: Phòng Chuyển đổi số");
    expect(created).toContain(`Vai trò: ${t.people.role("unit_head")}`);
    const code = /Mã mời: ([A-Z0-9]{8})/.exec(created)?.[1];
    // Stored by its keyed hash, never the code itself.
    expect(
      await app.models.Invite.findOne({ code: app.sealer.lookupHash(`invite:${code}`) }).lean(),
    ).toMatchObject({
      unitKey: "chuyen-doi-so",
      role: "unit_head",
    });

    const [staff] = await app.people.search("Trần Văn Hùng");
    await say(app, "office", `/canbo chuyen ${staff?.ref} chuyen doi so`);
    await deliver(app);
    expect(inbox.last("office")?.text).toBe(t.officials.moved("Trần Văn Hùng", "Phòng Chuyển đổi số"));
    expect(inbox.last("staff")?.text).toBe(t.officials.movedNotice("Phòng Chuyển đổi số"));
    await say(app, "office", `/canbo khoa ${staff?.ref}`);
    await deliver(app);
    expect((await app.models.Person.findById(staff?._id).lean())?.active).toBe(false);
    await say(app, "staff", "/nhiemvu");
    await deliver(app);
    expect(inbox.last("staff")?.text).toBe(t.engine.forbidden("nhiemvu"));
  });
});

describe("answers on a platform without reply-to", () => {
  it("ties free text after one reminder to its task, and asks which when several are recent", async () => {
    const { app, clock } = await setup();
    // The official's Zalo account, joined to the demo staff member.
    const staff = await app.people.ensurePerson(
      "zalo",
      "zl-1",
      { role: "staff", unitId: "ke-hoach-tai-chinh", name: "Cán bộ Zalo" },
      clock.now(),
    );
    const zaloSender: ChannelSender = {
      channel: "zalo",
      send: async () => ({ messageIds: [`z${Math.random()}`] }),
    };
    app.addChannel(zaloSender);
    const zalo = (text: string) =>
      app.engine.handle({
        channel: "zalo",
        chatId: "zl-1",
        chatType: "private",
        senderId: "zl-1",
        messageId: `zm${++seq}`,
        text,
        attachments: [],
        dedupeKey: `zalo-test:${seq}`,
        receivedAt: clock.now(),
      });
    const remindOnZalo = async (taskKey: string) => {
      await app.outbox.enqueue([
        {
          to: { channel: "zalo", chatId: "zl-1" },
          text: `Nhắc hạn nhiệm vụ ${taskKey}\nchi tiết`,
          subject: { kind: "task", id: taskKey },
          dedupeKey: `z:${taskKey}`,
        },
      ]);
      await app.dispatchers.get("zalo")!.drain();
    };
    const replies = async () =>
      (await app.models.Outbox.find({ chatId: "zl-1" }).sort({ _id: 1 }).lean()).map((m) =>
        app.outbox.textOf(m),
      );

    await remindOnZalo("TEST-2025:II.1");
    await zalo("được 50%");
    expect((await app.plans.reportsOf("TEST-2025:II.1"))[0]).toMatchObject({
      percent: 50,
      personName: "Cán bộ Zalo",
    });

    await remindOnZalo("TEST-2025:II.3");
    await zalo("đã xong");
    expect((await replies()).at(-1)).toContain(t.engine.whichSubject);
    expect((await replies()).at(-1)).not.toContain("được");
    await app.dispatchers.get("zalo")!.drain();
    await zalo("Nhắc hạn nhiệm vụ TEST-2025:II.3");
    const [report] = await app.plans.reportsOf("TEST-2025:II.3");
    expect(report).toMatchObject({ status: "done", note: "đã xong", personId: expect.anything() });
    expect(report?.personId.toString()).toBe(staff.personId);
    // Long after the reminders, plain text is plain text again.
    clock.advance(3 * 86_400_000);
    await zalo("cho hỏi lịch họp tuần sau");
    expect(await app.models.Report.countDocuments()).toBe(2);
  });
});
