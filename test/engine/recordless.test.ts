import { afterEach, describe, expect, it } from "vitest";
import type { App } from "../../src/app.js";
import { NotHandledYet, type HandleOptions } from "../../src/engine/engine.js";
import type { Inbound } from "../../src/engine/message.js";
import { buildApp as buildAnApp, useProxiedDatabase } from "../support/db.js";
import { consoleInbound } from "../support/inbound.js";
import { RecordingSender } from "../support/recording-sender.js";

/**
 * A step of a flow from a platform that delivers an update again until it is answered (Telegram),
 * handled without a record written first: the state its turn writes is its one commit. What must
 * hold is what the record gave: a redelivery after that commit (the process died before the
 * platform had its answer) is not applied a second time, and what the turn decided still reaches
 * the person; a turn the database cut off is delivered again, not lost.
 */
const db = useProxiedDatabase(import.meta.filename);
const { proxy } = db;
const RETRIED: HandleOptions = { platformRetries: true };

/** The apps of a test, idled after it (they hold records and marks for a while). */
const built: App[] = [];
async function buildApp(): Promise<App> {
  const { app } = await buildAnApp(db.connection);
  built.push(app);
  return app;
}
afterEach(async () => {
  await Promise.all(built.splice(0).map((app) => app.engine.idle()));
});

const keyOf = (chat: string): string => `console:${chat}:${chat}`;

async function newest(app: App, chat: string) {
  return app.models.Session.findOne({ key: keyOf(chat) })
    .sort({ seq: -1 })
    .lean();
}

async function recordOf(app: App, update: Inbound) {
  return app.models.InboundRecord.findOne({ dedupeKey: update.dedupeKey }).lean();
}

/** `/gopy` in `chat`, then its first answer, handled: that answer. */
async function firstStep(app: App, chat: string): Promise<Inbound> {
  await app.engine.handle(consoleInbound(chat, "/gopy"), RETRIED);
  const step = consoleInbound(chat, "1");
  expect(await app.engine.handle(step, RETRIED)).toBe("handled");
  return step;
}

/** Runs `work` with the database refusing every command through the proxy, until it ends. */
async function refusingWrites<T>(work: () => Promise<T>): Promise<T> {
  proxy.arm({ at: 1, fault: "error" });
  let failing = true;
  const rearm = setInterval(() => {
    if (failing && proxy.faulted) proxy.arm({ at: 1, fault: "error" });
  }, 1);
  try {
    return await work();
  } finally {
    failing = false;
    clearInterval(rearm);
    proxy.disarm();
  }
}

/** The messages a turn decided for its speaker, as the outbox keeps them. */
async function repliesTo(app: App, update: Inbound) {
  const all = await app.models.Outbox.find({ chatId: update.chatId }).lean();
  return all.filter((doc) => doc.dedupeKey.startsWith(`${update.dedupeKey}#`));
}

describe("a step of a flow the platform delivers until answered", () => {
  it("is not recorded before its turn: its state is its commit, and its record comes later", async () => {
    const app = await buildApp();
    const chat = "recordless-commit";
    await app.engine.handle(consoleInbound(chat, "/gopy"), RETRIED);
    const step = consoleInbound(chat, "1");
    expect(await app.engine.handle(step, RETRIED)).toBe("handled");
    expect(await recordOf(app, step)).toBeNull();
    const state = await newest(app, chat);
    expect(state).toMatchObject({ update: step.dedupeKey, order: step.order });
    expect(await repliesTo(app, step)).toHaveLength(1);

    // Held, then written as handled: the dedupe key a late redelivery meets once states are swept.
    await app.engine.idle();
    expect(await recordOf(app, step)).toMatchObject({ status: "handled" });
  });

  it("outside a flow, a command that only opens one goes so too; any other command is recorded first", async () => {
    const first = await buildApp();
    const chat = "recordless-opens";
    const start = consoleInbound(chat, "/gopy");
    expect(await first.engine.handle(start, RETRIED)).toBe("handled");
    expect(await recordOf(first, start)).toBeNull();
    const opened = await newest(first, chat);
    expect(opened).toMatchObject({ update: start.dedupeKey, order: start.order, flow: "gopy" });
    // Its answer lost with the process, its prompt unwritten: delivered again to another instance,
    // the prompt is said and the flow is not opened a second time.
    await first.models.Outbox.deleteMany({ _id: { $in: (await repliesTo(first, start)).map((d) => d._id) } });
    const second = await buildApp();
    expect(await second.engine.handle(start, RETRIED)).toBe("duplicate");
    expect(await second.models.Session.countDocuments({ key: keyOf(chat) })).toBe(1);
    expect(await repliesTo(second, start)).toHaveLength(1);
    await second.engine.idle();
    expect(await recordOf(second, start)).toMatchObject({ status: "handled" });

    // Inside the flow it interrupts it: recorded first, as any command with more to it than a state.
    const again = consoleInbound(chat, "/gopy");
    expect(await second.engine.handle(again, RETRIED)).toBe("handled");
    expect(await recordOf(second, again)).not.toBeNull();
    const help = consoleInbound(chat, "/help");
    expect(await second.engine.handle(help, RETRIED)).toBe("handled");
    expect(await recordOf(second, help)).not.toBeNull();
    // One not everyone may use (a refusal writes no state a redelivery would find): recorded.
    const invite = consoleInbound("recordless-opens-moi", "/moi");
    expect(await second.engine.handle(invite, RETRIED)).toBe("handled");
    expect(await recordOf(second, invite)).not.toBeNull();
  });

  it("delivered again when its state stands but what it decided is no longer kept: not run again", async () => {
    const first = await buildApp();
    const chat = "recordless-unkept";
    const step = await firstStep(first, chat);
    const after = await newest(first, chat);
    // Long past (its messages no longer kept with the state), and its record never written.
    await first.models.Session.updateOne({ _id: after?._id }, { $unset: { outboundSealed: 1 } });
    const second = await buildApp();
    expect(await second.engine.handle(step, RETRIED)).toBe("duplicate");
    expect(await newest(second, chat)).toMatchObject({ _id: after?._id, seq: after?.seq });
  });

  it("delivered again after its state was written, to an instance that never saw it: sent, not applied again", async () => {
    const first = await buildApp();
    const chat = "recordless-redelivered";
    const step = await firstStep(first, chat);
    const after = await newest(first, chat);
    // The process dies with its reply unwritten (handed to its dispatcher, never sent), before the
    // platform had its answer: the reply is gone, the state stands.
    await first.models.Outbox.deleteMany({ _id: { $in: (await repliesTo(first, step)).map((d) => d._id) } });

    const second = await buildApp();
    const sender = new RecordingSender();
    second.addChannel(sender);
    expect(await second.engine.handle(step, RETRIED)).toBe("duplicate");
    // Not answered again on the state it wrote (that would take "1" as the next step's answer).
    expect(await newest(second, chat)).toMatchObject({ _id: after?._id, seq: after?.seq });
    await second.dispatchers.get("console")?.drain();
    const replies = await repliesTo(second, step);
    expect(replies).toHaveLength(1);
    const [written] = replies;
    if (!written) throw new Error("no reply written");
    const reply = second.outbox.textOf(written);
    const said = (): number => sender.to(chat).filter((text) => text === reply).length;
    expect(said()).toBe(1);

    // Delivered once more (the answer lost again): nothing new is said.
    expect(await second.engine.handle(step, RETRIED)).toBe("duplicate");
    await second.dispatchers.get("console")?.drain();
    expect(said()).toBe(1);
    expect(await newest(second, chat)).toMatchObject({ seq: after?.seq });
  });

  it("a press delivered again after its own turn moved the chat on is answered, not taken for stale", async () => {
    const first = await buildApp();
    const chat = "recordless-press";
    await first.engine.handle(consoleInbound(chat, "/gopy"), RETRIED);
    const at = await newest(first, chat);
    const press = consoleInbound(chat, "", { choice: "1", step: at?.seq ?? -1 });
    expect(await first.engine.handle(press, RETRIED)).toBe("handled");
    expect((await newest(first, chat))?.seq).toBe((at?.seq ?? 0) + 1);
    await first.models.Outbox.deleteMany({ _id: { $in: (await repliesTo(first, press)).map((d) => d._id) } });

    const second = await buildApp();
    expect(await second.engine.handle(press, RETRIED)).toBe("duplicate");
    expect(await repliesTo(second, press)).toHaveLength(1);
    expect((await newest(second, chat))?.seq).toBe((at?.seq ?? 0) + 1);
  });

  it("the same update delivered again on the instance that handled it is a duplicate, whose replies stand once", async () => {
    const app = await buildApp();
    const chat = "recordless-twice";
    const step = await firstStep(app, chat);
    const after = await newest(app, chat);
    expect(await app.engine.handle(step, RETRIED)).toBe("duplicate");
    expect(await newest(app, chat)).toMatchObject({ _id: after?._id });
    expect(await repliesTo(app, step)).toHaveLength(1);
  });

  it("cut off by the database through every retry: not answered, held, and applied once when delivered again", async () => {
    const app = await buildApp();
    const chat = "recordless-outage";
    await app.engine.handle(consoleInbound(chat, "/gopy"), RETRIED);
    const before = await newest(app, chat);
    const step = consoleInbound(chat, "1");
    // Every write refused (the turn's state, then the record it falls back to) until healed.
    const thrown = await refusingWrites(() => app.engine.handle(step, RETRIED)).then(
      () => undefined,
      (error: unknown) => error,
    );
    // The caller must not answer the platform, which then delivers it again.
    expect(thrown).toBeInstanceOf(NotHandledYet);
    expect(await newest(app, chat)).toMatchObject({ seq: before?.seq });

    await app.engine.handle(step, RETRIED);
    const after = await newest(app, chat);
    expect(after).toMatchObject({ seq: (before?.seq ?? 0) + 1, update: step.dedupeKey });
    expect(await repliesTo(app, step)).toHaveLength(1);
    // And the person's next message answers the step after it, not the same one.
    const next = consoleInbound(chat, "1");
    expect(await app.engine.handle(next, RETRIED)).toBe("handled");
    expect(await newest(app, chat)).toMatchObject({ seq: (before?.seq ?? 0) + 2, update: next.dedupeKey });
  }, 30_000);

  it("an update handled late writes a later state with an earlier order: a redelivery of the one before it is still seen", async () => {
    const first = await buildApp();
    const chat = "recordless-late";
    await first.engine.handle(consoleInbound(chat, "/gopy"), RETRIED);
    // U comes first in Telegram's order, but reaches the bot after U2 (a redelivery after a 500).
    const u = consoleInbound(chat, "1");
    const u2 = consoleInbound(chat, "1");
    expect(await first.engine.handle(u2, RETRIED)).toBe("handled");
    expect(await first.engine.handle(u, RETRIED)).toBe("handled");
    const after = await newest(first, chat);
    expect(after).toMatchObject({ update: u.dedupeKey, order: u.order, high: u2.order });
    await first.models.Outbox.deleteMany({ _id: { $in: (await repliesTo(first, u2)).map((d) => d._id) } });

    // U2 delivered again (its answer was lost) to an instance that never saw it.
    const second = await buildApp();
    expect(await second.engine.handle(u2, RETRIED)).toBe("duplicate");
    expect(await newest(second, chat)).toMatchObject({ _id: after?._id });
    // Its reply asked what U has since answered: left out, as recovery leaves it out.
    expect(await repliesTo(second, u2)).toHaveLength(0);
  });

  it("held after a cut-off, it is not run from its old state once handled elsewhere and the chat's states swept", async () => {
    const { app: held, clock } = await buildAnApp(db.connection);
    built.push(held);
    const chat = "recordless-held";
    await held.engine.handle(consoleInbound(chat, "/gopy"), RETRIED);
    const start = await newest(held, chat);
    const u = consoleInbound(chat, "1");
    await expect(refusingWrites(() => held.engine.handle(u, RETRIED))).rejects.toBeInstanceOf(NotHandledYet);
    // Telegram delivers it again to the other instance, which dies before writing its record;
    // the person goes on there, and eleven minutes later the sweep removes the states written over.
    const other = await buildApp();
    expect(await other.engine.handle(u, RETRIED)).toBe("handled");
    expect(await other.engine.handle(consoleInbound(chat, "gop y"), RETRIED)).toBe("handled");
    clock.advance(11 * 60_000);
    await held.sessions.sweep(clock.now());
    expect(await held.models.Session.countDocuments({ key: keyOf(chat), update: u.dedupeKey })).toBe(0);

    // The chat's next message reaches the instance holding U: U is not run again from its old state.
    const next = consoleInbound(chat, "1");
    await held.engine.handle(next, RETRIED);
    const states = await held.models.Session.find({ key: keyOf(chat) })
      .sort({ seq: 1 })
      .lean();
    const seqs = states.map((state) => state.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(states.filter((state) => state.update === u.dedupeKey)).toHaveLength(0);
    expect(states.at(-1)).toMatchObject({ update: next.dedupeKey, seq: (start?.seq ?? 0) + 3 });
  }, 30_000);

  it("a high-water a day old is forgotten: Telegram numbers updates afresh after a quiet week", async () => {
    const { app, clock } = await buildAnApp(db.connection);
    built.push(app);
    const chat = "recordless-renumbered";
    const step = await firstStep(app, chat);
    expect(await newest(app, chat)).toMatchObject({ high: step.order });
    clock.advance(8 * 24 * 3_600_000);
    // update_id restarted lower: not taken for one delivered before the chat's states.
    const again = consoleInbound(chat, "/gopy", { order: (step.order ?? 0) - 1_000_000 });
    expect(await app.engine.handle(again, RETRIED)).toBe("handled");
    expect(await newest(app, chat)).toMatchObject({ update: again.dedupeKey, high: again.order });
  });

  it("without the option (Zalo, the console), a step is recorded first, as before", async () => {
    const app = await buildApp();
    const chat = "recorded-first";
    await app.engine.handle(consoleInbound(chat, "/gopy"));
    const step = consoleInbound(chat, "1");
    expect(await app.engine.handle(step)).toBe("handled");
    expect(await recordOf(app, step)).not.toBeNull();
  });
});
