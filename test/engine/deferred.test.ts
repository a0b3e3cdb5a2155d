import { describe, expect, it } from "vitest";
import { seedDemoPeople } from "../../src/seed.js";
import { t } from "../../src/text/vi.js";
import { atAnswerStep, buildApp, consoleSpeaker, fileTicket, useProxiedDatabase } from "../support/db.js";
import { consoleInbound } from "../support/inbound.js";
import { RecordingSender } from "../support/recording-sender.js";

/**
 * The database refuses every write of a turn for a few seconds (a wire proxy in front of it, not a
 * mock): the turn is retried in place, then left to recovery ("deferred"), and the person, hearing
 * nothing, writes again. Their next message must not answer the step the cut-off one answered:
 * the cut-off one runs first, then the new one on what it left.
 */
const db = useProxiedDatabase(import.meta.filename);
const { proxy } = db;

describe("a turn the database cut off for longer than its retries", () => {
  it("runs before the person's next message, which then answers what it left", async () => {
    const { app, clock } = await buildApp(db.connection);
    await seedDemoPeople(app, clock.now());
    const sender = new RecordingSender();
    app.addChannel(sender);
    const citizen = await consoleSpeaker(app, "citizen");
    const code = await fileTicket(
      app,
      citizen,
      "deferred-1",
      "Đề nghị Sở niêm yết số điện thoại đường dây nóng tại bộ phận một cửa.",
    );
    await atAnswerStep(app, code);

    // Write 1 is the answer's inbox record; from write 2 on, every write is refused until healed.
    let failing = true;
    proxy.arm({ at: 2, fault: "error" });
    const rearm = setInterval(() => {
      if (failing && proxy.faulted) proxy.arm({ at: 1, fault: "error" });
    }, 1);
    const answer = "Sở đã niêm yết số đường dây nóng tại bộ phận một cửa.";
    let first: string;
    try {
      first = await app.engine.handle(consoleInbound("office", answer));
    } finally {
      failing = false;
      clearInterval(rearm);
      proxy.disarm();
    }
    expect(first).toBe("deferred");
    expect((await app.feedback.byCode(code))?.status).not.toBe("answered");

    // Hearing nothing, the Office writes again, at once (long before recovery would come round).
    expect(await app.engine.handle(consoleInbound("office", "?"))).toBe("handled");
    await app.dispatchers.get("console")?.drain();
    const ticket = await app.feedback.byCode(code);
    expect(ticket?.answer?.text).toBe(answer);
    expect(sender.to("citizen")).toEqual([t.feedback.toFiler.answer(code, answer)]);
    const office = sender.to("office");
    expect(office).toContain(t.feedback.done.answered(code));
    // "?" came after the flow ended: it is not the answer, and is answered as free text.
    expect(office.indexOf(t.feedback.done.answered(code))).toBeLessThan(office.length - 1);
  });
});

describe("a claim of an outbox message cut half-way", () => {
  it.each(["error", "cut-after"] as const)(
    "the mark after the claim key fails (%s): the same dispatcher sends it at its next try, not a lease later, and in order",
    async (fault) => {
      const { app } = await buildApp(db.connection);
      const sender = new RecordingSender();
      app.addChannel(sender);
      const chatId = `claim-${fault}`;
      await app.outbox.enqueue([
        { to: { channel: "console", chatId }, text: "Tin thứ nhất", dedupeKey: `${chatId}-1` },
        { to: { channel: "console", chatId }, text: "Tin thứ hai", dedupeKey: `${chatId}-2` },
      ]);
      // Write 1 takes the claim key; write 2 marks the message "sending".
      proxy.arm({ at: 2, fault });
      try {
        await app.dispatchers.get("console")?.drain();
      } finally {
        proxy.disarm();
      }
      expect(proxy.faulted).toMatchObject({ command: "update", collection: "outbox" });
      // The clock has not moved: nothing waits for a lease to lapse.
      await app.dispatchers.get("console")?.drain();
      await app.dispatchers.get("console")?.drain();
      expect(sender.to(chatId)).toEqual(["Tin thứ nhất", "Tin thứ hai"]);
    },
  );
});

describe("an update's record cut after it landed", () => {
  it("is handled at once, not a lease later: the retry knows its own insert", async () => {
    const { app } = await buildApp(db.connection);
    const sender = new RecordingSender();
    app.addChannel(sender);
    proxy.arm({ at: 1, fault: "cut-after" });
    let outcome: string;
    try {
      outcome = await app.engine.handle(consoleInbound("cut-record", "/start"));
    } finally {
      proxy.disarm();
    }
    expect(proxy.faulted).toMatchObject({ command: "insert", collection: "inbound" });
    expect(outcome).toBe("handled");
    await app.dispatchers.get("console")?.drain();
    expect(sender.to("cut-record")).toHaveLength(1);
  });
});

describe("a reply born claimed whose insert was cut after it landed", () => {
  it("is handed over again, in its place, when the turn writes its replies again", async () => {
    const { app } = await buildApp(db.connection);
    const sender = new RecordingSender();
    const dispatcher = app.addChannel(sender, { pollMs: 100 });
    dispatcher.start();
    try {
      // Running and past its first look: the messages written here are born claimed by it.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const chatId = "born-cut";
      const replies = [
        { to: { channel: "console" as const, chatId }, text: "Tin thứ nhất", dedupeKey: `${chatId}-1` },
        { to: { channel: "console" as const, chatId }, text: "Tin thứ hai", dedupeKey: `${chatId}-2` },
      ];
      proxy.arm({ at: 1, fault: "cut-after" });
      try {
        await expect(app.outbox.enqueue(replies)).rejects.toThrow();
      } finally {
        proxy.disarm();
      }
      expect(proxy.faulted).toMatchObject({ command: "insert", collection: "outbox" });
      expect(await app.models.Outbox.findOne({ dedupeKey: `${chatId}-1` }).lean()).toMatchObject({
        status: "sending",
      });
      // What a turn run again does: the first meets itself, the second is new.
      await app.outbox.enqueue(replies);
      for (let i = 0; i < 50 && sender.to(chatId).length < 2; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(sender.to(chatId)).toEqual(["Tin thứ nhất", "Tin thứ hai"]);
    } finally {
      await dispatcher.stop();
    }
  });
});
