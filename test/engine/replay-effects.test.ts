import { describe, expect, it } from "vitest";
import type { App } from "../../src/app.js";
import type { FixedClock } from "../../src/clock.js";
import type { ModelContent } from "../../src/domain/dvk/schema.js";
import type { Inbound } from "../../src/engine/message.js";
import type { LoadedSession } from "../../src/engine/session.js";
import { seedDemoPeople } from "../../src/seed.js";
import { t } from "../../src/text/vi.js";
import {
  atAnswerStep,
  buildApp,
  consoleSpeaker,
  fileTicket,
  TEST_SEALER,
  useDatabase,
} from "../support/db.js";
import { consoleInbound } from "../support/inbound.js";
import { RecordingSender } from "../support/recording-sender.js";

/**
 * A turn that changed a record (a ticket answered, a model appraised, an invite used) and died before
 * its replies were written is replayed by recovery. The replay must find its own change made and
 * tell the same people, not refuse it as a change from the wrong status: otherwise the citizen never
 * hears the answer and the Office is told it cannot be done.
 */
const db = useDatabase(import.meta.filename);

async function setup(): Promise<{ app: App; clock: FixedClock; sender: RecordingSender }> {
  await db.connection.dropDatabase();
  const { app, clock } = await buildApp(db.connection);
  await seedDemoPeople(app, clock.now());
  const sender = new RecordingSender();
  app.addChannel(sender);
  return { app, clock, sender };
}

/**
 * What a process that died mid-turn leaves: the update recorded with the flow state it arrived in,
 * and the effect its turn made (`effect`), but none of its replies. Then the claim lapses and
 * recovery replays the update.
 */
async function crashAfter(
  app: App,
  clock: FixedClock,
  update: Inbound,
  effect: (key: string) => Promise<unknown>,
): Promise<void> {
  const chat = `${update.channel}:${update.chatId}:${update.senderId}`;
  const loaded = await app.sessions.read(chat, clock.now());
  expect(await app.inbox.record(update, clock.now(), loaded.state ?? null, loaded.seq, loaded.stateId)).toBe(
    true,
  );
  // The key the turn's effects carry: the flow state it answers, else the update.
  await effect(loaded.state && loaded.stateId ? `state:${loaded.stateId}` : update.dedupeKey);
  clock.advance(61_000);
  expect(await app.engine.recoverAbandoned()).toBe(1);
  expect(await app.engine.handle(update)).toBe("duplicate");
  await app.dispatchers.get("console")?.drain();
}

/**
 * Puts an update's record back as a process killed before its "handled" mark leaves it:
 * received, its claim lapsed, sealed with the flow state its turn started from. `unsent`: none of
 * its messages written either; `attempts`: tried that often already.
 */
async function asCutOff(
  app: App,
  update: Inbound,
  loaded: LoadedSession,
  { unsent = false, attempts }: { unsent?: boolean; attempts?: number } = {},
): Promise<void> {
  if (unsent) await app.models.Outbox.deleteMany({ dedupeKey: { $regex: `^${update.dedupeKey}#` } });
  const { state, seq, stateId } = loaded;
  await app.models.InboundRecord.updateOne(
    { dedupeKey: update.dedupeKey },
    {
      $set: {
        status: "received",
        claimedUntil: new Date(0),
        ...(attempts !== undefined ? { attempts } : {}),
        sealed: TEST_SEALER.seal(JSON.stringify({ inbound: update, session: state ?? null, seq, stateId })),
      },
    },
  );
}

/** Recovery, once the cut-off update's claim has lapsed: what it delivers from there on is all `sender` holds. */
async function recoveredAfterItsClaim(app: App, clock: FixedClock, sender: RecordingSender): Promise<void> {
  sender.delivered.length = 0;
  clock.advance(61_000);
  expect(await app.engine.recoverAbandoned()).toBe(1);
  await app.dispatchers.get("console")?.drain();
}

const content: ModelContent = {
  name: "Mô hình một cửa số",
  field: "khoi_nghiep",
  unitKey: "ke-hoach-tai-chinh",
  personInCharge: "Người phụ trách",
  targetGroup: "Doanh nghiệp khởi nghiệp",
  content: "Nội dung và giải pháp của mô hình thử nghiệm.",
  expectedResults: "Kết quả dự kiến của mô hình thử nghiệm.",
  startDay: "2025-03-01",
  endDay: "2025-12-31",
};

describe("a replayed turn whose change was already made", () => {
  it("/xuly answer: the citizen gets the answer and the Office its confirmation, once", async () => {
    const { app, clock, sender } = await setup();
    const citizen = await consoleSpeaker(app, "citizen");
    const office = await consoleSpeaker(app, "office");
    const code = await fileTicket(
      app,
      citizen,
      "file-1",
      "Đề nghị Sở công khai lịch tiếp công dân trên cổng thông tin.",
    );
    await atAnswerStep(app, code);
    const answer = "Sở đã đăng lịch tiếp công dân tại mục Thông báo.";
    const last = consoleInbound("office", answer);
    await crashAfter(app, clock, last, (key) => app.feedback.answer(code, answer, office, clock.now(), key));

    expect(sender.to("citizen")).toEqual([t.feedback.toFiler.answer(code, answer)]);
    expect(sender.to("office").at(-1)).toBe(t.feedback.done.answered(code));
    const ticket = await app.models.Ticket.findOne({ code }).lean();
    expect(ticket?.history.filter((h) => h.action === "answered")).toHaveLength(1);
  });

  it("/xuly answer typed again as a new message is still refused: only the same update replays", async () => {
    const { app, clock } = await setup();
    const citizen = await consoleSpeaker(app, "citizen");
    const office = await consoleSpeaker(app, "office");
    const code = await fileTicket(
      app,
      citizen,
      "file-2",
      "Góp ý về giờ làm việc của bộ phận một cửa.",
      "gop_y",
    );
    await app.feedback.answer(code, "Đã tiếp thu.", office, clock.now(), "u1");
    await expect(app.feedback.answer(code, "Đã tiếp thu.", office, clock.now(), "u2")).rejects.toThrow(
      "bad_state",
    );
  });

  it("/duyet: the unit is told the decision, once", async () => {
    const { app, clock, sender } = await setup();
    const staff = await consoleSpeaker(app, "staff");
    const office = await consoleSpeaker(app, "office");
    const model = await app.dvk.register(content, staff, "2025-03-20", clock.now(), "reg-1");
    await app.engine.handle(consoleInbound("office", `/duyet ${model.code}`));
    await app.engine.handle(consoleInbound("office", "", { choice: "passed" }));
    const comment = "Mô hình đạt yêu cầu, đề nghị nhân rộng.";
    const last = consoleInbound("office", comment);
    await crashAfter(app, clock, last, (key) =>
      app.dvk.decide(model.code, "passed", comment, office, clock.now(), key),
    );

    const notices = sender.to("staff").filter((text) => text.startsWith(`Mô hình ${model.code}`));
    expect(notices).toHaveLength(1);
    expect(sender.to("office").at(-1)).toBe(t.dvk.decided(model.code, t.dvk.status("passed")));
    expect((await app.models.DvkModel.findOne({ code: model.code }).lean())?.history).toHaveLength(2);
  });

  it("/start CODE: an invite claimed (or marked used) by a turn that died is finished, not burned", async () => {
    for (const diedAfter of ["claim", "usedAt"] as const) {
      const { app, clock, sender } = await setup();
      const office = await consoleSpeaker(app, "office");
      const invite = await app.invites.create("ke-hoach-tai-chinh", "staff", office.personId, clock.now());
      const newcomer = await consoleSpeaker(app, `newcomer-${diedAfter}`);
      const update = consoleInbound(`newcomer-${diedAfter}`, `/start ${invite.code}`);
      await crashAfter(app, clock, update, async (key) => {
        await app.claims.take(`invite:${invite.code}`, newcomer.accountId, clock.now());
        if (diedAfter === "usedAt") {
          await app.models.Invite.updateOne(
            { _id: invite._id },
            { $set: { usedAt: clock.now(), usedBy: newcomer.personId, usedByUpdate: key } },
          );
        }
      });
      const again = await consoleSpeaker(app, `newcomer-${diedAfter}`);
      expect([diedAfter, again.role, again.unitId]).toEqual([diedAfter, "staff", "ke-hoach-tai-chinh"]);
      expect(sender.to(`newcomer-${diedAfter}`).join("\n")).not.toContain(t.officials.inviteRefused.used);
      // Nobody else can use it afterwards.
      const other = consoleInbound("someone-else", `/start ${invite.code}`);
      await app.engine.handle(other);
      await app.dispatchers.get("console")?.drain();
      expect(sender.to("someone-else")).toEqual([t.officials.inviteRefused.used]);
    }
  });

  it("/start CODE sent again by a deactivated official gives no role back", async () => {
    const { app, clock, sender } = await setup();
    const office = await consoleSpeaker(app, "office");
    const invite = await app.invites.create("ke-hoach-tai-chinh", "staff", office.personId, clock.now());
    await app.engine.handle(consoleInbound("leaver", `/start ${invite.code}`));
    const joined = await consoleSpeaker(app, "leaver");
    expect(joined.role).toBe("staff");
    await app.people.deactivate(joined.personId);
    clock.advance(3_600_000);
    await app.engine.handle(consoleInbound("leaver", `/start ${invite.code}`));
    await app.dispatchers.get("console")?.drain();
    const after = await app.models.Person.findById(joined.personId).lean();
    expect(after?.role).not.toBe("staff");
    expect(sender.to("leaver").at(-1)).toBe(t.officials.inviteRefused.used);
  });

  it("/xuly answer cut off after its change, then the Office writes again: the citizen still hears", async () => {
    const { app, clock, sender } = await setup();
    const citizen = await consoleSpeaker(app, "citizen");
    const office = await consoleSpeaker(app, "office");
    const code = await fileTicket(
      app,
      citizen,
      "file-3",
      "Đề nghị Sở kéo dài giờ tiếp nhận hồ sơ vào thứ Bảy.",
    );
    await atAnswerStep(app, code);
    const answer = "Sở sẽ tiếp nhận hồ sơ sáng thứ Bảy từ tháng sau.";
    const last = consoleInbound("office", answer);
    // The dead turn got as far as its change and the end of the flow, not its messages.
    const chat = "console:office:office";
    const loaded = await app.sessions.read(chat, clock.now());
    await app.inbox.record(last, clock.now(), loaded.state ?? null, loaded.seq, loaded.stateId);
    await app.feedback.answer(code, answer, office, clock.now(), `state:${loaded.stateId}`);
    await app.sessions.end(chat, loaded.seq, last.dedupeKey, clock.now());
    // Hearing nothing, the Office asks for the list before recovery comes round.
    await app.engine.handle(consoleInbound("office", "/phananh"));
    clock.advance(61_000);
    expect(await app.engine.recoverAbandoned()).toBe(1);
    await app.dispatchers.get("console")?.drain();
    expect(sender.to("citizen")).toEqual([t.feedback.toFiler.answer(code, answer)]);
    expect(sender.to("office")).toContain(t.feedback.done.answered(code));
  });

  it("an update that failed on every try is given up with an apology, not in silence", async () => {
    const { app, clock, sender } = await setup();
    const update = consoleInbound("citizen", "/start");
    await app.inbox.record(update, clock.now());
    // As the record stands after three tries that each ended with the database failing.
    await app.models.InboundRecord.updateOne(
      { dedupeKey: update.dedupeKey },
      { $set: { attempts: 3, claimedUntil: new Date(0) } },
    );
    await app.engine.recoverAbandoned();
    await app.dispatchers.get("console")?.drain();
    expect(sender.to("citizen")).toEqual([t.engine.internalError]);
    expect((await app.models.InboundRecord.findOne({ dedupeKey: update.dedupeKey }).lean())?.status).toBe(
      "failed",
    );
  });

  /**
   * The whole turn ran (its entry made, its replies written) and the process died before its
   * "handled" mark; with `beforeItsCommit`, before it wrote the chat's next state (or, outside any
   * flow, its decision) too, between its effect and that write: recovery then runs it again from
   * the state it started in, and the run must find its effect made.
   */
  async function replayedAfterItsMarkWasLost(
    app: App,
    clock: FixedClock,
    chat: string,
    text: string,
    beforeItsCommit = false,
  ) {
    const key = `console:${chat}:${chat}`;
    const loaded = await app.sessions.read(key, clock.now());
    const last = consoleInbound(chat, text);
    expect(await app.engine.handle(last)).toBe("handled");
    // The marks this process holds are written first, or they would overwrite the crash's record.
    await app.engine.idle();
    if (beforeItsCommit) {
      await app.models.Session.deleteMany({ key, update: last.dedupeKey });
      await app.models.Decision.deleteMany({ _id: last.dedupeKey });
    }
    await asCutOff(app, last, loaded);
    clock.advance(61_000);
    expect(await app.engine.recoverAbandoned()).toBe(1);
    await app.dispatchers.get("console")?.drain();
  }

  it("/hoidap them: the confirming turn run again adds no second question", async () => {
    const { app, clock } = await setup();
    const before = await app.models.Faq.countDocuments();
    for (const text of [
      "/hoidap them",
      "Sở có cho mượn hội trường không?",
      "hội trường, mượn phòng họp",
      "Hội trường của Sở chỉ phục vụ hoạt động của cơ quan.",
    ])
      await app.engine.handle(consoleInbound("office", text));
    await replayedAfterItsMarkWasLost(app, clock, "office", "Lưu", true);
    expect(await app.models.Faq.countDocuments()).toBe(before + 1);
  });

  it("/moi: the turn that made the invite run again makes no second invite", async () => {
    const { app, clock, sender } = await setup();
    await app.engine.handle(consoleInbound("office", "/moi"));
    await app.engine.handle(consoleInbound("office", "Chuyển đổi số"));
    await replayedAfterItsMarkWasLost(app, clock, "office", t.people.role("staff"), true);
    expect(await app.models.Invite.countDocuments()).toBe(1);
    const told = sender
      .to("office")
      .filter((text) => text.includes(t.people.role("staff")) && /[A-Z0-9]{8}/.test(text));
    expect(told.length).toBeGreaterThanOrEqual(1);
  });

  it("/lienket: the turn that made a link code run again tells the same code and makes no second", async () => {
    const { app, clock, sender } = await setup();
    await replayedAfterItsMarkWasLost(app, clock, "citizen", "/lienket", true);
    expect(await app.models.LinkCode.countDocuments()).toBe(1);
    const codes = sender.to("citizen").map((text) => /\b[A-Z2-9]{8}\b/.exec(text)?.[0]);
    expect(codes).toHaveLength(1);
    expect(codes[0]).toBeDefined();
  });

  it("/lienket CODE: a link made and replayed is not counted a wrong guess", async () => {
    const { app, clock, sender } = await setup();
    const owner = await consoleSpeaker(app, "citizen");
    const { code } = await app.people.createLinkCode(owner.personId, clock.now(), "test:link");
    await replayedAfterItsMarkWasLost(app, clock, "other", `/lienket ${code}`, true);
    expect(sender.to("other")).toEqual([t.basics.linked]);
    expect(await app.models.GuessFailure.countDocuments()).toBe(0);
  });

  it("/tracuu with a wrong code run again counts one wrong guess, not two", async () => {
    const { app, clock } = await setup();
    await replayedAfterItsMarkWasLost(app, clock, "citizen", "/tracuu PA-2026-999999", true);
    // One against the account, one against the code.
    expect(await app.models.GuessFailure.countDocuments()).toBe(2);
  });

  it("/start with a wrong invite code run again counts one wrong code, not two", async () => {
    const { app, clock } = await setup();
    await replayedAfterItsMarkWasLost(app, clock, "citizen", "/start WRONGCODE1", true);
    expect(await app.models.InviteFailure.countDocuments()).toBe(1);
  });

  it("a flow's last step that wrote its state is not run again: a later change stands, its answer is sent", async () => {
    const { app, clock, sender } = await setup();
    const edit = async (phone: string) => {
      for (const text of ["/lienhe sua", "Điện thoại", phone])
        await app.engine.handle(consoleInbound("office", text));
    };
    await edit("0251 3822 123");
    // Saved, its state and its confirmation written; the process dies before the update's mark,
    // and before its confirmation was sent.
    const save = consoleInbound("office", "Lưu");
    const loaded = await app.sessions.read("console:office:office", clock.now());
    expect(await app.engine.handle(save)).toBe("handled");
    await app.engine.idle();
    await asCutOff(app, save, loaded, { unsent: true });
    // The Office, on another instance, changes the number again before recovery comes round.
    await edit("0912 345 678");
    await app.engine.handle(consoleInbound("office", "Lưu"));
    await app.dispatchers.get("console")?.drain();
    clock.advance(61_000);
    sender.delivered.length = 0;
    expect(await app.engine.recoverAbandoned()).toBe(1);
    await app.dispatchers.get("console")?.drain();
    expect((await app.publicInfo.contact())?.phone).toBe("0912 345 678");
    // Its confirmation ended the flow, so it is still told.
    const told = sender.to("office");
    expect(told).toHaveLength(1);
    expect(told[0]).toContain("Điện thoại: 0251 3822 123");
    expect((await app.models.InboundRecord.findOne({ dedupeKey: save.dedupeKey }).lean())?.status).toBe(
      "handled",
    );
  });

  it("a command outside any flow that wrote its decision is not run again: a later change stands, its answer is sent", async () => {
    const { app, clock, sender } = await setup();
    const citizen = await consoleSpeaker(app, "citizen");
    // Subscribed, its confirmation decided and kept; the process dies before the update's mark,
    // and before the confirmation was written as sent.
    const subscribe = consoleInbound("citizen", "/dangky");
    const loaded = await app.sessions.read("console:citizen:citizen", clock.now());
    expect(await app.engine.handle(subscribe)).toBe("handled");
    await app.dispatchers.get("console")?.drain();
    await app.engine.idle();
    await asCutOff(app, subscribe, loaded, { unsent: true });
    // The citizen, on another instance, unsubscribes before recovery comes round.
    await app.engine.handle(consoleInbound("citizen", "/huydangky"));
    await app.dispatchers.get("console")?.drain();
    expect(await app.subscriptions.isSubscribed(citizen.personId)).toBe(false);
    await recoveredAfterItsClaim(app, clock, sender);
    expect(await app.subscriptions.isSubscribed(citizen.personId)).toBe(false);
    // What the cut-off turn decided, sent again: nothing run again.
    expect(sender.to("citizen")).toEqual([t.announcements.subscribed]);
    expect((await app.models.InboundRecord.findOne({ dedupeKey: subscribe.dedupeKey }).lean())?.status).toBe(
      "handled",
    );
  });

  it("a run of an update whose commit stood already sends what that one kept, and the chat stays at its state", async () => {
    const { app, clock } = await setup();
    const said = (text: string) => [
      { to: { channel: "console" as const, chatId: "citizen" }, text, dedupeKey: `u#r1` },
    ];
    const texts = (outbound: { text: string }[] | undefined) => outbound?.map((o) => o.text);
    // Outside any flow: the decision that stood is returned, to be sent instead.
    expect(await app.decisions.write("u-free", said("trước"), clock.now())).toBeUndefined();
    expect(texts(await app.decisions.write("u-free", said("sau"), clock.now()))).toEqual(["trước"]);
    // In a flow: the same for the state, and the chat is where that state left it, not this run.
    const chat = "console:citizen:citizen";
    const { seq } = await app.sessions.read(chat, clock.now());
    const state = {
      flow: "gopy",
      version: 1,
      step: "first",
      expiresAt: new Date(clock.now().getTime() + 3_600_000),
      data: {},
    };
    expect(await app.sessions.save(chat, seq, state, "u-flow", clock.now(), said("trước"))).toBeUndefined();
    const again = await app.sessions.save(
      chat,
      seq,
      { ...state, step: "other" },
      "u-flow",
      clock.now(),
      said("sau"),
    );
    expect(texts(again)).toEqual(["trước"]);
    expect((await app.sessions.current(chat, clock.now())).state?.step).toBe("first");
  });

  it("a citizen's answer to a request for information, run again, goes onto the ticket it went onto", async () => {
    const { app, clock, sender } = await setup();
    const citizen = await consoleSpeaker(app, "citizen");
    const office = await consoleSpeaker(app, "office");
    const code = await fileTicket(app, citizen, "info-1", "Kiến nghị về thủ tục đăng ký nhãn hiệu.");
    await app.feedback.askInfo(code, "Anh/chị hỏi về nhãn hiệu nào?", office, clock.now());
    await app.dispatchers.get("console")?.drain();
    sender.delivered.length = 0;
    await replayedAfterItsMarkWasLost(app, clock, "citizen", "Lô hàng số 4471, giao ngày 2 tháng 10", true);
    expect(sender.to("citizen")).toEqual([t.feedback.infoReceived(code)]);
    const ticket = await app.feedback.byCode(code);
    expect(ticket?.history.filter((h) => h.action === "citizen_info")).toHaveLength(1);
    // Nothing else started: no offer to send the words as new feedback.
    expect((await app.sessions.read("console:citizen:citizen", clock.now())).state).toBeUndefined();
  });

  it("/hoidap xoa 1 run again removes no second question (the next has taken number 1)", async () => {
    const { app, clock, sender } = await setup();
    const [first, second] = await app.publicInfo.faqs();
    expect(second).toBeDefined();
    const before = (await app.publicInfo.faqs()).length;
    await replayedAfterItsMarkWasLost(app, clock, "office", "/hoidap xoa 1", true);
    const after = await app.publicInfo.faqs();
    expect(after).toHaveLength(before - 1);
    expect(after[0]?.question).toBe(second?.question);
    expect(sender.to("office")).toEqual([t.announcements.faqRemoved("1", first?.question ?? "")]);
  });

  it("an update tried too often whose state stands sends what it decided, not the apology", async () => {
    const { app, clock, sender } = await setup();
    await app.engine.handle(consoleInbound("citizen", "/lienhe"));
    const start = consoleInbound("citizen", "/gopy");
    const loaded = await app.sessions.read("console:citizen:citizen", clock.now());
    expect(await app.engine.handle(start)).toBe("handled");
    await app.engine.idle();
    await app.dispatchers.get("console")?.drain();
    // As the record stands after three tries cut off after the state was written.
    await asCutOff(app, start, loaded, { unsent: true, attempts: 3 });
    await recoveredAfterItsClaim(app, clock, sender);
    const told = sender.to("citizen");
    expect(told).toHaveLength(1);
    expect(told).not.toContain(t.engine.internalError);
    expect((await app.models.InboundRecord.findOne({ dedupeKey: start.dedupeKey }).lean())?.status).toBe(
      "handled",
    );
  });

  it("an update tried too often is claimed while it is given up: no other instance takes it meanwhile", async () => {
    const { app, clock } = await setup();
    const start = consoleInbound("citizen", "/gopy");
    const loaded = await app.sessions.read("console:citizen:citizen", clock.now());
    expect(await app.engine.handle(start)).toBe("handled");
    await app.engine.idle();
    await asCutOff(app, start, loaded, { attempts: 3 });
    clock.advance(61_000);
    const taken = await app.inbox.claimAbandoned(clock.now(), "instance-a");
    expect(taken?.exhausted).toBe(true);
    // The same instance's next pass, while it deals with it: not taken again.
    expect(await app.inbox.claimAbandoned(clock.now(), "instance-a")).toBeUndefined();
    // Another instance's pass, before the first has dealt with it: nothing to take.
    expect(await app.inbox.claimAbandoned(clock.now(), "instance-b")).toBeUndefined();
    const record = await app.models.InboundRecord.findOne({ dedupeKey: start.dedupeKey }).lean();
    expect(record?.claimedUntil.getTime()).toBeGreaterThan(clock.now().getTime());
  });

  it("an update that ran again on a newer state, its record left behind, is recovered from the state it wrote", async () => {
    const { app, clock, sender } = await setup();
    const key = "console:office:office";
    await app.engine.handle(consoleInbound("office", "/lienhe sua"));
    // The state U was first recorded at; another message (V) then moved the chat on.
    const first = await app.sessions.read(key, clock.now());
    await app.engine.handle(consoleInbound("office", "Điện thoại"));
    // U answered V's state and wrote the next one, but its record still names the first (the
    // write that re-records it was refused), and it died before its reply was written.
    const u = consoleInbound("office", "0251 3822 123");
    expect(await app.engine.handle(u)).toBe("handled");
    await app.engine.idle();
    await app.dispatchers.get("console")?.drain();
    await asCutOff(app, u, first, { unsent: true });
    await recoveredAfterItsClaim(app, clock, sender);
    const told = sender.to("office");
    expect(told).toHaveLength(1);
    expect(told[0]).toContain("0251 3822 123");
  });
});
