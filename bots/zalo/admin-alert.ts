import type { App } from "../../src/app.js";
import type { Outbound } from "../../src/engine/message.js";
import type { Logger } from "../../src/log.js";

/**
 * Writes one message to every admin through the outbox, wherever each can be reached. The dedupe
 * key names the episode, so telling them twice about the same trouble writes nothing new.
 */
export async function alertAdmins(app: App, text: string, episode: string, log: Logger): Promise<void> {
  const messages: Outbound[] = [];
  for (const admin of await app.people.list({ role: "admin" })) {
    const to = await app.people.contactOf(admin._id.toString());
    if (to) messages.push({ to, text, dedupeKey: `${episode}:${admin._id.toString()}` });
  }
  if (messages.length === 0) {
    log.error({ episode }, "zalo: no admin can be reached for an alert");
    return;
  }
  await app.outbox.enqueue(messages);
  for (const channel of new Set(messages.map((m) => m.to.channel))) app.dispatchers.get(channel)?.wake();
}
