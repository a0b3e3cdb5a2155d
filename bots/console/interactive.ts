import readline from "node:readline";
import type { App } from "../../src/app.js";
import { isRole } from "../../src/domain/people/roles.js";
import { t } from "../../src/text/vi.js";
import { ConsoleInboundFactory, ConsoleSender, parseConsoleLine } from "./console-channel.js";

export interface ConsoleOptions {
  app: App;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  orgName: string;
  /** Print the banner and identity switches (off when input is piped). */
  chatty: boolean;
}

/**
 * The terminal chat of `npm start` without tokens. Resolves when input ends (Ctrl-D or the end
 * of a pipe), after every typed line has been handled and every answer printed.
 */
export async function runConsole(options: ConsoleOptions): Promise<void> {
  const { app, output } = options;
  const print = (text: string) => output.write(`${text}\n`);
  const sender = new ConsoleSender((text) => print(`\n${text}`));
  const dispatcher = app.addChannel(sender, { pollMs: 200 });
  dispatcher.start();
  const factory = new ConsoleInboundFactory(() => app.engine.services.clock.now());
  let speaker = { id: "citizen", name: "citizen" };
  if (options.chatty) print(`${t.console.banner(options.orgName)}\n${t.console.speakingAs(speaker.name)}`);

  const pending: Promise<unknown>[] = [];
  const lines = readline.createInterface({ input: options.input, terminal: false });
  for await (const line of lines) {
    const parsed = parseConsoleLine(line);
    if (parsed.kind === "empty") continue;
    if (parsed.kind === "switch") {
      speaker = { id: parsed.senderId, name: parsed.senderName };
      if (options.chatty) print(t.console.speakingAs(speaker.name));
      continue;
    }
    const replyTo = parsed.replyToLast ? sender.lastIdByChat.get(speaker.id) : undefined;
    // A role name is a test identity: let the person get that role's default name.
    const name = isRole(speaker.id) ? "" : speaker.name;
    const inbound = factory.build({ id: speaker.id, name }, parsed.text, replyTo);
    pending.push(app.engine.handle(inbound));
  }
  await Promise.all(pending);
  await dispatcher.stop();
  // Deliver whatever is still due, so a piped run prints every answer before exiting.
  await dispatcher.drain();
}
