import { ConsoleInboundFactory, ConsoleSender } from "../../bots/console/console-channel.js";
import type { App } from "../../src/app.js";
import type { Delivery } from "../../src/engine/channel.js";
import type { Inbound } from "../../src/engine/message.js";
import { channelContract, type ChannelHarness, type SentMessage } from "./contract.js";

/** The console needs no fake server: its "platform" is the terminal, captured here. */
function consoleHarness(): ChannelHarness {
  let app: App | undefined;
  const sent: (SentMessage & { chatId: string })[] = [];
  const sender = new ConsoleSender((_text, delivery: Delivery, id) =>
    sent.push({
      id,
      chatId: delivery.chatId,
      text: delivery.text,
      choices: delivery.choices.map((c) => c.label),
    }),
  );
  const factory = new ConsoleInboundFactory(() => new Date());
  const deliver = async () => {
    await app?.dispatchers.get("console")?.drain();
  };
  const harness: ChannelHarness = {
    channel: "console",
    maxTextLength: Number.POSITIVE_INFINITY,
    replyTo: true,
    async start(a) {
      app = a;
      app.addChannel(sender);
    },
    async say(userId, text, options = {}) {
      const inbound = factory.build({ id: userId, name: "" }, text, options.replyTo);
      await app?.engine.handle(inbound);
      return inbound;
    },
    async redeliver(update) {
      await app?.engine.handle(update as Inbound);
    },
    async choose(userId, index) {
      await harness.say(userId, String(index + 1));
    },
    async received(userId) {
      await deliver();
      return sent.filter((m) => m.chatId === userId);
    },
    async stop() {
      await app?.stop();
    },
  };
  return harness;
}

channelContract(import.meta.filename, consoleHarness);
