import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../../src/log.js";
import type { BotUpdate, ZaloBotApi } from "./bot-api.js";

export interface PollerOptions {
  /** How long Zalo may hold one getUpdates call (seconds; Zalo's default is 30). */
  timeoutSeconds?: number;
  /** First wait after a failed call; doubles up to maxBackoffMs, back to this after a success. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * Long polling for the Bot Platform, used when there is no public URL for a webhook. One call
 * at a time, each update handled before the next call: getUpdates has no offsets, so asking
 * again is the only acknowledgement Zalo gets. The same update may come back; the engine's inbox
 * records each message id once, so it is handled once.
 */
export class LongPoller {
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly api: ZaloBotApi,
    private readonly handle: (update: BotUpdate) => Promise<void>,
    private readonly log: Logger,
    private readonly options: PollerOptions = {},
  ) {}

  start(): void {
    if (this.loop) return;
    this.abort = new AbortController();
    this.loop = this.run(this.abort.signal);
  }

  /** Cancels the call in flight and waits for the update in hand, if any. */
  async stop(): Promise<void> {
    this.abort?.abort();
    await this.loop;
    this.loop = undefined;
  }

  private async run(signal: AbortSignal): Promise<void> {
    const base = this.options.backoffMs ?? 1000;
    const max = this.options.maxBackoffMs ?? 30_000;
    let backoff = base;
    while (!signal.aborted) {
      try {
        const updates = await this.api.getUpdates({
          timeoutSeconds: this.options.timeoutSeconds ?? 30,
          signal,
        });
        for (const update of updates) await this.handle(update);
        backoff = base;
      } catch (error) {
        if (signal.aborted) break;
        this.log.warn({ err: error, waitMs: backoff }, "zalo: getUpdates failed, polling again later");
        await sleep(backoff, undefined, { signal }).catch(() => undefined);
        backoff = Math.min(max, backoff * 2);
      }
    }
  }
}
