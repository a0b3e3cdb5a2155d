import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseBotUpdate } from "../../bots/zalo/bot-api.js";
import { addressOf, oaChatId } from "../../bots/zalo/chat-ids.js";
import { botUpdateToInbound, oaEventToInbound } from "../../bots/zalo/inbound.js";
import { parseOaEvent } from "../../bots/zalo/oa-api.js";

const NOW = new Date("2025-10-06T02:00:00Z");

function fixture(name: string): string {
  return readFileSync(path.join(import.meta.dirname, "../fixtures/zalo", `${name}.json`), "utf8");
}

function bot(name: string) {
  const raw = fixture(name);
  const update = parseBotUpdate(JSON.parse(raw), raw);
  return { update, inbound: update && botUpdateToInbound(update, NOW) };
}

function oa(name: string) {
  const raw = fixture(name);
  const event = parseOaEvent(JSON.parse(raw), raw);
  return { event, inbound: event && oaEventToInbound(event, NOW) };
}

describe("Bot Platform updates become Inbound", () => {
  it("reads a real text event: bare body, display_name, hex ids, date in milliseconds", () => {
    const { update, inbound } = bot("bot-text");
    expect(update?.message?.date).toBe(1759716000000);
    expect(update?.raw).toBe(fixture("bot-text"));
    expect(inbound).toEqual({
      channel: "zalo",
      chatId: "6ede9afa66b88fe6d6a9",
      chatType: "private",
      senderId: "6ede9afa66b88fe6d6a9",
      senderName: "Nguyễn Thị Hoà",
      messageId: "2d758cb5e222177a4e35",
      text: "Cho tôi hỏi thủ tục đăng ký nhãn hiệu",
      attachments: [],
      dedupeKey: "zalo:2d758cb5e222177a4e35",
      receivedAt: NOW,
    });
  });

  it("reads the documentation's spelling: {ok, result}, no event_name, first_name", () => {
    const { update, inbound } = bot("bot-text-documented");
    expect(update?.eventName).toBe("message.text.received");
    expect(inbound?.text).toBe("Xin chào");
    expect(inbound?.senderName).toBe("Nguyen Van A");
    expect(inbound?.dedupeKey).toBe("zalo:16f6366b3f02645a3d15");
  });

  it("turns a picture into a photo attachment, its caption into the text", () => {
    expect(bot("bot-image").inbound).toMatchObject({
      text: "",
      attachments: [{ kind: "photo", ref: "https://photo-stal.zadn.vn/abc/ong-nuoc-vo.jpg" }],
    });
    expect(bot("bot-image-caption").inbound).toMatchObject({
      text: "Biển báo bị đổ ở ngã tư",
      attachments: [{ kind: "photo", ref: "https://photo-stal.zadn.vn/abc/bien-bao.jpg" }],
    });
  });

  it("passes a sticker and an unsupported message on with empty text, for the engine to answer", () => {
    expect(bot("bot-sticker").inbound).toMatchObject({
      text: "",
      attachments: [{ kind: "sticker", ref: "d063f44dc80821567819" }],
      dedupeKey: "zalo:c3f09d1e7a6b5c4d3e2f",
    });
    expect(bot("bot-unsupported").inbound).toMatchObject({
      text: "",
      attachments: [{ kind: "other", ref: "message.unsupported.received" }],
    });
  });

  it("acknowledges and ignores what it cannot answer: no message, a bot's message", () => {
    const bare = bot("bot-unsupported-bare");
    expect(bare.update?.eventName).toBe("message.unsupported.received");
    expect(bare.inbound).toBeUndefined();
    expect(bot("bot-from-bot").inbound).toBeUndefined();
    expect(parseBotUpdate({ hello: "world" }, "{}")).toBeUndefined();
    expect(parseBotUpdate("not an object", "")).toBeUndefined();
  });

  it("keeps a group message in the group's chat", () => {
    expect(bot("bot-group-text").inbound).toMatchObject({
      chatId: "77aa88bb99cc00dd11ee",
      chatType: "group",
      senderId: "6ede9afa66b88fe6d6a9",
    });
  });

  it("tolerates numbers where strings were expected, and unknown fields", () => {
    const update = parseBotUpdate(
      {
        event_name: "message.text.received",
        extra: { anything: true },
        message: {
          message_id: 12345,
          text: "1",
          chat: { id: 42, chat_type: "PRIVATE", color: "blue" },
          from: { id: 42, display_name: "A", is_bot: "false" },
          date: "1759716000",
        },
      },
      "",
    );
    expect(update?.message?.date).toBe(1759716000000);
    expect(update && botUpdateToInbound(update, NOW)).toMatchObject({
      chatId: "42",
      senderId: "42",
      messageId: "12345",
      dedupeKey: "zalo:12345",
    });
  });
});

describe("Official Account events become Inbound", () => {
  it("reads user_send_text, keeping ids as strings and prefixing the OA user", () => {
    const { event, inbound } = oa("oa-user-send-text");
    expect(event?.timestamp).toBe("1759716000000");
    expect(inbound).toEqual({
      channel: "zalo",
      chatId: "oa:5510185758261927916",
      chatType: "private",
      senderId: "oa:5510185758261927916",
      messageId: "e2a641af6661713b2874",
      text: "Cho tôi hỏi giờ làm việc của Sở",
      attachments: [],
      dedupeKey: "zalo-oa:e2a641af6661713b2874",
      receivedAt: NOW,
    });
  });

  it("reads pictures, stickers and files", () => {
    expect(oa("oa-user-send-image").inbound).toMatchObject({
      text: "Ảnh hiện trường",
      attachments: [{ kind: "photo", ref: "https://photo-stal.zadn.vn/oa/hien-truong.jpg" }],
    });
    expect(oa("oa-user-send-sticker").inbound).toMatchObject({
      text: "",
      attachments: [{ kind: "sticker", ref: "bfb737cc4e89a7d7fe98" }],
    });
    expect(oa("oa-user-send-file").inbound).toMatchObject({
      attachments: [
        {
          kind: "document",
          ref: "https://f.zadn.vn/oa/don-kien-nghi.pdf",
          name: "Đơn kiến nghị.pdf",
          size: 1024000,
        },
      ],
    });
  });

  it("acknowledges follow, unfollow and user_seen_message without an Inbound", () => {
    for (const name of ["oa-follow", "oa-unfollow", "oa-user-seen-message"]) {
      const { event, inbound } = oa(name);
      expect(event).toBeDefined();
      expect(inbound).toBeUndefined();
    }
    expect(oa("oa-follow").event?.followerId).toBe("5510185758261927916");
  });

  it("routes a reply by the chat id's prefix", () => {
    expect(addressOf(oaChatId("5510185758261927916"))).toEqual({ api: "oa", userId: "5510185758261927916" });
    expect(addressOf("6ede9afa66b88fe6d6a9")).toEqual({ api: "bot", chatId: "6ede9afa66b88fe6d6a9" });
  });
});
