import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SendError, type ChannelSender, type Delivery } from "../../src/engine/channel.js";
import type { OutboundFile } from "../../src/engine/message.js";
import { splitText } from "../../src/engine/split.js";
import type { Logger } from "../../src/log.js";
import { t } from "../../src/text/vi.js";
import { ZALO_TEXT_LIMIT, type ZaloBotApi } from "./bot-api.js";
import { addressOf } from "./chat-ids.js";
import { OA_UPLOAD_LIMITS, ZaloOaApiError, type OaImage, type ZaloOaApi } from "./oa-api.js";
import type { OaTokens } from "./oa-tokens.js";
import { renderText } from "./render.js";
import { toSendError } from "./send-errors.js";

export interface ZaloSenderOptions {
  bot?: ZaloBotApi;
  oa?: { api: ZaloOaApi; tokens: OaTokens };
  log: Logger;
}

type Api = "bot" | "oa";

/** A file on this server that the OA takes as an upload. */
interface Upload {
  kind: "image" | "file";
  path: string;
  name: string;
  type: string;
}

/** One message a delivery becomes on Zalo, in the order they go out. */
type Step =
  | { kind: "text"; text: string }
  | { kind: "image"; image: OaImage | Upload; caption?: string }
  | { kind: "file"; upload: Upload };

const isUrl = (ref: string) => /^https?:\/\//i.test(ref);

function localPath(ref: string): string | undefined {
  if (ref.startsWith("file:")) return fileURLToPath(ref);
  return ref.startsWith("/") || ref.startsWith("./") || ref.startsWith("../") ? ref : undefined;
}

function typeOf(
  types: Readonly<Record<string, string>>,
  ...names: (string | undefined)[]
): string | undefined {
  for (const name of names) {
    const type = name ? types[path.extname(name).toLowerCase()] : undefined;
    if (type) return type;
  }
  return undefined;
}

/** What one file becomes on this API, or why it cannot go at all. */
async function fileStep(
  file: OutboundFile,
  api: Api,
): Promise<Step | { link: string } | { refused: string }> {
  if (isUrl(file.ref)) {
    // Both APIs show a picture from a public URL; a document at a URL is its download link.
    if (file.kind === "photo") {
      return { kind: "image", image: { url: file.ref }, ...(file.name ? { caption: file.name } : {}) };
    }
    return { link: t.channels.fileLink(file.name, file.ref) };
  }
  const local = localPath(file.ref);
  if (!local) return { refused: "not a URL nor a file on this server" };
  // The Bot Platform fetches pictures by URL and has no upload nor any document method.
  if (api === "bot") return { refused: "the Bot Platform takes pictures by public URL only, and no files" };
  let size: number;
  try {
    size = (await stat(local)).size;
  } catch {
    return { refused: "file not found" };
  }
  const name = file.name ?? path.basename(local);
  const imageType = typeOf(OA_UPLOAD_LIMITS.image.types, local, file.name);
  if (file.kind === "photo" && imageType) {
    if (size > OA_UPLOAD_LIMITS.image.maxBytes)
      return { refused: `picture of ${size} bytes, over the OA's 1 MB` };
    return {
      kind: "image",
      image: { kind: "image", path: local, name, type: imageType },
      ...(file.name ? { caption: file.name } : {}),
    };
  }
  const fileType = typeOf(OA_UPLOAD_LIMITS.file.types, local, file.name);
  if (!fileType) return { refused: "the OA takes JPG or PNG pictures and PDF, DOC or DOCX files only" };
  if (size > OA_UPLOAD_LIMITS.file.maxBytes) return { refused: `file of ${size} bytes, over the OA's 5 MB` };
  return { kind: "file", upload: { kind: "file", path: local, name, type: fileType } };
}

/**
 * Delivers outbox messages on Zalo, through the Bot Platform or the OA as the chat id says
 * (chat-ids.ts). Text is split at Zalo's 2000-character limit on line boundaries; choices
 * become numbered lines. Every failure leaves as a SendError, so the dispatcher decides.
 *
 * Files: a picture at a public URL is sent as a picture on both APIs; through the OA, a picture
 * or a PDF/DOC/DOCX on this server is uploaded and sent; a document at a URL becomes its link
 * under the text. A file neither can carry fails the whole message as a bad request, before
 * anything is sent: a message is never marked sent with a part missing.
 *
 * A long message goes out as several messages; if one in the middle fails, the retry sends the
 * whole message again (the outbox does not tell a channel which parts got through).
 */
export class ZaloSender implements ChannelSender {
  readonly channel = "zalo" as const;

  constructor(private readonly options: ZaloSenderOptions) {}

  async send(delivery: Delivery): Promise<{ messageIds: string[] }> {
    const address = addressOf(delivery.chatId);
    try {
      const steps = await this.plan(delivery, address.api);
      return address.api === "oa"
        ? await this.sendOa(address.userId, steps)
        : await this.sendBot(address.chatId, steps);
    } catch (error) {
      throw toSendError(error);
    }
  }

  private async plan(delivery: Delivery, api: Api): Promise<Step[]> {
    const links: string[] = [];
    const media: Step[] = [];
    for (const file of delivery.files) {
      const step = await fileStep(file, api);
      if ("refused" in step) {
        this.options.log.warn(
          {
            channel: "zalo",
            chatId: delivery.chatId,
            kind: file.kind,
            file: file.name ?? file.ref,
            reason: step.refused,
          },
          "zalo: message not sent, a file cannot be carried",
        );
        throw new SendError(
          "bad_request",
          `zalo ${api}: cannot send ${file.kind} ${file.name ?? file.ref}: ${step.refused}`,
        );
      }
      if ("link" in step) links.push(step.link);
      else media.push(step);
    }
    // Links go with the text, above the numbered choices that end a question.
    const text = links.length > 0 ? `${delivery.text}\n\n${links.join("\n")}` : delivery.text;
    const parts = splitText(renderText(text, delivery.choices), ZALO_TEXT_LIMIT).filter(
      (part) => part !== "",
    );
    return [...parts.map((part): Step => ({ kind: "text", text: part })), ...media];
  }

  private async sendBot(chatId: string, steps: Step[]): Promise<{ messageIds: string[] }> {
    const bot = this.options.bot;
    if (!bot) throw new SendError("bad_request", "zalo: no Bot Platform token configured for this chat");
    const ids: string[] = [];
    for (const step of steps) {
      let sent: { messageId?: string };
      if (step.kind === "text") sent = await bot.sendMessage(chatId, step.text);
      else if (step.kind === "image" && "url" in step.image)
        sent = await bot.sendPhoto(chatId, step.image.url);
      else throw new SendError("bad_request", "zalo bot: an upload reached the Bot Platform");
      if (sent.messageId) ids.push(sent.messageId);
    }
    return { messageIds: ids };
  }

  private async sendOa(userId: string, steps: Step[]): Promise<{ messageIds: string[] }> {
    const oa = this.options.oa;
    if (!oa) throw new SendError("bad_request", "zalo: no Official Account configured for this chat");
    // Uploads first: a refused upload then fails the message before any part of it went out.
    const uploaded = new Map<Upload, string>();
    for (const step of steps) {
      const upload =
        step.kind === "file"
          ? step.upload
          : step.kind === "image" && "path" in step.image
            ? step.image
            : undefined;
      if (!upload) continue;
      const blob = new Blob([await readFile(upload.path)], { type: upload.type });
      const id = await this.withToken(oa, (token) =>
        upload.kind === "image"
          ? oa.api.uploadImage(token, blob, upload.name)
          : oa.api.uploadFile(token, blob, upload.name),
      );
      uploaded.set(upload, id);
    }
    const ids: string[] = [];
    for (const step of steps) {
      const { messageId } = await this.withToken(oa, (token) => {
        if (step.kind === "text") return oa.api.sendText(token, userId, step.text);
        if (step.kind === "file") return oa.api.sendFile(token, userId, uploaded.get(step.upload) ?? "");
        const image: OaImage =
          "path" in step.image ? { attachmentId: uploaded.get(step.image) ?? "" } : step.image;
        return oa.api.sendImage(token, userId, image, step.caption);
      });
      if (messageId) ids.push(messageId);
    }
    return { messageIds: ids };
  }

  /** An expired or revoked token is refreshed and the call made once more. */
  private async withToken<T>(
    oa: NonNullable<ZaloSenderOptions["oa"]>,
    call: (token: string) => Promise<T>,
  ): Promise<T> {
    const token = await oa.tokens.accessToken();
    try {
      return await call(token);
    } catch (error) {
      if (!(error instanceof ZaloOaApiError) || !error.isTokenProblem) throw error;
      await oa.tokens.invalidate(token);
      return call(await oa.tokens.accessToken());
    }
  }
}
