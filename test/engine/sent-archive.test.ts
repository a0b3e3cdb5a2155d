import { randomBytes } from "node:crypto";
import { Types } from "mongoose";
import { describe, expect, it } from "vitest";
import type { App } from "../../src/app.js";
import type { FixedClock } from "../../src/clock.js";
import type { Outbound } from "../../src/engine/message.js";
import { Sealer } from "../../src/privacy/sealer.js";
import { buildApp, TEST_SEALER, useDatabase } from "../support/db.js";
import { consoleInbound } from "../support/inbound.js";
import { RecordingSender } from "../support/recording-sender.js";

const db = useDatabase(import.meta.filename);

async function setup(): Promise<{ app: App; clock: FixedClock; sender: RecordingSender }> {
  await db.connection.dropDatabase();
  const { app, clock } = await buildApp(db.connection);
  const sender = new RecordingSender();
  app.addChannel(sender, { baseBackoffMs: 1000 });
  return { app, clock, sender };
}

function reminder(key: string, chatId = "staff"): Outbound {
  return { to: { channel: "console", chatId }, text: `Nhắc việc ${key}`, dedupeKey: key };
}

async function deliver(app: App): Promise<void> {
  await app.dispatchers.get("console")?.drain();
}

/** Sends the messages, then lets two hours pass and the sweep move their records out. */
async function sentLongAgo(app: App, clock: FixedClock, messages: Outbound[]): Promise<void> {
  await app.outbox.enqueue(messages);
  await deliver(app);
  clock.advance(2 * 3_600_000);
  await app.sweep();
}

/** A copy of `key` in the outbox as a write bypassing every check would leave it. */
/** A copy as a decision taken again inserts it, before its writer checks the archive. */
const UNCHECKED_COPY = { status: "pending", attempts: 0, claimSeq: 0, decidedAgain: true };

async function copyIn(app: App, clock: FixedClock, key: string, fields: Record<string, unknown>) {
  await app.models.Outbox.collection.insertOne({
    _id: new Types.ObjectId(),
    dedupeKey: key,
    channel: "console",
    chatId: "staff",
    textSealed: TEST_SEALER.seal(`Nhắc việc ${key}`),
    choices: [],
    files: [],
    nextAttemptAt: clock.now(),
    createdAt: clock.now(),
    platformMessageIds: [],
    ...fields,
  });
}

describe("deliveries moved out of the outbox", () => {
  it("leaves in the outbox only what waits and the last hour's deliveries", async () => {
    const { app, clock, sender } = await setup();
    await sentLongAgo(app, clock, [reminder("a"), reminder("b", "other")]);
    await app.outbox.enqueue([reminder("c")]);
    await deliver(app);
    await app.sweep();
    expect((await app.models.Outbox.find().lean()).map((d) => d.dedupeKey)).toEqual(["c"]);
    const moved = await app.models.SentRecord.find().sort({ _id: 1 }).lean();
    expect(moved.map((r) => [r._id, r.status, r.platformMessageIds])).toEqual([
      ["a", "sent", ["p1"]],
      ["b", "sent", ["p2"]],
    ]);
    expect(app.outbox.textOf(moved[0] ?? { textSealed: "" })).toBe("Nhắc việc a");
    expect(sender.delivered).toHaveLength(3);
  });

  it("says nothing twice when a decision is taken again after its record moved", async () => {
    const { app, clock, sender } = await setup();
    await sentLongAgo(app, clock, [reminder("reminder:2026-12-01:staff:II.1")]);
    // A job run again (or with --at) decides the same reminder under the same key.
    expect(await app.outbox.written(["reminder:2026-12-01:staff:II.1", "new"])).toEqual(
      new Set(["reminder:2026-12-01:staff:II.1"]),
    );
    // A job's many keys are looked up as one list rather than one by one: the same answer.
    const many = Array.from({ length: 12 }, (_, i) => `reminder:2026-12-01:other-${i}:II.1`);
    expect(await app.outbox.written([...many, "reminder:2026-12-01:staff:II.1"])).toEqual(
      new Set(["reminder:2026-12-01:staff:II.1"]),
    );
    expect(await app.outbox.enqueue([reminder("reminder:2026-12-01:staff:II.1")])).toBe(0);
    await deliver(app);
    expect(sender.delivered).toHaveLength(1);
    expect(await app.models.Outbox.countDocuments()).toBe(0);
  });

  it("does not send a copy whose writer died before taking it back", async () => {
    const { app, clock, sender } = await setup();
    await sentLongAgo(app, clock, [reminder("digest:2026-W49:staff")]);
    // The copy as the insert of a decision taken again left it, the process gone before its check.
    await copyIn(app, clock, "digest:2026-W49:staff", UNCHECKED_COPY);
    await deliver(app);
    expect(sender.delivered).toHaveLength(1);
    expect(await app.models.Outbox.countDocuments()).toBe(0);
  });

  it("leaves a copy another writer is checking to that writer, unsent", async () => {
    const { app, clock, sender } = await setup();
    await sentLongAgo(app, clock, [reminder("calendar-check:2026-W49:admin")]);
    // Writer A's insert of a copy landed; before A looks in the archive, writer B decides the same.
    await copyIn(app, clock, "calendar-check:2026-W49:admin", UNCHECKED_COPY);
    expect(await app.outbox.enqueue([reminder("calendar-check:2026-W49:admin")])).toBe(0);
    await deliver(app);
    expect(sender.delivered).toHaveLength(1);
  });

  it("keeps the platform ids of a copy that went out twice when it moves", async () => {
    const { app, clock } = await setup();
    await sentLongAgo(app, clock, [reminder("k")]);
    // The one window no system closes: a copy written again after the move, sent before its check.
    const sent = {
      status: "sent",
      attempts: 1,
      claimSeq: 1,
      sentAt: clock.now(),
      platformMessageIds: ["p9"],
    };
    await copyIn(app, clock, "k", sent);
    clock.advance(2 * 3_600_000);
    expect(await app.outbox.moveSent(clock.now())).toBe(1);
    expect(await app.models.Outbox.countDocuments()).toBe(0);
    expect((await app.models.SentRecord.findById("k").lean())?.platformMessageIds).toEqual(["p1", "p9"]);
    expect(await app.links.delivery("console", "staff", "p9")).toBeDefined();
  });

  it("finishes a move cut off between its two writes", async () => {
    const { app, clock } = await setup();
    await app.outbox.enqueue([reminder("a"), reminder("b")]);
    await deliver(app);
    clock.advance(2 * 3_600_000);
    // The record of "a" was written, then the process died before deleting its outbox copy.
    const a = (await app.models.Outbox.findOne({ dedupeKey: "a" }).lean())!;
    const { _id, dedupeKey, ...rest } = a;
    await app.models.SentRecord.collection.insertOne({ ...rest, _id: dedupeKey, outboxId: _id } as never);
    // Then a sender whose lease had lapsed wrote its own "sent" on that copy.
    await app.models.Outbox.updateOne({ _id }, { $set: { platformMessageIds: ["p7"] } });
    expect(await app.outbox.moveSent(clock.now())).toBe(2);
    expect(await app.models.Outbox.countDocuments()).toBe(0);
    expect(await app.models.SentRecord.countDocuments()).toBe(2);
    expect((await app.models.SentRecord.findById("a").lean())?.platformMessageIds).toEqual(["p1", "p7"]);
  });

  it("moves a text it cannot open as it is, rather than stopping the sweep", async () => {
    const { app, clock } = await setup();
    await app.outbox.enqueue([reminder("a")]);
    await deliver(app);
    // Sealed under a key no longer in the list.
    const gone = new Sealer([{ id: "gone", key: randomBytes(32) }]).seal("Nhắc việc a");
    await app.models.Outbox.updateOne({}, { $set: { textSealed: gone } });
    clock.advance(2 * 3_600_000);
    await app.sweep();
    expect(await app.models.Outbox.countDocuments()).toBe(0);
    expect((await app.models.SentRecord.findById("a").lean())?.textSealed).toBe(gone);
  });

  it("still knows a message sent long ago: a reply to it, its keyboard, its text", async () => {
    const { app, clock } = await setup();
    await sentLongAgo(app, clock, [
      {
        ...reminder("task:II.1"),
        choices: [{ label: "Xong", value: "done" }],
        subject: { kind: "task", id: "II.1" },
      },
    ]);
    expect(await app.links.delivery("console", "staff", "p1")).toEqual({
      subject: { kind: "task", id: "II.1" },
    });
    expect(await app.links.delivery("console", "staff", "p2")).toBeUndefined();
    expect((await app.outbox.latestKeyboard("console", "staff"))?.platformMessageIds).toEqual(["p1"]);
    // A newer keyboard, still in the outbox, is the newest.
    await app.outbox.enqueue([{ ...reminder("task:II.2"), choices: [{ label: "Xong", value: "done" }] }]);
    await deliver(app);
    expect((await app.outbox.latestKeyboard("console", "staff"))?.dedupeKey).toBe("task:II.2");
    // On a platform without reply-to, an answer is tied to the reminders recently sent, by their first line.
    const recent = await app.links.recent("console", "staff", "task", new Date(0));
    expect(recent).toEqual([{ subject: { kind: "task", id: "II.1" }, label: "Nhắc việc task:II.1" }]);
  });

  it("still finds a reply's subject in the links an earlier version wrote, when no record knows the message", async () => {
    const { app } = await setup();
    // As a version before this one left it: the link written, its "sent" cut off by a crash.
    await db.connection.collection("message_links").insertOne({
      channel: "console",
      chatId: "staff",
      platformMessageId: "p77",
      subject: { kind: "task", id: "II.7" },
      outboxKey: "task:II.7",
      sentAt: new Date(),
    });
    expect(await app.links.delivery("console", "staff", "p77")).toEqual({
      subject: { kind: "task", id: "II.7" },
    });
    expect(await app.links.delivery("console", "staff", "p78")).toBeUndefined();
  });

  it("moves what a turn said, and a redelivery of the turn's update still says nothing", async () => {
    const { app, clock, sender } = await setup();
    const update = consoleInbound("citizen", "/start");
    await app.engine.handle(update);
    await deliver(app);
    clock.advance(2 * 3_600_000);
    await app.sweep();
    expect(await app.models.SentRecord.countDocuments()).toBe(1);
    expect(await app.engine.handle({ ...update })).toBe("duplicate");
    await deliver(app);
    expect(sender.delivered).toHaveLength(1);
  });
});
