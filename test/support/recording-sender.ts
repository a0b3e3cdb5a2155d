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
    return this.delivered.filter((d) => d.chatId === chatId).map((d) => d.text);
  }
}
