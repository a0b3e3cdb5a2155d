import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { SendError, type ChannelSender, type Delivery } from "../../src/engine/channel.js";
import { t } from "../../src/text/vi.js";
import { runCli } from "../support/cli.js";
import { buildApp, useDatabase } from "../support/db.js";

const db = useDatabase(import.meta.filename);
const dataDir = mkdtempSync(path.join(os.tmpdir(), "dvbot-outbox-cli-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Refuses every message to the chats in `refused` as a bad request; delivers the rest. */
class Sender implements ChannelSender {
  readonly channel = "console" as const;
  readonly delivered: Delivery[] = [];
  readonly refused = new Set<string>();
  async send(delivery: Delivery) {
    if (this.refused.has(delivery.chatId)) throw new SendError("bad_request", "Bad Request: chat not found");
    this.delivered.push(delivery);
    return { messageIds: [`p${this.delivered.length}`] };
  }
}

describe("npm run outbox", () => {
  it("lists what was given up without its text, and requeues it to be delivered in order", async () => {
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection);
    const sender = new Sender();
    const dispatcher = app.addChannel(sender);
    sender.refused.add("dan-1");
    const message = (chatId: string, text: string, key: string) => ({
      to: { channel: "console" as const, chatId },
      text,
      dedupeKey: key,
    });
    await app.outbox.enqueue([
      message("dan-1", "Số điện thoại riêng 0912 345 678", "cli:1"),
      message("dan-1", "Tin thứ hai", "cli:2"),
      message("dan-2", "Tin khác", "cli:3"),
      message("dan-3", "Đã quá hạn lưu", "cli:4"),
    ]);
    await dispatcher.drain();
    // One given up long ago: its text is gone with the retention period, nothing left to send.
    await app.models.Outbox.updateOne({ dedupeKey: "cli:4" }, { $set: { status: "dead", textSealed: "" } });
    const dead = await app.models.Outbox.find({ status: "dead" }).sort({ _id: 1 }).lean();
    expect(dead.map((d) => d.dedupeKey)).toEqual(["cli:1", "cli:2", "cli:4"]);

    const env = {
      MONGODB_URI: inject("mongoUri"),
      MONGODB_DB: db.connection.name,
      DATA_DIR: dataDir,
      DATA_ENCRYPTION_KEYS: `cli:${randomBytes(32).toString("base64")}`,
      FILE_LINK_SECRET: "test-file-link-secret-0123456789abcdef",
    };
    const listed = await runCli("src/cli/outbox.ts", ["dead"], env);
    expect(listed.stderr).toBe("");
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trim().split("\n");
    expect(lines).toHaveLength(5);
    for (const doc of dead) expect(listed.stdout).toContain(doc._id.toString());
    expect(lines[1]).toMatch(/console\s+dan-1\s+\d+ (giờ|ngày)\s+bad request: Bad Request: chat not found$/);
    expect(lines[3]).toContain("không gửi lại được");
    expect(lines[4]).toBe(t.cli.outboxDeadTotal(3));
    expect(listed.stdout).not.toContain("0912");

    const wrong = await runCli("src/cli/outbox.ts", ["requeue", "not-an-id"], env);
    expect([wrong.code, wrong.stdout, wrong.stderr]).toEqual([2, "", `${t.cli.outboxBadId("not-an-id")}\n`]);

    const requeued = await runCli("src/cli/outbox.ts", ["requeue", "--all"], env);
    expect([requeued.code, requeued.stderr]).toEqual([0, ""]);
    expect(requeued.stdout.trim()).toBe(t.cli.outboxRequeued(2, undefined));
    sender.refused.clear();
    // The bot runs on: its clock is past the requeue, which the tool dated by the real clock.
    clock.set(new Date(Date.now() + 60_000));
    await dispatcher.drain();
    expect(sender.delivered.filter((d) => d.chatId === "dan-1").map((d) => d.text)).toEqual([
      "Số điện thoại riêng 0912 345 678",
      "Tin thứ hai",
    ]);
    expect((await app.outbox.dead()).map((d) => d.chatId)).toEqual(["dan-3"]);
  });
});
