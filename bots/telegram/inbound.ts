import type { CallbackQuery, Message, Update, User } from "grammy/types";
import type { Attachment, Inbound } from "../../src/engine/message.js";
import { labelOf } from "./keyboard.js";

/** Who the bot is, from getMe: needed to tell replies to us and commands for us in groups. */
export interface BotIdentity {
  id: number;
  username: string;
}

/** The pressed keyboard message, so the adapter can answer the button and take the keyboard away. */
export interface PressedButton {
  callbackId: string;
  /** Absent when Telegram no longer shows us the message (older than 48 hours: "inaccessible"). */
  message?: { chatId: string; messageId: string };
  /** The label of the pressed button, when it is still on the message. */
  label?: string;
}

/**
 * What an update means to us. Anything not passed on is acknowledged and dropped: Telegram
 * sends many update kinds (reactions, member changes, channel posts…) and none is an error.
 */
export type ParsedUpdate =
  | { kind: "ignore"; reason: string }
  /** A private message we cannot read (a location, a poll…): the person is told so. */
  | { kind: "unsupported"; chatId: string }
  | { kind: "message"; inbound: Inbound; droppedLargeFile: boolean }
  | { kind: "callback"; inbound: Inbound; pressed: PressedButton };

/**
 * Bots can download files up to 20 MB with getFile; a larger file id is useless to us, so it is
 * dropped at the edge and the person is asked for a smaller file.
 * Source: https://core.telegram.org/bots/api#getfile
 */
export const MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024;

/** Content we cannot do anything with; a person sending it privately gets a polite answer. */
const UNREADABLE = [
  "location",
  "venue",
  "contact",
  "poll",
  "dice",
  "game",
  "story",
  "paid_media",
  "checklist",
  "invoice",
] as const;

function nameOf(user: User): string {
  return [user.first_name, user.last_name].filter(Boolean).join(" ").trim();
}

function attachmentsOf(message: Message): Attachment[] {
  const found: Attachment[] = [];
  const size = (bytes: number | undefined) => (bytes === undefined ? {} : { size: bytes });
  if (message.photo && message.photo.length > 0) {
    // Telegram lists the sizes smallest first; the last is the original resolution.
    const largest = message.photo.reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a));
    found.push({ kind: "photo", ref: largest.file_id, mimeType: "image/jpeg", ...size(largest.file_size) });
  }
  if (message.document) {
    const d = message.document;
    found.push({
      kind: "document",
      ref: d.file_id,
      ...(d.file_name ? { name: d.file_name } : {}),
      ...(d.mime_type ? { mimeType: d.mime_type } : {}),
      ...size(d.file_size),
    });
  }
  if (message.sticker) found.push({ kind: "sticker", ref: message.sticker.file_id });
  for (const media of [message.video, message.voice, message.audio, message.video_note]) {
    if (media) found.push({ kind: "other", ref: media.file_id, ...size(media.file_size) });
  }
  return found;
}

/**
 * The message this one really replies to. In a forum topic every message carries
 * `reply_to_message` = the topic's `forum_topic_created` service message although nobody pressed
 * "reply"; that is not a reply. (`message_thread_id` alone proves nothing: it also appears on
 * plain replies in supergroups without topics.)
 */
function realReplyTo(message: Message): Message | undefined {
  const target = message.reply_to_message;
  if (!target) return undefined;
  if (target.forum_topic_created) return undefined;
  if (message.is_topic_message && target.message_id === message.message_thread_id) return undefined;
  return target as Message;
}

/** `/help`, `/help@our_bot` — but not `/help@someone_else_bot`, which is for another bot in the group. */
function commandForUs(message: Message, text: string, me: BotIdentity): boolean {
  const entities = message.entities ?? message.caption_entities ?? [];
  const command = entities.find((e) => e.type === "bot_command" && e.offset === 0);
  if (!command) return false;
  // Offsets are UTF-16 code units, as String.prototype.slice counts them.
  const token = text.slice(0, command.length);
  const at = token.indexOf("@");
  return at < 0 || token.slice(at + 1).toLowerCase() === me.username.toLowerCase();
}

function fromMessage(update: Update, message: Message, me: BotIdentity, now: Date): ParsedUpdate {
  const from = message.from;
  if (!from || from.is_bot) return { kind: "ignore", reason: "not from a person" };
  const chat = message.chat;
  if (chat.type === "channel") return { kind: "ignore", reason: "channel" };
  const chatId = String(chat.id);
  const isGroup = chat.type === "group" || chat.type === "supergroup";
  const text = message.text ?? message.caption ?? "";
  const replyTo = realReplyTo(message);
  if (isGroup) {
    // In a group the bot answers commands meant for it and replies to its own messages; the
    // rest is people talking to each other.
    const replyToUs = replyTo?.from?.id === me.id;
    if (!commandForUs(message, text, me) && !replyToUs) return { kind: "ignore", reason: "group chatter" };
  }
  const all = attachmentsOf(message);
  const attachments = all.filter((a) => (a.size ?? 0) <= MAX_DOWNLOAD_BYTES);
  const droppedLargeFile = attachments.length < all.length;
  if (!text && attachments.length === 0 && !droppedLargeFile) {
    if (!isGroup && UNREADABLE.some((field) => message[field] !== undefined)) {
      return { kind: "unsupported", chatId };
    }
    return { kind: "ignore", reason: "nothing to read (a service message)" };
  }
  const senderName = nameOf(from);
  return {
    kind: "message",
    droppedLargeFile,
    inbound: {
      channel: "telegram",
      chatId,
      chatType: isGroup ? "group" : "private",
      senderId: String(from.id),
      ...(senderName ? { senderName } : {}),
      messageId: String(message.message_id),
      text,
      attachments,
      ...(replyTo ? { replyToMessageId: String(replyTo.message_id) } : {}),
      dedupeKey: `telegram:${update.update_id}`,
      receivedAt: now,
    },
  };
}

function fromCallback(update: Update, query: CallbackQuery, now: Date): ParsedUpdate {
  if (query.data === undefined) return { kind: "ignore", reason: "callback without data (a game)" };
  const message = query.message;
  // A button on an inline-mode message has no chat we could answer in.
  if (!message) return { kind: "ignore", reason: "inline message callback" };
  const chat = message.chat;
  const accessible = message.date !== 0;
  const label = accessible ? labelOf((message as Message).reply_markup, query.data) : undefined;
  const senderName = nameOf(query.from);
  const isGroup = chat.type === "group" || chat.type === "supergroup";
  return {
    kind: "callback",
    pressed: {
      callbackId: query.id,
      ...(accessible ? { message: { chatId: String(chat.id), messageId: String(message.message_id) } } : {}),
      ...(label !== undefined ? { label } : {}),
    },
    inbound: {
      channel: "telegram",
      chatId: String(chat.id),
      chatType: isGroup ? "group" : "private",
      senderId: String(query.from.id),
      ...(senderName ? { senderName } : {}),
      // A press is not a message; its query id is unique and says what it was.
      messageId: `callback:${query.id}`,
      text: label ?? query.data,
      attachments: [],
      choice: query.data,
      dedupeKey: `telegram:${update.update_id}`,
      receivedAt: now,
    },
  };
}

/**
 * Turns one Bot API update into what the engine reads, or says why it is dropped. Pure: the
 * bot's identity and the time come in as arguments.
 * @example parseUpdate({ update_id: 7, message: {...text: "/help"} }, me, now).kind // "message"
 */
export function parseUpdate(update: Update, me: BotIdentity, now: Date): ParsedUpdate {
  if (update.message) return fromMessage(update, update.message, me, now);
  if (update.callback_query) return fromCallback(update, update.callback_query, now);
  const kind = Object.keys(update).find((key) => key !== "update_id") ?? "empty";
  return { kind: "ignore", reason: `update kind ${kind}` };
}
