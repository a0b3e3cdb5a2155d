import { describe, expect, it } from "vitest";
import { SendError, type ChannelSender, type Delivery } from "../../src/engine/channel.js";
import { buildApp, useDatabase } from "../support/db.js";
import { consoleMessage, textsTo } from "../support/recording-sender.js";
import { waitFor } from "../support/wait.js";

/**
 * A running dispatcher (started, looking on its own), as the bot runs it: messages born claimed,
 * messages found by its look, and a platform that says "too many requests" now and then. Each
 * message must go once, after the wait it was told, and before the later messages of its chat.
 */
const db = useDatabase(import.meta.filename);

/** The console channel, refusing the first `refusals` sends with a 429 that asks for `waitMs`. */
class Limited implements ChannelSender {
  readonly channel = "console" as const;
  readonly delivered: Delivery[] = [];
  constructor(
    private refusals: number,
    private readonly waitMs = 300,
  ) {}
  async send(delivery: Delivery) {
    if (this.refusals > 0) {
      this.refusals -= 1;
      throw new SendError("rate_limited", "Too Many Requests: retry after 1", this.waitMs);
    }
    this.delivered.push(delivery);
    return { messageIds: [`l${this.delivered.length}`] };
  }
  to(chatId: string): string[] {
    return textsTo(this.delivered, chatId);
  }
}

const message = consoleMessage;

describe("a running dispatcher told to wait", () => {
  it("sends a message its look found once the wait is over, before the chat's next one", async () => {
    const { app } = await buildApp(db.connection);
    // Another process on the same database, with no dispatcher of its own: only the look finds
    // what it writes.
    const { app: other } = await buildApp(db.connection);
    const sender = new Limited(1);
    const dispatcher = app.addChannel(sender, { pollMs: 100 });
    dispatcher.start();
    try {
      await other.outbox.enqueue([message("found", "Tin thứ nhất")]);
      await waitFor(() => sender.to("found").length === 1, "the first message");
      await app.outbox.enqueue([message("found", "Tin thứ hai")]);
      await waitFor(() => sender.to("found").length === 2, "the second message");
      expect(sender.to("found")).toEqual(["Tin thứ nhất", "Tin thứ hai"]);
      // The record of a send follows the platform's answer.
      await waitFor(
        async () => (await app.models.Outbox.countDocuments({ chatId: "found", status: "sent" })) === 2,
        "both sends recorded",
      );
    } finally {
      await dispatcher.stop();
    }
  });

  it("holds a reply born claimed through its wait, and the chat's later replies behind it", async () => {
    const { app } = await buildApp(db.connection);
    const sender = new Limited(1, 500);
    const dispatcher = app.addChannel(sender, { pollMs: 100 });
    dispatcher.start();
    try {
      // Past its first look: what this process writes now is born claimed.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await app.outbox.enqueue([message("born", "Tin thứ nhất")]);
      const first = await app.models.Outbox.findOne({ chatId: "born" }).lean();
      expect(first).toMatchObject({ status: "sending", claimSeq: 0 });
      // Written while the first waits out its 429.
      await new Promise((resolve) => setTimeout(resolve, 100));
      await app.outbox.enqueue([message("born", "Tin thứ hai"), message("born", "Tin thứ ba")]);
      await waitFor(() => sender.to("born").length === 3, "all three messages");
      expect(sender.to("born")).toEqual(["Tin thứ nhất", "Tin thứ hai", "Tin thứ ba"]);
      // No claim key was needed for any of them: born claimed, and held in memory while waiting.
      const ids = (await app.models.Outbox.find({ chatId: "born" }).lean()).map((d) => d._id.toHexString());
      expect(ids).toHaveLength(3);
      const keys = (await app.models.Claim.find({ key: /^outbox:/ }).lean()).map((c) => c.key);
      expect(keys.filter((key) => ids.some((id) => key.startsWith(`outbox:${id}:`)))).toEqual([]);
    } finally {
      await dispatcher.stop();
    }
  });

  it("gives back, at a stop, the claims of messages it holds but has not sent", async () => {
    const { app } = await buildApp(db.connection);
    const sender = new Limited(1, 5_000);
    const dispatcher = app.addChannel(sender, { pollMs: 100 });
    dispatcher.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await app.outbox.enqueue([message("stopped", "Tin đang chờ")]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await dispatcher.stop();
    // Pending again, no one's: another instance (or this one restarted) sends it at once.
    const doc = await app.models.Outbox.findOne({ chatId: "stopped" }).lean();
    expect(doc).toMatchObject({ status: "pending" });
    expect(doc?.lockedBy).toBeUndefined();
    expect(sender.to("stopped")).toEqual([]);
  });
});
