import readline from "node:readline";
import type { App } from "../../src/app.js";
import { isRole } from "../../src/domain/people/roles.js";
import { t } from "../../src/text/vi.js";
import {
  ConsoleInboundFactory,
  ConsoleSender,
  consoleMessageNumber,
  parseConsoleLine,
} from "./console-channel.js";

export interface ConsoleOptions {
  app: App;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  orgName: string;
  /** Print the banner and identity switches (off when input is piped). */
  chatty: boolean;
}

/** Newest first; the id breaks ties of a clock that stood still (tests, transcripts). */
const NEWEST = { sentAt: -1, _id: -1 } as const;

/**
 * The highest console message id an earlier run on this database gave (0 on a fresh one), read
 * from the newest messages sent (in the outbox, or moved out of it after an hour: the archive keeps
 * its records for good).
 */
async function lastIdOnRecord(app: App): Promise<number> {
  const sent = await app.models.Outbox.find({ channel: "console", status: "sent" })
    .sort(NEWEST)
    .limit(50)
    .select({ platformMessageIds: 1 })
    .lean();
  // After the outbox: one moved between the two reads is in the archive by the second.
  const moved = await app.outbox.archive.latest("console", undefined, 50);
  return Math.max(
    0,
    ...[...sent, ...moved].flatMap((doc) => doc.platformMessageIds.map(consoleMessageNumber)),
  );
}

/** The last message the bot sent to a chat, on this run or an earlier one: what "^" answers. */
async function lastIdTo(app: App, sender: ConsoleSender, chatId: string): Promise<string | undefined> {
  const known = sender.lastIdByChat.get(chatId);
  if (known) return known;
  const sent = await app.models.Outbox.findOne({ channel: "console", chatId, status: "sent" })
    .sort(NEWEST)
    .select({ platformMessageIds: 1 })
    .lean();
  const [moved] = sent ? [] : await app.outbox.archive.latest("console", chatId, 1);
  return (sent ?? moved)?.platformMessageIds.at(-1);
}

/**
 * The terminal chat of `npm start` without tokens. Lines are handled one at a time, in order, each
 * answered before the next is read: typed-ahead or piped lines follow a flow as a person would.
 * Resolves when input ends (Ctrl-D or the end of a pipe), after every answer was printed.
 */
export async function runConsole(options: ConsoleOptions): Promise<void> {
  const { app, output } = options;
  const print = (text: string) => output.write(`${text}\n`);
  const sender = new ConsoleSender((text) => print(`\n${text}`), await lastIdOnRecord(app));
  const dispatcher = app.addChannel(sender, { pollMs: 200 });
  dispatcher.start();
  const factory = new ConsoleInboundFactory(() => app.engine.services.clock.now());
  let speaker = { id: "citizen", name: "citizen" };
  if (options.chatty) print(`${t.console.banner(options.orgName)}\n${t.console.speakingAs(speaker.name)}`);

  const lines = readline.createInterface({ input: options.input, terminal: false });
  for await (const line of lines) {
    const parsed = parseConsoleLine(line);
    if (parsed.kind === "empty") continue;
    if (parsed.kind === "switch") {
      speaker = { id: parsed.senderId, name: parsed.senderName };
      if (options.chatty) print(t.console.speakingAs(speaker.name));
      continue;
    }
    const replyTo = parsed.replyToLast ? await lastIdTo(app, sender, speaker.id) : undefined;
    // A role name is a test identity: let the person get that role's default name.
    const name = isRole(speaker.id) ? "" : speaker.name;
    const inbound = factory.build({ id: speaker.id, name }, parsed.text, replyTo);
    // The background sender pauses meanwhile, so that this line's answers are all printed by the
    // drain, before the next line is read; what jobs wrote goes out with them or at the next poll.
    await dispatcher.stop();
    await app.engine.handle(inbound);
    await dispatcher.drain();
    dispatcher.start();
  }
  await dispatcher.stop();
  // Deliver whatever is still due, so a piped run prints every answer before exiting.
  await dispatcher.drain();
}
