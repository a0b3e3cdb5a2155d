import { describe, expect, it } from "vitest";
import { rateLimited, RateLimiter, TELEGRAM_LIMITS } from "../../bots/telegram/rate-limit.js";
import { FixedClock } from "../../src/clock.js";
import { SendError, type Delivery } from "../../src/engine/channel.js";

const T0 = 1_000_000;

/** Sends a whole burst to the chat at `now`, so the next message must wait. */
function spendBurst(limiter: RateLimiter, chatId: string, now: number): void {
  for (let i = 0; i < TELEGRAM_LIMITS.perChatBurst; i += 1) limiter.sent(chatId, `burst${i}`, 1, now);
}

describe("Telegram's rate limits, decided without sleeping", () => {
  it("a private chat takes a short burst at once, then one message a second", () => {
    const limiter = new RateLimiter();
    for (const key of ["reply", "menu", "third"]) {
      expect(limiter.admit("7", key, 1, T0)).toBe(0);
      limiter.sent("7", key, 1, T0);
    }
    expect(limiter.admit("7", "fourth", 1, T0 + 300)).toBe(700);
    expect(limiter.admit("8", "other", 1, T0 + 300)).toBe(0);
    // A quiet chat earns its burst back, one message a second.
    expect(limiter.admit("9", "a", 1, T0)).toBe(0);
    limiter.sent("9", "a", 1, T0);
    limiter.sent("9", "b", 1, T0);
    limiter.sent("9", "c", 1, T0);
    expect(limiter.admit("9", "d", 1, T0 + 1_000)).toBe(0);
    limiter.sent("9", "d", 1, T0 + 1_000);
    expect(limiter.admit("9", "e", 1, T0 + 1_500)).toBe(500);
  });

  it("a long text sent as five parts holds the chat for the two parts past the burst", () => {
    const limiter = new RateLimiter();
    expect(limiter.admit("7", "long", 5, T0)).toBe(0);
    limiter.sent("7", "long", 5, T0);
    expect(limiter.admit("7", "next", 1, T0 + 1_000)).toBe(2_000);
  });

  it("waiting deliveries keep their order, one gap apart, and only the head may go", () => {
    const limiter = new RateLimiter();
    spendBurst(limiter, "7", T0);
    expect(limiter.admit("7", "b", 1, T0)).toBe(1_000);
    expect(limiter.admit("7", "c", 1, T0)).toBe(2_000);
    // c comes back early, before b: it waits for b.
    expect(limiter.admit("7", "c", 1, T0 + 1_000)).toBeGreaterThan(0);
    expect(limiter.admit("7", "b", 1, T0 + 1_000)).toBe(0);
    limiter.sent("7", "b", 1, T0 + 1_000);
    expect(limiter.admit("7", "c", 1, T0 + 2_000)).toBe(0);
  });

  it("a delivery that never comes back loses its place after holdMs", () => {
    const limiter = new RateLimiter();
    spendBurst(limiter, "7", T0);
    expect(limiter.admit("7", "gone", 1, T0)).toBe(1_000);
    const later = T0 + 1_000 + TELEGRAM_LIMITS.holdMs + 1;
    expect(limiter.admit("7", "next", 1, later)).toBe(0);
  });

  it("after a 429 nothing goes to the chat before retry_after, and the refused delivery goes first", () => {
    const limiter = new RateLimiter();
    limiter.admit("7", "a", 1, T0);
    expect(limiter.penalize("7", "a", 5_000, T0)).toBe(5_000);
    expect(limiter.admit("7", "b", 1, T0 + 100)).toBe(5_900);
    expect(limiter.admit("7", "b", 1, T0 + 5_000)).toBeGreaterThan(0);
    expect(limiter.admit("7", "a", 1, T0 + 5_000)).toBe(0);
  });

  it("twenty messages per minute in a group", () => {
    const limiter = new RateLimiter({ ...TELEGRAM_LIMITS, perChatIntervalMs: 0 });
    for (let i = 0; i < 20; i += 1) {
      expect(limiter.admit("-100200", `m${i}`, 1, T0 + i)).toBe(0);
      limiter.sent("-100200", `m${i}`, 1, T0 + i);
    }
    expect(limiter.admit("-100200", "m20", 1, T0 + 100)).toBe(60_000 - 100);
    expect(limiter.admit("-100201", "other", 1, T0 + 100)).toBe(0);
  });

  it("about thirty messages per second across all chats", () => {
    const limiter = new RateLimiter();
    for (let i = 0; i < 30; i += 1) {
      expect(limiter.admit(String(i + 1), "m", 1, T0)).toBe(0);
      limiter.sent(String(i + 1), "m", 1, T0);
    }
    expect(limiter.admit("31", "m", 1, T0 + 10)).toBe(990);
    expect(limiter.admit("31", "m", 1, T0 + 1_000)).toBe(0);
  });

  it("a delivery that comes along while others wait for room in the bot's count queues behind them", () => {
    const limiter = new RateLimiter();
    for (let i = 0; i < 30; i += 1) limiter.sent(String(i + 1), "m", 1, T0);
    // Two wait for the room the first second frees, a share of a second apart.
    expect(limiter.admit("31", "m", 1, T0 + 10)).toBe(990);
    expect(limiter.admit("32", "m", 1, T0 + 20)).toBeCloseTo(1_013.3, 0);
    // The room frees: a newcomer does not take it, the first in line does.
    expect(limiter.admit("33", "m", 1, T0 + 1_000)).toBeGreaterThan(0);
    expect(limiter.admit("31", "m", 1, T0 + 1_000)).toBe(0);
    limiter.sent("31", "m", 1, T0 + 1_000);
    expect(limiter.admit("32", "m", 1, T0 + 1_040)).toBe(0);
    limiter.sent("32", "m", 1, T0 + 1_040);
    // Then the newcomer, in its turn.
    expect(limiter.admit("33", "m", 1, T0 + 1_100)).toBe(0);
  });

  it("a delivery that never comes back for its room in the bot's count loses its place after holdMs", () => {
    const limiter = new RateLimiter();
    for (let i = 0; i < 30; i += 1) limiter.sent(String(i + 1), "m", 1, T0);
    expect(limiter.admit("31", "gone", 1, T0 + 10)).toBe(990);
    expect(limiter.admit("32", "m", 1, T0 + 1_000 + TELEGRAM_LIMITS.holdMs)).toBe(0);
  });

  it("a blocked or failed delivery leaves the line", () => {
    const limiter = new RateLimiter();
    spendBurst(limiter, "7", T0);
    expect(limiter.admit("7", "b", 1, T0)).toBe(1_000);
    limiter.release("7", "b");
    expect(limiter.admit("7", "c", 1, T0 + 1_000)).toBe(0);
  });

  it("counts deliveries in flight: thirty on their way leave no room for a thirty-first", async () => {
    const clock = new FixedClock(new Date(T0));
    let answer: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    // The platform answers none of them until the thirty-first has been tried.
    const sender = rateLimited(
      {
        channel: "telegram",
        send: async () => {
          await answered;
          return { messageIds: ["1"] };
        },
      },
      { limiter: new RateLimiter(), clock, cost: () => 1, key: (d: Delivery) => `${d.chatId}:${d.text}` },
    );
    const delivery = (chatId: string): Delivery => ({ chatId, text: "Xin chào", choices: [], files: [] });
    const inFlight = Array.from({ length: 30 }, (_, i) => sender.send(delivery(String(i + 1))));
    clock.advance(10);
    const refused = await sender.send(delivery("31")).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SendError);
    expect(refused).toMatchObject({ kind: "rate_limited", retryAfterMs: 990 });
    answer();
    await Promise.all(inFlight);
  });

  it("a delivery its own chat holds back takes no place in the bot's line", () => {
    const limiter = new RateLimiter();
    spendBurst(limiter, "7", T0);
    for (let i = 0; i < 27; i += 1) limiter.sent(String(i + 100), "m", 1, T0);
    // The bot's count is full and chat 7's burst spent: it waits for its chat.
    expect(limiter.admit("7", "held", 1, T0 + 10)).toBe(1_000 - 10);
    // Nor does a message behind an earlier one of its chat still waiting.
    expect(limiter.admit("9", "first", 1, T0 + 12)).toBe(988);
    expect(limiter.admit("9", "second", 1, T0 + 14)).toBeGreaterThanOrEqual(1_000);
    // Another chat waits for the bot's room only, and is second in its line.
    expect(limiter.admit("8", "m", 1, T0 + 20)).toBeCloseTo(1_013.3, 0);
    expect(limiter.admit("9", "first", 1, T0 + 1_000)).toBe(0);
    limiter.sent("9", "first", 1, T0 + 1_000);
    expect(limiter.admit("8", "m", 1, T0 + 1_040)).toBe(0);
  });
});
