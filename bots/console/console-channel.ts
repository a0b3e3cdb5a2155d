import { randomUUID } from "node:crypto";
import type { ChannelSender, Delivery } from "../../src/engine/channel.js";
import type { Inbound } from "../../src/engine/message.js";
import { fold } from "../../src/text/normalize.js";
import { renderDelivery } from "./render.js";

/**
 * The console channel: the terminal plays one or several people. Like every adapter it only
 * translates — lines into Inbound, outbox deliveries into printed text.
 */
export class ConsoleSender implements ChannelSender {
  readonly channel = "console" as const;
  /** The last message id delivered to each chat, for "^ text" replies. */
  readonly lastIdByChat = new Map<string, string>();

  /**
   * `after`: the highest id an earlier run on the same database gave. Reply links outlive the
   * process, so a new run counts on from there: were c3 given again, "^" to the new c3 would land
   * on the subject of the old one.
   */
  constructor(
    private readonly write: (text: string, delivery: Delivery, id: string) => void,
    private counter = 0,
  ) {}

  async send(delivery: Delivery): Promise<{ messageIds: string[] }> {
    this.counter += 1;
    const id = consoleMessageId(this.counter);
    this.lastIdByChat.set(delivery.chatId, id);
    this.write(renderDelivery(delivery, id), delivery, id);
    return { messageIds: [id] };
  }
}

const ID = /^c(\d+)$/;

export function consoleMessageId(n: number): string {
  return `c${n}`;
}

/** The number in a console message id ("c12" → 12); 0 for anything else. */
export function consoleMessageNumber(id: string | undefined): number {
  return Number(ID.exec(id ?? "")?.[1] ?? 0);
}

/** "Nguyễn Văn A" → "nguyen-van-a": a stable console sender id for a typed name. */
export function senderIdFor(name: string): string {
  return (
    fold(name)
      .replace(/[^a-z0-9_]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 64) || "citizen"
  );
}

export type ConsoleLine =
  | { kind: "switch"; senderId: string; senderName: string }
  | { kind: "message"; text: string; replyToLast: boolean }
  | { kind: "empty" };

/**
 * Reads one typed line. `/as <name or role>` switches who is speaking; `^ text` replies to the
 * last message the bot sent to the current person (what a platform's reply button does).
 */
export function parseConsoleLine(line: string): ConsoleLine {
  const trimmed = line.trim();
  if (!trimmed) return { kind: "empty" };
  const as = /^\/as\s+(.+)$/i.exec(trimmed);
  if (as?.[1]) return { kind: "switch", senderId: senderIdFor(as[1]), senderName: as[1].trim() };
  const reply = /^\^\s*([\s\S]*)$/.exec(trimmed);
  if (reply) return { kind: "message", text: reply[1] ?? "", replyToLast: true };
  return { kind: "message", text: trimmed, replyToLast: false };
}

/** Builds the Inbound for a console line; each process run has its own dedupe namespace. */
export class ConsoleInboundFactory {
  private readonly runId = randomUUID().slice(0, 8);
  private counter = 0;

  constructor(private readonly now: () => Date) {}

  build(sender: { id: string; name: string }, text: string, replyToMessageId?: string): Inbound {
    this.counter += 1;
    return {
      channel: "console",
      chatId: sender.id,
      chatType: "private",
      senderId: sender.id,
      ...(sender.name ? { senderName: sender.name } : {}),
      messageId: `m${this.counter}`,
      text,
      attachments: [],
      ...(replyToMessageId ? { replyToMessageId } : {}),
      dedupeKey: `console:${this.runId}:${this.counter}`,
      receivedAt: this.now(),
    };
  }
}
