import { randomUUID } from "node:crypto";
import type { Inbound } from "../../src/engine/message.js";

/** A console message from `senderId` in their private chat, with a fresh dedupe key. */
export function consoleInbound(senderId: string, text: string, extra: Partial<Inbound> = {}): Inbound {
  const id = randomUUID();
  return {
    channel: "console",
    chatId: senderId,
    chatType: "private",
    senderId,
    messageId: id,
    text,
    attachments: [],
    dedupeKey: `test:${id}`,
    receivedAt: new Date(),
    ...extra,
  };
}
