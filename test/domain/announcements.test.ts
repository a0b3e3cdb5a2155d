import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Types } from "mongoose";
import { describe, expect, it } from "vitest";
import type { App } from "../../src/app.js";
import type { FixedClock } from "../../src/clock.js";
import { BroadcastService } from "../../src/domain/announcements/broadcasts.js";
import { bestFaq } from "../../src/domain/announcements/faq.js";
import { readPublicData } from "../../src/domain/announcements/public-data.js";
import type { ChannelSender, Delivery } from "../../src/engine/channel.js";
import { silentLogger } from "../../src/log.js";
import { DATA_DIR } from "../../src/paths.js";
import { seedDemoPeople, seedPublicInfo } from "../../src/seed.js";
import { t } from "../../src/text/vi.js";
import {
  buildApp,
  consoleSpeaker,
  filedTicket,
  liveSessions,
  ORG,
  TEST_SEALER,
  useDatabase,
} from "../support/db.js";
import { consoleInbound } from "../support/inbound.js";

const db = useDatabase(import.meta.filename);
const tx = t.announcements;

const inbound = consoleInbound;

/** Records what each chat receives; both "processes" of a restart deliver through it. */
class Recorder implements ChannelSender {
  readonly channel = "console" as const;
  readonly delivered: Delivery[] = [];
  async send(delivery: Delivery) {
    this.delivered.push(delivery);
    return { messageIds: [`r${this.delivered.length}`] };
  }
  to(chatId: string, containing = ""): string[] {
    return this.delivered
      .filter((d) => d.chatId === chatId && d.text.includes(containing))
      .map((d) => d.text);
  }
}

async function setup(): Promise<{ app: App; clock: FixedClock; recorder: Recorder }> {
  await db.connection.dropDatabase();
  const { app, clock } = await buildApp(db.connection);
  const recorder = new Recorder();
  app.addChannel(recorder);
  await seedDemoPeople(app, clock.now());
  return { app, clock, recorder };
}

/** A second process on the same database: what a restart looks like. */
async function restart(first: App, clock: FixedClock, recorder: Recorder): Promise<App> {
  await first.stop();
  const { app } = await buildApp(db.connection, clock);
  app.addChannel(recorder);
  return app;
}

const say = (app: App, senderId: string, text: string) => app.engine.handle(inbound(senderId, text));
const deliver = (app: App) => app.dispatchers.get("console")!.drain();
const chatOf = async (app: App, personId: Types.ObjectId) =>
  (await app.models.ChannelAccount.findOne({ personId }).lean())?.chatId ?? "";

describe("broadcasts", () => {
  it("reaches two units and the subscribers exactly once each, across a restart half-way", async () => {
    const { app, clock, recorder } = await setup();
    for (const id of ["dan-a", "dan-b", "dan-c", "dan-d"]) await say(app, id, "/dangky");
    await say(app, "dan-d", "/huydangky");
    await say(app, "dan-e", "/start");
    // A citizen who still carries a unit (as a deactivated official does) is not that unit's official.
    const danE = await consoleSpeaker(app, "dan-e");
    await app.models.Person.updateOne({ _id: danE.personId }, { $set: { unitId: "quan-ly-khoa-hoc" } });
    await deliver(app);
    recorder.delivered.length = 0;

    const office = await consoleSpeaker(app, "office");
    // Small batches, so that "half-way" is a real state: some recipients in the outbox, some not.
    const slow = new BroadcastService(app.models, app.outbox, app.subscriptions, clock, silentLogger(), {
      batchSize: 2,
    });
    const common = {
      files: [],
      filesChannel: "console",
      org: ORG,
      by: { personId: office.personId, name: office.name },
      now: clock.now(),
    };
    const unitsInput = {
      ...common,
      idempotencyKey: "confirm-units",
      text: "Kính mời các phòng dự họp giao ban tháng 10.",
      audience: "units" as const,
      unitKeys: ["ke-hoach-tai-chinh", "quan-ly-khoa-hoc"],
    };
    const toUnits = await slow.create(unitsInput);
    const toSubscribers = await slow.create({
      ...common,
      idempotencyKey: "confirm-subscribers",
      text: "Sở mở đợt đề xuất đặt hàng nhiệm vụ khoa học và công nghệ.",
      audience: "subscribers",
      unitKeys: [],
    });
    expect(toUnits.recipients).toHaveLength(3);
    expect(toSubscribers.recipients).toHaveLength(3);
    expect(toUnits.status).toBe("queued");

    expect((await slow.sendBatch(toUnits)).status).toBe("sending");
    expect((await slow.sendBatch(toSubscribers)).status).toBe("sending");
    // For the units, the crash came after the outbox write and before the cursor moved: the
    // resumed run writes that batch again, and only the outbox keys keep it from going out twice.
    await app.models.Broadcast.updateOne({ _id: toUnits._id }, { $set: { enqueued: 0, status: "queued" } });
    // The subscriber not yet in the outbox changes their mind before the rest is sent.
    const late = toSubscribers.recipients[2]!;
    await app.subscriptions.unsubscribe(late.toString(), clock.now());
    await app.dispatchers.get("console")!.dispatchOne();
    const midway = await slow.progress((await slow.byCode(toUnits.code))!);
    expect(midway).toMatchObject({ total: 3, finished: false });
    expect(midway.remaining).toBeGreaterThan(0);

    const second = await restart(app, clock, recorder);
    expect(await second.broadcasts.resume()).toBe(2);
    expect(await second.broadcasts.resume()).toBe(0);
    // The same confirmation handled again finds the same broadcast and adds nothing.
    const again = await second.broadcasts.create(unitsInput);
    expect(again._id.equals(toUnits._id)).toBe(true);
    await second.broadcasts.send(again);
    await deliver(second);
    expect(await second.models.Broadcast.countDocuments()).toBe(2);

    for (const chat of ["staff", "unit_head", "staff-khoahoc"]) {
      expect(recorder.to(chat, "giao ban tháng 10")).toHaveLength(1);
      expect(recorder.to(chat, "/huydangky")).toHaveLength(0);
    }
    for (const chat of ["office", "staff-vanphong", "leader", "admin", "dan-e"]) {
      expect(recorder.to(chat, "giao ban tháng 10")).toHaveLength(0);
    }
    const lateChat = await chatOf(second, late);
    for (const id of toSubscribers.recipients.slice(0, 2)) {
      const [message, ...more] = recorder.to(await chatOf(second, id), "đặt hàng nhiệm vụ");
      expect(more).toHaveLength(0);
      expect(message).toContain(tx.unsubscribeFooter);
      expect(message).toContain(`Thông báo của ${ORG}`);
    }
    for (const chat of [lateChat, "dan-d", "dan-e", "staff", "office"]) {
      expect(recorder.to(chat, "đặt hàng nhiệm vụ")).toHaveLength(0);
    }
    expect(recorder.delivered).toHaveLength(5);

    const units = await second.broadcasts.progress((await second.broadcasts.byCode(toUnits.code))!);
    expect(units).toEqual({ total: 3, sent: 3, dead: 0, remaining: 0, skipped: 0, finished: true });
    const subs = await second.broadcasts.progress((await second.broadcasts.byCode(toSubscribers.code))!);
    expect(subs).toEqual({ total: 3, sent: 2, dead: 0, remaining: 0, skipped: 1, finished: true });
  });

  it("replays the confirming update after a crash: one broadcast, one message per recipient", async () => {
    const { app, clock, recorder } = await setup();
    await say(app, "office", "/thongbao");
    await say(app, "office", "Lịch họp giao ban tháng 10 của các phòng, đơn vị.");
    await say(app, "office", tx.audience.unit_heads);
    const atConfirm = await app.models.Session.findOne({ key: "console:office:office" })
      .sort({ seq: -1 })
      .lean();
    expect(atConfirm?.step).toBe("confirm");
    const confirm = inbound("office", tx.send);
    await app.engine.handle(confirm);
    await deliver(app);
    expect(recorder.to("unit_head", "giao ban tháng 10")).toHaveLength(1);
    // The crash: the broadcast was saved and queued, but the update was never marked handled and
    // the flow's session never cleared; recovery on the next start handles it again. (The marks
    // this process holds are written first, or its stop would overwrite it.)
    await app.engine.idle();
    await app.models.Session.deleteMany({ key: "console:office:office", seq: { $gt: atConfirm!.seq } });
    await app.models.InboundRecord.updateOne(
      { dedupeKey: confirm.dedupeKey },
      {
        $set: {
          status: "received",
          claimedUntil: new Date(0),
          sealed: TEST_SEALER.seal(JSON.stringify(confirm)),
        },
      },
    );
    const second = await restart(app, clock, recorder);
    expect(await second.engine.recoverAbandoned()).toBe(1);
    await deliver(second);
    expect(await second.models.Broadcast.countDocuments()).toBe(1);
    expect(recorder.to("unit_head", "giao ban tháng 10")).toHaveLength(1);
    expect(recorder.to("office", "Đã đưa thông báo")).toHaveLength(1);
  });

  it("subscribes and unsubscribes idempotently, and never reaches a citizen who did not subscribe", async () => {
    const { app, recorder } = await setup();
    await say(app, "lan", "/dangky");
    await say(app, "lan", "/dangky");
    await say(app, "hoa", "/start");
    await deliver(app);
    expect(recorder.to("lan")).toEqual([tx.subscribed, tx.alreadySubscribed]);
    const lan = await consoleSpeaker(app, "lan");
    expect(await app.subscriptions.isSubscribed(lan.personId)).toBe(true);
    expect(await app.models.Subscription.countDocuments()).toBe(1);

    await say(app, "lan", "/huydangky");
    await say(app, "lan", "/huydangky");
    await deliver(app);
    expect(recorder.to("lan").slice(2)).toEqual([tx.unsubscribed, tx.notSubscribed]);
    expect(await app.subscriptions.isSubscribed(lan.personId)).toBe(false);

    // Officials audiences never include citizens; subscribers are nobody now.
    for (const audience of ["officials", "unit_heads", "subscribers"] as const) {
      const ids = (await app.broadcasts.recipients(audience, [])).map(String);
      expect(ids).not.toContain(lan.personId);
      expect(ids).not.toContain((await consoleSpeaker(app, "hoa")).personId);
    }
    expect(await app.broadcasts.recipients("subscribers", [])).toHaveLength(0);
    expect(await app.broadcasts.recipients("officials", [])).toHaveLength(7);
  });
});

describe("who may do what", () => {
  it("refuses /thongbao and every edit to those who may only read", async () => {
    const { app, recorder } = await setup();
    const attempts: [string, string, string][] = [
      ["citizen", "/thongbao", t.engine.forbidden("thongbao")],
      ["staff", "/thongbao", t.engine.forbidden("thongbao")],
      ["leader", "/thongbao tiendo", t.engine.forbidden("thongbao")],
      ["citizen", "/lichtiepdan sua 1", tx.editForbidden("lichtiepdan sua")],
      ["citizen", "/lichtiepdan them", tx.editForbidden("lichtiepdan them")],
      ["unit_head", "/lichtiepdan xoa 1", tx.editForbidden("lichtiepdan xoa")],
      ["citizen", "/lienhe sua", tx.editForbidden("lienhe sua")],
      ["staff", "/hoidap them", tx.editForbidden("hoidap them")],
      ["citizen", "/hoidap xoa 1", tx.editForbidden("hoidap xoa")],
    ];
    for (const [who, text, refusal] of attempts) {
      recorder.delivered.length = 0;
      await say(app, who, text);
      await deliver(app);
      expect(recorder.to(who), `${who} ${text}`).toEqual([refusal]);
    }
    expect(await liveSessions(app)).toEqual([]);
    expect(await app.publicInfo.slots()).toHaveLength(2);
    expect(await app.publicInfo.faqs()).toHaveLength(10);
  });

  it("stops a broadcast whose author lost the Office role half-way through writing it", async () => {
    const { app, recorder } = await setup();
    await say(app, "office", "/thongbao");
    await say(app, "office", "Thông báo thử nghiệm gửi toàn thể cán bộ.");
    await app.people.setRole((await consoleSpeaker(app, "office")).personId, "citizen");
    await deliver(app);
    recorder.delivered.length = 0;
    await say(app, "office", "1");
    await deliver(app);
    expect(recorder.to("office")).toEqual([t.engine.forbidden("thongbao")]);
    expect(await app.models.Broadcast.countDocuments()).toBe(0);
  });
});

describe("public information", () => {
  it("ships data/public that passes the same checks as the chat", () => {
    const data = readPublicData(path.join(DATA_DIR, "public"));
    expect(data.slots).toHaveLength(2);
    expect(data.faqs.length).toBeGreaterThanOrEqual(6);
    expect(data.faqs.length).toBeLessThanOrEqual(10);
    expect(data.contact.phone).toBe("0123 456 789");
  });

  it("points at a bad value in a data file, in Vietnamese", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "public-"));
    for (const file of ["reception.yaml", "faq.yaml"])
      writeFileSync(path.join(dir, file), readFileSync(path.join(DATA_DIR, "public", file)));
    writeFileSync(
      path.join(dir, "contacts.yaml"),
      readFileSync(path.join(DATA_DIR, "public", "contacts.yaml"), "utf8").replace("0123 456 789", "12345"),
    );
    expect(() => readPublicData(dir)).toThrow(`contacts.yaml: contact.phone: ${tx.badPhone}`);
  });

  it("updates the reception schedule and reads it back; a re-seed keeps the Office's edits", async () => {
    const { app, clock, recorder } = await setup();
    const first = (await app.publicInfo.slots())[0]!;
    await say(app, "office", "/lichtiepdan sua 1");
    await say(app, "office", tx.slotLabels.where);
    await say(app, "office", "P1");
    await say(app, "office", "Hội trường tầng 2, trụ sở Sở");
    await say(app, "office", tx.save);
    await deliver(app);
    expect(recorder.to("office", tx.tooShort(tx.slotLabels.where, 5))).toHaveLength(1);
    expect(recorder.to("office", tx.saved)).toHaveLength(1);

    const [updated] = await app.publicInfo.slots();
    expect(updated).toMatchObject({
      who: first.who,
      where: "Hội trường tầng 2, trụ sở Sở",
      updatedBy: "Nguyễn Thị Mai",
    });
    await seedPublicInfo(app, clock.now());
    expect((await app.publicInfo.slots())[0]?.where).toBe("Hội trường tầng 2, trụ sở Sở");

    await say(app, "citizen", "/lichtiepdan");
    await deliver(app);
    const [shown] = recorder.to("citizen");
    expect(shown).toContain(`${tx.slotLabels.where}: Hội trường tầng 2, trụ sở Sở`);
    expect(shown).toContain(tx.scheduleFooter);
    expect(shown).not.toContain(tx.scheduleEditHint);
  });
});

describe("frequent questions", () => {
  const entries = [
    { key: "a", keywords: ["giờ làm việc", "mấy giờ"] },
    { key: "b", keywords: ["nhãn hiệu", "sở hữu trí tuệ"] },
    { key: "c", keywords: ["đăng ký"] },
    { key: "d", keywords: ["mã vạch"] },
  ];

  it("matches keywords with or without diacritics, in any case and normalisation, on word boundaries", () => {
    expect(bestFaq("Sở làm việc mấy giờ?", entries)?.key).toBe("a");
    expect(bestFaq("so lam viec may gio", entries)?.key).toBe("a");
    expect(bestFaq("GIỜ LÀM VIỆC".normalize("NFD"), entries)?.key).toBe("a");
    expect(bestFaq("đăng ký nhãn hiệu ở đâu", entries)?.key).toBe("b");
    expect(bestFaq("dang ky o dau", entries)?.key).toBe("c");
    expect(bestFaq("mã vạchxyz", entries)).toBeUndefined();
    expect(bestFaq("xin chào", entries)).toBeUndefined();
  });

  it("answers a citizen's free text from the seeded list, still pointing to /gopy; not when a ticket awaits their reply", async () => {
    const { app, clock, recorder } = await setup();
    expect((await app.publicInfo.matchFaq("dang ky nhan hieu"))?.key).toBe("so-huu-tri-tue");
    expect((await app.publicInfo.matchFaq("Đăng ký nhãn hiệu".normalize("NFD")))?.key).toBe("so-huu-tri-tue");

    await say(app, "citizen", "gio lam viec cua so");
    await deliver(app);
    const [answer, ...rest] = recorder.to("citizen");
    expect(answer).toContain("Sở làm việc vào giờ nào, ở đâu?");
    expect(answer).toContain("/gopy");
    expect(rest).toHaveLength(0);

    // A citizen asked for more information answers the ticket, even in words a question would match.
    const citizen = await consoleSpeaker(app, "citizen");
    const office = await consoleSpeaker(app, "office");
    const { code } = await filedTicket(app, citizen, {
      idempotencyKey: "faq-ticket",
      type: "gop_y",
      content: "Góp ý về thủ tục đăng ký nhãn hiệu.",
    });
    await app.feedback.askInfo(code, "Anh/chị hỏi về nhãn hiệu nào?", office, clock.now());
    recorder.delivered.length = 0;
    await say(app, "citizen", "Nhãn hiệu sản phẩm cà phê của hợp tác xã");
    await deliver(app);
    expect(recorder.to("citizen")).toEqual([t.feedback.infoReceived(code)]);
  });
});
