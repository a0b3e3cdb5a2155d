import { autoRetry } from "@grammyjs/auto-retry";
import { Api } from "grammy";
import type { App } from "../../src/app.js";
import type { Clock } from "../../src/clock.js";
import type { Dispatcher } from "../../src/engine/outbox.js";
import type { HttpServer } from "../../src/http.js";
import type { Logger } from "../../src/log.js";
import { CommandMenu } from "./command-menu.js";
import { Poller, type UpdateKind } from "./polling.js";
import { RateLimiter, rateLimited, TELEGRAM_LIMITS, type RateLimitSettings } from "./rate-limit.js";
import { telegramFileReader } from "./download.js";
import { deliveryKey, messageCount, TelegramSender } from "./sender.js";
import { UpdateHandler } from "./updates.js";
import { WEBHOOK_PATH, webhookRoute } from "./webhook.js";

export interface TelegramChannelOptions {
  token: string;
  /** Required with publicUrl: Telegram sends it back in a header and we refuse calls without it. */
  webhookSecret?: string;
  /** When set, Telegram posts updates to `<publicUrl>/telegram/webhook`; otherwise we poll. */
  publicUrl?: string;
  app: App;
  http: HttpServer;
  log: Logger;
  /** The Bot API server; tests point it at their fake. */
  apiRoot?: string;
  /** Defaults to the app's clock, which the outbox dispatcher also reads. */
  clock?: Clock;
  limits?: Partial<RateLimitSettings>;
  /** getUpdates long-poll wait; tests shorten it. */
  pollTimeoutSeconds?: number;
  /**
   * The longest any Bot API call but getUpdates may take (seconds; PLATFORM_TIMEOUT_SECONDS, 20 by
   * default). It must stay well under the outbox's claim lease (60 s): a send still hanging when
   * the lease runs out is taken over by another instance and sent twice.
   */
  timeoutSeconds?: number;
  /** See UpdateHandlerDeps.typingAfterMs; tests set it to see the indicator or its absence for sure. */
  typingAfterMs?: number;
}

/** See TelegramChannelOptions.timeoutSeconds; grammY's own default is 500 s. */
export const DEFAULT_CALL_TIMEOUT_SECONDS = 20;

export interface TelegramChannel {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves when the updates handed in so far and their chores (button answers, typing, menus) are done. */
  idle(): Promise<void>;
}

/** Only what we act on; Telegram then spares us the rest (we would ignore it anyway). */
const ALLOWED_UPDATES: readonly UpdateKind[] = ["message", "callback_query"];

/**
 * The Telegram channel: updates in (webhook when publicUrl is set, long polling otherwise), the
 * outbox out through a rate-limited sender. Switching mode is configuration only.
 * @example
 *   const telegram = createTelegramChannel({ token, webhookSecret, publicUrl, app, http, log });
 *   await telegram.start(); // … await telegram.stop();
 */
export function createTelegramChannel(options: TelegramChannelOptions): TelegramChannel {
  const { app, http, log: parentLog } = options;
  const log = parentLog.child({ channel: "telegram" });
  const clock = options.clock ?? app.engine.services.clock;
  if (options.publicUrl && !options.webhookSecret) {
    throw new Error("telegram: a webhook (publicUrl) needs webhookSecret, or anyone could post updates");
  }
  const root = options.apiRoot ? { apiRoot: options.apiRoot } : {};
  const pollSeconds = options.pollTimeoutSeconds ?? 30;
  // A call that hangs fails as "network" (grammY's HttpError) after this, and the outbox retries it.
  const client = { ...root, timeoutSeconds: options.timeoutSeconds ?? DEFAULT_CALL_TIMEOUT_SECONDS };
  // Outbox deliveries: failures surface at once, because the outbox decides (see TelegramSender).
  const rawApi = new Api(options.token, client);
  // getUpdates is held open by Telegram for the long-poll wait: its deadline is that wait plus a margin.
  const pollApi = new Api(options.token, { ...root, timeoutSeconds: pollSeconds + 10 });
  // The calls nobody else retries (answers to buttons, typing, menus, webhook setup): auto-retry
  // waits out a short 429 (≤ 5 s, twice at most). Server and network errors are not retried
  // here: a typing indicator or a button answer is worthless a few seconds late.
  const api = new Api(options.token, client);
  api.config.use(
    autoRetry({
      maxRetryAttempts: 2,
      maxDelaySeconds: 5,
      rethrowHttpErrors: true,
      rethrowInternalServerErrors: true,
    }),
  );

  const sender = rateLimited(new TelegramSender(rawApi, clock), {
    limiter: new RateLimiter({ ...TELEGRAM_LIMITS, ...options.limits }),
    clock,
    cost: messageCount,
    key: deliveryKey,
  });
  const menu = new CommandMenu(api, app, log);

  let handler: UpdateHandler | undefined;
  let poller: Poller | undefined;
  let dispatcher: Dispatcher | undefined;
  let open = false;

  return {
    async start() {
      if (handler) return;
      const me = await api.getMe();
      const updates = new UpdateHandler({
        app,
        api,
        menu,
        me: { id: me.id, username: me.username },
        clock,
        log,
        ...(options.typingAfterMs !== undefined ? { typingAfterMs: options.typingAfterMs } : {}),
      });
      handler = updates;
      open = true;
      try {
        await menu.setDefault();
      } catch (error) {
        log.warn({ err: error }, "telegram: could not set the default command menu");
      }
      dispatcher = app.addChannel(sender);
      app.attachmentReaders.set("telegram", telegramFileReader(rawApi, options.token, options.apiRoot));
      app.botNames.set("telegram", me.username);
      dispatcher.start();
      if (options.publicUrl && options.webhookSecret) {
        http.route(
          "POST",
          WEBHOOK_PATH,
          webhookRoute({
            secret: options.webhookSecret,
            open: () => open,
            log,
            handle: (update) => updates.handle(update),
          }),
        );
        const url = `${options.publicUrl.replace(/\/+$/, "")}${WEBHOOK_PATH}`;
        await api.setWebhook(url, {
          secret_token: options.webhookSecret,
          allowed_updates: ALLOWED_UPDATES,
        });
        log.info({ url }, "telegram: webhook set");
      } else {
        // getUpdates refuses to run while a webhook is set; pending updates are kept.
        await api.deleteWebhook();
        poller = new Poller({
          api: pollApi,
          handleBatch: (batch) => updates.handleBatch(batch),
          log,
          allowedUpdates: ALLOWED_UPDATES,
          timeoutSeconds: pollSeconds,
        });
        poller.start();
        log.info({ bot: me.username }, "telegram: long polling");
      }
    },

    async stop() {
      open = false;
      await poller?.stop();
      await handler?.idle();
      await dispatcher?.stop();
    },

    async idle() {
      await handler?.idle();
    },
  };
}
