import { SendError, type ChannelSender, type Delivery } from "../../src/engine/channel.js";
import { splitText } from "../../src/engine/split.js";
import type { Logger } from "../../src/log.js";
import { ZALO_TEXT_LIMIT, type SentMessage, type ZaloBotApi } from "./bot-api.js";
import { addressOf } from "./chat-ids.js";
import { ZaloOaApiError, type ZaloOaApi } from "./oa-api.js";
import type { OaTokens } from "./oa-tokens.js";
import { renderText } from "./render.js";
import { toSendError } from "./send-errors.js";

export interface ZaloSenderOptions {
  bot?: ZaloBotApi;
  oa?: { api: ZaloOaApi; tokens: OaTokens };
  log: Logger;
}

const isUrl = (ref: string) => /^https?:\/\//i.test(ref);

/**
 * Delivers outbox messages on Zalo, through the Bot Platform or the OA as the chat id says
 * (chat-ids.ts). Text is split at Zalo's 2000-character limit on line boundaries; choices
 * become numbered lines. Every failure leaves as a SendError, so the dispatcher decides.
 *
 * A long message goes out as several messages; if one in the middle fails, the retry sends the
 * whole message again (the outbox does not tell a channel which parts got through).
 */
export class ZaloSender implements ChannelSender {
  readonly channel = "zalo" as const;

  constructor(private readonly options: ZaloSenderOptions) {}

  async send(delivery: Delivery): Promise<{ messageIds: string[] }> {
    const parts = splitText(renderText(delivery.text, delivery.choices), ZALO_TEXT_LIMIT);
    const address = addressOf(delivery.chatId);
    try {
      return address.api === "oa"
        ? await this.sendOa(address.userId, parts, delivery)
        : await this.sendBot(address.chatId, parts, delivery);
    } catch (error) {
      throw toSendError(error);
    }
  }

  private async sendBot(
    chatId: string,
    parts: string[],
    delivery: Delivery,
  ): Promise<{ messageIds: string[] }> {
    const bot = this.options.bot;
    if (!bot) throw new SendError("bad_request", "zalo: no Bot Platform token configured for this chat");
    const sent: SentMessage[] = [];
    for (const part of parts) sent.push(await bot.sendMessage(chatId, part));
    for (const file of delivery.files) {
      // The Bot Platform sends pictures by URL and has no document method.
      if (file.kind === "photo" && isUrl(file.ref)) sent.push(await bot.sendPhoto(chatId, file.ref));
      else this.skipped(delivery.chatId, file.kind, file.name ?? file.ref);
    }
    return { messageIds: sent.flatMap((s) => (s.messageId ? [s.messageId] : [])) };
  }

  private async sendOa(
    userId: string,
    parts: string[],
    delivery: Delivery,
  ): Promise<{ messageIds: string[] }> {
    const oa = this.options.oa;
    if (!oa) throw new SendError("bad_request", "zalo: no Official Account configured for this chat");
    const ids: string[] = [];
    for (const part of parts) {
      const { messageId } = await this.sendOaText(oa, userId, part);
      if (messageId) ids.push(messageId);
    }
    // Pictures and files through the OA need an upload first (not built): they are left out.
    for (const file of delivery.files) this.skipped(delivery.chatId, file.kind, file.name ?? file.ref);
    return { messageIds: ids };
  }

  /** An expired or revoked token is refreshed and the text sent once more. */
  private async sendOaText(
    oa: NonNullable<ZaloSenderOptions["oa"]>,
    userId: string,
    text: string,
  ): Promise<{ messageId?: string }> {
    const token = await oa.tokens.accessToken();
    try {
      return await oa.api.sendText(token, userId, text);
    } catch (error) {
      if (!(error instanceof ZaloOaApiError) || !error.isTokenProblem) throw error;
      await oa.tokens.invalidate(token);
      return oa.api.sendText(await oa.tokens.accessToken(), userId, text);
    }
  }

  private skipped(chatId: string, kind: string, what: string): void {
    this.options.log.warn({ channel: "zalo", chatId, kind, file: what }, "zalo: file not sent");
  }
}
