import { readFileSync } from "node:fs";
import path from "node:path";
import type { Update } from "grammy/types";
import { describe, expect, it } from "vitest";
import { parseUpdate, type BotIdentity, type ParsedUpdate } from "../../bots/telegram/inbound.js";

const me: BotIdentity = { id: 424242, username: "dvbot_test_bot" };
const now = new Date("2025-10-06T02:00:00Z");
const dir = path.resolve(import.meta.dirname, "../fixtures/telegram");

function fixture(name: string): Update {
  return JSON.parse(readFileSync(path.join(dir, `${name}.json`), "utf8")) as Update;
}

function parsed(name: string): ParsedUpdate {
  return parseUpdate(fixture(name), me, now);
}

function inbound(name: string) {
  const result = parsed(name);
  if (result.kind !== "message" && result.kind !== "callback") throw new Error(`${name}: ${result.kind}`);
  return result.inbound;
}

describe("a Telegram update becomes an Inbound", () => {
  it("a private text: ids as strings, dedupe key and order from the update_id, the sender's full name", () => {
    expect(inbound("private-text")).toEqual({
      channel: "telegram",
      chatId: "5001234567",
      chatType: "private",
      senderId: "5001234567",
      senderName: "Lan Nguyễn Thị",
      messageId: "41",
      text: "Cho tôi hỏi thủ tục đăng ký kết quả nhiệm vụ khoa học",
      attachments: [],
      dedupeKey: "telegram:810000001",
      order: 810000001,
      receivedAt: now,
    });
  });

  it("a /start deep link arrives as the text '/start CODE'", () => {
    expect(inbound("start-deep-link").text).toBe("/start K7M2QX");
  });

  it("a photo: the largest size's file id, the caption as text", () => {
    const result = inbound("private-photo");
    expect(result.text).toBe("Ảnh minh chứng buổi nghiệm thu");
    expect(result.attachments).toEqual([
      { kind: "photo", ref: "AgACAgUAAxkBAAIBK2a1-large", mimeType: "image/jpeg", size: 152873 },
    ]);
  });

  it("a document: its file id, name, type and size; nothing is downloaded", () => {
    expect(inbound("private-document").attachments).toEqual([
      {
        kind: "document",
        ref: "BQACAgUAAxkBAAIBLGa1-doc",
        name: "bao-cao-quy-3.pdf",
        mimeType: "application/pdf",
        size: 482113,
      },
    ]);
  });

  it("a file over the 20 MB bots may download is dropped and flagged", () => {
    const result = parsed("private-document-too-large");
    expect(result.kind).toBe("message");
    if (result.kind !== "message") return;
    expect(result.droppedLargeFile).toBe(true);
    expect(result.inbound.attachments).toEqual([]);
  });

  it("a sticker is an attachment of kind sticker", () => {
    expect(inbound("private-sticker").attachments).toEqual([
      { kind: "sticker", ref: "CAACAgIAAxkBAAIBLma1-sticker" },
    ]);
  });

  it("a private location cannot be read: the person is told so", () => {
    expect(parsed("private-location")).toEqual({ kind: "unsupported", chatId: "5001234567" });
  });

  it("a reply to the bot's reminder carries the replied message id", () => {
    expect(inbound("private-reply-to-bot").replyToMessageId).toBe("131");
  });
});

describe("groups and forum topics", () => {
  it("a command for us in a forum topic passes, and the topic's service message is not a reply", () => {
    const result = inbound("forum-topic-command");
    expect(result.chatType).toBe("group");
    expect(result.chatId).toBe("-1009988776655");
    expect(result.text).toBe("/help@dvbot_test_bot");
    expect(result.replyToMessageId).toBeUndefined();
  });

  it("chatter in a topic the bot created is not a reply to the bot", () => {
    expect(parsed("forum-topic-chatter").kind).toBe("ignore");
  });

  it("a real reply to the bot in a supergroup without topics passes, message_thread_id notwithstanding", () => {
    const result = inbound("supergroup-reply-to-bot");
    expect(result.chatType).toBe("group");
    expect(result.replyToMessageId).toBe("3110");
  });

  it("people talking to each other, a command for another bot, a reply to someone else: ignored", () => {
    expect(parsed("group-chatter").kind).toBe("ignore");
    expect(parsed("group-command-other-bot").kind).toBe("ignore");
    expect(parsed("group-reply-to-someone").kind).toBe("ignore");
    expect(parsed("group-new-members").kind).toBe("ignore");
  });
});

describe("button presses", () => {
  it("a callback query: the data as the choice, the pressed label as the text", () => {
    const result = parsed("callback-query");
    expect(result).toMatchObject({
      kind: "callback",
      pressed: {
        callbackId: "4382bfdwdsb323b2d9",
        message: { chatId: "5001234567", messageId: "140" },
        label: "Văn phòng Sở",
      },
      inbound: {
        chatId: "5001234567",
        senderId: "5001234567",
        text: "Văn phòng Sở",
        choice: "office",
        dedupeKey: "telegram:810000015",
        messageId: "callback:4382bfdwdsb323b2d9",
      },
    });
  });

  it("a press on a message Telegram no longer shows us: the data stands in for the label", () => {
    const result = parsed("callback-inaccessible");
    expect(result.kind).toBe("callback");
    if (result.kind !== "callback") return;
    expect(result.pressed.message).toBeUndefined();
    expect(result.inbound.text).toBe("yes");
    expect(result.inbound.choice).toBe("yes");
  });
});

describe("update kinds we do not handle are acknowledged and ignored", () => {
  it.each(["edited-message", "message-reaction", "my-chat-member-blocked", "inline-query", "channel-post"])(
    "%s",
    (name) => {
      expect(parsed(name).kind).toBe("ignore");
    },
  );
});

describe("fields of the wrong shape read as missing, never throw", () => {
  const text = fixture("private-text");
  const press = fixture("callback-query");
  const withMessage = (extra: Record<string, unknown>) =>
    ({ ...text, message: { ...text.message, ...extra } }) as unknown as Update;
  const withPress = (extra: Record<string, unknown>) =>
    ({ ...press, callback_query: { ...press.callback_query, ...extra } }) as unknown as Update;

  it.each([
    ["no chat", withMessage({ chat: undefined })],
    ["a chat that is a string", withMessage({ chat: "private" })],
    ["a chat id that is an operator object", withMessage({ chat: { id: { $gt: "" }, type: "private" } })],
    ["a message id that is an operator object", withMessage({ message_id: { $gt: "" } })],
    ["a sender id that is an operator object", withMessage({ from: { id: { $ne: null }, is_bot: false } })],
    ["a press without from", withPress({ from: undefined })],
    ["a press whose message has no chat", withPress({ message: { message_id: 1, date: 1 } })],
    ["a press whose message is an operator object", withPress({ message: { $gt: "" } })],
  ])("%s: ignored", (_name, update) => {
    expect(parseUpdate(update, me, now).kind).toBe("ignore");
  });

  it("entities that are not a list: a group message is not taken for a command", () => {
    const group = withMessage({
      chat: { id: -1001, type: "supergroup", title: "Phòng" },
      text: "/help",
      entities: { $gt: "" },
    });
    expect(parseUpdate(group, me, now)).toEqual({ kind: "ignore", reason: "group chatter" });
  });

  it("a photo that is not a list of sizes, in a private chat: the person is told it cannot be read", () => {
    const update = withMessage({ text: undefined, photo: "photo.jpg" });
    expect(parseUpdate(update, me, now)).toEqual({ kind: "unsupported", chatId: "5001234567" });
  });

  it("sizes without a file id are skipped; the largest readable one is kept", () => {
    const update = withMessage({
      text: undefined,
      photo: [1, { width: 900, height: 900 }, { file_id: "small", width: 90, height: 90, file_size: 900 }],
    });
    const result = parseUpdate(update, me, now);
    expect(result.kind).toBe("message");
    if (result.kind !== "message") return;
    expect(result.inbound.attachments).toEqual([
      { kind: "photo", ref: "small", mimeType: "image/jpeg", size: 900 },
    ]);
  });

  it("a keyboard that is not a list: the press has no label and counts as stale", () => {
    const message = press.callback_query?.message as unknown as Record<string, unknown>;
    const result = parseUpdate(
      withPress({ message: { ...message, reply_markup: { inline_keyboard: { $gt: "" } } } }),
      me,
      now,
    );
    expect(result.kind).toBe("callback");
    if (result.kind === "callback") expect(result.pressed.label).toBeUndefined();
  });
});
