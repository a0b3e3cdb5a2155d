import { describe, expect, it } from "vitest";
import type { App } from "../../src/app.js";
import { SendError, type ChannelSender, type Delivery } from "../../src/engine/channel.js";
import { CLAIM_MS } from "../../src/engine/inbox.js";
import type { Dispatcher, DispatcherOptions } from "../../src/engine/outbox.js";
import { t } from "../../src/text/vi.js";
import { buildApp, useProxiedDatabase } from "../support/db.js";
import { consoleInbound } from "../support/inbound.js";
import { waitFor } from "../support/wait.js";

/**
 * A turn's replies, on its first run with a running dispatcher, are sent before they are written:
 * their one write is the record of the send. Until it lands, the update's record is what keeps
 * them (the turn stays unmarked, and a replay decides them again). The database seen through a
 * wire proxy (counting and refusing writes from outside our code), the platform a sender the test
 * holds back or makes fail.
 */
const db = useProxiedDatabase(import.meta.filename);
const { proxy } = db;

/** The console channel; `fail` (once each) and `hold` (until released) shape its next sends. */
class Platform implements ChannelSender {
  readonly channel = "console" as const;
  /** How this platform's message ids begin: two senders in one test give different ids. */
  constructor(private readonly prefix = "m") {}
  readonly delivered: Delivery[] = [];
  readonly fail: SendError[] = [];
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;
  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }
  release(): void {
    this.open?.();
    this.gate = undefined;
  }
  async send(delivery: Delivery) {
    await this.gate;
    const failure = this.fail.shift();
    if (failure) throw failure;
    this.delivered.push(delivery);
    return { messageIds: [`${this.prefix}${this.delivered.length}`] };
  }
  to(chatId: string): string[] {
    return this.delivered.filter((d) => d.chatId === chatId).map((d) => d.text);
  }
}

/** A running app with its console dispatcher past its first look (what it writes is born claimed). */
async function running(options: DispatcherOptions = {}) {
  const built = await buildApp(db.connection);
  const platform = new Platform();
  const dispatcher = built.app.addChannel(platform, { pollMs: 100, ...options });
  dispatcher.start();
  await new Promise((resolve) => setTimeout(resolve, 300));
  return { ...built, platform, dispatcher };
}

/** "/huy" outside any flow: one reply, no state, no other effect. */
const cancel = (chat: string) => consoleInbound(chat, "/huy");

/**
 * `/huy` in `chat`, handled here with its reply held at the platform, then replayed by another
 * instance once the update's claim lapsed there: the replay writes its copy of the reply. That
 * other instance, its dispatcher not started.
 */
async function replayedElsewhere(app: App, platform: Platform, chat: string, otherSender?: Platform) {
  const { app: other, clock: otherClock } = await buildApp(db.connection);
  const theirs = otherSender ? other.addChannel(otherSender, { pollMs: 100 }) : undefined;
  platform.hold();
  await app.engine.handle(cancel(chat));
  await new Promise((resolve) => setTimeout(resolve, 100));
  otherClock.advance(CLAIM_MS + 1_000);
  expect(await other.engine.recoverAbandoned()).toBe(1);
  await other.engine.idle();
  return { other, theirs };
}

describe("a turn's reply on its first run", () => {
  it("is written once, as sent, after the platform took it", async () => {
    const { app, platform, dispatcher } = await running();
    try {
      proxy.arm();
      const inbound = cancel("once");
      expect(await app.engine.handle(inbound)).toBe("handled");
      await waitFor(() => platform.to("once").length === 1, "the reply");
      await app.engine.idle();
      const outboxWrites = proxy.writes.filter((w) => w.collection === "outbox").map((w) => w.command);
      proxy.disarm();
      expect(platform.to("once")).toEqual([t.engine.nothingToCancel]);
      expect(outboxWrites).toEqual(["insert"]);
      const docs = await app.models.Outbox.find({ chatId: "once" }).lean();
      expect(docs).toHaveLength(1);
      expect(docs[0]).toMatchObject({ status: "sent", platformMessageIds: ["m1"], attempts: 1 });
      expect(docs[0]?.lockedBy).toBeUndefined();
      const record = await app.models.InboundRecord.findOne({ dedupeKey: inbound.dedupeKey }).lean();
      expect(record?.status).toBe("handled");
    } finally {
      proxy.disarm();
      await dispatcher.stop();
    }
  });

  it("leaves its update unmarked until it stands in the outbox", async () => {
    const { app, platform, dispatcher } = await running();
    try {
      platform.hold();
      const inbound = cancel("held");
      expect(await app.engine.handle(inbound)).toBe("handled");
      await new Promise((resolve) => setTimeout(resolve, 200));
      // Not sent, not written: a crash now replays the turn from its record.
      expect(await app.models.Outbox.countDocuments({ chatId: "held" })).toBe(0);
      const before = await app.models.InboundRecord.findOne({ dedupeKey: inbound.dedupeKey }).lean();
      expect(before?.status).toBe("received");
      platform.release();
      await app.engine.idle();
      const after = await app.models.InboundRecord.findOne({ dedupeKey: inbound.dedupeKey }).lean();
      expect(after?.status).toBe("handled");
      expect(platform.to("held")).toEqual([t.engine.nothingToCancel]);
    } finally {
      platform.release();
      await dispatcher.stop();
    }
  });

  it("told to wait, is written as it stands before it waits, and goes once", async () => {
    const { app, platform, dispatcher } = await running();
    try {
      platform.fail.push(new SendError("rate_limited", "Too Many Requests: retry after 1", 300));
      platform.hold();
      const inbound = cancel("waits");
      await app.engine.handle(inbound);
      // The chat's next reply is decided while the first waits: it goes after it.
      await app.engine.handle(consoleInbound("waits", "/huy"));
      platform.release();
      await waitFor(() => platform.to("waits").length === 2, "both replies");
      await app.engine.idle();
      expect(platform.to("waits")).toEqual([t.engine.nothingToCancel, t.engine.nothingToCancel]);
      const docs = await app.models.Outbox.find({ chatId: "waits" }).sort({ _id: 1 }).lean();
      expect(docs.map((d) => [d.status, d.platformMessageIds])).toEqual([
        ["sent", ["m1"]],
        ["sent", ["m2"]],
      ]);
      expect(await app.models.InboundRecord.countDocuments({ chatId: "waits", status: "handled" })).toBe(2);
    } finally {
      platform.release();
      await dispatcher.stop();
    }
  });

  it.each(["error", "cut-after"] as const)(
    "whose record of the send the database fails (%s) is written again, and sent once",
    async (fault) => {
      const { app, platform, dispatcher } = await running();
      try {
        proxy.arm({ at: 1, fault, key: { command: "insert", collection: "outbox", nth: 1 } });
        const inbound = cancel(`record-${fault}`);
        await app.engine.handle(inbound);
        await waitFor(
          async () => (await app.models.Outbox.countDocuments({ chatId: inbound.chatId })) === 1,
          "the reply written",
        );
        await app.engine.idle();
        expect(proxy.faulted).toMatchObject({ command: "insert", collection: "outbox" });
        proxy.disarm();
        expect(platform.to(inbound.chatId)).toEqual([t.engine.nothingToCancel]);
        const docs = await app.models.Outbox.find({ chatId: inbound.chatId }).lean();
        expect(docs.map((d) => d.status)).toEqual(["sent"]);
        const record = await app.models.InboundRecord.findOne({ dedupeKey: inbound.dedupeKey }).lean();
        expect(record?.status).toBe("handled");
      } finally {
        proxy.disarm();
        await dispatcher.stop();
      }
    },
  );

  it("whose write after a failed send the database refuses is written again, before the chat's next reply", async () => {
    const { app, platform, dispatcher } = await running();
    try {
      await app.engine.handle(consoleInbound("flow", "/gopy"));
      await waitFor(() => platform.to("flow").length === 1, "the first question");
      await app.engine.idle();
      // The answer's reply (the next question): its send fails, and its first write is refused.
      platform.fail.push(new SendError("network", "socket hang up"));
      proxy.arm({ at: 1, fault: "error", key: { command: "insert", collection: "outbox", nth: 1 } });
      const answer = consoleInbound("flow", "1");
      await app.engine.handle(answer);
      await waitFor(() => proxy.faulted !== undefined, "the refused write");
      proxy.disarm();
      // The person goes on before anything reached them; their next reply comes after the one
      // they missed.
      await app.engine.handle(consoleInbound("flow", "1"));
      await waitFor(() => platform.to("flow").length === 3, "the missed reply and the next");
      await app.engine.idle();
      const written = await app.models.Outbox.find({ dedupeKey: { $regex: `^${answer.dedupeKey}` } }).lean();
      expect(written.map((d) => d.status)).toEqual(["sent"]);
      const order = await app.models.Outbox.find({ chatId: "flow" }).sort({ sentAt: 1, _id: 1 }).lean();
      expect(order.map((d) => d.platformMessageIds[0])).toEqual(["m1", "m2", "m3"]);
      expect(order[1]?.dedupeKey.startsWith(answer.dedupeKey)).toBe(true);
      expect(await app.models.InboundRecord.findOne({ dedupeKey: answer.dedupeKey }).lean()).toMatchObject({
        status: "handled",
      });
    } finally {
      proxy.disarm();
      await dispatcher.stop();
    }
  });

  it("whose record the database is slow to take holds its chat, not the dispatcher", async () => {
    // One send at a time, and a refused record written again only after a second.
    const { app, platform, dispatcher } = await running({ concurrency: 1, recordRetryMs: 1_000 });
    try {
      proxy.arm({ at: 1, fault: "error", key: { command: "insert", collection: "outbox", nth: 1 } });
      await app.engine.handle(cancel("recording"));
      await waitFor(() => proxy.faulted !== undefined, "the refused record");
      // Another chat's reply goes while the first record waits for its second try.
      await app.engine.handle(cancel("free"));
      await waitFor(() => platform.to("free").length === 1, "the other chat's reply");
      expect(await app.models.Outbox.countDocuments({ chatId: "recording" })).toBe(0);
      // The slow chat's next reply still waits for its first to be recorded, and goes after it.
      await app.engine.handle(cancel("recording"));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(platform.to("recording")).toHaveLength(1);
      proxy.disarm();
      await waitFor(() => platform.to("recording").length === 2, "the slow chat's second reply");
      await app.engine.idle();
      const slow = await app.models.Outbox.find({ chatId: "recording" }).sort({ sentAt: 1, _id: 1 }).lean();
      expect(slow.map((d) => [d.status, d.platformMessageIds[0]])).toEqual([
        ["sent", "m1"],
        ["sent", "m3"],
      ]);
    } finally {
      proxy.disarm();
      await dispatcher.stop();
    }
  });

  it("goes, and settles, when the clock steps back while it waits behind an earlier one", async () => {
    const { app, clock, platform, dispatcher } = await running();
    try {
      platform.hold();
      await app.engine.handle(cancel("clock"));
      await new Promise((resolve) => setTimeout(resolve, 100));
      await app.engine.handle(cancel("clock"));
      clock.advance(-1);
      platform.release();
      await waitFor(() => platform.to("clock").length === 2, "both replies");
      await app.engine.idle();
      expect(await app.models.Outbox.countDocuments({ chatId: "clock", status: "sent" })).toBe(2);
      expect(await app.models.InboundRecord.countDocuments({ chatId: "clock", status: "handled" })).toBe(2);
    } finally {
      platform.release();
      await dispatcher.stop();
    }
  });

  it("waiting in memory behind a busy chat is written before its update's claim could lapse", async () => {
    const { app, platform, dispatcher } = await running({ unwrittenMs: 300 });
    try {
      platform.hold();
      await app.engine.handle(cancel("slow"));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const second = cancel("slow");
      await app.engine.handle(second);
      // The first send hangs; the second reply, in memory, grows old.
      await waitFor(
        async () => (await app.models.Outbox.countDocuments({ dedupeKey: `${second.dedupeKey}#r1` })) === 1,
        "the waiting reply written as it stands",
      );
      expect(await app.models.Outbox.findOne({ dedupeKey: `${second.dedupeKey}#r1` }).lean()).toMatchObject({
        status: "sending",
      });
      platform.release();
      await waitFor(() => platform.to("slow").length === 2, "both replies");
      await app.engine.idle();
      expect(await app.models.Outbox.countDocuments({ chatId: "slow", status: "sent" })).toBe(2);
    } finally {
      platform.release();
      await dispatcher.stop();
    }
  });

  it("sent while another instance replays its turn (its claim lapsed) is recorded on the replay's copy", async () => {
    const { app, platform, dispatcher } = await running();
    try {
      // The other instance, with no dispatcher: what its replay writes waits for a sender.
      await replayedElsewhere(app, platform, "overlap");
      expect(await app.models.Outbox.findOne({ chatId: "overlap" }).lean()).toMatchObject({
        status: "pending",
      });
      platform.release();
      await app.engine.idle();
      await waitFor(
        async () => (await app.models.Outbox.countDocuments({ chatId: "overlap", status: "sent" })) === 1,
        "the replay's copy marked sent",
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(platform.to("overlap")).toEqual([t.engine.nothingToCancel]);
      const docs = await app.models.Outbox.find({ chatId: "overlap" }).lean();
      expect(docs.map((d) => [d.status, d.platformMessageIds])).toEqual([["sent", ["m1"]]]);
    } finally {
      platform.release();
      await dispatcher.stop();
    }
  });

  it("sent here and by another instance's replay (the window no system closes) keeps both ids on the one record", async () => {
    const { app, platform, dispatcher } = await running();
    const elsewhere = new Platform("o");
    let theirs: Dispatcher | undefined;
    try {
      ({ theirs } = await replayedElsewhere(app, platform, "twice", elsewhere));
      theirs?.start();
      await waitFor(async () => elsewhere.delivered.length === 1, "the replay's copy sent elsewhere");
      await waitFor(
        async () => (await app.models.Outbox.countDocuments({ chatId: "twice", status: "sent" })) === 1,
        "the replay's copy marked sent",
      );
      platform.release();
      await waitFor(
        async () =>
          (await app.models.Outbox.findOne({ chatId: "twice" }).lean())?.platformMessageIds.length === 2,
        "this copy's id joined the record",
      );
      const docs = await app.models.Outbox.find({ chatId: "twice" }).lean();
      expect(docs.map((d) => [d.status, [...d.platformMessageIds].sort()])).toEqual([["sent", ["m1", "o1"]]]);
      // A reply to either copy is known as the bot's.
      expect(await app.links.delivery("console", "twice", "m1")).toEqual({});
      expect(await app.links.delivery("console", "twice", "o1")).toEqual({});
    } finally {
      platform.release();
      await theirs?.stop();
      await dispatcher.stop();
    }
  });

  it("sent here, its mark of the replay's copy refused once: marked at the next try, on that copy", async () => {
    const { app, platform, dispatcher } = await running();
    try {
      // The other instance, with no dispatcher: its replay's copy waits, pending.
      await replayedElsewhere(app, platform, "mark-again");
      // This copy's insert meets the replay's (a duplicate key); the mark that follows is refused.
      proxy.arm({ at: 1, fault: "error", key: { command: "update", collection: "outbox", nth: 1 } });
      platform.release();
      await waitFor(
        async () => (await app.models.Outbox.countDocuments({ chatId: "mark-again", status: "sent" })) === 1,
        "the replay's copy marked sent at the mark's next try",
      );
      expect(proxy.faulted).toMatchObject({ command: "update", collection: "outbox" });
      proxy.disarm();
      const docs = await app.models.Outbox.find({ chatId: "mark-again" }).lean();
      expect(docs.map((d) => [d.status, d.platformMessageIds])).toEqual([["sent", ["m1"]]]);
      expect(platform.to("mark-again")).toEqual([t.engine.nothingToCancel]);
    } finally {
      proxy.disarm();
      platform.release();
      await dispatcher.stop();
    }
  });

  it("sent here while another instance is sending the replay's copy keeps both ids, whichever record comes last", async () => {
    const { app, platform, dispatcher } = await running();
    const elsewhere = new Platform("o");
    let theirs: Dispatcher | undefined;
    try {
      elsewhere.hold();
      ({ theirs } = await replayedElsewhere(app, platform, "both-sending", elsewhere));
      theirs?.start();
      // Their copy claimed and in hand ("sending"), held at the platform.
      await waitFor(
        async () =>
          (await app.models.Outbox.countDocuments({ chatId: "both-sending", status: "sending" })) === 1,
        "the replay's copy in the other's hands",
      );
      // Ours goes first and marks their copy sent; theirs is recorded after it.
      platform.release();
      await waitFor(
        async () =>
          (await app.models.Outbox.countDocuments({ chatId: "both-sending", status: "sent" })) === 1,
        "their copy marked sent by ours",
      );
      elsewhere.release();
      await waitFor(
        async () =>
          (await app.models.Outbox.findOne({ chatId: "both-sending" }).lean())?.platformMessageIds.length ===
          2,
        "both copies' ids on the record",
      );
      expect(await app.links.delivery("console", "both-sending", "m1")).toEqual({});
      expect(await app.links.delivery("console", "both-sending", "o1")).toEqual({});
    } finally {
      platform.release();
      elsewhere.release();
      await theirs?.stop();
      await dispatcher.stop();
    }
  });

  it("recovered from its state while its reply is still in hand here is marked only once the reply stands", async () => {
    const { app, clock, platform, dispatcher } = await running();
    try {
      platform.hold();
      // A flow's first step: its state is written with its reply, which is handed over unwritten
      // and held up by the platform.
      const start = consoleInbound("in-hand", "/gopy");
      expect(await app.engine.handle(start)).toBe("handled");
      clock.advance(CLAIM_MS + 1_000);
      expect(await app.engine.recoverAbandoned()).toBe(1);
      const status = async () =>
        (await app.models.InboundRecord.findOne({ dedupeKey: start.dedupeKey }).lean())?.status;
      // Marked now, a write of the reply the database refused would leave nobody to send it.
      expect(await status()).toBe("received");
      platform.release();
      await waitFor(() => platform.to("in-hand").length === 1, "the reply");
      await app.engine.idle();
      expect(await status()).toBe("handled");
      expect(await app.models.Outbox.countDocuments({ chatId: "in-hand", status: "sent" })).toBe(1);
    } finally {
      platform.release();
      await dispatcher.stop();
    }
  });

  it("whose held 'handled' mark the database refused is held again and written at the next try", async () => {
    const { app } = await buildApp(db.connection);
    // A flow's first step writes its state with its reply: its mark is held, not written.
    const start = consoleInbound("held-mark", "/gopy");
    expect(await app.engine.handle(start)).toBe("handled");
    const status = async () =>
      (await app.models.InboundRecord.findOne({ dedupeKey: start.dedupeKey }).lean())?.status;
    expect(await status()).toBe("received");
    proxy.arm({ at: 1, fault: "error", key: { command: "update", collection: "inbound", nth: 1 } });
    try {
      await app.engine.idle();
    } finally {
      proxy.disarm();
    }
    expect(proxy.faulted).toMatchObject({ command: "update", collection: "inbound" });
    expect(await status()).toBe("received");
    await app.engine.idle();
    expect(await status()).toBe("handled");
  });
});
