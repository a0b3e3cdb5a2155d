import type { Message, Update } from "grammy/types";
import { t } from "../../src/text/vi.js";
import type { DeliveredMessage } from "../../test/telegram/fake-bot-api.js";
import type { UpdateFactory } from "../../test/telegram/updates.js";
import { numberedChoices, textUpdate } from "../../test/zalo/harness.js";
import type { Arrival, Channel, Platforms } from "./platforms.js";
import type { Recorder } from "./stats.js";
import type { Webhooks } from "./webhooks.js";

/** The part of a sentence before its first placeholder: what every instance of it starts with. */
function lead(render: (marker: string) => string): string {
  const marker = "\u0000";
  return render(marker).split(marker)[0] ?? "";
}

const CONTENT_LEAD = lead((m) => t.feedback.askContent(m));
const SUMMARY_LEAD = lead((m) =>
  t.feedback.summary({ type: m, field: m, content: m, files: 0, identity: m }),
);
/** "Đã nhận nội dung (12/20.000 ký tự)…": the words before the figures. */
const SO_FAR_LEAD = t.feedback.contentSoFar(0, 0).split("(")[0] ?? "";
const UNDERSTOOD_LEAD = lead((m) => t.plans.understood({ code: m, unit: m, status: m, percent: 0, plan: m }));

/** How the bot's replies are recognised, from the catalog itself (src/text/vi.ts). */
export const EXPECT = {
  askType: (text: string) => text.includes(t.feedback.askType),
  askField: (text: string) => text.includes(t.feedback.askField),
  askContent: (text: string) => text.includes(CONTENT_LEAD),
  // Ours gathers long content over several messages and asks for files in the same answer
  // ("Đã nhận nội dung (…)"); the peer asks for files alone.
  askFiles: (text: string) => text.includes(t.feedback.askFiles) || text.includes(SO_FAR_LEAD),
  askIdentify: (text: string) => text.includes(t.feedback.askIdentify),
  summary: (text: string) => text.includes(SUMMARY_LEAD),
  filed: (text: string) => codeIn(text) !== undefined,
  understood: (text: string) => text.includes(UNDERSTOOD_LEAD),
};

const FILED_LEAD = (() => {
  const line = t.feedback.filed({ code: "\u0000", type: "x", due: "", legal: false }).split("\n")[0] ?? "";
  return line.slice(line.lastIndexOf(". ") + 2, line.indexOf("\u0000"));
})();

/** The tracking code in a confirmation ("Mã tra cứu: PA-2026-012345"), if the text is one. */
export function codeIn(text: string): string | undefined {
  const at = text.indexOf(FILED_LEAD);
  if (at < 0) return undefined;
  return /^PA-\d{4}-\d{6}/.exec(text.slice(at + FILED_LEAD.length))?.[0];
}

/** What a person does at one step: a choice (by label, or by position) or words. */
type Action = { choose: string | number } | { say: string } | { replyToPrompt: string };

interface Step {
  name: string;
  action: Action;
  expect: (text: string) => boolean;
}

/**
 * The /gopy walk of test/transcripts/feedback-handling.txt: the first type (a suggestion, which
 * needs no identity), the first field, the content, no file, anonymous, sent.
 */
export function citizenSteps(content: string): Step[] {
  return [
    { name: "/gopy", action: { say: "/gopy" }, expect: EXPECT.askType },
    { name: "type", action: { choose: 0 }, expect: EXPECT.askField },
    { name: "field", action: { choose: 0 }, expect: EXPECT.askContent },
    { name: "content", action: { say: content }, expect: EXPECT.askFiles },
    { name: "files", action: { say: "bỏ qua" }, expect: EXPECT.askIdentify },
    { name: "identify", action: { choose: t.feedback.anonymous }, expect: EXPECT.summary },
    { name: "confirm", action: { choose: t.feedback.send }, expect: EXPECT.filed },
  ];
}

/** An official answers the reminder in their own words, by replying to it. */
export function officialSteps(): Step[] {
  return [{ name: "report", action: { replyToPrompt: "đang làm, được 60%" }, expect: EXPECT.understood }];
}

export interface Person {
  kind: "citizen" | "official";
  channel: Channel;
  /** The chat id, which is also the user id in a private chat on both platforms. */
  id: string;
  steps: Step[];
}

export interface Outcome {
  person: Person;
  finished: boolean;
  /** The last reply received (the confirmation for a citizen who finished). */
  last?: Arrival;
  /** The step that got no answer, when not finished. */
  stuckAt?: string;
}

export interface WalkContext {
  platforms: Platforms;
  webhooks: Webhooks;
  recorder: Recorder;
  telegramUpdates: UpdateFactory;
  stepTimeoutMs: number;
  thinkMs: number;
  /** Chance that an update is posted a second time after its 200. */
  resendRate: number;
  random: () => number;
}

function pick(prompt: Arrival | undefined, choose: string | number): { index: number; label: string } {
  const labels =
    prompt?.channel === "telegram"
      ? (prompt.message?.reply_markup?.inline_keyboard ?? []).map((row) => row[0]?.text ?? "")
      : numberedChoices(prompt?.text ?? "");
  const index = typeof choose === "number" ? choose : labels.indexOf(choose);
  const label = labels[index];
  if (label === undefined) throw new Error(`no choice ${String(choose)} in: ${prompt?.text ?? "(nothing)"}`);
  return { index, label };
}

/** The platform's update for this action, built once: a redelivery sends these same bytes. */
function updateFor(person: Person, action: Action, prompt: Arrival | undefined, ctx: WalkContext): unknown {
  if (person.channel === "zalo") {
    if ("say" in action) return textUpdate(person.id, action.say);
    if ("replyToPrompt" in action) return textUpdate(person.id, action.replyToPrompt);
    return textUpdate(person.id, String(pick(prompt, action.choose).index + 1));
  }
  if ("say" in action) return ctx.telegramUpdates.text(person.id, action.say);
  if (!prompt?.message) throw new Error("a Telegram press or reply needs the message it answers");
  if ("replyToPrompt" in action) {
    return ctx.telegramUpdates.text(person.id, action.replyToPrompt, { replyTo: prompt.message });
  }
  const delivered: DeliveredMessage = {
    id: prompt.message.message_id,
    chatId: person.id,
    method: "sendMessage",
    text: prompt.text,
    message: prompt.message as Message,
  };
  return ctx.telegramUpdates.press(person.id, delivered, pick(prompt, action.choose).index) satisfies Update;
}

/** How long a refused step waits before the person tries again: they read the bot's answer first. */
const RETRY_PAUSE_MS = 1_000;
/** Tries of one step before the person gives up on it (a refused press, an unmatched reply). */
const MAX_TRIES = 3;

/**
 * Resolves with "refused" when the bot turned this try down — a button press answered with the
 * stale-button toast, or a reply it could not tie to the reminder — and with undefined otherwise
 * (after the timeout). A person then tries again the way a person would.
 */
function refusal(
  person: Person,
  update: unknown,
  from: number,
  ctx: WalkContext,
): Promise<"refused" | undefined> {
  const press = (update as Update).callback_query;
  if (press) {
    return ctx.platforms
      .callbackAnswer(press.id, ctx.stepTimeoutMs)
      .then((text) =>
        text === t.channels.staleButton ? "refused" : new Promise<undefined>(() => undefined),
      );
  }
  if (person.kind !== "official") return new Promise(() => undefined);
  return ctx.platforms
    .waitFor(person.channel, person.id, from, (a) => a.text === t.engine.freeTextOfficial, ctx.stepTimeoutMs)
    .then((arrival) => (arrival ? "refused" : undefined));
}

/** What a person does when a try was refused: type the button's words instead, or reply again. */
function fallback(action: Action, prompt: Arrival | undefined): Action {
  if ("choose" in action && prompt?.channel === "telegram") return { say: pick(prompt, action.choose).label };
  return action;
}

/**
 * One person, step by step: post the update (until a 200), wait for the bot's answer at the fake
 * platform, go on. A citizen starts with /gopy; an official first waits for the reminder. A step's
 * latency runs from its first POST to the answer, whatever tries it took.
 */
export async function walk(
  person: Person,
  ctx: WalkContext,
  waitForFirst?: (text: string) => boolean,
): Promise<Outcome> {
  const { platforms, recorder } = ctx;
  let prompt: Arrival | undefined;
  if (waitForFirst) {
    prompt = await platforms.waitFor(
      person.channel,
      person.id,
      0,
      (a) => waitForFirst(a.text),
      ctx.stepTimeoutMs,
    );
    if (!prompt) return { person, finished: false, stuckAt: "reminder" };
  }
  for (const step of person.steps) {
    if (ctx.thinkMs > 0) await new Promise((resolve) => setTimeout(resolve, ctx.thinkMs));
    const postedAt = performance.now();
    recorder.posted(postedAt);
    let action = step.action;
    let answer: Arrival | undefined;
    let ackAt: number | undefined;
    for (let tries = 0; tries < MAX_TRIES && !answer; tries += 1) {
      if (tries > 0) {
        recorder.refused += 1;
        action = fallback(action, prompt);
        await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
      }
      const update = updateFor(person, action, prompt, ctx);
      const body = JSON.stringify(update);
      const from = platforms.arrivals(person.channel, person.id).length;
      const reply = platforms.waitFor(
        person.channel,
        person.id,
        from,
        (a) => step.expect(a.text),
        ctx.stepTimeoutMs,
      );
      const refused = refusal(person, update, from, ctx);
      ackAt = await ctx.webhooks.deliver(person.channel, body);
      if (ackAt === undefined) break;
      if (ctx.random() < ctx.resendRate) {
        recorder.resent += 1;
        await ctx.webhooks.deliver(person.channel, body);
      }
      const outcome = await Promise.race([reply, refused]);
      if (outcome === "refused") continue;
      answer = outcome;
      break;
    }
    if (!answer || ackAt === undefined) {
      recorder.lost += 1;
      return { person, finished: false, stuckAt: step.name, ...(prompt ? { last: prompt } : {}) };
    }
    recorder.replied(postedAt, ackAt, answer.at, `${person.kind} ${step.name}`);
    prompt = answer;
  }
  return { person, finished: true, ...(prompt ? { last: prompt } : {}) };
}
