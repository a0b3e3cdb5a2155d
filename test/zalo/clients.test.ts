import { afterEach, describe, expect, it } from "vitest";
import { ZaloBotApi, ZaloBotApiError } from "../../bots/zalo/bot-api.js";
import { ZaloNetworkError } from "../../bots/zalo/http-client.js";
import { ZaloOaApi, ZaloOaApiError } from "../../bots/zalo/oa-api.js";
import { OaTokenUnavailable, toSendError } from "../../bots/zalo/send-errors.js";
import { ConfigError, loadConfig } from "../../src/config.js";
import type { FakeZalo } from "./fake-zalo.js";
import { startFakeZalo } from "./fake-zalo.js";

let fake: FakeZalo | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe("where the clients talk, from the configuration", () => {
  const oa = {
    ZALO_OA_APP_ID: "2553928453557884079",
    ZALO_OA_SECRET_KEY: "app-secret-key",
    ZALO_OA_REFRESH_TOKEN: "rt-0123456789",
  };

  it("reads the OA API and OAuth servers (a local fake) and one timeout for every platform call", () => {
    const config = loadConfig({
      ...oa,
      ZALO_OA_API_BASE: "http://127.0.0.1:8081",
      ZALO_OA_OAUTH_BASE: "http://127.0.0.1:8082",
      PLATFORM_TIMEOUT_SECONDS: "5",
    });
    expect(config.zaloOa).toMatchObject({
      apiBase: "http://127.0.0.1:8081",
      oauthBase: "http://127.0.0.1:8082",
    });
    expect(config.platformTimeoutSeconds).toBe(5);
    const defaults = loadConfig(oa);
    expect(defaults.zaloOa).toMatchObject({ apiBase: undefined, oauthBase: undefined });
    expect(defaults.platformTimeoutSeconds).toBe(20);
  });

  it("refuses a timeout that would outlast the outbox's 60 s claim", () => {
    const refused = (() => {
      try {
        return loadConfig({ PLATFORM_TIMEOUT_SECONDS: "90" });
      } catch (error) {
        return error;
      }
    })();
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).variable).toBe("PLATFORM_TIMEOUT_SECONDS");
  });
});

describe("the Bot Platform client against the fake", () => {
  it("reads getMe, and the webhook life cycle including 404 when none is set", async () => {
    fake = await startFakeZalo();
    const api = new ZaloBotApi({ token: fake.bot.token, baseUrl: fake.url });
    expect(await api.getMe()).toEqual({
      id: "1459232241454765289",
      accountName: "bot.FakeSoKHCN",
      accountType: "BASIC",
    });
    expect(await api.getWebhookInfo()).toBeUndefined();
    await api.setWebhook("https://bot.example.test/zalo/webhook", "a-secret-of-length");
    expect((await api.getWebhookInfo())?.url).toBe("https://bot.example.test/zalo/webhook");
    const refused = await api.getUpdates({ timeoutSeconds: 1 }).catch((e: unknown) => e);
    expect((refused as ZaloBotApiError).errorCode).toBe(400);
    await api.deleteWebhook();
    expect(await api.getWebhookInfo()).toBeUndefined();
    await api.sendChatAction("6ede9afa66b88fe6d6a9");
    expect(fake.bot.chatActions).toEqual([{ chatId: "6ede9afa66b88fe6d6a9", action: "typing" }]);
  });

  it("keeps the raw body of a failure and never puts the token in an error message", async () => {
    fake = await startFakeZalo();
    const wrong = new ZaloBotApi({ token: "999:wrong-token-must-not-leak", baseUrl: fake.url });
    const error = (await wrong.sendMessage("c", "x").catch((e: unknown) => e)) as ZaloBotApiError;
    expect(error).toBeInstanceOf(ZaloBotApiError);
    expect(error.errorCode).toBe(401);
    expect(error.raw).toContain("Unauthorized");
    expect(error.message).not.toContain("wrong-token-must-not-leak");
    const unreachable = new ZaloBotApi({
      token: "999:secret-token",
      baseUrl: "http://127.0.0.1:9",
      timeoutMs: 2000,
    });
    const down = (await unreachable.getMe().catch((e: unknown) => e)) as ZaloNetworkError;
    expect(down).toBeInstanceOf(ZaloNetworkError);
    expect(down.message).not.toContain("secret-token");
  });
});

describe("the OA client against the fake", () => {
  it("reads expires_in as a string of seconds and refuses a refresh token used twice", async () => {
    fake = await startFakeZalo();
    const api = new ZaloOaApi({ baseUrl: fake.url, oauthUrl: fake.url });
    const input = {
      appId: fake.oa.appId,
      secretKey: fake.oa.appSecret,
      refreshToken: fake.issueRefreshToken(),
    };
    const pair = await api.refreshAccessToken(input);
    expect(pair.expiresInSeconds).toBe(90000);
    const again = (await api.refreshAccessToken(input).catch((e: unknown) => e)) as ZaloOaApiError;
    expect(again.code).toBe(-14020);
    expect(await api.sendText(pair.accessToken, "5510185758261927916", "Xin chào")).toHaveProperty(
      "messageId",
    );
    const stale = (await api.sendText("not-a-token", "1", "x").catch((e: unknown) => e)) as ZaloOaApiError;
    expect(stale.code).toBe(-216);
    expect(stale.isTokenProblem).toBe(true);
  });
});

describe("Zalo's failures mapped onto the outbox's kinds", () => {
  const oa = (code: number, status = 200) => new ZaloOaApiError("message/cs", code, "…", status, "{}");
  const bot = (code: number, status = 200) =>
    new ZaloBotApiError("sendMessage", code, "…", status, undefined, "{}");

  it.each([
    [oa(-32), "rate_limited", 60_000],
    [oa(-211), "rate_limited", 3_600_000],
    [oa(-218), "rate_limited", 3_600_000],
    [oa(-216), "rate_limited", 300_000],
    [oa(-220), "rate_limited", 300_000],
    [oa(-1, 401), "rate_limited", 300_000],
    [new OaTokenUnavailable("refresh failing"), "rate_limited", 300_000],
    [oa(-213), "blocked", undefined],
    [oa(-227), "blocked", undefined],
    [oa(-230), "blocked", undefined],
    [oa(-232), "blocked", undefined],
    [oa(-244), "blocked", undefined],
    [oa(-201), "bad_request", undefined],
    [oa(-1, 503), "network", undefined],
    [bot(429), "rate_limited", 60_000],
    [bot(403), "blocked", undefined],
    [bot(400), "bad_request", undefined],
    [bot(401), "unauthorized", undefined],
    [bot(0, 401), "unauthorized", undefined],
    [bot(502, 502), "network", undefined],
    [new ZaloNetworkError("sendMessage", "ECONNRESET"), "network", undefined],
    [new Error("anything else"), "network", undefined],
  ])("%s → %s", (error, kind, wait) => {
    const mapped = toSendError(error);
    expect(mapped.kind).toBe(kind);
    expect(mapped.retryAfterMs).toBe(wait);
  });
});
