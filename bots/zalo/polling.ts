import { setTimeout as sleep } from "node:timers/promises";
import { isDatabaseError } from "../../src/db/errors.js";
import type { HandleOutcome } from "../../src/engine/engine.js";
import type { Logger } from "../../src/log.js";
import type { BotUpdate, ZaloBotApi } from "./bot-api.js";

export interface PollerOptions {
  /** How long Zalo may hold one getUpdates call (seconds; Zalo's default is 30). */
  timeoutSeconds?: number;
  /**
   * First wait after a failed call, or after an update whose handling threw; doubles up to
   * maxBackoffMs, back to this after a success.
   */
  backoffMs?: number;
  maxBackoffMs?: number;
  /**
   * How long an update whose handling keeps throwing something other than a database error (a
   * fault in our own code, which no retry mends) is tried before it is given up; 10 minutes.
   */
  giveUpAfterMs?: number;
}

/** What became of one update: the engine's outcome, or "ignored" when it was nothing to handle. */
export type PolledOutcome = HandleOutcome | "ignored";

/**
 * Long polling for the Bot Platform, used when there is no public URL for a webhook. One call
 * at a time, each update handled before the next call: getUpdates has no offsets, so asking
 * again is the only acknowledgement Zalo gets. The same update may come back; the engine's inbox
 * records each message id once, so it is handled once.
 *
 * Because the next call acknowledges, an update is handed to the engine again and again (with
 * back-off) until the engine has taken it — recorded it in its inbox — before that call is made:
 * a database that is down for a while delays updates, it does not lose them. The engine
 * answering "failed" means it recorded the update and gave up on it (or will replay it from its
 * inbox), so the poller moves on; it never spins on one update. A database error is a condition
 * that ends (the server comes back), so it is waited out however long it lasts; anything else
 * thrown is a fault of ours that no retry mends, given up after `giveUpAfterMs`.
 */
export class LongPoller {
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly api: ZaloBotApi,
    private readonly handle: (update: BotUpdate) => Promise<PolledOutcome>,
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

  private get base(): number {
    return this.options.backoffMs ?? 1000;
  }

  private get max(): number {
    return this.options.maxBackoffMs ?? 30_000;
  }

  private async run(signal: AbortSignal): Promise<void> {
    let backoff = this.base;
    while (!signal.aborted) {
      let updates: BotUpdate[];
      try {
        updates = await this.api.getUpdates({ timeoutSeconds: this.options.timeoutSeconds ?? 30, signal });
        backoff = this.base;
      } catch (error) {
        if (signal.aborted) break;
        this.log.warn({ err: error, waitMs: backoff }, "zalo: getUpdates failed, polling again later");
        await sleep(backoff, undefined, { signal }).catch(() => undefined);
        backoff = Math.min(this.max, backoff * 2);
        continue;
      }
      for (const update of updates) await this.handOver(update, signal);
    }
  }

  /** Hands one update to the engine until it has taken it (or, for a bug of ours, gives up). */
  private async handOver(update: BotUpdate, signal: AbortSignal): Promise<void> {
    const started = Date.now();
    const messageId = update.message?.messageId;
    let wait = this.base;
    for (let attempt = 1; ; attempt += 1) {
      try {
        const outcome = await this.handle(update);
        if (outcome === "failed") {
          this.log.error(
            { messageId, event: update.eventName },
            "zalo: the engine could not handle an update; it stays in the inbox as failed or to be replayed",
          );
        }
        return;
      } catch (error) {
        const database = isDatabaseError(error);
        if (signal.aborted) {
          // Stopping cannot wait for the database: the first poll of the next start acknowledges
          // this update, so its id is logged for the operator.
          this.log.error({ err: error, messageId }, "zalo: stopped while an update could not be handled");
          return;
        }
        if (!database && Date.now() - started >= (this.options.giveUpAfterMs ?? 10 * 60_000)) {
          this.log.error(
            { err: error, messageId, event: update.eventName, attempts: attempt },
            "zalo: an update kept failing in our code; given up",
          );
          return;
        }
        this.log.warn(
          { err: error, messageId, attempt, waitMs: wait, database },
          "zalo: an update could not be handled; trying it again before polling on",
        );
        await sleep(wait, undefined, { signal }).catch(() => undefined);
        wait = Math.min(this.max, wait * 2);
      }
    }
  }
}
