import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { buildApp, useDatabase } from "../support/db.js";
import { deliverAll, OA_SECRET_KEY, type Rig, startRig, textUpdate, WEBHOOK_SECRET } from "./harness.js";
import { handedIn } from "../support/inbound.js";

const db = useDatabase(import.meta.filename);
let rig: Rig | undefined;

afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

async function open(options: Parameters<typeof startRig>[1] = {}) {
  await db.connection.dropDatabase();
  const { app, clock } = await buildApp(db.connection);
  rig = await startRig(app, options);
  return { app, clock, rig };
}

const recorded = (r: Rig) => r.app.models.InboundRecord.countDocuments();

function fixture(name: string): string {
  return readFileSync(path.join(import.meta.dirname, "../fixtures/zalo", `${name}.json`), "utf8");
}

/** What Zalo puts in X-ZEvent-Signature, computed here from the formula, not from our code. */
function mac(appId: string, raw: string, timestamp: string, key = OA_SECRET_KEY): string {
  return `mac=${createHash("sha256").update(`${appId}${raw}${timestamp}${key}`).digest("hex")}`;
}

describe("Bot Platform webhook", () => {
  const body = () => JSON.stringify(textUpdate("a1b2c3d4e5f6a7b8c9d0", "/help"));

  it("takes an update carrying the exact secret, and answers it", async () => {
    const { rig } = await open();
    expect(rig.fake.bot.webhook).toEqual({
      url: "https://bot.example.test/zalo/webhook",
      secret: WEBHOOK_SECRET,
    });
    const status = await rig.post("/zalo/webhook", body(), { "x-bot-api-secret-token": WEBHOOK_SECRET });
    expect(status).toBe(200);
    expect(await recorded(rig)).toBe(1);
    await deliverAll(rig.app);
    expect(rig.fake.bot.sent[0]?.text).toContain("Các lệnh anh/chị có thể dùng");
  });

  it("accepts the documented {ok, result} wrapper as well as the bare event", async () => {
    const { rig } = await open();
    const wrapped = JSON.stringify({ ok: true, result: textUpdate("a1", "/help") });
    expect(await rig.post("/zalo/webhook", wrapped, { "x-bot-api-secret-token": WEBHOOK_SECRET })).toBe(200);
    expect(await recorded(rig)).toBe(1);
  });

  it("refuses (401) a request without the secret, with a forged one, or with one almost right", async () => {
    const { rig } = await open();
    for (const headers of [
      {} as Record<string, string>,
      { "x-bot-api-secret-token": "" },
      { "x-bot-api-secret-token": "forged-secret-of-some-length" },
      { "x-bot-api-secret-token": WEBHOOK_SECRET.slice(0, -1) },
      { "x-bot-api-secret-token": `${WEBHOOK_SECRET}x` },
    ]) {
      expect(await rig.post("/zalo/webhook", body(), headers)).toBe(401);
    }
    expect(await recorded(rig)).toBe(0);
  });

  it("answers 400 to a genuine request that is not an update, and 200 to one it ignores", async () => {
    const { rig } = await open();
    const headers = { "x-bot-api-secret-token": WEBHOOK_SECRET };
    expect(await rig.post("/zalo/webhook", "not json", headers)).toBe(400);
    expect(await rig.post("/zalo/webhook", fixture("bot-unsupported-bare"), headers)).toBe(200);
    expect(await recorded(rig)).toBe(0);
  });
});

describe("Official Account webhook", () => {
  const APP = "2553928453557884079";
  const NOW_MS = 1759716000000; // the fixed clock of buildApp

  function event(text: string, msgId: string, timestamp = String(NOW_MS)): string {
    return JSON.stringify({
      event_name: "user_send_text",
      app_id: APP,
      sender: { id: "5510185758261927916" },
      recipient: { id: "1646843870823903717" },
      message: { text, msg_id: msgId },
      timestamp,
      user_id_by_app: "3611371994410983884",
    });
  }

  it("takes a correctly signed event and answers through the OA with a refreshed token", async () => {
    const { rig } = await open({ bot: false, oa: true });
    const raw = event("/help", "e2a641af6661713b2874");
    const status = await rig.post("/zalo-oa/webhook", raw, {
      "x-zevent-signature": mac(APP, raw, String(NOW_MS)),
    });
    expect(status).toBe(200);
    const record = await rig.app.models.InboundRecord.findOne().lean();
    expect(record?.dedupeKey).toBe("zalo-oa:e2a641af6661713b2874");
    expect(record?.chatId).toBe("oa:5510185758261927916");
    await deliverAll(rig.app);
    const [reply] = rig.fake.oa.sent;
    expect(reply?.userId).toBe("5510185758261927916");
    expect(reply?.text).toContain("Các lệnh anh/chị có thể dùng");
    // The configuration held only a refresh token: it was traded once, for the token used here.
    expect(rig.fake.oa.refreshCalls).toHaveLength(1);
    expect(rig.fake.oa.refreshCalls[0]?.refreshToken).toBe(rig.oaSeed?.refreshToken);
    expect(rig.fake.oa.validAccessTokens.has(reply?.accessToken ?? "")).toBe(true);
  });

  it("verifies over the raw bytes: the same event re-serialized does not pass", async () => {
    const { rig } = await open({ bot: false, oa: true });
    const raw = event("Xin chào Sở", "b1");
    const spaced = JSON.stringify(JSON.parse(raw), null, 2);
    expect(
      await rig.post("/zalo-oa/webhook", spaced, { "x-zevent-signature": mac(APP, raw, String(NOW_MS)) }),
    ).toBe(401);
    // Signed over those exact bytes, the spaced version is fine.
    expect(
      await rig.post("/zalo-oa/webhook", spaced, { "x-zevent-signature": mac(APP, spaced, String(NOW_MS)) }),
    ).toBe(200);
  });

  it("refuses forged, unsigned, foreign and stale events, and records none of them", async () => {
    const { rig } = await open({ bot: false, oa: true });
    const raw = event("giả mạo", "c1");
    const hourMs = 3_600_000;
    const stale = event("cũ", "c2", String(NOW_MS - 3 * hourMs));
    const future = event("tương lai", "c3", String(NOW_MS + hourMs));
    const foreign = event("khác", "c4").replace(APP, "1111111111111111111");
    const cases: [string, Record<string, string>][] = [
      [raw, {}],
      [raw, { "x-zevent-signature": "mac=" }],
      [raw, { "x-zevent-signature": `mac=${"0".repeat(64)}` }],
      [raw, { "x-zevent-signature": mac(APP, raw, String(NOW_MS), "another-secret-key") }],
      [raw, { "x-zevent-signature": mac(APP, raw, String(NOW_MS + 1)) }],
      [stale, { "x-zevent-signature": mac(APP, stale, String(NOW_MS - 3 * hourMs)) }],
      [future, { "x-zevent-signature": mac(APP, future, String(NOW_MS + hourMs)) }],
      [foreign, { "x-zevent-signature": mac("1111111111111111111", foreign, String(NOW_MS)) }],
    ];
    for (const [body, headers] of cases) expect(await rig.post("/zalo-oa/webhook", body, headers)).toBe(401);
    expect(await recorded(rig)).toBe(0);
  });

  it("accepts an event retried within the two-hour window, once", async () => {
    const { rig } = await open({ bot: false, oa: true });
    const at = String(NOW_MS - 90 * 60_000);
    const raw = event("Gửi lại sau 90 phút", "d1", at);
    const headers = { "x-zevent-signature": mac(APP, raw, at) };
    expect(await rig.post("/zalo-oa/webhook", raw, headers)).toBe(200);
    expect(await rig.post("/zalo-oa/webhook", raw, headers)).toBe(200);
    expect(await recorded(rig)).toBe(1);
  });

  it("acknowledges follow, unfollow and user_seen_message and does nothing else", async () => {
    const { rig } = await open({ bot: false, oa: true });
    for (const name of ["oa-follow", "oa-unfollow", "oa-user-seen-message"]) {
      const raw = fixture(name);
      const timestamp = (JSON.parse(raw) as { timestamp: string }).timestamp;
      expect(
        await rig.post("/zalo-oa/webhook", raw, { "x-zevent-signature": mac(APP, raw, timestamp) }),
      ).toBe(200);
    }
    expect(await recorded(rig)).toBe(0);
  });

  it("passes a sticker on with empty text; the engine decides the answer", async () => {
    const { rig } = await open({ bot: false, oa: true });
    const raw = fixture("oa-user-send-sticker");
    const seen = handedIn(rig.app.engine);
    const timestamp = (JSON.parse(raw) as { timestamp: string }).timestamp;
    expect(await rig.post("/zalo-oa/webhook", raw, { "x-zevent-signature": mac(APP, raw, timestamp) })).toBe(
      200,
    );
    const [record] = seen.values();
    expect(record?.text).toBe("");
    expect(record?.attachments).toEqual([{ kind: "sticker", ref: "bfb737cc4e89a7d7fe98" }]);
    await deliverAll(rig.app);
    // What to say to a sticker is the engine's decision; whatever it is goes out through the OA.
    expect(rig.fake.oa.sent.map((m) => m.userId)).toContain("5510185758261927916");
  });
});
