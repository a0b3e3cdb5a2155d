import { GrammyError, HttpError } from "grammy";
import { describe, expect, it } from "vitest";
import { toSendError } from "../../bots/telegram/errors.js";
import { callbackData, inlineKeyboard, labelOf, readCallbackData } from "../../bots/telegram/keyboard.js";
import { plan } from "../../bots/telegram/sender.js";
import { secretMatches } from "../../bots/telegram/webhook.js";
import { matchChoice } from "../../src/engine/choices.js";

function apiError(code: number, description: string, retryAfter?: number): GrammyError {
  return new GrammyError(
    `Call to 'sendMessage' failed! (${code}: ${description})`,
    {
      ok: false,
      error_code: code,
      description,
      ...(retryAfter !== undefined ? { parameters: { retry_after: retryAfter } } : {}),
    },
    "sendMessage",
    {},
  );
}

describe("Bot API failures in the outbox's vocabulary", () => {
  it("429 is rate_limited with retry_after in milliseconds", () => {
    const error = toSendError(apiError(429, "Too Many Requests: retry after 17", 17));
    expect([error.kind, error.retryAfterMs]).toEqual(["rate_limited", 17_000]);
  });

  it("403 blocked, kicked or deactivated is blocked", () => {
    for (const description of [
      "Forbidden: bot was blocked by the user",
      "Forbidden: bot was kicked from the group chat",
      "Forbidden: user is deactivated",
    ]) {
      expect(toSendError(apiError(403, description)).kind).toBe("blocked");
    }
  });

  it("400 is bad_request; 5xx and an unreachable server are network; 401 and 404 (a refused token) are unauthorized", () => {
    expect(toSendError(apiError(400, "Bad Request: chat not found")).kind).toBe("bad_request");
    expect(toSendError(apiError(502, "Bad Gateway")).kind).toBe("network");
    expect(toSendError(apiError(401, "Unauthorized")).kind).toBe("unauthorized");
    expect(toSendError(apiError(404, "Not Found")).kind).toBe("unauthorized");
    expect(toSendError(new HttpError("Network request failed", new Error("ECONNRESET"))).kind).toBe(
      "network",
    );
  });
});

describe("choices as an inline keyboard", () => {
  const choices = [
    { label: "Đồng ý", value: "yes" },
    { label: "Phòng Quản lý chuyên ngành và Chuyển đổi số", value: "unit:".padEnd(80, "x") },
    { label: "Không", value: "no" },
  ];

  it("one button per row; a value over 64 bytes gets a short stand-in", () => {
    const keyboard = inlineKeyboard(choices);
    expect(keyboard.inline_keyboard.map((row) => row.length)).toEqual([1, 1, 1]);
    expect(callbackData(choices)).toEqual(["yes", "~2", "no"]);
    for (const data of callbackData(choices)) expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
  });

  it("a stand-in still picks the right choice: the engine matches the pressed label", () => {
    const keyboard = inlineKeyboard(choices);
    const label = labelOf(keyboard, "~2") ?? "";
    expect(matchChoice({ text: label, choice: "~2" }, choices)).toBe(choices[1]);
  });

  it("a stand-in never collides with a real value", () => {
    const tricky = [
      { label: "A", value: "~2" },
      { label: "B", value: "x".repeat(65) },
    ];
    expect(callbackData(tricky)).toEqual(["~2", "~~2"]);
  });

  it("Vietnamese values are measured in bytes, not characters", () => {
    const value = "đ".repeat(33); // 33 characters, 66 bytes
    expect(callbackData([{ label: "x", value }])).toEqual(["~1"]);
  });

  it("buttons carry the step token in front of the value, within 64 bytes, and read back", () => {
    const data = callbackData(choices, 41);
    expect(data).toEqual(["\u00a741:yes", "\u00a741:~2", "\u00a741:no"]);
    expect(data.map((d) => readCallbackData(d))).toEqual([
      { value: "yes", step: 41 },
      { value: "~2", step: 41 },
      { value: "no", step: 41 },
    ]);
    // A value that fits alone but not behind the token gets a stand-in.
    const tight = [{ label: "x", value: "v".repeat(62) }];
    expect(callbackData(tight)).toEqual(["v".repeat(62)]);
    expect(callbackData(tight, 1234)).toEqual(["\u00a71234:~1"]);
  });

  it("a button sent before step tokens reads as its bare value, with no step", () => {
    expect(readCallbackData("yes")).toEqual({ value: "yes" });
    expect(readCallbackData("~2")).toEqual({ value: "~2" });
    expect(readCallbackData("/danhgia PA-12")).toEqual({ value: "/danhgia PA-12" });
  });
});

describe("a delivery's calls", () => {
  it("text parts of at most 4096, the keyboard under the last part, then the files", () => {
    const steps = plan({
      chatId: "1",
      text: Array.from({ length: 1500 }, (_, i) => `từ${i}`).join(" "),
      choices: [{ label: "Có", value: "yes" }],
      files: [{ kind: "document", ref: "BQAC-doc", name: "bao-cao.xlsx" }],
    });
    const texts = steps.filter((s) => s.kind === "text");
    expect(texts.length).toBeGreaterThan(1);
    expect(texts.every((s) => s.kind === "text" && s.text.length <= 4096)).toBe(true);
    expect(texts.map((s) => s.kind === "text" && s.keyboard !== undefined)).toEqual([
      ...texts.slice(1).map(() => false),
      true,
    ]);
    expect(steps.at(-1)).toEqual({
      kind: "file",
      file: { kind: "document", ref: "BQAC-doc", name: "bao-cao.xlsx" },
    });
  });
});

describe("the webhook secret", () => {
  it("only the exact secret passes", () => {
    const secret = "test_webhook_secret_0123456789";
    expect(secretMatches(secret, secret)).toBe(true);
    expect(secretMatches(undefined, secret)).toBe(false);
    expect(secretMatches("", secret)).toBe(false);
    expect(secretMatches(`${secret}x`, secret)).toBe(false);
    expect(secretMatches([secret, secret], secret)).toBe(false);
  });
});
