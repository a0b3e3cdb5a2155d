import type { Clock } from "../../src/clock.js";
import { SendError, type ChannelSender, type Delivery } from "../../src/engine/channel.js";

/**
 * Telegram's published limits: "avoid sending more than one message per second" in a chat ("we
 * may allow short bursts that go over this limit"), "no more than 20 messages per minute" in a
 * group, and "about 30 messages per second" in bulk.
 * Source: https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
 */
export interface RateLimitSettings {
  /** A chat earns one message per interval, on average. */
  perChatIntervalMs: number;
  /**
   * How many messages a chat may take at once when it has been quiet: a turn's reply and the
   * menu after it need not stand one second apart. Telegram allows short bursts but does not say
   * how long; 3 is our assumption (not verified), and a 429 from Telegram still wins (penalize).
   */
  perChatBurst: number;
  groupPerMinute: number;
  globalPerSecond: number;
  /**
   * A delivery told to wait keeps its place in its chat's line this long past its turn; if it
   * never comes back (another instance took it, it was given up), the line moves on.
   */
  holdMs: number;
}

export const TELEGRAM_LIMITS: RateLimitSettings = {
  perChatIntervalMs: 1_000,
  perChatBurst: 3,
  groupPerMinute: 20,
  globalPerSecond: 30,
  holdMs: 30_000,
};

/** The shortest wait handed out, so a message whose turn is "any moment" does not spin. */
const MIN_WAIT_MS = 200;

interface Waiting {
  key: string;
  /** The time this delivery was told to come back. */
  slot: number;
}

interface ChatState {
  /** No message to this chat before this time (Telegram's retry_after). */
  blockedUntil: number;
  /** The chat's token bucket: messages it may take now (negative after a long text), as of `at`. */
  tokens: number;
  at: number;
  /** Send times within the last minute, for groups. */
  recent: number[];
  /** Deliveries told to wait, oldest first: they go in this order. */
  line: Waiting[];
}

/** Telegram's group and supergroup ids are negative; a person's private chat id is positive. */
function isGroupChat(chatId: string): boolean {
  return chatId.startsWith("-");
}

/** The earliest time `cost` more sends fit in a sliding window holding `times`. */
function windowEarliest(times: number[], cost: number, max: number, windowMs: number, now: number): number {
  while (times.length > 0 && (times[0] ?? 0) <= now - windowMs) times.shift();
  const over = times.length + Math.min(cost, max) - max;
  if (over <= 0) return now;
  return (times[over - 1] ?? now) + windowMs;
}

/** A delivery's name in the bot's line: its key within its chat. */
function globalKey(chatId: string, key: string): string {
  return `${chatId}\u0000${key}`;
}

/**
 * Decides when a delivery may go, without ever sleeping: a delivery that would break a limit is
 * told how long to wait, and the outbox reschedules it and moves on to other chats.
 *
 * It also keeps each chat's waiting deliveries in line. The outbox orders due messages by their
 * retry time, which it computes from our answer plus its own clock reading, so two messages of one
 * chat told to come back "at the same time" could swap. Instead every waiting delivery gets its
 * own slot, one gap after the one before it, and only the head of the line may go. A delivery is
 * known by a key derived from its content (two identical ones are interchangeable).
 *
 * State is in memory, per process: with several instances each keeps its own count, so run one
 * sending instance per bot or lower the limits.
 */
export class RateLimiter {
  private readonly chats = new Map<string, ChatState>();
  private readonly globalRecent: number[] = [];
  /**
   * Deliveries told to wait for room in the bot's whole count (globalPerSecond), oldest first,
   * each given a slot a share of a second after the one before. One that comes along later queues
   * behind them instead of taking the room as it frees: without this, at the limit, fresh replies
   * kept winning the room while a few people's waited for seconds (npm run bench -- peer
   * --citizens 100: p99 12 s), and the run ended with those few served alone, below the limit.
   */
  private globalLine: Waiting[] = [];
  private lastSweep = 0;

  constructor(private readonly limits: RateLimitSettings = TELEGRAM_LIMITS) {}

  /** 0 when the delivery may go now; otherwise how many milliseconds to wait. */
  admit(chatId: string, key: string, cost: number, now: number): number {
    this.sweep(now);
    const chat = this.chat(chatId);
    chat.line = chat.line.filter((w) => w.slot + this.limits.holdMs > now);
    const chatAt = Math.max(
      chat.blockedUntil,
      this.bucketEarliest(chat, cost, now),
      isGroupChat(chatId) ? windowEarliest(chat.recent, cost, this.limits.groupPerMinute, 60_000, now) : now,
    );
    const globalAt = this.globalEarliest(chatId, key, cost, now);
    const earliest = Math.max(chatAt, globalAt);
    const place = chat.line.findIndex((w) => w.key === key);
    const first = place === 0 || chat.line.length === 0;
    if (first && now >= earliest) {
      if (place === 0) chat.line.shift();
      this.leaveGlobalLine(chatId, key);
      return 0;
    }
    // Waiting for room in the bot's count, and only for that: its place in that line is kept
    // from now on. One its own chat holds back (its bucket, a 429, or an earlier message of the
    // chat still waiting) takes no place there, or gives up the one it had: a place it could not
    // use would hold back those behind it. It queues when its chat lets it go.
    if (globalAt > now && first && chatAt <= now) this.joinGlobalLine(chatId, key, globalAt);
    else if (!first || chatAt > now) this.leaveGlobalLine(chatId, key);
    const gap = this.limits.perChatIntervalMs;
    const waiting = place >= 0 ? chat.line[place] : undefined;
    if (waiting) {
      const before = chat.line[place - 1];
      waiting.slot = Math.max(waiting.slot, earliest, before ? before.slot + gap : earliest);
      return Math.max(waiting.slot - now, MIN_WAIT_MS);
    }
    const last = chat.line.at(-1);
    const slot = Math.max(earliest, last ? last.slot + gap : earliest);
    chat.line.push({ key, slot });
    return Math.max(slot - now, MIN_WAIT_MS);
  }

  /**
   * The earliest time the bot's count has room for the delivery: its own slot in the line of
   * those waiting for room, else a slot after the last of them, and never before the window
   * of the last second has room.
   */
  private globalEarliest(chatId: string, key: string, cost: number, now: number): number {
    this.globalLine = this.globalLine.filter((w) => w.slot + this.limits.holdMs > now);
    const windowAt = windowEarliest(this.globalRecent, cost, this.limits.globalPerSecond, 1_000, now);
    const own = this.globalLine.find((w) => w.key === globalKey(chatId, key));
    if (own) return Math.max(own.slot, windowAt);
    // After the latest place (a place kept is moved later in place, so the line's last entry
    // need not hold it).
    const latest = this.globalLine.reduce((at, w) => Math.max(at, w.slot), Number.NEGATIVE_INFINITY);
    return Math.max(windowAt, latest + 1_000 / this.limits.globalPerSecond);
  }

  private joinGlobalLine(chatId: string, key: string, slot: number): void {
    const gkey = globalKey(chatId, key);
    const own = this.globalLine.find((w) => w.key === gkey);
    if (own) own.slot = Math.max(own.slot, slot);
    else this.globalLine.push({ key: gkey, slot });
  }

  private leaveGlobalLine(chatId: string, key: string): void {
    const gkey = globalKey(chatId, key);
    if (this.globalLine.some((w) => w.key === gkey))
      this.globalLine = this.globalLine.filter((w) => w.key !== gkey);
  }

  /**
   * Counts `cost` messages of a delivery admitted now, before it leaves: sends in flight count
   * against the limits. Counted only once answered, eight deliveries admitted side by side each
   * found room for one more, and Telegram, which counts them as they arrive, refused the excess
   * with 429s that cost their chats a second each (npm run bench -- peer --citizens 100).
   */
  reserve(chatId: string, cost: number, now: number): void {
    const chat = this.chat(chatId);
    this.refill(chat, now);
    this.count(chat, chatId, Math.max(1, cost), now);
  }

  /**
   * Records `count` messages sent to the chat now, of which `reserved` were counted when the
   * delivery was admitted (reserve).
   */
  sent(chatId: string, key: string, count: number, now: number, reserved = 0): void {
    const chat = this.chat(chatId);
    chat.line = chat.line.filter((w) => w.key !== key);
    this.leaveGlobalLine(chatId, key);
    this.refill(chat, now);
    const more = reserved > 0 ? count - reserved : Math.max(1, count);
    if (more > 0) this.count(chat, chatId, more, now);
  }

  private count(chat: ChatState, chatId: string, messages: number, now: number): void {
    chat.tokens -= messages;
    for (let i = 0; i < messages; i += 1) {
      if (isGroupChat(chatId)) chat.recent.push(now);
      this.globalRecent.push(now);
    }
  }

  /**
   * Telegram said 429 for this chat: nothing goes there before retry_after, and the refused
   * delivery goes first when it is over. Returns how long that delivery must wait.
   */
  penalize(chatId: string, key: string, retryAfterMs: number, now: number): number {
    const chat = this.chat(chatId);
    chat.blockedUntil = Math.max(chat.blockedUntil, now + retryAfterMs);
    // Telegram's count of this chat is not ours: after the wait, one message, then one a gap.
    chat.tokens = 1;
    chat.at = chat.blockedUntil;
    chat.line = [{ key, slot: chat.blockedUntil }, ...chat.line.filter((w) => w.key !== key)];
    // Its chat is closed for a while: the bot's line does not wait for it.
    this.leaveGlobalLine(chatId, key);
    return chat.blockedUntil - now;
  }

  /** The delivery failed for good or for a while (blocked, bad request, network): it leaves the line. */
  release(chatId: string, key: string): void {
    const chat = this.chats.get(chatId);
    if (chat) chat.line = chat.line.filter((w) => w.key !== key);
    this.leaveGlobalLine(chatId, key);
  }

  private chat(chatId: string): ChatState {
    let chat = this.chats.get(chatId);
    if (!chat) {
      chat = { blockedUntil: 0, tokens: this.limits.perChatBurst, at: 0, recent: [], line: [] };
      this.chats.set(chatId, chat);
    }
    return chat;
  }

  /** Tops the chat's bucket up with what it earned since it was last looked at. */
  private refill(chat: ChatState, now: number): void {
    const interval = this.limits.perChatIntervalMs;
    if (now <= chat.at) return;
    const earned = interval > 0 ? (now - chat.at) / interval : Infinity;
    chat.tokens = Math.min(this.limits.perChatBurst, chat.tokens + earned);
    chat.at = now;
  }

  /** The earliest time the chat's bucket holds `cost` messages (a burst's worth at most). */
  private bucketEarliest(chat: ChatState, cost: number, now: number): number {
    this.refill(chat, now);
    const need = Math.min(cost, Math.max(1, this.limits.perChatBurst));
    if (chat.tokens >= need) return now;
    return Math.max(now, chat.at) + Math.ceil((need - chat.tokens) * this.limits.perChatIntervalMs);
  }

  /** Forgets chats with nothing pending, so the map does not grow with every person ever served. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [id, chat] of this.chats) {
      const quiet = chat.recent.every((time) => time <= now - 60_000);
      this.refill(chat, now);
      const full = chat.tokens >= this.limits.perChatBurst;
      if (chat.line.length === 0 && chat.blockedUntil <= now && full && quiet) this.chats.delete(id);
    }
  }
}

/** A 429 without retry_after (never seen, but possible): wait one second. */
const DEFAULT_RETRY_AFTER_MS = 1_000;

export interface RateLimitedOptions {
  limiter: RateLimiter;
  clock: Clock;
  /** How many platform messages a delivery becomes (a long text is several). */
  cost: (delivery: Delivery) => number;
  /** A stable identity for a delivery across its retries. */
  key: (delivery: Delivery) => string;
}

/**
 * Wraps a sender with rate limits (STYLE.md: wrappers, not sewn in). Refusals are
 * SendError("rate_limited") carrying the wait, which the outbox honours by rescheduling.
 */
export function rateLimited(inner: ChannelSender, options: RateLimitedOptions): ChannelSender {
  const { limiter, clock } = options;
  return {
    channel: inner.channel,
    async send(delivery) {
      const key = options.key(delivery);
      const wait = limiter.admit(delivery.chatId, key, options.cost(delivery), clock.now().getTime());
      if (wait > 0) {
        throw new SendError("rate_limited", `telegram limits: chat ${delivery.chatId} must wait`, wait);
      }
      const cost = Math.max(1, options.cost(delivery));
      limiter.reserve(delivery.chatId, cost, clock.now().getTime());
      try {
        const result = await inner.send(delivery);
        limiter.sent(delivery.chatId, key, result.messageIds.length, clock.now().getTime(), cost);
        return result;
      } catch (error) {
        if (error instanceof SendError && error.kind === "rate_limited") {
          const retryAfter = error.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS;
          const waitMs = limiter.penalize(delivery.chatId, key, retryAfter, clock.now().getTime());
          throw new SendError("rate_limited", error.message, waitMs);
        }
        limiter.release(delivery.chatId, key);
        throw error;
      }
    },
  };
}
