import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import { InputFile, type Api } from "grammy";
import type { InlineKeyboardMarkup } from "grammy/types";
import type { Clock } from "../../src/clock.js";
import { SendError, type ChannelSender, type Delivery } from "../../src/engine/channel.js";
import type { OutboundFile } from "../../src/engine/message.js";
import { splitText } from "../../src/engine/split.js";
import { toSendError } from "./errors.js";
import { inlineKeyboard } from "./keyboard.js";

/** Telegram's limit for one message's text. Source: https://core.telegram.org/bots/api#sendmessage */
export const MAX_TEXT = 4096;

/** One Bot API call a delivery is made of. */
type Step =
  { kind: "text"; text: string; keyboard?: InlineKeyboardMarkup } | { kind: "file"; file: OutboundFile };

/**
 * The calls one delivery becomes: the text in parts of at most 4096 characters, the choices as
 * an inline keyboard under the last part (where the eye is when the answer ends), then the files.
 */
export function plan(delivery: Delivery): Step[] {
  const parts = splitText(delivery.text, MAX_TEXT);
  const steps: Step[] = parts.map((text) => ({ kind: "text", text }));
  const last = steps.at(-1);
  if (delivery.choices.length > 0) {
    const keyboard = inlineKeyboard(delivery.choices, delivery.step);
    if (last?.kind === "text") last.keyboard = keyboard;
    // Telegram refuses empty text, and a keyboard needs a message to hang on.
    else steps.push({ kind: "text", text: delivery.choices.map((c) => c.label).join("\n"), keyboard });
  }
  for (const file of delivery.files) steps.push({ kind: "file", file });
  return steps;
}

/** How many messages a delivery sends, for the rate limiter's accounting. */
export function messageCount(delivery: Delivery): number {
  return Math.max(1, plan(delivery).length);
}

/** Identifies a delivery by content; two identical ones to one chat are interchangeable anyway. */
export function deliveryKey(delivery: Delivery): string {
  return createHash("sha256")
    .update(JSON.stringify([delivery.chatId, delivery.text, delivery.choices, delivery.files]))
    .digest("base64url");
}

/** A path on this server (absolute, relative, or file:) rather than a Telegram file_id or URL. */
function isLocalPath(ref: string): boolean {
  return ref.startsWith("/") || ref.startsWith("./") || ref.startsWith("../") || ref.startsWith("file:");
}

async function fileInput(file: OutboundFile): Promise<InputFile | string> {
  if (!isLocalPath(file.ref)) return file.ref;
  const local = file.ref.startsWith("file:") ? new URL(file.ref) : file.ref;
  try {
    await stat(local);
  } catch {
    // grammY would fail while streaming it and that would look like a network error worth retrying.
    throw new SendError("bad_request", `file not found: ${file.ref}`);
  }
  return new InputFile(local, file.name);
}

/** Parts of a delivery already accepted by Telegram when a later part failed. */
interface Progress {
  messageIds: string[];
  since: number;
}

/** Partial progress older than this belongs to a message the outbox has given up. */
const PROGRESS_TTL_MS = 6 * 3_600_000;

/**
 * Delivers outbox messages through the Bot API and translates its failures into SendError.
 *
 * A long text is several messages. If part 2 of 3 is refused (429, network), the outbox retries
 * the whole delivery; to deliver each part exactly once, the parts already sent are remembered
 * here (in memory, per delivery content) and skipped on the retry. Only a crash in between can
 * repeat a part, the same narrow window the outbox documents for whole messages.
 *
 * No auto-retry plugin on this Api: it would sleep through a 429 inside the call, holding up the
 * dispatcher for every chat and hiding retry_after from the outbox, which reschedules instead.
 */
export class TelegramSender implements ChannelSender {
  readonly channel = "telegram" as const;
  private readonly progress = new Map<string, Progress>();

  constructor(
    private readonly api: Api,
    private readonly clock: Clock,
  ) {}

  async send(delivery: Delivery): Promise<{ messageIds: string[] }> {
    const now = this.clock.now().getTime();
    this.forgetOld(now);
    const key = deliveryKey(delivery);
    const done = this.progress.get(key) ?? { messageIds: [], since: now };
    const steps = plan(delivery);
    for (const step of steps.slice(done.messageIds.length)) {
      try {
        done.messageIds.push(await this.sendStep(delivery.chatId, step));
      } catch (error) {
        const failure = toSendError(error);
        // Sent again later: a wait, a network fault, or a paused channel (a refused token) that
        // resumes with this same message. The parts already out must not go out twice.
        const retried =
          failure.kind === "rate_limited" || failure.kind === "network" || failure.kind === "unauthorized";
        if (retried && done.messageIds.length > 0) this.progress.set(key, done);
        else this.progress.delete(key);
        throw failure;
      }
    }
    this.progress.delete(key);
    return { messageIds: done.messageIds };
  }

  private forgetOld(now: number): void {
    for (const [key, entry] of this.progress) {
      if (now - entry.since > PROGRESS_TTL_MS) this.progress.delete(key);
    }
  }

  private async sendStep(chatId: string, step: Step): Promise<string> {
    if (step.kind === "text") {
      const sent = await this.api.sendMessage(chatId, step.text, {
        ...(step.keyboard ? { reply_markup: step.keyboard } : {}),
      });
      return String(sent.message_id);
    }
    const input = await fileInput(step.file);
    const sent =
      step.file.kind === "photo"
        ? await this.api.sendPhoto(chatId, input)
        : await this.api.sendDocument(chatId, input);
    return String(sent.message_id);
  }
}
