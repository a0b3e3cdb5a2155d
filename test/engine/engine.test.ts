import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { App } from "../../src/app.js";
import type { FixedClock } from "../../src/clock.js";
import { ROLES } from "../../src/domain/people/roles.js";
import { SendError, type ChannelSender, type Delivery } from "../../src/engine/channel.js";
import { Inbox } from "../../src/engine/inbox.js";
import { Sealer } from "../../src/privacy/sealer.js";
import { t } from "../../src/text/vi.js";
import { buildApp, liveSession, ORG, TEST_SEALER, useDatabase } from "../support/db.js";
import { consoleInbound } from "../support/inbound.js";

const db = useDatabase(import.meta.filename);

const inbound = consoleInbound;

/** A sender that records what it delivered and fails the way it is told to. */
class RecordingSender implements ChannelSender {
  readonly channel = "console" as const;
  readonly delivered: Delivery[] = [];
  failures: SendError[] = [];
  async send(delivery: Delivery) {
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.delivered.push(delivery);
    return { messageIds: [`p${this.delivered.length}`] };
  }
}

async function setup(): Promise<{ app: App; clock: FixedClock; sender: RecordingSender }> {
  await db.connection.dropDatabase();
  const { app, clock } = await buildApp(db.connection);
  const sender = new RecordingSender();
  app.addChannel(sender, { baseBackoffMs: 1000 });
  return { app, clock, sender };
}

async function deliver(app: App): Promise<void> {
  await app.dispatchers.get("console")?.drain();
}

describe("engine", () => {
  it("handles a redelivered update once", async () => {
    const { app, sender } = await setup();
    const update = inbound("citizen", "/start");
    expect(await app.engine.handle(update)).toBe("handled");
    expect(await app.engine.handle({ ...update })).toBe("duplicate");
    await deliver(app);
    expect(sender.delivered).toHaveLength(1);
    expect(await app.models.InboundRecord.countDocuments({ dedupeKey: update.dedupeKey })).toBe(1);
    expect(await app.models.Outbox.countDocuments()).toBe(1);
  });

  // About 300 turns (every command for every role): a timeout of its own, so a busy machine slows
  // it without failing it (and without leaving it running into the next test); nothing here
  // measures speed.
  it("gates every command by role, and /help lists exactly what the role may use", async () => {
    const { app, sender } = await setup();
    for (const role of ROLES) {
      await app.engine.handle(inbound(role, "/help"));
      await deliver(app);
      // Chats are delivered side by side: the answer is the last message to this role's chat.
      const help = sender.delivered.filter((d) => d.chatId === role).at(-1)?.text ?? "";
      const sent: { command: string; key: string }[] = [];
      for (const command of app.engine.commands.all()) {
        const allowed = command.roles.includes(role);
        expect(
          help.includes(`${command.usage ?? `/${command.name}`} — `),
          `${role} /help ${command.name}`,
        ).toBe(allowed);
        const update = inbound(role, `/${command.name}`);
        await app.engine.handle(update);
        sent.push({ command: command.name, key: update.dedupeKey });
      }
      for (const { command, key } of sent) {
        const replies = await app.models.Outbox.find({
          dedupeKey: { $regex: `^${key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}#` },
        }).lean();
        const refused = replies.some((r) => app.outbox.textOf(r) === t.engine.forbidden(command));
        const allowed = app.engine.commands.find(command)?.roles.includes(role) ?? false;
        expect(refused, `${role} /${command}`).toBe(!allowed);
        expect(replies.length, `${role} /${command} answered`).toBeGreaterThan(0);
      }
    }
  }, 180_000);

  it("says it cannot read a sticker, in a flow or not, and the flow waits", async () => {
    const { app, sender } = await setup();
    const sticker = { attachments: [{ kind: "sticker" as const, ref: "st-1" }] };
    await app.engine.handle(inbound("citizen", "", sticker));
    await app.engine.handle(inbound("admin", "/phanquyen"));
    await app.engine.handle(inbound("admin", "", sticker));
    await deliver(app);
    expect(
      sender.delivered.filter((d) => d.text === t.channels.unsupportedMessage).map((d) => d.chatId),
    ).toEqual(["citizen", "admin"]);
    expect((await liveSession(app, "console:admin:admin"))?.flow).toBe("phanquyen");
  });

  it("answers an unknown command politely", async () => {
    const { app, sender } = await setup();
    await app.engine.handle(inbound("citizen", "/khongco abc"));
    await deliver(app);
    expect(sender.delivered[0]?.text).toBe(t.engine.unknownCommand("khongco"));
  });

  it("retries a message after a failing sender with back-off and delivers it once", async () => {
    const { app, clock, sender } = await setup();
    sender.failures = [new SendError("network", "ECONNRESET"), new SendError("network", "ETIMEDOUT")];
    await app.engine.handle(inbound("citizen", "/start"));
    await deliver(app);
    expect(sender.delivered).toHaveLength(0);
    const waiting = await app.models.Outbox.findOne().lean();
    expect(waiting).toMatchObject({ status: "pending", attempts: 1, lastError: "ECONNRESET" });
    expect(waiting?.nextAttemptAt.getTime()).toBe(clock.now().getTime() + 1000);

    clock.advance(1000);
    await deliver(app);
    const again = await app.models.Outbox.findOne().lean();
    expect(again).toMatchObject({ status: "pending", attempts: 2 });
    expect(again?.nextAttemptAt.getTime()).toBe(clock.now().getTime() + 2000);

    clock.advance(2000);
    await deliver(app);
    await deliver(app);
    expect(sender.delivered).toHaveLength(1);
    expect(await app.models.Outbox.findOne().lean()).toMatchObject({
      status: "sent",
      attempts: 3,
      platformMessageIds: ["p1"],
    });
  });

  it("keeps each chat's messages in order behind a retry, while other chats go on", async () => {
    const { app, clock, sender } = await setup();
    sender.failures = [new SendError("network", "ECONNRESET")];
    await app.outbox.enqueue([
      { to: { channel: "console", chatId: "a" }, text: "A1", dedupeKey: "order:a1" },
      { to: { channel: "console", chatId: "a" }, text: "A2", dedupeKey: "order:a2" },
      { to: { channel: "console", chatId: "b" }, text: "B1", dedupeKey: "order:b1" },
    ]);
    await deliver(app);
    expect(sender.delivered.map((d) => d.text)).toEqual(["B1"]);
    clock.advance(1000);
    await deliver(app);
    expect(sender.delivered.map((d) => d.text)).toEqual(["B1", "A1", "A2"]);
  });

  it("waits as long as a rate limit says without counting it as a failure", async () => {
    const { app, clock, sender } = await setup();
    sender.failures = [new SendError("rate_limited", "Too Many Requests", 7000)];
    await app.engine.handle(inbound("citizen", "/start"));
    await deliver(app);
    const waiting = await app.models.Outbox.findOne().lean();
    expect(waiting).toMatchObject({ status: "pending", attempts: 0 });
    expect(waiting?.nextAttemptAt.getTime()).toBe(clock.now().getTime() + 7000);
    clock.advance(6999);
    await deliver(app);
    expect(sender.delivered).toHaveLength(0);
    clock.advance(1);
    await deliver(app);
    expect(sender.delivered).toHaveLength(1);
  });

  it("sends a message whose claimer died between taking the claim and marking it, once the lease lapses", async () => {
    const { app, clock, sender } = await setup();
    await app.engine.handle(inbound("citizen", "/start"));
    const written = await app.models.Outbox.findOne().lean();
    // The crash: a dispatcher inserted the claim key, then the process died before the message
    // was marked "sending" (claimSeq still 0), so the key stays taken.
    await app.models.Claim.create({
      key: `outbox:${written!._id.toString()}:0`,
      owner: "a-dead-worker",
      createdAt: clock.now(),
    });
    await deliver(app);
    expect(sender.delivered).toHaveLength(0);
    clock.advance(61_000);
    await deliver(app);
    await deliver(app);
    expect(sender.delivered.map((d) => d.text)).toEqual([t.basics.greeting(ORG, undefined)]);
    expect(await app.models.Outbox.findOne().lean()).toMatchObject({ status: "sent", attempts: 1 });
  });

  it("recovers an update whose recoverer died between taking the claim and recording it", async () => {
    const { app, clock, sender } = await setup();
    const update = inbound("citizen", "/start");
    await app.inbox.record(update, clock.now());
    clock.advance(61_000);
    // A recovery took the claim key and died before bumping the record's counter.
    await app.models.Claim.create({
      key: `inbound:${update.dedupeKey}:0`,
      owner: "a-dead-worker",
      createdAt: clock.now(),
    });
    expect(await app.engine.recoverAbandoned()).toBe(0);
    clock.advance(61_000);
    expect(await app.engine.recoverAbandoned()).toBe(1);
    await deliver(app);
    expect(sender.delivered.map((d) => d.text)).toEqual([t.basics.greeting(ORG, undefined)]);
  });

  it("gives up on a blocked chat and marks the account, until the person writes again", async () => {
    const { app, sender } = await setup();
    sender.failures = [new SendError("blocked", "Forbidden: bot was blocked by the user")];
    await app.engine.handle(inbound("citizen", "/start"));
    await deliver(app);
    expect(await app.models.Outbox.findOne().lean()).toMatchObject({ status: "dead" });
    const account = await app.models.ChannelAccount.findOne({ externalId: "citizen" }).lean();
    expect(account?.blockedAt).toBeInstanceOf(Date);
    expect(await app.people.contactOf(account!.personId.toString())).toBeUndefined();
    await app.engine.handle(inbound("citizen", "/start"));
    expect(
      (await app.models.ChannelAccount.findOne({ externalId: "citizen" }).lean())?.blockedAt,
    ).toBeUndefined();
  });

  it("ties a reply to the subject of the message replied to, by platform message id", async () => {
    const { app, sender } = await setup();
    const seen: string[] = [];
    app.engine.use({
      name: "test-replies",
      replyHandlers: {
        task: (turn, subject) => {
          seen.push(`${subject.kind}:${subject.id}:${turn.inbound.text}`);
        },
      },
    });
    await app.engine.handle(inbound("staff", "/start"));
    await app.outbox.enqueue([
      {
        to: { channel: "console", chatId: "staff" },
        text: "Nhắc hạn nhiệm vụ II.1",
        subject: { kind: "task", id: "DVCQ-Q4-2025:II.1" },
        dedupeKey: "reminder:1",
      },
    ]);
    await deliver(app);
    const reminderId = `p${sender.delivered.findIndex((d) => d.text.startsWith("Nhắc hạn")) + 1}`;
    expect(reminderId).toBe("p2");
    expect(await app.links.subjectOf("console", "staff", reminderId)).toEqual({
      kind: "task",
      id: "DVCQ-Q4-2025:II.1",
    });
    await app.engine.handle(inbound("staff", "xong rồi", { replyToMessageId: reminderId }));
    await app.engine.handle(inbound("staff", "không trả lời tin nào"));
    await app.engine.handle(inbound("staff", "trả lời tin không về việc gì", { replyToMessageId: "p1" }));
    expect(seen).toEqual(["task:DVCQ-Q4-2025:II.1:xong rồi"]);
    // A reply to a message the bot never recorded sending (sent, then the bot died before its
    // record, and sent it again): read by the reminders recently sent, not as free text.
    await app.engine.handle(inbound("staff", "đã xong 80%", { replyToMessageId: "p77" }));
    expect(seen).toEqual(["task:DVCQ-Q4-2025:II.1:xong rồi", "task:DVCQ-Q4-2025:II.1:đã xong 80%"]);
  });

  it("handles an update again after a crash cut it off, and sends its reply once", async () => {
    const { app, clock, sender } = await setup();
    const update = inbound("citizen", "/start");
    // The crash: the update was recorded, then the process died before handling it.
    await new Inbox(app.models.InboundRecord, app.claims, TEST_SEALER).record(update, clock.now());
    expect(await app.engine.recoverAbandoned()).toBe(0);
    clock.advance(61_000);
    expect(await app.engine.recoverAbandoned()).toBe(1);
    expect(await app.engine.recoverAbandoned()).toBe(0);
    expect(await app.engine.handle(update)).toBe("duplicate");
    await deliver(app);
    expect(sender.delivered.map((d) => d.text)).toEqual([t.basics.greeting(ORG, undefined)]);
    expect(await app.models.InboundRecord.findOne({ dedupeKey: update.dedupeKey }).lean()).toMatchObject({
      status: "handled",
      attempts: 2,
    });
  });

  it("keeps what people typed only sealed: in the inbox until handled, in the outbox always", async () => {
    const { app, clock, sender } = await setup();
    const update = inbound("citizen", "/start Nguyễn Văn Bảo 0912 345 678");
    const inbox = new Inbox(app.models.InboundRecord, app.claims, TEST_SEALER);
    await inbox.record(update, clock.now());
    const waiting = await app.models.InboundRecord.collection.findOne({ dedupeKey: update.dedupeKey });
    expect(JSON.stringify(waiting)).not.toContain("0912 345 678");
    expect(waiting?.sealed).toMatch(/^s1\.test\./);
    clock.advance(61_000);
    expect(await app.engine.recoverAbandoned()).toBe(1);
    // Its decision stands, so its mark is held with the others of the next seconds.
    await app.engine.idle();
    const handled = await app.models.InboundRecord.collection.findOne({ dedupeKey: update.dedupeKey });
    expect(handled).toMatchObject({ status: "handled" });
    expect(handled).not.toHaveProperty("sealed");
    const reply = await app.models.Outbox.collection.findOne({});
    expect(reply?.textSealed).toMatch(/^s1\.test\./);
    expect(reply).not.toHaveProperty("text");
    await deliver(app);
    expect(sender.delivered.map((d) => d.text)).toEqual([t.basics.greeting(ORG, undefined)]);
  });

  it("forgets what was said once the retention period is over, keeping the delivery records", async () => {
    const { app, clock, sender } = await setup();
    await app.engine.handle(inbound("citizen", "/start"));
    await deliver(app);
    const [first] = await app.models.Outbox.find().lean();
    clock.advance(89 * 86_400_000);
    const recent = inbound("citizen", "/help");
    await app.engine.handle(recent);
    await app.sweep();
    // A handled update's record is kept a week, while a platform may deliver it again.
    expect((await app.models.InboundRecord.find().lean()).map((r) => r.dedupeKey)).toEqual([
      recent.dedupeKey,
    ]);
    // What a turn decided is kept only while recovery may want it: a day.
    expect((await app.models.Decision.find().lean()).map((d) => d._id)).toEqual([recent.dedupeKey]);
    // A delivery's record leaves the outbox an hour after it was made, for the sent archive.
    expect(await app.models.Outbox.countDocuments({ status: "sent" })).toBe(0);
    clock.advance(2 * 86_400_000);
    // Not delivered (the platform is failing): a message still waiting keeps its text.
    sender.failures = [new SendError("network", "down")];
    await deliver(app);
    await app.sweep();
    expect(await app.models.InboundRecord.countDocuments()).toBe(1);
    const old = await app.models.SentRecord.findById(first?.dedupeKey).lean();
    expect(old?.status).toBe("sent");
    expect(old?.outboxId.equals(first?._id)).toBe(true);
    expect(old?.textSealed).toBe("");
    const [waiting] = await app.models.Outbox.find().lean();
    expect(waiting?.status).toBe("pending");
    expect(app.outbox.textOf(waiting ?? { textSealed: "" })).toContain("/gopy");
    // The record stays, so the same decision still writes nothing new.
    expect(
      await app.outbox.enqueue([
        { to: { channel: "console", chatId: "citizen" }, text: "lại", dedupeKey: first?.dedupeKey ?? "" },
      ]),
    ).toBe(0);
    expect(await app.models.Outbox.countDocuments()).toBe(1);
    // A failed update keeps its record for the operator, for the retention period.
    await app.models.InboundRecord.updateOne({}, { $set: { status: "failed" } });
    clock.advance(8 * 86_400_000);
    await app.sweep();
    expect(await app.models.InboundRecord.countDocuments({ status: "failed" })).toBe(1);
  });

  it("still handles and sends what an older version stored in plaintext", async () => {
    const { app, clock, sender } = await setup();
    const update = inbound("citizen", "/start");
    await app.models.InboundRecord.collection.insertOne({
      dedupeKey: update.dedupeKey,
      channel: "console",
      chatId: "citizen",
      senderId: "citizen",
      inbound: update,
      status: "received",
      claimedUntil: new Date(0),
      attempts: 1,
      claimSeq: 0,
      receivedAt: clock.now(),
    });
    await app.models.Outbox.collection.insertOne({
      dedupeKey: "legacy-reply",
      channel: "console",
      chatId: "citizen",
      text: "Tin nhắn xếp hàng từ phiên bản trước",
      choices: [],
      files: [],
      status: "pending",
      attempts: 0,
      claimSeq: 0,
      nextAttemptAt: new Date(0),
      createdAt: clock.now(),
      platformMessageIds: [],
    });
    expect(await app.engine.recoverAbandoned()).toBe(1);
    await deliver(app);
    expect(sender.delivered.map((d) => d.text)).toEqual([
      "Tin nhắn xếp hàng từ phiên bản trước",
      t.basics.greeting(ORG, undefined),
    ]);
  });

  it("gives up an update whose sealed copy no key can open, instead of retrying it", async () => {
    const { app } = await setup();
    const update = inbound("citizen", "/start");
    const other = new Sealer([{ id: "old", key: randomBytes(32) }]);
    await new Inbox(app.models.InboundRecord, app.claims, other).record(update, new Date(0));
    expect(await app.engine.recoverAbandoned()).toBe(0);
    expect(await app.models.InboundRecord.findOne({ dedupeKey: update.dedupeKey }).lean()).toMatchObject({
      status: "failed",
      error: "the stored update cannot be read",
    });
  });

  describe("a crash in the middle of a flow's turn", () => {
    /** /gopy up to the type question, then the answer "phản ánh" (update X) handled. */
    async function answered() {
      const { app, clock, sender } = await setup();
      const key = "console:dan-gopy:dan-gopy";
      await app.engine.handle(inbound("dan-gopy", "/gopy"));
      const { state: before, seq } = await app.sessions.read(key, clock.now());
      expect(before?.step).toBe("type");
      const x = inbound("dan-gopy", "phản ánh");
      await app.engine.handle(x);
      expect((await app.sessions.load(key, clock.now()))?.step).toBe("field");
      /**
       * Puts X's record back as a crash leaves it: received, its claim lapsed, sealed with its
       * start state (after the marks this process holds are written, or they would overwrite it).
       */
      const cutOff = async () => {
        await app.engine.idle();
        await app.models.InboundRecord.updateOne(
          { dedupeKey: x.dedupeKey },
          {
            $set: {
              status: "received",
              claimedUntil: new Date(0),
              sealed: TEST_SEALER.seal(JSON.stringify({ inbound: x, session: before, seq })),
            },
          },
        );
      };
      const repliesTo = async (update: { dedupeKey: string }) =>
        (await app.models.Outbox.find({ dedupeKey: { $regex: `^${update.dedupeKey}#` } }).lean()).map((m) =>
          app.outbox.textOf(m),
        );
      return { app, clock, sender, key, x, cutOff, repliesTo };
    }

    it("after the session was saved but before the replies: the replay asks the same next question", async () => {
      const { app, clock, key, x, cutOff, repliesTo } = await answered();
      const first = await repliesTo(x);
      expect(first.join("\n")).toContain(t.feedback.askField);
      await app.models.Outbox.deleteMany({ dedupeKey: { $regex: `^${x.dedupeKey}#` } });
      await cutOff();
      expect(await app.engine.recoverAbandoned()).toBe(1);
      expect(await repliesTo(x)).toEqual(first);
      // Replayed from the type question, not applied a second time to the field question.
      expect((await app.sessions.load(key, clock.now()))?.step).toBe("field");
    });

    it("after the replies, once the person answered the next question: no replay", async () => {
      const { app, clock, key, cutOff, repliesTo } = await answered();
      await cutOff();
      const y = inbound("dan-gopy", "1");
      await app.engine.handle(y);
      expect((await app.sessions.load(key, clock.now()))?.step).toBe("content");
      const written = await app.models.Outbox.countDocuments();
      expect(await app.engine.recoverAbandoned()).toBe(1);
      expect(await app.models.Outbox.countDocuments()).toBe(written);
      expect((await app.sessions.load(key, clock.now()))?.step).toBe("content");
      expect(await repliesTo(y)).toHaveLength(1);
    });
  });

  it("writes the same replies when a handled update is replayed, so nothing is sent twice", async () => {
    const { app, clock, sender } = await setup();
    const update = inbound("citizen", "/help");
    await app.engine.handle(update);
    await app.engine.idle();
    // A crash after the outbox write but before "handled": the record is as it was written
    // (with the sealed update), and recovery replays the update.
    await app.models.InboundRecord.updateOne(
      { dedupeKey: update.dedupeKey },
      { $set: { status: "received", sealed: TEST_SEALER.seal(JSON.stringify(update)) } },
    );
    clock.advance(61_000);
    expect(await app.engine.recoverAbandoned()).toBe(1);
    await deliver(app);
    expect(sender.delivered).toHaveLength(1);
  });

  it("reads Vietnamese typed in NFD and strips control characters", async () => {
    const { app, sender } = await setup();
    await app.engine.handle(inbound("admin", "/phanquyen"));
    await app.engine.handle(inbound("nguoi-moi", "chào", { senderName: "Nguyễn Thị Hoà" }));
    await app.engine.handle(
      inbound("admin", "nguye\u0302\u0303n thi\u0323\u0000 hoa\u0300".normalize("NFD")),
    );
    await deliver(app);
    expect(sender.delivered.at(-1)?.text).toContain("Nguyễn Thị Hoà đang có vai trò");
  });
});
