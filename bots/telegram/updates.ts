import type { Api } from "grammy";
import type { Update } from "grammy/types";
import type { App } from "../../src/app.js";
import type { Clock } from "../../src/clock.js";
import type { HandleOptions } from "../../src/engine/engine.js";
import { KeyedQueue } from "../../src/engine/keyed-queue.js";
import type { Logger } from "../../src/log.js";
import { t } from "../../src/text/vi.js";
import type { CommandMenu } from "./command-menu.js";
import { type Fields, idOf, record } from "./fields.js";
import { parseUpdate, type BotIdentity, type PressedButton } from "./inbound.js";

export interface UpdateHandlerDeps {
  app: App;
  /** The Api for everything but outbox deliveries (answers to buttons, typing, menus). */
  api: Api;
  menu: CommandMenu;
  me: BotIdentity;
  clock: Clock;
  log: Logger;
  /**
   * How long a message waits for its turn before the chat shows "typing…" (TYPING_AFTER_MS by
   * default). A turn done sooner sends no indicator.
   */
  typingAfterMs?: number;
}

/**
 * A turn's reply comes in tens of milliseconds as a rule: an indicator sent at every message cost
 * a Bot API call each (a third of the calls of a citizen's /gopy, `npm run bench -- peer`), and,
 * landing after the reply, showed "typing…" for five seconds after the answer was there. Only a
 * turn slower than this (a file, a report, a busy database) shows it.
 */
const TYPING_AFTER_MS = 500;

/**
 * Telegram delivers an update again until it is answered: a webhook call answered with anything
 * but 2xx (Bot API, setWebhook: "In case of an unsuccessful request, we will give up after a
 * reasonable amount of attempts"), an update past the offset getUpdates confirms. Both answer
 * only once `handle` resolves, so the engine may handle a flow's step without a record first.
 */
const RETRIED: HandleOptions = { platformRetries: true };

/** How long a press waits, at most, for its keyboard message to be marked sent. */
const MARK_LOOKS = 20;
const MARK_WAIT_MS = 250;

/** The chat an update belongs to. */
function chatOf(update: Update): string {
  const fields = update as unknown as Fields;
  const message = record(fields.message) ?? record(record(fields.callback_query)?.message);
  const chatId = idOf(record(message?.chat)?.id);
  return chatId ?? `update:${update.update_id}`;
}

/**
 * What happens to one update, whether it came by webhook or by polling: parse it, do the
 * platform chores that make the bot feel native (typing, answering the pressed button, taking
 * its keyboard away, the command menu), and hand it to the engine.
 *
 * `handle` resolves once the engine has handled the update: recorded it and written its replies
 * to the outbox, or, for a step of a flow (or a command that only opens one), committed its state
 * and had its replies sent or written. The chores run beside it and are awaited by `idle()`, not
 * by the webhook's answer.
 */
export class UpdateHandler {
  private readonly chores = new Set<Promise<void>>();
  private readonly queue = new KeyedQueue();
  /** "typing…" indicators waiting to be shown, by update: called off when its turn ends. */
  private readonly typing = new Map<string, NodeJS.Timeout>();

  constructor(private readonly deps: UpdateHandlerDeps) {
    // The turn's end, not `handle`'s: a step's `handle` waits for its reply to be sent and
    // recorded, and an indicator due meanwhile would land after the reply.
    deps.app.engine.onTurn((inbound) => this.noTyping(inbound.dedupeKey));
  }

  /** Shows "typing…" in the update's chat if its turn is still running after typingAfterMs. */
  private typingLater(dedupeKey: string, chatId: string): void {
    const timer = setTimeout(() => {
      this.typing.delete(dedupeKey);
      this.chore("typing", () => this.deps.api.sendChatAction(chatId, "typing"));
    }, this.deps.typingAfterMs ?? TYPING_AFTER_MS);
    this.typing.set(dedupeKey, timer);
  }

  private noTyping(dedupeKey: string): void {
    clearTimeout(this.typing.get(dedupeKey));
    this.typing.delete(dedupeKey);
  }

  /**
   * Handles one update. Updates of one chat go through one at a time, in the order they came
   * (the engine must see a chat's messages in order, and two webhook calls may overlap).
   */
  handle(update: Update): Promise<void> {
    return this.queue.run(chatOf(update), () => this.process(update));
  }

  /** Handles a batch from getUpdates, chats side by side; throws if any update failed. */
  async handleBatch(updates: Update[]): Promise<void> {
    const results = await Promise.allSettled(updates.map((update) => this.handle(update)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  private async process(update: Update): Promise<void> {
    const { app, clock, log } = this.deps;
    const parsed = parseUpdate(update, this.deps.me, clock.now());
    switch (parsed.kind) {
      case "ignore":
        log.debug({ updateId: update.update_id, reason: parsed.reason }, "telegram: update ignored");
        return;
      case "unsupported":
        await this.notice(
          parsed.chatId,
          `telegram:${update.update_id}#unsupported`,
          t.channels.unsupportedMessage,
        );
        return;
      case "message": {
        const { inbound } = parsed;
        this.typingLater(inbound.dedupeKey, inbound.chatId);
        try {
          if (parsed.droppedLargeFile) {
            await this.notice(inbound.chatId, `${inbound.dedupeKey}#too-large`, t.channels.fileTooLarge);
            if (!inbound.text && inbound.attachments.length === 0) return;
          }
          await app.engine.handle(inbound, RETRIED);
        } finally {
          // A turn that never ran to its end (a duplicate, a failure) calls it off here.
          this.noTyping(inbound.dedupeKey);
        }
        this.chore("menu", () => this.deps.menu.refresh(inbound));
        return;
      }
      case "callback": {
        if (parsed.inbound.step !== undefined) {
          // A button with a step token: the engine checks it against the session it reads.
          const outcome =
            parsed.pressed.label === undefined ? "stale" : await app.engine.handle(parsed.inbound, RETRIED);
          const fresh = outcome !== "stale";
          this.chore("button", () => this.answerPress(parsed.pressed, fresh));
          if (fresh) this.chore("menu", () => this.deps.menu.refresh(parsed.inbound));
          return;
        }
        // A button sent before step tokens (still on someone's screen): checked the old way.
        const fresh = await this.isFresh(parsed.pressed, parsed.inbound.dedupeKey);
        this.chore("button", () => this.answerPress(parsed.pressed, fresh));
        if (!fresh) return;
        await app.engine.handle(parsed.inbound, RETRIED);
        this.chore("menu", () => this.deps.menu.refresh(parsed.inbound));
      }
    }
  }

  /** Resolves when every update handed in so far, and every chore it started, is done. */
  async idle(): Promise<void> {
    await this.queue.idle();
    while (this.chores.size > 0) await Promise.allSettled([...this.chores]);
  }

  /**
   * A button counts once, and only on the newest keyboard we sent to that chat: an old keyboard
   * left on an abandoned question could otherwise answer a newer question that has a button of
   * the same value, and a quick double tap (both presses sent before our edit removed the
   * keyboard) would answer twice. The first press of a keyboard message claims it, under a
   * unique key, so this holds across instances; the claim's owner is the update, so a redelivery
   * of that same press still counts.
   */
  private async isFresh(pressed: PressedButton, dedupeKey: string): Promise<boolean> {
    if (!pressed.message || pressed.label === undefined) return false;
    const { app, clock } = this.deps;
    const { chatId, messageId } = pressed.message;
    for (let look = 1; ; look += 1) {
      const latest = await app.outbox.latestKeyboard("telegram", chatId);
      if (latest?.platformMessageIds.includes(messageId)) break;
      // Telegram shows a message before our "sent" mark lands; a quick press on a keyboard still
      // being marked must not be taken for a stale one (which would also remove its buttons).
      const marking = await app.outbox.model.exists({
        channel: "telegram",
        chatId,
        status: "sending",
        "choices.0": { $exists: true },
      });
      if (!marking || look >= MARK_LOOKS) return false;
      await new Promise((resolve) => setTimeout(resolve, MARK_WAIT_MS));
    }
    const key = `telegram:pressed:${chatId}:${messageId}`;
    if (await app.claims.take(key, dedupeKey, clock.now())) return true;
    const claim = await app.models.Claim.findOne({ key }).lean();
    return claim?.owner === dedupeKey;
  }

  /** Stops the button's spinner with a word, and removes the keyboard so it cannot be pressed twice. */
  private async answerPress(pressed: PressedButton, fresh: boolean): Promise<void> {
    const { api } = this.deps;
    const text =
      fresh && pressed.label !== undefined ? t.channels.choiceTaken(pressed.label) : t.channels.staleButton;
    await api.answerCallbackQuery(pressed.callbackId, { text });
    if (pressed.message && pressed.label !== undefined) {
      await api.editMessageReplyMarkup(pressed.message.chatId, Number(pressed.message.messageId));
    }
  }

  /** A sentence from the adapter itself (not an engine reply), sent through the outbox like any other. */
  private async notice(chatId: string, dedupeKey: string, text: string): Promise<void> {
    const { app } = this.deps;
    await app.outbox.enqueue([{ to: { channel: "telegram", chatId }, text, dedupeKey }]);
    app.dispatchers.get("telegram")?.wake();
  }

  /** Runs a platform chore beside the main work; its failure is logged, never the update's failure. */
  private chore(name: string, work: () => Promise<unknown>): void {
    const running: Promise<void> = work()
      .then(() => undefined)
      .catch((error: unknown) => this.deps.log.warn({ err: error, chore: name }, "telegram: chore failed"))
      .finally(() => this.chores.delete(running));
    this.chores.add(running);
  }
}
