import type { ChannelName, Choice, OutboundFile } from "./message.js";

/**
 * The one error vocabulary every channel speaks at the edge. Each adapter maps its platform's
 * failures onto these kinds, and the outbox decides retry or give-up from the kind alone:
 * - rate_limited: wait as long as the platform says, the attempt not counted;
 * - blocked: the person blocked the bot; given up, and nothing more is queued for them;
 * - bad_request: this message can never go (chat not found, bad file); given up;
 * - network: no answer, a timeout, a 5xx; retried with capped back-off until the message is
 *   too old (OUTBOX_MAX_AGE_HOURS);
 * - unauthorized: the platform refuses the bot itself (a revoked or wrong token). No message is
 *   at fault, so none is given up: the whole channel pauses, the admins are told on another
 *   channel, and a probe now and then finds when the operator has fixed it.
 */
export type SendFailureKind = "rate_limited" | "blocked" | "bad_request" | "network" | "unauthorized";

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
  /** The step token the choices' buttons carry (Outbound.step), when the channel can carry one. */
  step?: number;
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
