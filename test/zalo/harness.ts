import { createHash, randomBytes } from "node:crypto";
import { expect } from "vitest";
import { oaChatId } from "../../bots/zalo/chat-ids.js";
import { createZaloChannel, type ZaloChannel, type ZaloChannelOptions } from "../../bots/zalo/index.js";
import type { App } from "../../src/app.js";
import { FixedClock } from "../../src/clock.js";
import { HttpServer } from "../../src/http.js";
import { silentLogger } from "../../src/log.js";
import { t } from "../../src/text/vi.js";
import type { ChannelHarness, SentMessage } from "../channels/contract.js";
import { type FakeZalo, startFakeZalo } from "./fake-zalo.js";

export const WEBHOOK_SECRET = "s3cret-for-the-zalo-webhook";
export const PUBLIC_URL = "https://bot.example.test";

/** A Bot Platform update as real webhooks send it: the bare event, `display_name`, ms dates. */
export function textUpdate(userId: string, text: string, messageId = randomBytes(10).toString("hex")) {
  return {
    event_name: "message.text.received",
    message: {
      message_id: messageId,
      text,
      chat: { id: userId, chat_type: "PRIVATE" },
      from: { id: userId, display_name: `Người dùng ${userId}`, is_bot: false },
      date: 1759716000000,
    },
  };
}

/** The labels of the numbered lines above the hint, as a person reads them on Zalo. */
export function numberedChoices(text: string): string[] {
  const lines = text.split("\n");
  if (lines.at(-1) !== t.channels.numberedHint) return [];
  const labels: string[] = [];
  for (let i = lines.length - 2; i >= 0; i -= 1) {
    const match = /^(\d+)\. (.*)$/.exec(lines[i] ?? "");
    if (!match) break;
    labels.unshift(match[2] ?? "");
  }
  return labels;
}

/**
 * Delivers everything the outbox holds for Zalo. The polite limiter makes a second message to a
 * chat wait a second on the app's clock, so the fixed clock is moved to when it is due.
 */
export async function deliverAll(app: App): Promise<void> {
  const dispatcher = app.dispatchers.get("zalo");
  const clock = app.engine.services.clock;
  for (let round = 0; round < 200; round += 1) {
    await dispatcher?.drain();
    if (!(await app.outbox.model.exists({ channel: "zalo", status: "pending" }))) return;
    if (!(clock instanceof FixedClock)) throw new Error("deliverAll needs the fixed clock");
    // What is due now was tried by the drain, or waits behind an earlier message of its chat
    // that is not due yet: the clock moves to the next time something falls due.
    const next = await app.outbox.model
      .findOne({ channel: "zalo", status: "pending", nextAttemptAt: { $gt: clock.now() } })
      .sort({ nextAttemptAt: 1 })
      .lean();
    if (!next) continue;
    clock.set(next.nextAttemptAt);
  }
  throw new Error("the outbox did not empty");
}

export interface Rig {
  app: App;
  fake: FakeZalo;
  http: HttpServer;
  port: number;
  channel: ZaloChannel;
  /** What the configuration held for the OA, when one is configured. */
  oaSeed?: { refreshToken: string; accessToken?: string };
  /** POSTs to our server; returns the HTTP status. */
  post(path: string, body: string | Buffer, headers: Record<string, string>): Promise<number>;
  stop(): Promise<void>;
}

export const OA_SECRET_KEY = "oa-secret-key-from-webhook-settings";

/**
 * The real Zalo channel wired into `app`, talking to a fresh fake Zalo, with our HTTP server on
 * a random port. `bot` is on unless told otherwise; `oa` configures an Official Account whose
 * refresh token the fake has just issued.
 */
export async function startRig(
  app: App,
  options: {
    mode?: "webhook" | "polling";
    bot?: boolean;
    oa?: boolean | { withAccessToken: boolean };
    channel?: Partial<ZaloChannelOptions>;
    /** Scripts the fake before the channel starts (start-up already calls Zalo). */
    beforeStart?: (fake: FakeZalo) => void;
  } = {},
): Promise<Rig> {
  const fake = await startFakeZalo();
  const http = new HttpServer(silentLogger(), async () => ({ ok: true, detail: {} }));
  const port = await http.listen(0, "127.0.0.1");
  const withAccess = typeof options.oa === "object" && options.oa.withAccessToken;
  const oaSeed = options.oa
    ? {
        refreshToken: fake.issueRefreshToken(),
        ...(withAccess ? { accessToken: fake.issueAccessToken() } : {}),
      }
    : undefined;
  const channel = createZaloChannel({
    ...(options.bot === false ? {} : { bot: { token: fake.bot.token, webhookSecret: WEBHOOK_SECRET } }),
    ...(oaSeed
      ? {
          oa: {
            appId: fake.oa.appId,
            secretKey: fake.oa.appSecret,
            oaSecretKey: OA_SECRET_KEY,
            // As ZALO_OA_API_BASE and ZALO_OA_OAUTH_BASE reach it from the configuration.
            apiBase: fake.url,
            oauthBase: fake.url,
            ...oaSeed,
          },
        }
      : {}),
    ...(options.mode === "polling" ? {} : { publicUrl: PUBLIC_URL }),
    app,
    connection: app.models.Outbox.db,
    http,
    log: silentLogger(),
    apiBase: { bot: fake.url },
    manualDispatch: true,
    ...options.channel,
  });
  options.beforeStart?.(fake);
  await channel.start();
  return {
    app,
    fake,
    http,
    port,
    channel,
    ...(oaSeed ? { oaSeed } : {}),
    async post(path, body, headers) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, { method: "POST", headers, body });
      await response.arrayBuffer();
      return response.status;
    },
    async stop() {
      await channel.stop();
      await app.stop();
      await http.close();
      await fake.close();
    },
  };
}

export interface ZaloHarness extends ChannelHarness {
  readonly rig: Rig;
}

/**
 * The shared contract's view of Zalo: the real channel code between the engine and a fake Zalo
 * on 127.0.0.1. `webhook` posts updates to our HTTP server with the secret header; `polling`
 * queues them on the fake's getUpdates and waits until the poller has handled them.
 */
export function zaloHarness(mode: "webhook" | "polling" = "webhook"): ZaloHarness {
  let rig: Rig | undefined;

  const post = async (update: unknown) => {
    if (!rig) throw new Error("harness not started");
    if (mode === "polling") {
      await rig.fake.deliver(update);
      return;
    }
    const status = await rig.post("/zalo/webhook", JSON.stringify(update), {
      "content-type": "application/json",
      "x-bot-api-secret-token": WEBHOOK_SECRET,
    });
    expect(status).toBe(200);
  };

  const harness: ZaloHarness = {
    channel: "zalo",
    maxTextLength: 2000,
    replyTo: false,
    get rig(): Rig {
      if (!rig) throw new Error("harness not started");
      return rig;
    },
    async start(app) {
      rig = await startRig(app, { mode });
    },
    async say(userId, text) {
      const update = textUpdate(userId, text);
      await post(update);
      return update;
    },
    async redeliver(update) {
      await post(update);
    },
    async choose(userId, index) {
      await harness.say(userId, String(index + 1));
    },
    async received(userId): Promise<SentMessage[]> {
      if (!rig) return [];
      await deliverAll(rig.app);
      return rig.fake.bot.sent
        .filter((m) => m.chatId === userId)
        .map((m) => ({ id: m.messageId, text: m.text ?? "", choices: numberedChoices(m.text ?? "") }));
    },
    async stop() {
      await rig?.stop();
    },
  };
  return harness;
}

/** What the OA webhook signs: "mac=" + SHA-256 of app id, raw body, timestamp and OA secret key. */
export function oaSignature(appId: string, raw: string, timestamp: string, key = OA_SECRET_KEY): string {
  return `mac=${createHash("sha256").update(`${appId}${raw}${timestamp}${key}`).digest("hex")}`;
}

/** An OA "user_send_text" event as the OA webhook sends it, stamped with `at`. */
export function oaTextEvent(appId: string, userId: string, text: string, at: Date) {
  return {
    app_id: appId,
    user_id_by_app: `app-${userId}`,
    event_name: "user_send_text",
    timestamp: String(at.getTime()),
    sender: { id: userId },
    recipient: { id: "579745863508352884" },
    message: { text, msg_id: randomBytes(16).toString("hex") },
  };
}

/**
 * The shared contract's view of a Zalo Official Account alone: events signed as Zalo signs them
 * posted to our OA webhook, answers sent through the fake's OA API with an access token the
 * channel got from the fake's OAuth endpoint (both reached as ZALO_OA_API_BASE and
 * ZALO_OA_OAUTH_BASE would point them).
 */
export function zaloOaHarness(): ZaloHarness {
  let rig: Rig | undefined;
  const started = (): Rig => {
    if (!rig) throw new Error("harness not started");
    return rig;
  };

  const post = async (event: { timestamp: string }) => {
    const r = started();
    const raw = JSON.stringify(event);
    const status = await r.post("/zalo-oa/webhook", raw, {
      "content-type": "application/json",
      "x-zevent-signature": oaSignature(r.fake.oa.appId, raw, event.timestamp),
    });
    expect(status).toBe(200);
  };

  const harness: ZaloHarness = {
    channel: "zalo",
    maxTextLength: 2000,
    replyTo: false,
    accountId: (userId) => oaChatId(userId),
    get rig(): Rig {
      return started();
    },
    async start(app) {
      rig = await startRig(app, { bot: false, oa: true });
      // The configuration held only a refresh token: the channel got its access token from the
      // fake's OAuth endpoint at start, so every answer below also shows the OAuth base at work.
      expect(rig.fake.oa.refreshCalls.filter((c) => c.accepted)).toHaveLength(1);
    },
    async say(userId, text) {
      const r = started();
      const event = oaTextEvent(r.fake.oa.appId, userId, text, r.app.engine.services.clock.now());
      await post(event);
      return event;
    },
    async redeliver(event) {
      await post(event as { timestamp: string });
    },
    async choose(userId, index) {
      await harness.say(userId, String(index + 1));
    },
    async received(userId): Promise<SentMessage[]> {
      if (!rig) return [];
      await deliverAll(rig.app);
      return rig.fake.oa.sent
        .filter((m) => m.userId === userId)
        .map((m) => ({ id: m.messageId, text: m.text, choices: numberedChoices(m.text) }));
    },
    async stop() {
      await rig?.stop();
    },
  };
  return harness;
}
