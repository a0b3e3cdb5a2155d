import type { Update } from "grammy/types";
import type { Attachment, Inbound } from "../../src/engine/message.js";
import { type Fields, idOf, list, num, record, str } from "./fields.js";
import { labelOf, readCallbackData } from "./keyboard.js";

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

/** Files we keep as "other" evidence: the Office can open them, the bot does not read them. */
const OTHER_MEDIA = ["video", "voice", "audio", "video_note"] as const;
/** Every field that carries a file. */
const MEDIA = ["photo", "document", "sticker", ...OTHER_MEDIA] as const;

function nameOf(user: Fields): string {
  return [str(user.first_name), str(user.last_name)].filter(Boolean).join(" ").trim();
}

/** The file id of a media field, when it has one. */
function fileOf(value: unknown): { ref: string; size?: number } | undefined {
  const media = record(value);
  const ref = str(media?.file_id);
  if (!media || !ref) return undefined;
  const bytes = num(media.file_size);
  return { ref, ...(bytes === undefined ? {} : { size: bytes }) };
}

function attachmentsOf(message: Fields): Attachment[] {
  const found: Attachment[] = [];
  // Telegram lists the sizes smallest first; the largest area is the original resolution.
  let largest: { ref: string; size?: number; area: number } | undefined;
  for (const entry of list(message.photo)) {
    const file = fileOf(entry);
    if (!file) continue;
    const size = record(entry);
    const area = (num(size?.width) ?? 0) * (num(size?.height) ?? 0);
    if (!largest || area > largest.area) largest = { ...file, area };
  }
  if (largest) {
    const { area: _area, ...file } = largest;
    found.push({ kind: "photo", mimeType: "image/jpeg", ...file });
  }
  const document = record(message.document);
  const documentFile = fileOf(document);
  if (document && documentFile) {
    const name = str(document.file_name);
    const mimeType = str(document.mime_type);
    found.push({
      kind: "document",
      ...documentFile,
      ...(name ? { name } : {}),
      ...(mimeType ? { mimeType } : {}),
    });
  }
  const sticker = fileOf(message.sticker);
  if (sticker) found.push({ kind: "sticker", ref: sticker.ref });
  for (const field of OTHER_MEDIA) {
    const media = fileOf(message[field]);
    if (media) found.push({ kind: "other", ...media });
  }
  return found;
}

/**
 * The message this one really replies to. In a forum topic every message carries
 * `reply_to_message` = the topic's `forum_topic_created` service message although nobody pressed
 * "reply"; that is not a reply. (`message_thread_id` alone proves nothing: it also appears on
 * plain replies in supergroups without topics.)
 */
function realReplyTo(message: Fields): { id: string; from?: string } | undefined {
  const target = record(message.reply_to_message);
  const id = idOf(target?.message_id);
  if (!target || id === undefined) return undefined;
  if (target.forum_topic_created !== undefined) return undefined;
  if (message.is_topic_message === true && target.message_id === message.message_thread_id) return undefined;
  const from = idOf(record(target.from)?.id);
  return { id, ...(from === undefined ? {} : { from }) };
}

/** `/help`, `/help@our_bot` — but not `/help@someone_else_bot`, which is for another bot in the group. */
function commandForUs(message: Fields, text: string, me: BotIdentity): boolean {
  const entities = Array.isArray(message.entities) ? message.entities : list(message.caption_entities);
  const command = entities
    .map(record)
    .find((e) => e?.type === "bot_command" && e.offset === 0 && num(e.length) !== undefined);
  const length = num(command?.length);
  if (length === undefined) return false;
  // Offsets are UTF-16 code units, as String.prototype.slice counts them.
  const token = text.slice(0, length);
  const at = token.indexOf("@");
  return at < 0 || token.slice(at + 1).toLowerCase() === me.username.toLowerCase();
}

/** Private, group or neither (a channel, or no readable chat): the chat's id and kind. */
function chatOf(value: unknown): { id: string; isGroup: boolean } | "channel" | undefined {
  const chat = record(value);
  const id = idOf(chat?.id);
  if (!chat || id === undefined) return undefined;
  if (chat.type === "channel") return "channel";
  return { id, isGroup: chat.type === "group" || chat.type === "supergroup" };
}

function fromMessage(updateId: number, message: Fields, me: BotIdentity, now: Date): ParsedUpdate {
  const from = record(message.from);
  const senderId = idOf(from?.id);
  // Only an explicit `is_bot: true` is a bot: payloads from older clients and bridges leave the
  // field out, and those are people writing.
  if (!from || senderId === undefined || from.is_bot === true) {
    return { kind: "ignore", reason: "not from a person" };
  }
  const chat = chatOf(message.chat);
  if (chat === "channel") return { kind: "ignore", reason: "channel" };
  const messageId = idOf(message.message_id);
  if (!chat || messageId === undefined) return { kind: "ignore", reason: "malformed message" };
  const text = str(message.text) ?? str(message.caption) ?? "";
  const replyTo = realReplyTo(message);
  if (chat.isGroup) {
    // In a group the bot answers commands meant for it and replies to its own messages; the
    // rest is people talking to each other.
    const replyToUs = replyTo?.from === String(me.id);
    if (!commandForUs(message, text, me) && !replyToUs) return { kind: "ignore", reason: "group chatter" };
  }
  const all = attachmentsOf(message);
  const attachments = all.filter((a) => (a.size ?? 0) <= MAX_DOWNLOAD_BYTES);
  const droppedLargeFile = attachments.length < all.length;
  if (!text && attachments.length === 0 && !droppedLargeFile) {
    // A media field we could not read (no file id) is as unreadable to us as a poll.
    const unreadable = [...UNREADABLE, ...MEDIA].some((field) => message[field] !== undefined);
    if (!chat.isGroup && unreadable) {
      return { kind: "unsupported", chatId: chat.id };
    }
    return { kind: "ignore", reason: "nothing to read (a service message)" };
  }
  const senderName = nameOf(from);
  return {
    kind: "message",
    droppedLargeFile,
    inbound: {
      channel: "telegram",
      chatId: chat.id,
      chatType: chat.isGroup ? "group" : "private",
      senderId,
      ...(senderName ? { senderName } : {}),
      messageId,
      text,
      attachments,
      ...(replyTo ? { replyToMessageId: replyTo.id } : {}),
      dedupeKey: `telegram:${updateId}`,
      order: updateId,
      receivedAt: now,
    },
  };
}

function fromCallback(updateId: number, query: Fields, now: Date): ParsedUpdate {
  if (query.data === undefined) return { kind: "ignore", reason: "callback without data (a game)" };
  // Data of another type matches no button: the press is answered as a stale one.
  const data = str(query.data) ?? "";
  const callbackId = str(query.id);
  const from = record(query.from);
  const senderId = idOf(from?.id);
  if (callbackId === undefined || !from || senderId === undefined) {
    return { kind: "ignore", reason: "malformed callback" };
  }
  const message = record(query.message);
  // A button on an inline-mode message has no chat we could answer in.
  if (!message) return { kind: "ignore", reason: "inline message callback" };
  const chat = chatOf(message.chat);
  const messageId = idOf(message.message_id);
  if (!chat || chat === "channel" || messageId === undefined) {
    return { kind: "ignore", reason: "callback on a message we cannot answer in" };
  }
  // An "inaccessible" message (older than 48 hours) comes with date 0 and nothing else.
  const accessible = message.date !== 0;
  const label = accessible ? labelOf(message.reply_markup, data) : undefined;
  const { value, step } = readCallbackData(data);
  const senderName = nameOf(from);
  return {
    kind: "callback",
    pressed: {
      callbackId,
      ...(accessible ? { message: { chatId: chat.id, messageId } } : {}),
      ...(label !== undefined ? { label } : {}),
    },
    inbound: {
      channel: "telegram",
      chatId: chat.id,
      chatType: chat.isGroup ? "group" : "private",
      senderId,
      ...(senderName ? { senderName } : {}),
      // A press is not a message; its query id is unique and says what it was.
      messageId: `callback:${callbackId}`,
      text: label ?? value,
      attachments: [],
      choice: value,
      ...(step !== undefined ? { step } : {}),
      dedupeKey: `telegram:${updateId}`,
      order: updateId,
      receivedAt: now,
    },
  };
}

/**
 * Turns one Bot API update into what the engine reads, or says why it is dropped. Pure: the
 * bot's identity and the time come in as arguments. The update is read as untrusted JSON: a
 * field of the wrong shape is treated as missing, never thrown on (see fields.ts).
 * @example parseUpdate({ update_id: 7, message: {...text: "/help"} }, me, now).kind // "message"
 */
export function parseUpdate(update: Update, me: BotIdentity, now: Date): ParsedUpdate {
  const fields: Fields = update as unknown as Fields;
  const message = record(fields.message);
  if (message) return fromMessage(update.update_id, message, me, now);
  const query = record(fields.callback_query);
  if (query) return fromCallback(update.update_id, query, now);
  const kind = Object.keys(update).find((key) => key !== "update_id") ?? "empty";
  return { kind: "ignore", reason: `update kind ${kind}` };
}
