import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { TELEGRAM_LIMITS } from "../../bots/telegram/rate-limit.js";
import type { FixedClock } from "../../src/clock.js";
import type { Outbound } from "../../src/engine/message.js";
import { buildApp, useDatabase } from "../support/db.js";
import { startRig, type TelegramRig } from "./harness.js";

const db = useDatabase(import.meta.filename);

async function rig(): Promise<TelegramRig & { clock: FixedClock }> {
  await db.connection.dropDatabase();
  const { app, clock } = await buildApp(db.connection);
  return { ...(await startRig(app)), clock };
}

function message(chatId: string, text: string, extra: Partial<Outbound> = {}): Outbound {
  return {
    to: { channel: "telegram", chatId },
    text,
    dedupeKey: `test:${chatId}:${text.slice(0, 40)}`,
    ...extra,
  };
}

/** Successful sendMessage calls to a chat: [text, clock time]. */
function sends(r: TelegramRig, chatId: string): [string, number][] {
  return r.fake
    .callsOf("sendMessage")
    .filter((c) => c.ok && String(c.params.chat_id) === chatId)
    .map((c) => [String(c.params.text), c.at ?? 0]);
}

/**
 * Whether send times keep within a chat's token bucket as Telegram's FAQ describes it: a short
 * burst (TELEGRAM_LIMITS.perChatBurst), then one message per perChatIntervalMs.
 */
function withinChatBucket(times: number[]): boolean {
  const { perChatBurst, perChatIntervalMs } = TELEGRAM_LIMITS;
  let tokens = perChatBurst;
  let at = times[0] ?? 0;
  for (const time of times) {
    tokens = Math.min(perChatBurst, tokens + (time - at) / perChatIntervalMs);
    at = time;
    if (tokens < 1) return false;
    tokens -= 1;
  }
  return true;
}

describe("a Telegram that goes silent", () => {
  it("fails a hung call as network after the configured timeout, and keeps sending to other chats", async () => {
    await db.connection.dropDatabase();
    const { app } = await buildApp(db.connection);
    const r = await startRig(app, { timeoutSeconds: 0.3 });
    try {
      // Eight chats whose sendMessage is never answered (as many as are sent side by side).
      const hung = Array.from({ length: 8 }, (_, i) => String(4100 + i));
      let silent = true;
      r.fake.hooks.before = (call) =>
        silent && call.method === "sendMessage" && hung.includes(String(call.params.chat_id))
          ? "hang"
          : undefined;
      await r.app.outbox.enqueue([
        ...hung.map((chatId) => message(chatId, "Nhắc hạn")),
        message("4200", "Xin chào"),
      ]);
      await r.app.dispatchers.get("telegram")?.drain();
      expect(sends(r, "4200").map(([text]) => text)).toEqual(["Xin chào"]);
      const waiting = await r.app.outbox.model.find({ chatId: { $in: hung } }).lean();
      expect(waiting).toHaveLength(8);
      for (const doc of waiting) {
        // "network": kept and retried, an attempt spent.
        expect(doc.status).toBe("pending");
        expect(doc.attempts).toBe(1);
        expect(doc.lastError).toContain("sendMessage");
      }
      // Telegram answers again: each waiting message goes out once.
      silent = false;
      await r.deliver();
      for (const chatId of hung) expect(sends(r, chatId).map(([text]) => text)).toEqual(["Nhắc hạn"]);
    } finally {
      await r.stop();
    }
  });
});

describe("rate limits and a 429 storm", () => {
  it("honours retry_after through the outbox: every message once, in order per chat", async () => {
    const r = await rig();
    const t0 = r.clock.now().getTime();
    try {
      r.fake.fail({
        method: "sendMessage",
        chatId: "3001",
        times: 2,
        errorCode: 429,
        description: "Too Many Requests: retry after 7",
        retryAfter: 7,
      });
      r.fake.fail({
        method: "sendMessage",
        chatId: "3002",
        after: 1,
        errorCode: 429,
        description: "Too Many Requests: retry after 3",
        retryAfter: 3,
      });
      await r.app.outbox.enqueue([
        message("3001", "A1"),
        message("3002", "B1"),
        message("3001", "A2"),
        message("3002", "B2"),
        message("3001", "A3"),
        message("3002", "B3"),
      ]);
      await r.deliver();

      const a = sends(r, "3001");
      const b = sends(r, "3002");
      expect(a.map(([text]) => text)).toEqual(["A1", "A2", "A3"]);
      expect(b.map(([text]) => text)).toEqual(["B1", "B2", "B3"]);
      // Two 429s of 7 s each: A1 went out no earlier than 14 s after the first try.
      expect((a[0]?.[1] ?? 0) - t0).toBeGreaterThanOrEqual(14_000);
      // B2 was refused for 3 s after B1 went out.
      expect((b[1]?.[1] ?? 0) - (b[0]?.[1] ?? 0)).toBeGreaterThanOrEqual(3_000);
      // Within each chat's bucket: a short burst, then one message a second.
      for (const list of [a, b]) expect(withinChatBucket(list.map(([, at]) => at))).toBe(true);
      const docs = await r.app.outbox.model.find({}).lean();
      expect(docs.every((d) => d.status === "sent" && d.platformMessageIds.length === 1)).toBe(true);
      // A wait is not a failed attempt.
      expect(docs.every((d) => d.attempts === 1)).toBe(true);
    } finally {
      await r.stop();
    }
  });

  it("a 429 in the middle of a long answer sends each part once", async () => {
    const r = await rig();
    try {
      r.fake.fail({
        method: "sendMessage",
        chatId: "3003",
        after: 1,
        errorCode: 429,
        description: "Too Many Requests: retry after 5",
        retryAfter: 5,
      });
      const words = Array.from({ length: 1500 }, (_, i) => `mục-${i}`);
      await r.app.outbox.enqueue([message("3003", words.join(" "))]);
      await r.deliver();
      const parts = sends(r, "3003").map(([text]) => text);
      expect(parts.length).toBeGreaterThan(2);
      expect(parts.join(" ").split(" ")).toEqual(words);
      const doc = await r.app.outbox.model.findOne({ chatId: "3003" }).lean();
      expect(doc?.status).toBe("sent");
      expect(doc?.platformMessageIds).toEqual(r.fake.messagesTo("3003").map((m) => String(m.id)));
    } finally {
      await r.stop();
    }
  });

  it("a refused token in the middle of a long answer pauses, and on resume sends each part once", async () => {
    const r = await rig();
    try {
      r.fake.fail({
        method: "sendMessage",
        chatId: "3004",
        after: 1,
        errorCode: 401,
        description: "Unauthorized",
      });
      const words = Array.from({ length: 1500 }, (_, i) => `phần-${i}`);
      await r.app.outbox.enqueue([message("3004", words.join(" "))]);
      // The pause holds the message in memory, not by a send time: move the clock past each probe.
      for (let probe = 0; probe < 5; probe += 1) {
        await r.app.dispatchers.get("telegram")?.drain();
        await r.channel.idle();
        if ((await r.app.outbox.model.countDocuments({ status: { $ne: "sent" } })) === 0) break;
        r.clock.advance(61_000);
      }
      const parts = sends(r, "3004").map(([text]) => text);
      expect(parts.join(" ").split(" ")).toEqual(words);
      const doc = await r.app.outbox.model.findOne({ chatId: "3004" }).lean();
      expect(doc?.status).toBe("sent");
    } finally {
      await r.stop();
    }
  });

  it("twenty messages a minute in a group: the 21st waits for the window", async () => {
    const r = await rig();
    const t0 = r.clock.now().getTime();
    try {
      const group = "-1002233445566";
      await r.app.outbox.enqueue(Array.from({ length: 21 }, (_, i) => message(group, `G${i + 1}`)));
      await r.deliver();
      const list = sends(r, group);
      expect(list.map(([text]) => text)).toEqual(Array.from({ length: 21 }, (_, i) => `G${i + 1}`));
      expect((list[20]?.[1] ?? 0) - (list[0]?.[1] ?? 0)).toBeGreaterThanOrEqual(60_000);
      expect((list[19]?.[1] ?? 0) - t0).toBeLessThan(60_000);
    } finally {
      await r.stop();
    }
  });
});

describe("failures that are not worth retrying", () => {
  it("a user who blocked the bot: 403 → message dead, account marked, nothing retried", async () => {
    const r = await rig();
    try {
      await r.post(r.updates.text("3004", "/start"));
      r.fake.fail({
        method: "sendMessage",
        chatId: "3004",
        times: 10,
        errorCode: 403,
        description: "Forbidden: bot was blocked by the user",
      });
      await r.deliver();
      const doc = await r.app.outbox.model.findOne({ chatId: "3004" }).lean();
      expect(doc?.status).toBe("dead");
      expect(doc?.lastError).toContain("blocked");
      const account = await r.app.models.ChannelAccount.findOne({
        channel: "telegram",
        externalId: "3004",
      }).lean();
      expect(account?.blockedAt).toBeInstanceOf(Date);
      r.clock.advance(3_600_000);
      await r.deliver();
      expect(r.fake.callsOf("sendMessage").filter((c) => String(c.params.chat_id) === "3004")).toHaveLength(
        1,
      );
    } finally {
      await r.stop();
    }
  });

  it("400 is given up at once; a 502 is retried with backoff and delivered once", async () => {
    const r = await rig();
    try {
      r.fake.fail({
        method: "sendMessage",
        chatId: "3005",
        errorCode: 400,
        description: "Bad Request: chat not found",
      });
      r.fake.fail({
        method: "sendMessage",
        chatId: "3006",
        times: 2,
        errorCode: 502,
        description: "Bad Gateway",
      });
      await r.app.outbox.enqueue([message("3005", "lost"), message("3006", "later")]);
      await r.deliver();
      expect((await r.app.outbox.model.findOne({ chatId: "3005" }).lean())?.status).toBe("dead");
      const later = await r.app.outbox.model.findOne({ chatId: "3006" }).lean();
      expect([later?.status, later?.attempts]).toEqual(["sent", 3]);
      expect(sends(r, "3006").map(([text]) => text)).toEqual(["later"]);
    } finally {
      await r.stop();
    }
  });
});

describe("long answers and files", () => {
  it("a 10,000-character answer goes out in parts of at most 4096, the buttons under the last", async () => {
    const r = await rig();
    try {
      const words: string[] = [];
      while (words.join(" ").length < 10_000) words.push(`đoạn-${words.length}`);
      const text = words
        .join(" ")
        .slice(0, 10_000)
        .replace(/\s\S*$/, "");
      await r.app.outbox.enqueue([message("3007", text, { choices: [{ label: "Đã đọc", value: "read" }] })]);
      await r.deliver();
      const parts = r.fake.messagesTo("3007");
      expect(parts).toHaveLength(3);
      expect(parts.every((p) => p.text.length <= 4096)).toBe(true);
      expect(parts.map((p) => p.text).join(" ")).toBe(text);
      expect(parts.map((p) => p.sentMarkup !== undefined)).toEqual([false, false, true]);
    } finally {
      await r.stop();
    }
  });

  it("a chart from disk goes by sendPhoto, a stored report by its file_id with sendDocument", async () => {
    const r = await rig();
    try {
      const dir = mkdtempSync(path.join(os.tmpdir(), "tg-files-"));
      const chart = path.join(dir, "bieu-do.png");
      writeFileSync(chart, Buffer.alloc(2048, 1));
      await r.app.outbox.enqueue([
        message("3008", "Báo cáo tiến độ quý III", {
          files: [
            { kind: "photo", ref: chart },
            { kind: "document", ref: "BQACAgUAAxkBAAIBLGa1-report", name: "bao-cao.xlsx" },
          ],
        }),
        message("3008", "Tệp không còn", {
          files: [{ kind: "document", ref: path.join(dir, "missing.pdf") }],
        }),
      ]);
      await r.deliver();
      const [photo] = r.fake.callsOf("sendPhoto");
      expect(photo?.files).toEqual([expect.objectContaining({ name: "bieu-do.png", size: 2048 })]);
      expect(r.fake.callsOf("sendDocument")[0]?.params.document).toBe("BQACAgUAAxkBAAIBLGa1-report");
      const [sent, missing] = await r.app.outbox.model.find({ chatId: "3008" }).sort({ _id: 1 }).lean();
      expect(sent?.platformMessageIds).toEqual(
        r.fake
          .messagesTo("3008")
          .slice(0, 3)
          .map((m) => String(m.id)),
      );
      expect(missing?.status).toBe("dead");
      expect(missing?.lastError).toContain("file not found");
    } finally {
      await r.stop();
    }
  });
});
