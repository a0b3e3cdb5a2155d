import { createHash, createHmac } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { App } from "../../src/app.js";
import type { FixedClock } from "../../src/clock.js";
import { buildApp, useDatabase } from "../support/db.js";
import { OA_SECRET_KEY, startRig as startZalo, textUpdate, WEBHOOK_SECRET } from "../zalo/harness.js";
import { TELEGRAM_SECRET, startRawTelegram, type RawTelegramRig } from "./support.js";

/**
 * Who may post to our webhooks. Forged calls (no secret, a wrong one, a forged or stale OA MAC)
 * are refused with 401 before anything is recorded; genuine calls delivered again (platforms
 * deliver at least once, an attacker may replay a captured one) are handled once.
 */

const db = useDatabase(import.meta.filename);
const stops: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

async function fresh(): Promise<App> {
  await db.connection.dropDatabase();
  const { app } = await buildApp(db.connection);
  return app;
}

async function telegramRig(app: App): Promise<RawTelegramRig> {
  const rig = await startRawTelegram(app);
  stops.push(() => rig.stop());
  return rig;
}

async function zaloRig(app: App) {
  const rig = await startZalo(app, { oa: true });
  stops.push(() => rig.stop());
  return rig;
}

/** Nothing of a refused call may reach the inbox or the outbox. */
async function nothingRecorded(app: App): Promise<void> {
  expect(await app.models.InboundRecord.countDocuments()).toBe(0);
  expect(await app.models.Outbox.countDocuments()).toBe(0);
}

function telegramUpdate(updateId: number, userId: number, text: string) {
  return {
    update_id: updateId,
    message: {
      message_id: updateId,
      date: 1_759_716_000,
      from: { id: userId, is_bot: false, first_name: "Lan" },
      chat: { id: userId, type: "private", first_name: "Lan" },
      text,
      ...(text.startsWith("/")
        ? { entities: [{ type: "bot_command", offset: 0, length: text.length }] }
        : {}),
    },
  };
}

describe("Telegram webhook: forged calls", () => {
  it("refuses every call without exactly our secret, and records nothing", async () => {
    const app = await fresh();
    const rig = await telegramRig(app);
    const body = JSON.stringify(telegramUpdate(1, 111, "/start"));
    const wrong: (string | null)[] = [
      null,
      "",
      " ",
      "wrong",
      TELEGRAM_SECRET.slice(0, -1),
      `${TELEGRAM_SECRET}x`,
      TELEGRAM_SECRET.toUpperCase(),
      "x".repeat(TELEGRAM_SECRET.length),
      "x".repeat(10_000),
      // HMAC-looking values made from the right secret are still not the secret.
      createHmac("sha256", TELEGRAM_SECRET).update(body).digest("hex"),
      createHash("sha256").update(TELEGRAM_SECRET).digest("hex"),
    ];
    for (const secret of wrong) expect(await rig.post(body, { secret }), String(secret)).toBe(401);
    await nothingRecorded(app);
  });

  it("does not take the secret from the query string, another header or a repeated header", async () => {
    const app = await fresh();
    const rig = await telegramRig(app);
    const body = JSON.stringify(telegramUpdate(2, 222, "/start"));
    const post = (url: string, headers: [string, string][]) =>
      fetch(url, { method: "POST", headers: [["content-type", "application/json"], ...headers], body }).then(
        async (r) => {
          await r.arrayBuffer();
          return r.status;
        },
      );
    expect(await post(`${rig.url}?secret_token=${TELEGRAM_SECRET}`, [])).toBe(401);
    expect(await post(rig.url, [["x-bot-api-secret-token", TELEGRAM_SECRET]])).toBe(401);
    expect(await post(rig.url, [["authorization", `Bearer ${TELEGRAM_SECRET}`]])).toBe(401);
    expect(
      await post(rig.url, [
        ["x-telegram-bot-api-secret-token", "wrong"],
        ["x-telegram-bot-api-secret-token", TELEGRAM_SECRET],
      ]),
    ).toBe(401);
    // The header name is case-insensitive in HTTP; that alone is no forgery.
    expect(await post(rig.url, [["X-TELEGRAM-BOT-API-SECRET-TOKEN", TELEGRAM_SECRET]])).toBe(200);
    // Only POST reaches the webhook.
    for (const method of ["GET", "PUT", "DELETE"]) {
      const response = await fetch(rig.url, {
        method,
        headers: { "x-telegram-bot-api-secret-token": TELEGRAM_SECRET },
      });
      await response.arrayBuffer();
      expect(response.status, method).toBe(404);
    }
  });
});

describe("Telegram webhook: replays", () => {
  it("handles a redelivered update_id once, even when the copies arrive together", async () => {
    const app = await fresh();
    const rig = await telegramRig(app);
    const body = JSON.stringify(telegramUpdate(7001, 333, "/start"));
    const statuses = await Promise.all(Array.from({ length: 5 }, () => rig.post(body)));
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect(await rig.post(body)).toBe(200);
    expect(await app.models.InboundRecord.countDocuments({ dedupeKey: "telegram:7001" })).toBe(1);
    expect(await app.models.Outbox.countDocuments({ chatId: "333" })).toBe(1);
  });

  it("does not act on a replayed update_id whose content was changed", async () => {
    const app = await fresh();
    const rig = await telegramRig(app);
    expect(await rig.post(JSON.stringify(telegramUpdate(7002, 444, "/start")))).toBe(200);
    expect(await rig.post(JSON.stringify(telegramUpdate(7002, 444, "/help")))).toBe(200);
    const texts = (await app.models.Outbox.find({ chatId: "444" }).lean()).map((m) => app.outbox.textOf(m));
    expect(texts).toHaveLength(1);
    expect(texts[0]).not.toContain("Các lệnh");
  });

  it("remembers what it handled across a restart (a new instance on the same database)", async () => {
    const app = await fresh();
    const first = await telegramRig(app);
    const body = JSON.stringify(telegramUpdate(7003, 555, "/start"));
    expect(await first.post(body)).toBe(200);
    await first.stop();
    stops.pop();
    const { app: restarted } = await buildApp(db.connection);
    const second = await telegramRig(restarted);
    expect(await second.post(body)).toBe(200);
    expect(await restarted.models.InboundRecord.countDocuments({ dedupeKey: "telegram:7003" })).toBe(1);
    expect(await restarted.models.Outbox.countDocuments({ chatId: "555" })).toBe(1);
  });
});

describe("Zalo Bot Platform webhook", () => {
  it("refuses a missing or wrong secret with 401, and records nothing", async () => {
    const app = await fresh();
    const rig = await zaloRig(app);
    const body = JSON.stringify(textUpdate("a1b2c3d4e5f6a7b8c9d0", "/start"));
    const wrong: Record<string, string>[] = [
      {},
      { "x-bot-api-secret-token": "" },
      { "x-bot-api-secret-token": "wrong" },
      { "x-bot-api-secret-token": WEBHOOK_SECRET.slice(0, -1) },
      { "x-bot-api-secret-token": `${WEBHOOK_SECRET}x` },
      { "x-bot-api-secret-token": WEBHOOK_SECRET.toUpperCase() },
      { "x-bot-api-secret-token": "x".repeat(10_000) },
      { "x-telegram-bot-api-secret-token": WEBHOOK_SECRET },
      { authorization: `Bearer ${WEBHOOK_SECRET}` },
    ];
    for (const headers of wrong) {
      const status = await rig.post("/zalo/webhook", body, {
        "content-type": "application/json",
        ...headers,
      });
      expect(status, JSON.stringify(headers).slice(0, 80)).toBe(401);
    }
    await nothingRecorded(app);
  });

  it("handles a replayed message_id once, even when the copies arrive together", async () => {
    const app = await fresh();
    const rig = await zaloRig(app);
    const body = JSON.stringify(textUpdate("b1b2c3d4e5f6a7b8c9d0", "/start", "replayed0000000000aa"));
    const headers = { "content-type": "application/json", "x-bot-api-secret-token": WEBHOOK_SECRET };
    const statuses = await Promise.all(
      Array.from({ length: 5 }, () => rig.post("/zalo/webhook", body, headers)),
    );
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect(await app.models.InboundRecord.countDocuments()).toBe(1);
    expect(await app.models.Outbox.countDocuments()).toBe(1);
  });
});

describe("Zalo Official Account webhook", () => {
  const mac = (appId: string, raw: string, timestamp: string, key = OA_SECRET_KEY) =>
    `mac=${createHash("sha256").update(`${appId}${raw}${timestamp}${key}`).digest("hex")}`;

  function event(appId: string, at: number, msgId = "oa-msg-1", text = "/start") {
    return JSON.stringify({
      app_id: appId,
      event_name: "user_send_text",
      timestamp: String(at),
      sender: { id: "8123456789012345678" },
      recipient: { id: "4321" },
      message: { msg_id: msgId, text },
    });
  }

  it("refuses a missing, malformed, forged, tampered, foreign or stale signature", async () => {
    const app = await fresh();
    const rig = await zaloRig(app);
    const appId = rig.fake.oa.appId;
    const now = app.engine.services.clock.now().getTime();
    const hour = 3_600_000;
    const raw = event(appId, now);
    const tampered = raw.replace("/start", "/help");
    const stale = event(appId, now - 3 * hour);
    const future = event(appId, now + hour);
    const foreign = event("1111111111111111111", now);
    const cases: [string, string, Record<string, string>][] = [
      ["no header", raw, {}],
      ["empty mac", raw, { "x-zevent-signature": "mac=" }],
      ["not hex", raw, { "x-zevent-signature": `mac=${"z".repeat(64)}` }],
      ["too short", raw, { "x-zevent-signature": `mac=${"a".repeat(63)}` }],
      ["zeros", raw, { "x-zevent-signature": `mac=${"0".repeat(64)}` }],
      ["another key", raw, { "x-zevent-signature": mac(appId, raw, String(now), "another-secret-key") }],
      [
        "an HMAC instead of the hash",
        raw,
        { "x-zevent-signature": `mac=${createHmac("sha256", OA_SECRET_KEY).update(raw).digest("hex")}` },
      ],
      ["signed, then the body changed", tampered, { "x-zevent-signature": mac(appId, raw, String(now)) }],
      ["another timestamp than the body's", raw, { "x-zevent-signature": mac(appId, raw, String(now + 1)) }],
      ["three hours old", stale, { "x-zevent-signature": mac(appId, stale, String(now - 3 * hour)) }],
      ["an hour in the future", future, { "x-zevent-signature": mac(appId, future, String(now + hour)) }],
      ["another app", foreign, { "x-zevent-signature": mac("1111111111111111111", foreign, String(now)) }],
      ["the Bot Platform's secret header", raw, { "x-bot-api-secret-token": WEBHOOK_SECRET }],
    ];
    for (const [what, body, headers] of cases) {
      expect(
        await rig.post("/zalo-oa/webhook", body, { "content-type": "application/json", ...headers }),
        what,
      ).toBe(401);
    }
    await nothingRecorded(app);
  });

  it("takes a genuine event, and handles a replay of it within the window once", async () => {
    const app = await fresh();
    const rig = await zaloRig(app);
    const appId = rig.fake.oa.appId;
    const now = app.engine.services.clock.now().getTime();
    const raw = event(appId, now - 60_000, "oa-replayed");
    const headers = {
      "content-type": "application/json",
      "x-zevent-signature": mac(appId, raw, String(now - 60_000)),
    };
    expect(await rig.post("/zalo-oa/webhook", raw, headers)).toBe(200);
    expect(await rig.post("/zalo-oa/webhook", raw, headers)).toBe(200);
    expect(await app.models.InboundRecord.countDocuments({ dedupeKey: "zalo-oa:oa-replayed" })).toBe(1);
    expect(await app.models.Outbox.countDocuments()).toBe(1);
  });

  it("refuses the same genuine event once it is older than the window", async () => {
    const app = await fresh();
    const rig = await zaloRig(app);
    const appId = rig.fake.oa.appId;
    const clock = app.engine.services.clock as FixedClock;
    const at = clock.now().getTime();
    const raw = event(appId, at, "oa-late");
    const headers = { "content-type": "application/json", "x-zevent-signature": mac(appId, raw, String(at)) };
    clock.advance(3 * 3_600_000);
    expect(await rig.post("/zalo-oa/webhook", raw, headers)).toBe(401);
    await nothingRecorded(app);
  });
});
