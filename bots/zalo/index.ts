import type { Connection } from "mongoose";
import type { App } from "../../src/app.js";
import type { DispatcherOptions } from "../../src/engine/outbox.js";
import type { HttpServer } from "../../src/http.js";
import type { Logger } from "../../src/log.js";
import { t } from "../../src/text/vi.js";
import { alertAdmins } from "./admin-alert.js";
import { ZaloBotApi, type BotUpdate } from "./bot-api.js";
import { botUpdateToInbound, oaEventToInbound } from "./inbound.js";
import { ZaloOaApi, type OaEvent } from "./oa-api.js";
import { OaTokens, oaTokenModel } from "./oa-tokens.js";
import { PoliteSender } from "./polite.js";
import { LongPoller, type PolledOutcome, type PollerOptions } from "./polling.js";
import { ZaloSender } from "./sender.js";
import { BOT_WEBHOOK_PATH, mountBotWebhook, mountOaWebhook, OA_WEBHOOK_PATH } from "./webhooks.js";

export interface ZaloChannelOptions {
  /** The Bot Platform: its token, and the webhook secret (8–256 characters) when publicUrl is set. */
  bot?: { token: string; webhookSecret?: string | undefined } | undefined;
  /**
   * The Official Account. `secretKey` is the app's secret key (the `secret_key` header of the
   * token refresh). Zalo signs webhooks with the OA secret key shown in the app's webhook
   * settings, which the Zalo documentation describes as a different value: `oaSecretKey`, when
   * given, is used for the signature; otherwise `secretKey` is.
   */
  oa?:
    | {
        appId: string;
        secretKey: string;
        accessToken?: string | undefined;
        refreshToken: string;
        oaSecretKey?: string | undefined;
        /** ZALO_OA_API_BASE / ZALO_OA_OAUTH_BASE: a local server instead of Zalo's (tests, benchmarks). */
        apiBase?: string | undefined;
        oauthBase?: string | undefined;
      }
    | undefined;
  /** https://… where Zalo can reach this server; without it the Bot Platform is long-polled. */
  publicUrl?: string | undefined;
  app: App;
  connection: Connection;
  http: HttpServer;
  log: Logger;
  /** Tests point the clients at a local fake (for the OA, this wins over `oa.apiBase`). */
  apiBase?: { bot?: string; oa?: string; oauth?: string };
  /**
   * The longest one call to Zalo may take (PLATFORM_TIMEOUT_SECONDS; 20 s by default), well under
   * the outbox's 60 s claim lease. getUpdates is held open longer by design and has its own.
   */
  timeoutMs?: number;
  /** Tests deliver the outbox themselves (dispatcher.drain) instead of the background loop. */
  manualDispatch?: boolean;
  dispatcher?: DispatcherOptions;
  polling?: PollerOptions;
  /** Minimum time between two deliveries to one chat; 1 s by default. */
  politeIntervalMs?: number;
  /** How often the OA token's expiry is looked at; every minute by default. */
  tokenCheckMs?: number;
}

export interface ZaloChannel {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The Zalo channel: the Bot Platform (long polling, or a webhook when `publicUrl` is set) and/or
 * an Official Account (webhook), both speaking as channel "zalo" — the chat id says which API a
 * reply takes (chat-ids.ts). Registers its sender with the app at once; `start()` begins
 * receiving and delivering.
 * @example
 *   const zalo = createZaloChannel({ bot: config.zaloBot, oa: config.zaloOa, publicUrl, app, connection, http, log });
 *   await zalo.start();
 */
export function createZaloChannel(options: ZaloChannelOptions): ZaloChannel {
  const { app, http, log, bot, oa, publicUrl } = options;
  if (!bot && !oa)
    throw new Error("zalo: neither a Bot Platform token nor an Official Account is configured");
  if (bot && publicUrl && !bot.webhookSecret) {
    // A webhook without a secret would take updates from anyone who finds the URL.
    throw new Error("zalo: a Bot Platform webhook needs a secret (ZALO_WEBHOOK_SECRET)");
  }
  const clock = app.engine.services.clock;
  const baseUrl = publicUrl?.replace(/\/+$/, "");

  const timing = options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {};
  const botApi = bot
    ? new ZaloBotApi({ token: bot.token, baseUrl: options.apiBase?.bot, ...timing })
    : undefined;
  const oaApi = oa
    ? new ZaloOaApi({
        baseUrl: options.apiBase?.oa ?? oa.apiBase,
        oauthUrl: options.apiBase?.oauth ?? oa.oauthBase,
        ...timing,
      })
    : undefined;
  const tokens =
    oa && oaApi
      ? new OaTokens({
          appId: oa.appId,
          seed: { accessToken: oa.accessToken, refreshToken: oa.refreshToken },
          refresh: (refreshToken) =>
            oaApi.refreshAccessToken({ appId: oa.appId, secretKey: oa.secretKey, refreshToken }),
          onRefreshFailed: (detail, episode) =>
            alertAdmins(app, t.channels.zaloTokenRefreshFailed(detail), `zalo-oa-token:${episode}`, log),
          model: oaTokenModel(options.connection),
          sealer: app.sealer,
          claims: app.claims,
          clock,
          log,
        })
      : undefined;

  const sender = new ZaloSender({
    ...(botApi ? { bot: botApi } : {}),
    ...(oaApi && tokens ? { oa: { api: oaApi, tokens } } : {}),
    log,
  });
  const dispatcher = app.addChannel(
    new PoliteSender(sender, () => clock.now().getTime(), options.politeIntervalMs ?? 1000),
    options.dispatcher,
  );

  const onUpdate = async (update: BotUpdate): Promise<PolledOutcome> => {
    const inbound = botUpdateToInbound(update, clock.now());
    if (!inbound) {
      log.debug({ event: update.eventName, raw: update.raw.slice(0, 500) }, "zalo: update ignored");
      return "ignored";
    }
    return app.engine.handle(inbound);
  };
  const onEvent = async (event: OaEvent): Promise<void> => {
    const inbound = oaEventToInbound(event, clock.now());
    if (!inbound) {
      log.debug({ event: event.eventName }, "zalo oa: event ignored");
      return;
    }
    await app.engine.handle(inbound);
  };

  if (bot?.webhookSecret && baseUrl) mountBotWebhook(http, { secret: bot.webhookSecret, onUpdate, log });
  if (oa) {
    mountOaWebhook(http, {
      appId: oa.appId,
      oaSecretKey: oa.oaSecretKey ?? oa.secretKey,
      clock,
      onEvent,
      log,
    });
  }
  const poller = botApi && !baseUrl ? new LongPoller(botApi, onUpdate, log, options.polling) : undefined;
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;

  async function setWebhook(api: ZaloBotApi, secret: string): Promise<void> {
    try {
      await api.setWebhook(`${baseUrl}${BOT_WEBHOOK_PATH}`, secret);
      log.info({ url: `${baseUrl}${BOT_WEBHOOK_PATH}` }, "zalo: webhook set");
    } catch (error) {
      log.error({ err: error }, "zalo: setWebhook failed; trying again in a minute");
      if (stopped) return;
      const retry = setTimeout(() => void setWebhook(api, secret), 60_000);
      retry.unref();
      timers.push(retry);
    }
  }

  /** getUpdates fails while a webhook is set: a webhook left by an earlier deployment goes. */
  async function dropOldWebhook(api: ZaloBotApi): Promise<void> {
    try {
      const info = await api.getWebhookInfo();
      if (!info) return;
      log.warn({ url: info.url }, "zalo: removing the webhook of an earlier run to long-poll");
      await api.deleteWebhook();
    } catch (error) {
      log.warn({ err: error }, "zalo: could not check for an old webhook");
    }
  }

  return {
    async start() {
      stopped = false;
      if (tokens) {
        await tokens.init();
        await tokens.refreshIfDue();
        const check = setInterval(() => void tokens.refreshIfDue(), options.tokenCheckMs ?? 60_000);
        check.unref();
        timers.push(check);
        if (baseUrl) {
          log.info(
            { url: `${baseUrl}${OA_WEBHOOK_PATH}` },
            "zalo oa: register this webhook URL in the Zalo app settings",
          );
        } else {
          log.warn("zalo oa: no PUBLIC_URL, so the Official Account cannot deliver messages here");
        }
      }
      if (botApi) {
        try {
          const me = await botApi.getMe();
          log.info({ bot: me.accountName, id: me.id }, "zalo: bot token accepted");
        } catch (error) {
          log.error({ err: error }, "zalo: getMe failed; check ZALO_BOT_TOKEN");
        }
        if (bot?.webhookSecret && baseUrl) await setWebhook(botApi, bot.webhookSecret);
        else if (poller) {
          await dropOldWebhook(botApi);
          poller.start();
        }
      }
      if (!options.manualDispatch) dispatcher.start();
    },
    async stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      await poller?.stop();
      await dispatcher.stop();
    },
  };
}
