import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { FixedClock } from "../../src/clock.js";
import type { ChannelSender, Delivery } from "../../src/engine/channel.js";
import { buildApp, TEST_SEALER, useDatabase } from "../support/db.js";

/**
 * A message written while this process's dispatcher is sending is born claimed by it: written
 * "sending" under its name with its lease, so sending costs no claim and no mark. Messages it
 * did not write, or wrote while it could not send, are claimed as before.
 */
const db = useDatabase(import.meta.filename);

function recording(): ChannelSender & { sent: Delivery[] } {
  const sent: Delivery[] = [];
  return {
    channel: "telegram",
    sent,
    send: async (delivery: Delivery) => {
      sent.push(delivery);
      return { messageIds: [`m${sent.length}`] };
    },
  };
}

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i += 1) await sleep(25);
}

const message = (i: number) => ({
  to: { channel: "telegram" as const, chatId: `chat${i % 2}` },
  text: `tin ${i}`,
  dedupeKey: `born-${i}`,
});

describe("messages born claimed", () => {
  it("are sent without a claim written for them, once each, in each chat's order", async () => {
    await db.connection.dropDatabase();
    const clock = new FixedClock("2025-10-06T02:00:00Z");
    const { app } = await buildApp(db.connection, clock, { sendLease: true });
    const sender = recording();
    // No look but the first: a look that ran while the messages are written could take one (by
    // the claim, as a message written elsewhere), which is right, but not what is shown here.
    const dispatcher = app.addChannel(sender, { pollMs: 600_000 });
    dispatcher.start();
    try {
      // The first full look is made before anything is born claimed: the one start() began.
      await (dispatcher as unknown as { running?: Promise<void> }).running;
      await app.outbox.enqueue([0, 1, 2, 3].map(message));
      // As the engine does after a turn.
      dispatcher.wake();
      await until(() => sender.sent.length >= 4);
      await sleep(100);
      expect(sender.sent.map((d) => d.text)).toHaveLength(4);
      for (const chat of ["chat0", "chat1"]) {
        const texts = sender.sent.filter((d) => d.chatId === chat).map((d) => d.text);
        expect(texts).toEqual(chat === "chat0" ? ["tin 0", "tin 2"] : ["tin 1", "tin 3"]);
      }
      expect(await app.models.Claim.countDocuments({ key: /^outbox:/ })).toBe(0);
      const docs = await app.outbox.model.find({}).lean();
      expect(docs.map((d) => [d.status, d.claimSeq, d.attempts])).toEqual(docs.map(() => ["sent", 1, 1]));
    } finally {
      await dispatcher.stop();
      await app.stop();
    }
  });

  it("are not born claimed by a stopped dispatcher: another takes them at once", async () => {
    await db.connection.dropDatabase();
    const clock = new FixedClock("2025-10-06T02:00:00Z");
    const { app } = await buildApp(db.connection, clock, { sendLease: true });
    const sender = recording();
    const dispatcher = app.addChannel(sender);
    await app.outbox.enqueue([message(0)]);
    expect((await app.outbox.model.findOne({}).lean())?.status).toBe("pending");
    await dispatcher.drain();
    expect(sender.sent.map((d) => d.text)).toEqual(["tin 0"]);
    await app.stop();
  });

  it("by a dispatcher that died are sent by another once their lease lapses, once", async () => {
    await db.connection.dropDatabase();
    const clock = new FixedClock("2025-10-06T02:00:00Z");
    const { app } = await buildApp(db.connection, clock, { sendLease: true });
    const sender = recording();
    const dispatcher = app.addChannel(sender);
    const now = clock.now();
    await app.outbox.model.create({
      dedupeKey: "born-dead",
      channel: "telegram",
      chatId: "chat9",
      textSealed: TEST_SEALER.seal("tin chết"),
      status: "sending",
      attempts: 1,
      claimSeq: 1,
      lockedBy: "a-dispatcher-that-died",
      lockedUntil: new Date(now.getTime() + 60_000),
      nextAttemptAt: now,
      createdAt: now,
      dueAt: now,
      platformMessageIds: [],
    });
    await dispatcher.drain();
    expect(sender.sent).toEqual([]);
    clock.advance(61_000);
    await dispatcher.drain();
    await dispatcher.drain();
    expect(sender.sent.map((d) => d.text)).toEqual(["tin chết"]);
    await app.stop();
  });
});
