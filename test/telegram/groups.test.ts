import type { Update } from "grammy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { t } from "../../src/text/vi.js";
import { buildApp, useDatabase } from "../support/db.js";
import { startRig, type TelegramRig } from "./harness.js";

const db = useDatabase(import.meta.filename);
let r: TelegramRig;

// One rig for the file: its update factory numbers updates, so a second one would repeat ids.
beforeAll(async () => {
  const { app } = await buildApp(db.connection);
  r = await startRig(app);
});
afterAll(async () => {
  await r.stop();
});

/**
 * In a group several bots listen to the same messages. Ours answers what is addressed to it — a
 * command with its own @username, a command it knows without a suffix, a reply to its message —
 * and says nothing about the rest: "/my_id" is another bot's command, not a mistake to correct.
 */
describe("commands in a group", () => {
  it("answers /help and /help@ourbot; stays silent on /my_id, /stats and any /cmd@otherbot", async () => {
    const group = "-1003344556677";
    const us = r.fake.me.username;
    for (const text of ["/my_id", "/stats", "/help@other_helper_bot", "/my_id@other_helper_bot"]) {
      expect(await r.post(r.updates.group("7101", group, text)), text).toBe(200);
    }
    await r.deliver();
    expect(r.fake.messagesTo(group)).toEqual([]);

    expect(await r.post(r.updates.group("7101", group, "/help"))).toBe(200);
    await r.deliver();
    expect(r.fake.messagesTo(group)).toHaveLength(1);
    expect(await r.post(r.updates.group("7101", group, `/help@${us}`))).toBe(200);
    await r.deliver();
    expect(r.fake.messagesTo(group)).toHaveLength(2);
    expect(r.fake.messagesTo(group).map((m) => m.text)).not.toContain(t.engine.unknownCommand("my_id"));

    // In a private chat an unknown command is still explained.
    expect(await r.post(r.updates.text("7101", "/my_id"))).toBe(200);
    await r.deliver();
    expect(r.fake.messagesTo("7101").at(-1)?.text).toBe(t.engine.unknownCommand("my_id"));
  });
});

describe("senders without is_bot", () => {
  it("a message from an older client that leaves out from.is_bot is a person's and is answered", async () => {
    const update = r.updates.text("7202", "/help");
    const from = update.message?.from as unknown as Record<string, unknown>;
    delete from.is_bot;
    expect(await r.post(update)).toBe(200);
    await r.deliver();
    expect(r.fake.messagesTo("7202")).toHaveLength(1);

    // A sender that says it is a bot is still not answered.
    const bot = r.updates.text("7203", "/help") as Update;
    (bot.message?.from as unknown as Record<string, unknown>).is_bot = true;
    expect(await r.post(bot)).toBe(200);
    await r.deliver();
    expect(r.fake.messagesTo("7203")).toEqual([]);
  });
});
