import { WEBHOOK_PATH as TELEGRAM_PATH } from "../../bots/telegram/webhook.js";
import { BOT_SECRET_HEADER } from "../../bots/zalo/webhook-auth.js";
import { BOT_WEBHOOK_PATH as ZALO_PATH } from "../../bots/zalo/webhooks.js";
import type { Channel } from "./platforms.js";
import type { Recorder } from "./stats.js";

/** The header Telegram puts the webhook's secret_token in (Bot API, setWebhook). */
const TELEGRAM_SECRET_HEADER = "x-telegram-bot-api-secret-token";
/** Telegram gives a webhook about this long before it counts the call as failed. */
const REQUEST_TIMEOUT_MS = 30_000;
const FIRST_RETRY_MS = 200;
const MAX_RETRY_MS = 1_000;

export interface Secrets {
  telegram: string;
  zalo: string;
}

/**
 * Posts updates the way the platforms do: to one public URL behind which the instances take
 * turns (round-robin, as a load balancer would), again and again until a 200 comes back.
 * Telegram redelivers the same update_id until it gets a 2xx; Zalo's resend carries the same
 * message_id. Real platforms wait seconds to minutes between tries; here it is 0.2–1 s, so a
 * restart is noticed quickly.
 */
export class Webhooks {
  private turn = 0;

  constructor(
    /** Base URLs of the running instances, asked at each try (one may be restarting). */
    private readonly targets: () => string[],
    private readonly secrets: Secrets,
    private readonly recorder: Recorder,
    /** No try starts after this time (performance.now()): the run is bounded. */
    private readonly deadline: number,
    /** True when retrying is pointless (every bot process died by itself). */
    private readonly hopeless: () => boolean = () => false,
  ) {}

  /**
   * Delivers until a 200; resolves with performance.now() at that 200, or undefined at the
   * deadline or once retrying is hopeless.
   */
  async deliver(channel: Channel, body: string): Promise<number | undefined> {
    let wait = FIRST_RETRY_MS;
    for (let attempt = 0; performance.now() < this.deadline && !this.hopeless(); attempt += 1) {
      if (attempt > 0) this.recorder.retries += 1;
      if ((await this.post(channel, body)) === 200) return performance.now();
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(MAX_RETRY_MS, wait * 2);
    }
    return undefined;
  }

  /** One POST to the next instance in turn; the HTTP status, or 0 when the connection failed. */
  async post(channel: Channel, body: string): Promise<number> {
    const targets = this.targets();
    const base = targets[this.turn++ % Math.max(1, targets.length)];
    if (!base) return 0;
    const [path, header, secret] =
      channel === "telegram"
        ? [TELEGRAM_PATH, TELEGRAM_SECRET_HEADER, this.secrets.telegram]
        : [ZALO_PATH, BOT_SECRET_HEADER, this.secrets.zalo];
    try {
      const response = await fetch(`${base}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", [header]: secret },
        body,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      await response.arrayBuffer();
      return response.status;
    } catch {
      return 0;
    }
  }
}
