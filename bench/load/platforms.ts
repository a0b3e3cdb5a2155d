import type { Message } from "grammy/types";
import { FakeBotApi } from "../../test/telegram/fake-bot-api.js";
import { FakeZalo, type BotSent } from "../../test/zalo/fake-zalo.js";

export type Channel = "telegram" | "zalo";

/** One message the bot delivered to a chat, with the moment it reached the fake platform. */
export interface Arrival {
  channel: Channel;
  chatId: string;
  text: string;
  /** performance.now() when the fake received the bot's send call. */
  at: number;
  /** Telegram only: the message as the fake delivered it, for button presses and replies. */
  message?: Message;
}

interface Waiter {
  from: number;
  match: (arrival: Arrival) => boolean;
  resolve: (arrival: Arrival | undefined) => void;
  timer: NodeJS.Timeout;
}

/** Everything delivered to one chat, in order, and the people waiting for the next message there. */
class Mailbox {
  readonly arrivals: Arrival[] = [];
  readonly waiters = new Set<Waiter>();

  add(arrival: Arrival): void {
    this.arrivals.push(arrival);
    for (const waiter of this.waiters) {
      if (this.arrivals.length - 1 >= waiter.from && waiter.match(arrival)) {
        clearTimeout(waiter.timer);
        this.waiters.delete(waiter);
        waiter.resolve(arrival);
      }
    }
  }
}

const SEND_METHODS = new Set(["sendMessage", "sendPhoto", "sendDocument"]);

/**
 * Telegram's published limits, enforced as Telegram does, with a 429 and `retry_after` (whole
 * seconds, at least 1): about 30 messages a second in all, and in one chat "avoid sending more
 * than one message per second. We may allow short bursts that go over this limit" — the size of
 * the burst is not published; 3 is taken here. Source:
 * https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
 */
export const TELEGRAM_GLOBAL_PER_SECOND = 30;
const CHAT_BURST = 3;
const CHAT_PER_SECOND = 1;

class TelegramLimits {
  /** Times of the sends accepted within the last second. */
  private readonly recent: number[] = [];
  private readonly chats = new Map<string, { tokens: number; at: number }>();
  refused = 0;

  constructor(private readonly now: () => number) {}

  check(
    method: string,
    chatId: string,
  ): { errorCode: number; description: string; retryAfter: number } | undefined {
    if (!SEND_METHODS.has(method)) return undefined;
    const now = this.now();
    while (this.recent.length > 0 && (this.recent[0] ?? 0) <= now - 1_000) this.recent.shift();
    const bucket = this.chats.get(chatId) ?? { tokens: CHAT_BURST, at: now };
    bucket.tokens = Math.min(CHAT_BURST, bucket.tokens + ((now - bucket.at) / 1_000) * CHAT_PER_SECOND);
    bucket.at = now;
    this.chats.set(chatId, bucket);
    let waitMs = 0;
    if (this.recent.length >= TELEGRAM_GLOBAL_PER_SECOND) waitMs = (this.recent[0] ?? now) + 1_000 - now;
    else if (bucket.tokens < 1) waitMs = ((1 - bucket.tokens) * 1_000) / CHAT_PER_SECOND;
    if (waitMs === 0) {
      this.recent.push(now);
      bucket.tokens -= 1;
      return undefined;
    }
    this.refused += 1;
    const retryAfter = Math.max(1, Math.ceil(waitMs / 1_000));
    return { errorCode: 429, description: `Too Many Requests: retry after ${retryAfter}`, retryAfter };
  }
}

/**
 * The fake Telegram Bot API and fake Zalo Bot Platform of the tests (test/telegram, test/zalo),
 * with a mailbox per chat so a simulated person can wait for the bot's next message. Both fakes
 * keep what they receive in public arrays; the push on those arrays is watched, which times each
 * arrival to the moment the fake received the call rather than to a polling interval.
 */
export class Platforms {
  readonly telegram: FakeBotApi;
  readonly zalo = new FakeZalo();
  private readonly boxes = new Map<string, Mailbox>();
  /** answerCallbackQuery texts by callback query id, and who waits for one. */
  private readonly answers = new Map<string, string>();
  private readonly answerWaiters = new Map<string, (text: string) => void>();

  private readonly limits: TelegramLimits | undefined;

  /**
   * `limits`: the fake Telegram refuses, with a 429, what its published limits refuse, by the
   * clock `now` (milliseconds; performance.now unless a test holds time still).
   */
  constructor(options: { limits?: boolean; now?: () => number } = {}) {
    this.telegram = new FakeBotApi();
    if (options.limits) {
      const limits = new TelegramLimits(options.now ?? (() => performance.now()));
      this.limits = limits;
      this.telegram.hooks.before = (call) => limits.check(call.method, String(call.params.chat_id ?? ""));
    }
    const calls = this.telegram.calls;
    const push = calls.push.bind(calls);
    calls.push = (...items) => {
      const at = performance.now();
      const size = push(...items);
      // The fake answers a call after recording it, synchronously: by the next microtask the
      // delivered message (with its id and keyboard) exists.
      for (const call of items) {
        if (call.method === "answerCallbackQuery") this.answered(call.params);
        if (!SEND_METHODS.has(call.method)) continue;
        queueMicrotask(() => {
          if (!call.ok) return;
          const chatId = String(call.params.chat_id ?? "");
          const delivered = this.telegram.messagesTo(chatId).at(-1);
          this.box("telegram", chatId).add({
            channel: "telegram",
            chatId,
            text: delivered?.text ?? String(call.params.text ?? call.params.caption ?? ""),
            at,
            ...(delivered ? { message: delivered.message } : {}),
          });
        });
      }
      return size;
    };
    const sent = this.zalo.bot.sent;
    const pushSent = sent.push.bind(sent);
    sent.push = (...items: BotSent[]) => {
      const at = performance.now();
      for (const item of items) {
        this.box("zalo", item.chatId).add({
          channel: "zalo",
          chatId: item.chatId,
          text: item.text ?? "",
          at,
        });
      }
      return pushSent(...items);
    };
  }

  async start(): Promise<void> {
    await this.telegram.start();
    await this.zalo.start();
  }

  async stop(): Promise<void> {
    for (const wake of this.answerWaiters.values()) wake("");
    this.answerWaiters.clear();
    for (const box of this.boxes.values()) {
      for (const waiter of box.waiters) {
        clearTimeout(waiter.timer);
        waiter.resolve(undefined);
      }
    }
    await this.telegram.stop();
    await this.zalo.close();
  }

  /** Sends the fake Telegram refused with a 429 (limits on). */
  get refusedByLimits(): number {
    return this.limits?.refused ?? 0;
  }

  /** How many setWebhook calls each fake has had: a bot that set its webhook is ready for updates. */
  webhookCalls(): { telegram: number; zalo: number } {
    return {
      telegram: this.telegram.callsOf("setWebhook").length,
      zalo: this.zalo.bot.calls.filter((c) => c.method === "setWebhook").length,
    };
  }

  private answered(params: Record<string, unknown>): void {
    const id = String(params.callback_query_id ?? "");
    const text = String(params.text ?? "");
    this.answers.set(id, text);
    this.answerWaiters.get(id)?.(text);
    this.answerWaiters.delete(id);
  }

  /** The text the bot answered a button press with (the toast), once it has; undefined after `timeoutMs`. */
  callbackAnswer(callbackId: string, timeoutMs: number): Promise<string | undefined> {
    const known = this.answers.get(callbackId);
    if (known !== undefined) return Promise.resolve(known);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.answerWaiters.delete(callbackId);
        resolve(undefined);
      }, timeoutMs);
      this.answerWaiters.set(callbackId, (text) => {
        clearTimeout(timer);
        resolve(text);
      });
    });
  }

  /** Messages delivered to a chat so far. */
  arrivals(channel: Channel, chatId: string): readonly Arrival[] {
    return this.box(channel, chatId).arrivals;
  }

  /**
   * The first message to the chat, at index `from` or later, that `match` accepts; undefined
   * after `timeoutMs`.
   */
  waitFor(
    channel: Channel,
    chatId: string,
    from: number,
    match: (arrival: Arrival) => boolean,
    timeoutMs: number,
  ): Promise<Arrival | undefined> {
    const box = this.box(channel, chatId);
    const found = box.arrivals.slice(from).find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        from,
        match,
        resolve,
        timer: setTimeout(() => {
          box.waiters.delete(waiter);
          resolve(undefined);
        }, timeoutMs),
      };
      box.waiters.add(waiter);
    });
  }

  private box(channel: Channel, chatId: string): Mailbox {
    const key = `${channel}:${chatId}`;
    let box = this.boxes.get(key);
    if (!box) {
      box = new Mailbox();
      this.boxes.set(key, box);
    }
    return box;
  }
}
