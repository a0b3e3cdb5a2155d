import path from "node:path";
import {
  conversations,
  createConversation,
  type Conversation,
  type ConversationFlavor,
  type VersionedState,
  type VersionedStateStorage,
} from "@grammyjs/conversations";
import { autoRetry } from "@grammyjs/auto-retry";
import { apiThrottler } from "@grammyjs/transformer-throttler";
import { MongoDBAdapter } from "@grammyjs/storage-mongodb";
import { Bot, InlineKeyboard, type Context } from "grammy";
import { Schema, type Connection } from "mongoose";
import { dayOf, formatDay, loadWorkCalendar } from "../../src/domain/calendar/work-calendar.js";
import {
  dueDay,
  FEEDBACK_TYPES,
  identityRequired,
  loadFeedbackRules,
  type FeedbackType,
} from "../../src/domain/feedback/rules.js";
import { DATA_DIR } from "../../src/paths.js";
import { fold } from "../../src/text/normalize.js";
import { t } from "../../src/text/vi.js";

/**
 * The peer: the citizen feedback flow (/gopy) written the way grammY's documentation teaches —
 * one conversation function (@grammyjs/conversations 2) whose state lives in MongoDB through
 * @grammyjs/storage-mongodb, replies sent straight from the handler, a ticket document in its own
 * collection. Same steps and the same sentences (src/text/vi.ts) as our bot; none of its
 * machinery (no inbox, no outbox, no rate limits, no redelivery dedupe, no sealing).
 */

type PeerContext = ConversationFlavor<Context>;
type Filing = Conversation<PeerContext, Context>;

interface Choice {
  label: string;
  value: string;
}

interface Identity {
  name: string;
  address?: string;
  phone?: string;
}

const YES = "yes";
const NO = "no";
const PHONE = /^(\+?84|0)\d{9}$/;

const ticketSchema = new Schema(
  {
    code: { type: String, required: true, unique: true },
    type: { type: String, required: true },
    field: { type: String, required: true },
    content: { type: String, required: true },
    files: { type: Number, required: true },
    identity: { type: { _id: false, name: String, address: String, phone: String }, default: undefined },
    chatId: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: "peer_tickets" },
);

function keyboard(choices: Choice[]): InlineKeyboard {
  return InlineKeyboard.from(choices.map((choice) => [InlineKeyboard.text(choice.label, choice.value)]));
}

/**
 * The official MongoDB adapter, storing each value as a JSON string. The conversations plugin
 * keeps a replay log that holds the Bot API payloads it sent, and an inline keyboard is an array
 * of arrays, which FerretDB v1 refuses ("nested arrays are not supported"); on MongoDB the bare
 * adapter would do. Wrapping an adapter is how grammY's own storages add behaviour (enhanceStorage).
 */
function jsonStorage<T>(adapter: MongoDBAdapter<string>): VersionedStateStorage<string, T> {
  return {
    async read(key) {
      const text = await adapter.read(key);
      return text === undefined ? undefined : (JSON.parse(text) as VersionedState<T>);
    },
    write: (key, state) => adapter.write(key, JSON.stringify(state)),
    delete: (key) => adapter.delete(key),
  };
}

export interface PeerOptions {
  token: string;
  apiRoot?: string | undefined;
  connection: Connection;
  timeZone: string;
}

/** The bot and what it needs before serving: the collections' indexes. */
export async function createPeerBot(options: PeerOptions): Promise<Bot<PeerContext>> {
  const rules = loadFeedbackRules(path.join(DATA_DIR, "feedback", "rules.yaml"));
  const calendar = loadWorkCalendar(path.join(DATA_DIR, "holidays"));
  const Ticket = options.connection.model("PeerTicket", ticketSchema);
  await Ticket.createCollection().catch(() => undefined);
  await Ticket.createIndexes();
  const sessions = options.connection.collection("peer_conversations");
  await sessions.createIndex({ key: 1 }, { unique: true });

  /** A new ticket under a random code; the unique index turns a clash into another try. */
  async function saveTicket(fields: Record<string, unknown>, now: Date): Promise<string> {
    const year = dayOf(now, options.timeZone).slice(0, 4);
    for (let attempt = 0; ; attempt += 1) {
      const code = `PA-${year}-${String(Math.floor(Math.random() * 1_000_000)).padStart(6, "0")}`;
      try {
        await Ticket.create({ ...fields, code, createdAt: now });
        return code;
      } catch (error) {
        if ((error as { code?: number }).code !== 11000 || attempt >= 5) throw error;
      }
    }
  }

  async function choose(
    conversation: Filing,
    ctx: Context,
    text: string,
    choices: Choice[],
  ): Promise<Choice> {
    await ctx.reply(text, { reply_markup: keyboard(choices) });
    const pressed = await conversation.waitForCallbackQuery(
      choices.map((c) => c.value),
      { otherwise: (other) => other.reply(t.engine.pickOne(choices.length)) },
    );
    const choice = choices.find((c) => c.value === pressed.callbackQuery.data) as Choice;
    await pressed.answerCallbackQuery(t.channels.choiceTaken(choice.label));
    return choice;
  }

  async function ask(
    conversation: Filing,
    ctx: Context,
    text: string,
    valid: (answer: string) => string | undefined,
  ): Promise<string> {
    await ctx.reply(text);
    for (;;) {
      const answer = (await conversation.waitFor("message:text")).message.text.trim();
      const problem = valid(answer);
      if (!problem) return answer;
      await ctx.reply(problem);
    }
  }

  async function gopy(conversation: Filing, ctx: Context): Promise<void> {
    const typeLines = FEEDBACK_TYPES.map((type) => t.feedback.typeLine(rules.types[type]));
    const typeChoice = await choose(
      conversation,
      ctx,
      [t.feedback.askType, ...typeLines, "", t.engine.cancelHint].join("\n"),
      FEEDBACK_TYPES.map((type) => ({ label: rules.types[type].label, value: type })),
    );
    const type = typeChoice.value as FeedbackType;
    const rule = rules.types[type];
    const field = await choose(
      conversation,
      ctx,
      t.feedback.askField,
      rules.fields.map((f) => ({ label: f.label, value: f.key })),
    );
    const content = await ask(conversation, ctx, t.feedback.askContent(rule.label), (answer) =>
      answer.length < 10 ? t.feedback.contentTooShort : undefined,
    );

    let files = 0;
    await ctx.reply(t.feedback.askFiles);
    for (;;) {
      const next = await conversation.waitFor(["message:photo", "message:document", "message:text"]);
      if (next.message.photo || next.message.document) {
        files += 1;
        await ctx.reply(t.feedback.filesCount(files));
        continue;
      }
      const word = fold(next.message.text ?? "");
      if (t.feedback.doneWords.includes(word) || t.feedback.skipWords.includes(word)) break;
      await ctx.reply(t.feedback.filesHint);
    }

    const required = identityRequired(rule, field.value);
    let identity: Identity | undefined;
    const wants =
      required ||
      (
        await choose(conversation, ctx, t.feedback.askIdentify, [
          { label: t.feedback.giveContact, value: YES },
          { label: t.feedback.anonymous, value: NO },
        ])
      ).value === YES;
    if (wants) {
      const name = await ask(
        conversation,
        ctx,
        required ? t.feedback.askNameRequired(rule.label, rule.identitySource ?? "") : t.feedback.askName,
        (answer) => (answer.length < 4 || !/\p{L}/u.test(answer) ? t.feedback.badName : undefined),
      );
      identity = { name };
      if (required) {
        identity.address = await ask(conversation, ctx, t.feedback.askAddress, (answer) =>
          answer.length < 6 ? t.feedback.badAddress : undefined,
        );
      }
      const phone = await ask(
        conversation,
        ctx,
        required ? t.feedback.askPhoneRequired : t.feedback.askPhone,
        (answer) =>
          (!required && t.feedback.skipWords.includes(fold(answer))) ||
          PHONE.test(answer.replace(/[\s.-]/g, ""))
            ? undefined
            : t.feedback.badPhone,
      );
      if (!t.feedback.skipWords.includes(fold(phone))) identity.phone = phone.replace(/[\s.-]/g, "");
      const consent = await choose(conversation, ctx, t.feedback.askConsent, [
        { label: t.feedback.consentYes, value: YES },
        { label: t.feedback.consentNo, value: NO },
      ]);
      if (consent.value === NO) {
        if (required) {
          await ctx.reply(t.feedback.consentRefused);
          return;
        }
        identity = undefined;
      }
    }

    const summary = t.feedback.summary({
      type: rule.label,
      field: field.label,
      content,
      files,
      identity: identity
        ? [identity.name, identity.address, identity.phone].filter(Boolean).join(", ")
        : undefined,
    });
    const confirm = await choose(conversation, ctx, summary, [
      { label: t.feedback.send, value: YES },
      { label: t.feedback.cancel, value: NO },
    ]);
    if (confirm.value === NO) {
      await ctx.reply(t.feedback.cancelled);
      return;
    }
    // Outside effects go through external(): on replay the plugin returns the recorded result.
    const { code, due } = await conversation.external(async () => {
      const now = new Date();
      const saved = await saveTicket(
        { type, field: field.value, content, files, identity, chatId: String(ctx.chatId) },
        now,
      );
      return { code: saved, due: dueDay(rule, dayOf(now, options.timeZone), 0, calendar) };
    });
    await ctx.reply(t.feedback.filed({ code, type: rule.label, due: formatDay(due), legal: rule.legal }));
  }

  const bot = new Bot<PeerContext>(
    options.token,
    options.apiRoot ? { client: { apiRoot: options.apiRoot } } : {},
  );
  // What a careful grammY developer adds for Telegram's limits: the throttler keeps sends under
  // them (30 a second in all, one a second per chat, 20 a minute per group), and auto-retry waits
  // out a 429's retry_after (and a 5xx) and sends again, where the bare bot would drop the reply.
  // https://grammy.dev/advanced/flood and https://grammy.dev/plugins/auto-retry
  bot.api.config.use(apiThrottler());
  bot.api.config.use(autoRetry());
  bot.use(
    conversations({
      // The adapter bundles its own copy of the driver's types, which differ from mongoose's
      // newer driver in private fields only; at run time it just calls findOne/updateOne/deleteOne.
      storage: jsonStorage(
        new MongoDBAdapter<string>({
          collection: sessions as unknown as ConstructorParameters<typeof MongoDBAdapter>[0]["collection"],
        }),
      ),
    }),
  );
  bot.command("huy", async (ctx) => {
    const active = Object.keys(ctx.conversation.active()).length > 0;
    await ctx.conversation.exitAll();
    await ctx.reply(active ? t.engine.cancelled : t.engine.nothingToCancel);
  });
  bot.use(createConversation(gopy, "gopy"));
  bot.command("gopy", (ctx) => ctx.conversation.enter("gopy"));
  bot.on("message", (ctx) => ctx.reply(t.engine.freeTextCitizen));
  bot.catch((error) => process.stderr.write(`peer: ${String(error.error)}\n`));
  await bot.init();
  return bot;
}
