import { randomUUID } from "node:crypto";
import type { Engine } from "../../src/engine/engine.js";
import type { Inbound } from "../../src/engine/message.js";

/**
 * The platform's order of updates (Inbound.order), as Telegram gives one: each message made here
 * comes after the ones made before it, as a person's next message does.
 */
let lastOrder = Date.now() * 1000;

/**
 * A console message from `senderId` in their private chat, with a fresh dedupe key and the next
 * place in the platform's order (so a turn in a flow starts from the state its process remembers).
 */
export function consoleInbound(senderId: string, text: string, extra: Partial<Inbound> = {}): Inbound {
  const id = randomUUID();
  lastOrder += 1;
  return {
    channel: "console",
    chatId: senderId,
    chatType: "private",
    senderId,
    messageId: id,
    text,
    attachments: [],
    dedupeKey: `test:${id}`,
    order: lastOrder,
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
