import { expect } from "vitest";
import { createTelegramChannel, type TelegramChannel } from "../../bots/telegram/index.js";
import type { RateLimitSettings } from "../../bots/telegram/rate-limit.js";
import type { App } from "../../src/app.js";
import { FixedClock } from "../../src/clock.js";
import { HttpServer } from "../../src/http.js";
import { silentLogger } from "../../src/log.js";
import type { ChannelHarness, SentMessage } from "../channels/contract.js";
import { FakeBotApi, type DeliveredMessage } from "./fake-bot-api.js";
import { UpdateFactory } from "./updates.js";

export { waitFor } from "../support/wait.js";

export const SECRET = "test_webhook_secret_0123456789";
export const PUBLIC_URL = "https://bot.example.test";

/** The Telegram channel wired into an app, between a real HTTP server and a fake Bot API. */
export interface TelegramRig {
  app: App;
  fake: FakeBotApi;
  http: HttpServer;
  channel: TelegramChannel;
  updates: UpdateFactory;
  /** Posts an update to our webhook as Telegram would; returns the HTTP status. */
  post(update: unknown, secret?: string | null): Promise<number>;
  /** Delivers the whole Telegram outbox, moving the fixed clock to each retry time instead of sleeping. */
  deliver(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRig(
  app: App,
  options: {
    mode?: "webhook" | "polling";
    limits?: Partial<RateLimitSettings>;
    background?: boolean;
    /** The channel's deadline for one Bot API call (seconds). */
    timeoutSeconds?: number;
    /** How long a message waits before the chat shows "typing…" (ms). */
    typingAfterMs?: number;
  } = {},
): Promise<TelegramRig> {
  const clock = app.engine.services.clock;
  const fake = new FakeBotApi(clock instanceof FixedClock ? { now: () => clock.now().getTime() } : {});
  await fake.start();
  const http = new HttpServer(silentLogger(), async () => ({ ok: true, detail: {} }));
  const port = await http.listen(0, "127.0.0.1");
  const polling = options.mode === "polling";
  const channel = createTelegramChannel({
    token: fake.token,
    apiRoot: fake.apiRoot,
    app,
    http,
    log: silentLogger(),
    ...(polling ? { pollTimeoutSeconds: 1 } : { publicUrl: PUBLIC_URL, webhookSecret: SECRET }),
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.timeoutSeconds !== undefined ? { timeoutSeconds: options.timeoutSeconds } : {}),
    ...(options.typingAfterMs !== undefined ? { typingAfterMs: options.typingAfterMs } : {}),
  });
  await channel.start();
  const dispatcher = app.dispatchers.get("telegram");
  // Tests deliver by hand (deliver()), so what is sent and when is decided by the test.
  if (!options.background) await dispatcher?.stop();

  const rig: TelegramRig = {
    app,
    fake,
    http,
    channel,
    updates: new UpdateFactory(),
    async post(update, secret = SECRET) {
      const response = await fetch(`http://127.0.0.1:${port}/telegram/webhook`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(secret === null ? {} : { "x-telegram-bot-api-secret-token": secret }),
        },
        body: JSON.stringify(update),
      });
      await response.arrayBuffer();
      return response.status;
    },
    async deliver() {
      for (let round = 0; round < 200; round += 1) {
        await dispatcher?.drain();
        await channel.idle();
        // The oldest waiting message: per-chat order means it goes before anything after it.
        const next = await app.outbox.model
          .findOne({ channel: "telegram", status: "pending" })
          .sort({ _id: 1 })
          .lean();
        if (!next) return;
        if (!(clock instanceof FixedClock)) throw new Error("deliver() needs the app's FixedClock");
        const wait = next.nextAttemptAt.getTime() - clock.now().getTime();
        if (wait > 0) clock.advance(wait);
      }
      throw new Error("the Telegram outbox never emptied");
    },
    async stop() {
      await channel.stop();
      await app.stop();
      await http.close();
      await fake.stop();
    },
  };
  return rig;
}

function asSent(message: DeliveredMessage): SentMessage {
  return {
    id: String(message.id),
    text: message.text,
    choices: (message.sentMarkup?.inline_keyboard ?? []).flat().map((button) => button.text),
  };
}

/** The shared channel contract's view of Telegram: people talk through our webhook. */
export function telegramHarness(): ChannelHarness {
  let rig: TelegramRig | undefined;
  const started = (): TelegramRig => {
    if (!rig) throw new Error("harness not started");
    return rig;
  };
  return {
    channel: "telegram",
    maxTextLength: 4096,
    replyTo: true,
    async start(app) {
      rig = await startRig(app);
    },
    async say(userId, text, options = {}) {
      const r = started();
      const replyTo = options.replyTo ? r.fake.messageById(userId, Number(options.replyTo)) : undefined;
      const update = r.updates.text(userId, text, replyTo ? { replyTo: replyTo.message } : {});
      expect(await r.post(update)).toBe(200);
      return update;
    },
    async redeliver(update) {
      expect(await started().post(update)).toBe(200);
    },
    async choose(userId, index) {
      const r = started();
      await r.deliver();
      const withKeyboard = r.fake.messagesTo(userId).filter((m) => m.sentMarkup);
      const last = withKeyboard.at(-1);
      if (!last) throw new Error(`no keyboard was sent to ${userId}`);
      expect(await r.post(r.updates.press(userId, last, index))).toBe(200);
      await r.channel.idle();
    },
    async received(userId) {
      const r = started();
      await r.deliver();
      return r.fake.messagesTo(userId).map(asSent);
    },
    async stop() {
      await rig?.stop();
    },
  };
}
