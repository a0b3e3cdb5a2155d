import { DEFAULT_TIMEOUT_MS, excerpt, post, type FetchLike } from "./http-client.js";
import {
  asBoolean,
  asNumber,
  asObject,
  asString,
  epochMs,
  firstString,
  type JsonObject,
} from "./tolerant.js";

/**
 * A typed client for the Zalo Bot Platform (bots for personal Zalo accounts).
 *
 * What it relies on, and where that comes from:
 * - `POST https://bot-api.zaloplatforms.com/bot<TOKEN>/<method>`, JSON body, answers
 *   `{ok:true, result}` or `{ok:false, error_code, description}` — the official reference
 *   (bot.zaloplatforms.com/docs, mirrored in github:XuanNguyenNB/QuanLyThuChi_Bot_Telegram_Zalom
 *   docs/ZALO_BOT_API.md, "Cập nhật lần cuối: 10/12/2025") and ../shared/PLATFORMS.md.
 * - `getUpdates {timeout}` (seconds, documented as a String, default 30) returns ONE update,
 *   without offsets, and may return the same one again; nothing new is
 *   `{ok:false, error_code:408, description:"Request timeout"}`; it fails with 400 while a
 *   webhook is set (PLATFORMS.md, observed).
 * - `setWebhook {url, secret_token}` (secret 8–256 characters, sent back as the header
 *   `X-Bot-Api-Secret-Token`), `getWebhookInfo` (HTTP 404 when none, observed), `deleteWebhook`
 *   → `{url:"", updated_at}`.
 * - `sendMessage {chat_id, text}` (text 1–2000 characters), `sendPhoto {chat_id, photo (a URL),
 *   caption?}` → `{message_id, date}`; `sendChatAction {chat_id, action:"typing"}` → `{ok:true}`
 *   ("upload_photo" is announced as coming soon).
 * - `getMe` → `{id, account_name, account_type, can_join_groups}`.
 * - Events: message.text.received, message.image.received, message.sticker.received,
 *   message.unsupported.received (a third-party reference also lists message.voice.received).
 *   The unsupported event may come without any `message` (protected senders).
 *
 * Not documented, so not relied on: rate limits and their error code (we honour 429 and a
 * Telegram-style `parameters.retry_after` if Zalo ever sends them), the codes for a user who
 * blocked the bot (403 is assumed, as on Telegram).
 */

export const BOT_API_BASE = "https://bot-api.zaloplatforms.com";

/** Zalo's limit for one text message and one caption (sendMessage, sendPhoto). */
export const ZALO_TEXT_LIMIT = 2000;

export type BotEventName =
  | "message.text.received"
  | "message.image.received"
  | "message.sticker.received"
  | "message.unsupported.received"
  // Events added after this was written arrive too; they are acknowledged and ignored.
  | (string & {});

export interface BotSender {
  id: string;
  /** Real payloads say `display_name`; the documentation sample says `first_name`. */
  displayName?: string;
  isBot: boolean;
}

export interface BotMessage {
  messageId?: string;
  from?: BotSender;
  chat?: { id: string; type: "PRIVATE" | "GROUP" | (string & {}) };
  /** Epoch milliseconds. */
  date?: number;
  text?: string;
  /** "" when a picture has no caption (real payloads). */
  caption?: string;
  /** `photo_url` in real payloads, `photo` in the documentation. */
  photoUrl?: string;
  /** The sticker's id. */
  sticker?: string;
  /** A sticker's picture (`url`). */
  url?: string;
  /** e.g. CHAT_PHOTO, CHAT_STICKER (real payloads only). */
  messageType?: string;
}

export interface BotUpdate {
  eventName: BotEventName;
  message?: BotMessage;
  /** The body this update came in, exactly as received, for diagnosis. */
  raw: string;
}

export interface SentMessage {
  messageId?: string;
  /** Epoch milliseconds. */
  date?: number;
}

export interface BotMe {
  id: string;
  accountName?: string;
  accountType?: string;
  canJoinGroups?: boolean;
}

/** Zalo answered `ok:false` (or no JSON at all); `errorCode` is Zalo's, `httpStatus` the transport's. */
export class ZaloBotApiError extends Error {
  override name = "ZaloBotApiError";
  constructor(
    readonly method: string,
    readonly errorCode: number,
    readonly description: string,
    readonly httpStatus: number,
    /** Seconds to wait, when the answer carries a Telegram-style `parameters.retry_after`. */
    readonly retryAfterSeconds: number | undefined,
    readonly raw: string,
  ) {
    super(`zalo bot ${method}: ${errorCode} ${description}`);
  }
}

function parseMessage(value: unknown): BotMessage | undefined {
  const m = asObject(value);
  if (!m) return undefined;
  const from = asObject(m.from);
  const chat = asObject(m.chat);
  const fromId = firstString(from, "id");
  const chatId = firstString(chat, "id");
  const message: BotMessage = {};
  const messageId = firstString(m, "message_id", "msg_id");
  if (messageId) message.messageId = messageId;
  if (fromId) {
    const displayName = firstString(from, "display_name", "first_name", "name");
    message.from = {
      id: fromId,
      isBot: asBoolean(from?.is_bot) ?? false,
      ...(displayName ? { displayName } : {}),
    };
  }
  if (chatId) message.chat = { id: chatId, type: firstString(chat, "chat_type", "type") ?? "PRIVATE" };
  const date = epochMs(m.date);
  if (date !== undefined) message.date = date;
  const text = asString(m.text);
  if (text !== undefined) message.text = text;
  const caption = asString(m.caption);
  if (caption !== undefined) message.caption = caption;
  const photoUrl = firstString(m, "photo_url", "photo");
  if (photoUrl) message.photoUrl = photoUrl;
  const sticker = firstString(m, "sticker", "sticker_id");
  if (sticker) message.sticker = sticker;
  const url = firstString(m, "url");
  if (url) message.url = url;
  const messageType = firstString(m, "message_type");
  if (messageType) message.messageType = messageType;
  return message;
}

/** The documentation's getUpdates sample has no event_name: infer it from what the message holds. */
function inferEventName(message: BotMessage | undefined): BotEventName {
  if (!message) return "message.unsupported.received";
  if (message.photoUrl || message.messageType === "CHAT_PHOTO") return "message.image.received";
  if (message.sticker || message.messageType === "CHAT_STICKER") return "message.sticker.received";
  if (message.text !== undefined) return "message.text.received";
  return "message.unsupported.received";
}

/**
 * Reads one update from a webhook body or a getUpdates result. Accepts the bare event
 * (`{event_name, message}`, what real webhooks send), the documented wrapper `{ok, result}`,
 * and a result without `event_name` (the documentation's getUpdates sample). Undefined when the
 * value is not an update at all.
 * @example parseBotUpdate(JSON.parse(body), body)?.message?.text
 */
export function parseBotUpdate(value: unknown, raw: string): BotUpdate | undefined {
  let event = asObject(value);
  if (event && !("event_name" in event) && !("message" in event) && "result" in event) {
    event = asObject(event.result);
  }
  if (!event) return undefined;
  const message = parseMessage(event.message);
  const eventName = firstString(event, "event_name") ?? (message ? inferEventName(message) : undefined);
  if (!eventName) return undefined;
  return { eventName, ...(message ? { message } : {}), raw };
}

export interface BotApiOptions {
  token: string;
  /** Defaults to BOT_API_BASE; tests point it at a local fake. */
  baseUrl?: string;
  /** Deadline for every call but getUpdates, whose deadline follows its own timeout. */
  timeoutMs?: number;
  fetch?: FetchLike;
}

export class ZaloBotApi {
  private readonly base: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: BotApiOptions) {
    this.base = (options.baseUrl ?? BOT_API_BASE).replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  private async call(
    method: string,
    params: JsonObject,
    timing: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<unknown> {
    const reply = await post(`${this.base}/bot${this.options.token}/${method}`, {
      endpoint: method,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(params),
      timeoutMs: timing.timeoutMs ?? this.timeoutMs,
      ...(timing.signal ? { signal: timing.signal } : {}),
      ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
    });
    const body = asObject(reply.json);
    if (body?.ok === true && reply.status < 400) return body.result;
    // Key on error_code, not the HTTP status: Zalo's "Request timeout" may come with either.
    const errorCode = asNumber(body?.error_code) ?? reply.status;
    const description = firstString(body, "description", "message") ?? excerpt(reply.raw);
    const retryAfter = asNumber(asObject(body?.parameters)?.retry_after);
    throw new ZaloBotApiError(method, errorCode, description, reply.status, retryAfter, reply.raw);
  }

  async getMe(): Promise<BotMe> {
    const result = asObject(await this.call("getMe", {}));
    const accountName = firstString(result, "account_name", "name");
    const accountType = firstString(result, "account_type");
    const canJoinGroups = asBoolean(result?.can_join_groups);
    return {
      id: firstString(result, "id") ?? "",
      ...(accountName ? { accountName } : {}),
      ...(accountType ? { accountType } : {}),
      ...(canJoinGroups !== undefined ? { canJoinGroups } : {}),
    };
  }

  /**
   * Waits up to `timeoutSeconds` for the next update. An empty list means nothing new (Zalo's
   * 408 "Request timeout"), not an error. Zalo documents one update per call; a list is
   * accepted too, so that a change to batches would not lose updates.
   */
  async getUpdates(options: { timeoutSeconds?: number; signal?: AbortSignal } = {}): Promise<BotUpdate[]> {
    const seconds = options.timeoutSeconds ?? 30;
    let result: unknown;
    try {
      result = await this.call(
        "getUpdates",
        // Documented as a String; the documentation's own sample sends a number. Zalo takes both.
        { timeout: String(seconds) },
        { timeoutMs: (seconds + 10) * 1000, ...(options.signal ? { signal: options.signal } : {}) },
      );
    } catch (error) {
      if (error instanceof ZaloBotApiError && error.errorCode === 408) return [];
      throw error;
    }
    const items = Array.isArray(result) ? result : result === undefined || result === null ? [] : [result];
    return items.flatMap((item) => {
      const update = parseBotUpdate(item, JSON.stringify(item));
      return update ? [update] : [];
    });
  }

  async setWebhook(url: string, secretToken: string): Promise<void> {
    await this.call("setWebhook", { url, secret_token: secretToken });
  }

  async deleteWebhook(): Promise<void> {
    await this.call("deleteWebhook", {});
  }

  /** The webhook URL now set, or undefined when there is none (Zalo answers HTTP 404 then). */
  async getWebhookInfo(): Promise<{ url: string; updatedAt?: number } | undefined> {
    let result: JsonObject | undefined;
    try {
      result = asObject(await this.call("getWebhookInfo", {}));
    } catch (error) {
      if (error instanceof ZaloBotApiError && (error.httpStatus === 404 || error.errorCode === 404)) {
        return undefined;
      }
      throw error;
    }
    const url = firstString(result, "url");
    if (!url) return undefined;
    const updatedAt = epochMs(result?.updated_at);
    return { url, ...(updatedAt !== undefined ? { updatedAt } : {}) };
  }

  async sendMessage(chatId: string, text: string): Promise<SentMessage> {
    return this.sent(await this.call("sendMessage", { chat_id: chatId, text }));
  }

  /** `photo` is a public URL: the Bot Platform fetches the picture itself, it takes no upload. */
  async sendPhoto(chatId: string, photo: string, caption?: string): Promise<SentMessage> {
    const params: JsonObject = { chat_id: chatId, photo };
    if (caption) params.caption = caption;
    return this.sent(await this.call("sendPhoto", params));
  }

  async sendChatAction(chatId: string, action: "typing" | "upload_photo" = "typing"): Promise<void> {
    await this.call("sendChatAction", { chat_id: chatId, action });
  }

  /** Zalo accepted the message; without a message_id in the answer it was sent all the same. */
  private sent(result: unknown): SentMessage {
    const object = asObject(result);
    const messageId = firstString(object, "message_id", "msg_id");
    const date = epochMs(object?.date);
    return { ...(messageId ? { messageId } : {}), ...(date !== undefined ? { date } : {}) };
  }
}
