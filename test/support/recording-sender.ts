import type { ChannelSender, Delivery } from "../../src/engine/channel.js";

/** The console channel as a test reads it: every delivery kept, ids p1, p2… in order. */
export class RecordingSender implements ChannelSender {
  readonly channel = "console" as const;
  readonly delivered: Delivery[] = [];
  async send(delivery: Delivery) {
    this.delivered.push(delivery);
    return { messageIds: [`p${this.delivered.length}`] };
  }
  /** The texts delivered to one chat, in order. */
  to(chatId: string): string[] {
    return textsTo(this.delivered, chatId);
  }
}

/** The texts a test's sender delivered to one chat, in the order it delivered them. */
export function textsTo(delivered: Delivery[], chatId: string): string[] {
  return delivered.filter((d) => d.chatId === chatId).map((d) => d.text);
}

/** A message to a console chat, keyed by its chat and text (unique within a test's chats). */
export const consoleMessage = (chatId: string, text: string) => ({
  to: { channel: "console" as const, chatId },
  text,
  dedupeKey: `${chatId}:${text}`,
});
