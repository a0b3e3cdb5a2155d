import { SendError, type ChannelSender, type Delivery } from "../../src/engine/channel.js";

/**
 * Keeps to about one message per second per chat, around any sender. Zalo documents no rate
 * limit; being polite keeps us clear of the undocumented one. It never sleeps: a delivery that
 * comes too early is refused with SendError("rate_limited", …, msUntilAllowed), and the outbox
 * dispatcher puts it back with that wait, without spending an attempt.
 *
 * The parts of one long message go out together (stopping between them would make the outbox
 * send the whole message again), and the next delivery to that chat waits one interval per part.
 * The bookkeeping is per process: several instances are each polite on their own.
 */
export class PoliteSender implements ChannelSender {
  readonly channel: ChannelSender["channel"];
  private readonly nextAt = new Map<string, number>();

  constructor(
    private readonly inner: ChannelSender,
    /** Milliseconds now; the app clock, so that tests on a fixed clock move it. */
    private readonly now: () => number,
    private readonly intervalMs = 1000,
  ) {
    this.channel = inner.channel;
  }

  async send(delivery: Delivery): Promise<{ messageIds: string[] }> {
    const now = this.now();
    const allowedAt = this.nextAt.get(delivery.chatId) ?? 0;
    if (now < allowedAt) {
      throw new SendError(
        "rate_limited",
        `zalo: at most one message per ${this.intervalMs} ms to a chat`,
        allowedAt - now,
      );
    }
    // Reserve before sending, so a concurrent delivery to the same chat waits too.
    this.nextAt.set(delivery.chatId, now + this.intervalMs);
    this.forgetOld(now);
    const result = await this.inner.send(delivery);
    this.nextAt.set(delivery.chatId, now + Math.max(1, result.messageIds.length) * this.intervalMs);
    return result;
  }

  /** Chats whose wait is over need no entry; keeps the map small on a busy bot. */
  private forgetOld(now: number): void {
    if (this.nextAt.size < 10_000) return;
    for (const [chatId, at] of this.nextAt) if (at <= now) this.nextAt.delete(chatId);
  }
}
