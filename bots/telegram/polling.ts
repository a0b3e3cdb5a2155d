import type { Api } from "grammy";
import type { Update } from "grammy/types";
import type { Logger } from "../../src/log.js";

export type UpdateKind = Exclude<keyof Update, "update_id">;

export interface PollerOptions {
  api: Api;
  /** Handles a batch; throws if any update could not be recorded, so the batch is fetched again. */
  handleBatch: (updates: Update[]) => Promise<void>;
  log: Logger;
  allowedUpdates: readonly UpdateKind[];
  /** Long-poll wait on Telegram's side; an idle bot makes one request per this many seconds. */
  timeoutSeconds: number;
}

/**
 * grammY's Node typings name the AbortSignal of the old abort-controller package; at run time it
 * takes Node's own, which is the same object shape.
 */
function grammySignal(signal: AbortSignal): Parameters<Api["getUpdates"]>[1] {
  return signal as unknown as Parameters<Api["getUpdates"]>[1];
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

/**
 * Long polling with getUpdates, our own loop rather than grammY's `bot.start()`:
 * - the offset that confirms a batch moves only after the engine recorded every update in it;
 *   if the database failed, the same batch comes again and what was recorded dedupes;
 * - the engine is our router, so grammY's middleware tree has nothing to do;
 * - stop() aborts the hanging request at once and waits for the batch in hand.
 * Telegram allows one poller per bot: several instances need the webhook.
 */
export class Poller {
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private offset: number | undefined;

  constructor(private readonly options: PollerOptions) {}

  start(): void {
    this.running ??= this.loop();
  }

  private async loop(): Promise<void> {
    const { api, log } = this.options;
    const signal = this.abort.signal;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const updates = await api.getUpdates(
          {
            ...(this.offset !== undefined ? { offset: this.offset } : {}),
            timeout: this.options.timeoutSeconds,
            allowed_updates: this.options.allowedUpdates,
          },
          grammySignal(signal),
        );
        if (updates.length > 0) {
          await this.options.handleBatch(updates);
          this.offset = (updates.at(-1)?.update_id ?? 0) + 1;
        }
        failures = 0;
      } catch (error) {
        if (signal.aborted) break;
        failures += 1;
        const waitMs = Math.min(30_000, 500 * 2 ** failures);
        log.error({ err: error, waitMs }, "telegram: polling failed, trying again");
        await pause(waitMs, signal);
      }
    }
  }

  /** Stops polling; confirms the last batch so a restart does not fetch it again. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
    if (this.offset === undefined) return;
    try {
      await this.options.api.getUpdates({ offset: this.offset, limit: 1, timeout: 0 });
    } catch (error) {
      // Harmless: the inbox dedupes whatever Telegram sends again.
      this.options.log.debug({ err: error }, "telegram: could not confirm the last updates");
    }
  }
}
