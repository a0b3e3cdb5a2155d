import { randomUUID } from "node:crypto";
import type { Engine } from "../../src/engine/engine.js";
import type { Inbound } from "../../src/engine/message.js";

/** A console message from `senderId` in their private chat, with a fresh dedupe key. */
export function consoleInbound(senderId: string, text: string, extra: Partial<Inbound> = {}): Inbound {
  const id = randomUUID();
  return {
    channel: "console",
    chatId: senderId,
    chatType: "private",
    senderId,
    messageId: id,
    text,
    attachments: [],
    dedupeKey: `test:${id}`,
    receivedAt: new Date(),
    ...extra,
  };
}

/**
 * Every update the engine is handed from now on, as the engine read it, under its dedupe key: how
 * a test sees what an adapter made of a platform update (the inbox keeps no readable copy).
 */
export function handedIn(engine: Engine): Map<string, Inbound> {
  const seen = new Map<string, Inbound>();
  engine.onOutcome((inbound) => seen.set(inbound.dedupeKey, inbound));
  return seen;
}
