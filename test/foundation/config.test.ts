import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("configuration", () => {
  it("has working defaults with an empty environment: console channel, embedded database", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      mongoUri: undefined,
      mongoDb: "dvbot",
      port: 3000,
      timeZone: "Asia/Ho_Chi_Minh",
      logLevel: "info",
      consoleChannel: true,
      telegram: undefined,
      adminAccounts: [],
      messageRetentionDays: 90,
    });
    expect(config.dataDir).toMatch(/\/var$/);
  });

  it("turns the console off by default once a platform token is set", () => {
    const config = loadConfig({ TELEGRAM_BOT_TOKEN: "123456789:AAH-abcdefghijklmnopqrstuvwxyz012345" });
    expect(config.consoleChannel).toBe(false);
    expect(config.telegram?.token).toMatch(/^123456789:/);
  });

  it("parses admin accounts", () => {
    expect(loadConfig({ ADMIN_ACCOUNTS: "telegram:12345, zalo:a1b2c3" }).adminAccounts).toEqual([
      { channel: "telegram", id: "12345" },
      { channel: "zalo", id: "a1b2c3" },
    ]);
  });

  it.each([
    [{ PORT: "abc" }, "PORT"],
    [{ PORT: "70000" }, "PORT"],
    [{ MONGODB_URI: "postgres://localhost/x" }, "MONGODB_URI"],
    [{ TIME_ZONE: "Asia/Hanoi_Nowhere" }, "TIME_ZONE"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL"],
    [{ TELEGRAM_BOT_TOKEN: "not-a-token" }, "TELEGRAM_BOT_TOKEN"],
    [{ PUBLIC_URL: "http://insecure.example" }, "PUBLIC_URL"],
    [{ ADMIN_ACCOUNTS: "facebook:1" }, "ADMIN_ACCOUNTS"],
    [{ MONGODB_DB: "bad name" }, "MONGODB_DB"],
    [{ MESSAGE_RETENTION_DAYS: "1" }, "MESSAGE_RETENTION_DAYS"],
    [
      {
        PUBLIC_URL: "https://bot.example.vn",
        TELEGRAM_BOT_TOKEN: "123456789:AAH-abcdefghijklmnopqrstuvwxyz012345",
      },
      "TELEGRAM_WEBHOOK_SECRET",
    ],
    [{ ZALO_OA_APP_ID: "123456789" }, "ZALO_OA_SECRET_KEY"],
  ])("refuses %j naming %s in one line", (env, variable) => {
    const error = errorOf(env);
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(new RegExp(`^Cấu hình sai: ${variable} — \\S`));
    expect(error.message).not.toContain("\n");
  });
});
