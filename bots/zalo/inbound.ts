import type { Attachment, Inbound } from "../../src/engine/message.js";
import type { BotUpdate } from "./bot-api.js";
import { oaChatId } from "./chat-ids.js";
import type { OaAttachment, OaEvent } from "./oa-api.js";

/**
 * Platform events → Inbound. Pure: no I/O, no business rule. A sticker or a message Zalo could
 * not show us becomes an Inbound with empty text and an attachment of kind "sticker" or "other";
 * what to answer to that is the engine's decision, not the adapter's.
 */

/**
 * A Bot Platform update as the engine's Inbound, or undefined for what is acknowledged and
 * ignored: events without a message (an unsupported message from a protected sender carries
 * none), messages from bots (two bots answering each other would loop), anything without the
 * message id the dedupe key needs.
 * @example botUpdateToInbound(parseBotUpdate(body, raw)!, now)?.dedupeKey // "zalo:2d758cb5e222177a4e35"
 */
export function botUpdateToInbound(update: BotUpdate, receivedAt: Date): Inbound | undefined {
  const message = update.message;
  if (!message?.messageId || !message.chat || !message.from || message.from.isBot) return undefined;
  let text = message.text ?? "";
  const attachments: Attachment[] = [];
  switch (update.eventName) {
    case "message.text.received":
      break;
    case "message.image.received":
      // A picture's caption is its text; Zalo sends "" when there is none.
      text = message.caption ?? message.text ?? "";
      if (message.photoUrl) attachments.push({ kind: "photo", ref: message.photoUrl });
      break;
    case "message.sticker.received":
      text = "";
      attachments.push({ kind: "sticker", ref: message.sticker ?? message.url ?? update.eventName });
      break;
    default:
      // message.unsupported.received, and kinds added later (voice…): Zalo did not give us the
      // content, or we do not read it yet.
      text = "";
      attachments.push({ kind: "other", ref: message.url ?? update.eventName });
  }
  return {
    channel: "zalo",
    chatId: message.chat.id,
    chatType: message.chat.type === "GROUP" ? "group" : "private",
    senderId: message.from.id,
    ...(message.from.displayName ? { senderName: message.from.displayName } : {}),
    messageId: message.messageId,
    text,
    attachments,
    dedupeKey: `zalo:${message.messageId}`,
    receivedAt,
  };
}

function oaAttachment(attachment: OaAttachment): Attachment {
  const ref = attachment.url ?? attachment.stickerId ?? attachment.type;
  switch (attachment.type) {
    case "image":
    case "gif":
      return { kind: "photo", ref };
    case "sticker":
      return { kind: "sticker", ref: attachment.stickerId ?? ref };
    case "file":
      return {
        kind: "document",
        ref,
        ...(attachment.name ? { name: attachment.name } : {}),
        ...(attachment.size !== undefined ? { size: attachment.size } : {}),
      };
    default:
      return { kind: "other", ref };
  }
}

/**
 * An OA webhook event as an Inbound, or undefined for events that are acknowledged and ignored:
 * follow, unfollow, user_seen_message, user_received_message, what the OA itself sent
 * (oa_send_*), and group events (user_send_group_*, which reply through another endpoint this
 * adapter does not use).
 */
export function oaEventToInbound(event: OaEvent, receivedAt: Date): Inbound | undefined {
  if (!event.eventName.startsWith("user_send_") || event.eventName.startsWith("user_send_group")) {
    return undefined;
  }
  if (!event.senderId || !event.msgId) return undefined;
  const attachments = event.attachments.map(oaAttachment);
  if (attachments.length === 0 && event.eventName !== "user_send_text") {
    attachments.push({ kind: "other", ref: event.eventName });
  }
  const id = oaChatId(event.senderId);
  return {
    channel: "zalo",
    chatId: id,
    chatType: "private",
    senderId: id,
    messageId: event.msgId,
    text: event.text ?? "",
    attachments,
    dedupeKey: `zalo-oa:${event.msgId}`,
    receivedAt,
  };
}
