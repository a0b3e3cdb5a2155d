import type { ChannelName, Choice, OutboundFile } from "./message.js";

/**
 * The one error vocabulary every channel speaks at the edge. Each adapter maps its platform's
 * failures onto these kinds, and the outbox decides retry or give-up from the kind alone.
 */
export type SendFailureKind = "rate_limited" | "blocked" | "bad_request" | "network";

export class SendError extends Error {
  override name = "SendError";
  constructor(
    readonly kind: SendFailureKind,
    message: string,
    /** For rate_limited: how long the platform asked us to wait. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** What a channel is asked to deliver: one outbox message, already addressed. */
export interface Delivery {
  chatId: string;
  text: string;
  choices: Choice[];
  files: OutboundFile[];
}

/**
 * The whole contract of a channel's sending side: deliver one message, return the platform ids
 * of what was sent (a long text may go out as several messages), or throw a SendError.
 */
export interface ChannelSender {
  readonly channel: ChannelName;
  send(delivery: Delivery): Promise<{ messageIds: string[] }>;
}
