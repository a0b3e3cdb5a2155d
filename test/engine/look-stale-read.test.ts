import { describe, expect, it } from "vitest";
import type { Held } from "../../bench/faults/proxy.js";
import type { App } from "../../src/app.js";
import { SendError, type ChannelSender, type Delivery } from "../../src/engine/channel.js";
import type { DeliveryResult, DispatcherOptions } from "../../src/engine/outbox.js";
import { buildApp, useProxiedDatabase } from "../support/db.js";
import { consoleMessage, textsTo } from "../support/recording-sender.js";
import { waitFor } from "../support/wait.js";

/**
 * The dispatcher's look reads the outbox while deliveries go on beside it; under load its read
 * takes up to a second, so what it reads is already old when it comes back. Each case here makes
 * that happen on purpose: the wire proxy keeps a look's answer (the state of the moment it ran)
 * until a delivery, a hand-over or a failed send has happened after it, and keeps the next look's
 * too, so that what goes meanwhile went by the path the stale answer left open. Each case failed
 * on the code before the change it names.
 */
const db = useProxiedDatabase(import.meta.filename);

/** A send held until the test lets it go (gate): then taken, refused with a network error, or told to wait. */
interface Gate {
  readonly reached: Promise<void>;
  pass(): void;
  fail(): void;
  rateLimit(waitMs: number): void;
}

type Outcome = "pass" | "fail" | { waitMs: number };

/** The console channel, whose sends to a gated chat wait for the test. */
class Gated implements ChannelSender {
  readonly channel = "console" as const;
  readonly delivered: Delivery[] = [];
  private readonly gates = new Map<string, { reach: () => void; outcome: Promise<Outcome> }>();

  /** The next send to `chatId` waits for the gate's decision. */
  gate(chatId: string): Gate {
    let reach: () => void = () => undefined;
    let decide: (outcome: Outcome) => void = () => undefined;
    const reached = new Promise<void>((resolve) => (reach = resolve));
    const outcome = new Promise<Outcome>((resolve) => (decide = resolve));
    this.gates.set(chatId, { reach, outcome });
    return {
      reached,
      pass: () => decide("pass"),
      fail: () => decide("fail"),
      rateLimit: (waitMs) => decide({ waitMs }),
    };
  }

  async send(delivery: Delivery) {
    const gate = this.gates.get(delivery.chatId);
    if (gate) {
      this.gates.delete(delivery.chatId);
      gate.reach();
      const outcome = await gate.outcome;
      if (outcome === "fail") throw new SendError("network", "connection reset");
      if (outcome !== "pass") throw new SendError("rate_limited", "Too Many Requests", outcome.waitMs);
    }
    this.delivered.push(delivery);
    return { messageIds: [`g${this.delivered.length}`] };
  }

  to(chatId: string): string[] {
    return textsTo(this.delivered, chatId);
  }
}

const message = consoleMessage;

/**
 * Waits for a held command or a gated send to be reached, for 10 s at most: a case that never gets
 * there fails with what it awaited, and its `finally` lets go of what it holds, which the next
 * cases would otherwise meet.
 */
async function reached(what: string, thing: { reached: Promise<void> } | undefined): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 10_000);
  });
  try {
    await Promise.race([thing?.reached ?? Promise.reject(new Error(`nothing to wait for: ${what}`)), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A look's answer, kept at the proxy from the moment the database ran it. */
const holdLook = (): Held => db.proxy.hold({ command: "find", collection: "outbox", at: "reply" });

let runs = 0;

/** A running dispatcher, past its first look, with a way to wait for its next outcome. */
async function running(options: DispatcherOptions = {}) {
  runs += 1;
  const { app, clock } = await buildApp(db.connection);
  const sender = new Gated();
  const outcomes: DeliveryResult[] = [];
  const dispatcher = app.addChannel(sender, {
    pollMs: 100,
    baseBackoffMs: 1_000,
    onResult: (_channel, result) => outcomes.push(result),
    ...options,
  });
  dispatcher.start();
  // Handed-over messages wait for the first look: one delivered says it was made.
  await app.outbox.enqueue([message(`warm${runs}`, "Chào")]);
  // As the engine announces what a turn wrote (a pass running meanwhile is nudged by the hand-over).
  dispatcher.wake();
  await waitFor(() => sender.to(`warm${runs}`).length === 1, "the first look");
  /** Resolves once `n` outcomes were reported, and the delivery that reported the last has ended. */
  const outcome = async (n: number) => {
    await waitFor(() => outcomes.length >= n, `outcome ${n}`);
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { app, clock, sender, dispatcher, outcome, outcomes };
}

/**
 * Makes a dispatcher that looks only when told (pollMs a minute) look now, and waits until that
 * look's answer has been taken in: a send to a chat of its own fails, and its retry (baseBackoffMs
 * 1) plans a look at once. That message then waits for a time the fixed clock never reaches.
 */
async function lookNow({ app, sender, dispatcher }: Awaited<ReturnType<typeof running>>, chatId: string) {
  const gate = sender.gate(chatId);
  await app.outbox.enqueue([message(chatId, "Tin thử")]);
  dispatcher.wake();
  await reached("the send that fails", gate);
  const look = holdLook();
  try {
    gate.fail();
    await reached("the look the failure plans", look);
  } finally {
    look.release();
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
}

describe("a look whose read comes back stale", () => {
  it("passes over a message delivered here while it read, so the chat's next reply goes at once (0e7b9a7)", async () => {
    const { app, sender, dispatcher, outcome } = await running();
    const looks: Held[] = [];
    try {
      const gate = sender.gate("a");
      await app.outbox.enqueue([message("a", "Tin 1")]);
      await reached("the send", gate);
      // The look reads "Tin 1" still sending, claimed here.
      looks.push(holdLook());
      await reached("a look", looks[0]);
      gate.pass();
      await outcome(2);
      // Handed over while the look's answer is on its way.
      await app.outbox.enqueue([message("a", "Tin 2")]);
      // Nothing is left for a later look to do: "Tin 2" goes by the hand-over, or not at all.
      looks.push(holdLook());
      looks[0]?.release();
      await waitFor(() => sender.to("a").length === 2, "the reply handed over, without a look", 5_000);
      expect(sender.to("a")).toEqual(["Tin 1", "Tin 2"]);
    } finally {
      for (const look of looks) look.release();
      await dispatcher.stop();
    }
  });

  it("keeps a message from elsewhere behind a reply written here after the read passed its place (4265b2e)", async () => {
    const { app, sender, dispatcher, outcome } = await running();
    // Another process on the database, without a dispatcher: only the look finds what it writes.
    const { app: other } = await buildApp(db.connection);
    const looks: Held[] = [];
    let insert: Held | undefined;
    try {
      const gate = sender.gate("b");
      await app.outbox.enqueue([message("b", "Tin 1")]);
      await reached("the send", gate);
      // A job's message, decided here first: its id comes before the other process's, but its
      // insert reaches the database only after the look has read.
      insert = db.proxy.hold({ command: "insert", collection: "outbox", at: "request" });
      const job = app.outbox.enqueue([message("b", "Tin 2, của việc định kỳ")]);
      await reached("the job's insert", insert);
      await other.outbox.enqueue([message("b", "Tin 3, từ nơi khác")]);
      looks.push(holdLook());
      await reached("a look", looks[0]);
      insert.release();
      await job;
      gate.pass();
      await outcome(2);
      looks.push(holdLook());
      looks[0]?.release();
      // Whatever goes before the next look must not be the other process's message.
      await new Promise((resolve) => setTimeout(resolve, 500));
      looks[1]?.release();
      await waitFor(() => sender.to("b").length === 3, "all three messages");
      expect(sender.to("b")).toEqual(["Tin 1", "Tin 2, của việc định kỳ", "Tin 3, từ nơi khác"]);
    } finally {
      insert?.release();
      for (const look of looks) look.release();
      await dispatcher.stop();
    }
  });

  it("takes nothing of a chat whose send failed while it read, ahead of the message waiting its retry (c1d1d79)", async () => {
    const { app, clock, sender, dispatcher, outcome } = await running();
    const looks: Held[] = [];
    try {
      const gate = sender.gate("c");
      // A turn's reply, handed over unwritten: the look cannot see it.
      void app.outbox.enqueueTurn([message("c", "Tin 1")], { unwritten: true });
      await reached("the send", gate);
      // A job's message behind it, written and born claimed here: the look sees only this one.
      await app.outbox.enqueue([message("c", "Tin 2")]);
      looks.push(holdLook());
      await reached("a look", looks[0]);
      // "Tin 1" fails: written to wait its retry, and "Tin 2" put back with its chat.
      gate.fail();
      await outcome(2);
      looks.push(holdLook());
      looks[0]?.release();
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(sender.to("c")).toEqual([]);
      clock.advance(60_000);
      looks[1]?.release();
      await waitFor(() => sender.to("c").length === 2, "both messages");
      expect(sender.to("c")).toEqual(["Tin 1", "Tin 2"]);
    } finally {
      for (const look of looks) look.release();
      await dispatcher.stop();
    }
  });

  it("looks while one send hangs, so a message from elsewhere does not wait for it", async () => {
    const { app, sender, dispatcher } = await running();
    const { app: other } = await buildApp(db.connection);
    const gate = sender.gate("slow");
    try {
      await app.outbox.enqueue([message("slow", "Báo cáo quý")]);
      await reached("the send", gate);
      // Up to the platform call's timeout (20 s) on a bad network; the look comes meanwhile.
      await other.outbox.enqueue([message("x", "Tin từ phiên bản kia")]);
      await waitFor(() => sender.to("x").length === 1, "the other process's message", 5_000);
      expect(sender.to("slow")).toEqual([]);
    } finally {
      gate.pass();
      await dispatcher.stop();
    }
    expect(sender.to("slow")).toEqual(["Báo cáo quý"]);
  });

  // The reply in hand here is either in the collection, where the look reads it before "Tin 2",
  // or handed over unwritten (a turn's reply), where the look reads "Tin 2" first for a busy chat.
  it.each([
    {
      how: "behind a send in hand here",
      chatId: "d",
      handOver: (app: App, chatId: string) => app.outbox.enqueue([message(chatId, "Tin 1")]),
    },
    {
      how: "while a reply not yet in the collection is sent",
      chatId: "k",
      handOver: (app: App, chatId: string) => {
        void app.outbox.enqueueTurn([message(chatId, "Tin 1")], { unwritten: true });
      },
    },
  ])(
    "keeps a message from elsewhere, read $how, ahead of the chat's next reply",
    async ({ chatId, handOver }) => {
      const run = await running({ pollMs: 60_000, baseBackoffMs: 1 });
      const { app, sender, dispatcher, outcome } = run;
      const { app: other } = await buildApp(db.connection);
      const gate = sender.gate(chatId);
      try {
        await handOver(app, chatId);
        dispatcher.wake();
        await reached("the send", gate);
        await other.outbox.enqueue([message(chatId, "Tin 2, từ nơi khác")]);
        // The look reads "Tin 2" with the chat in hand here: it must not forget it.
        await lookNow(run, `${chatId}-look`);
        gate.pass();
        await outcome(3);
        // Decided after "Tin 2" was written: born claimed, it went at once, before it.
        await app.outbox.enqueue([message(chatId, "Tin 3")]);
        dispatcher.wake();
        await waitFor(() => sender.to(chatId).length === 3, "all three messages");
        expect(sender.to(chatId)).toEqual(["Tin 1", "Tin 2, từ nơi khác", "Tin 3"]);
      } finally {
        gate.pass();
        await dispatcher.stop();
      }
    },
  );

  it("keeps a message from elsewhere, read behind a message parked here by a 429, ahead of the next reply", async () => {
    const run = await running({ pollMs: 60_000, baseBackoffMs: 1 });
    const { app, sender, dispatcher, outcome } = run;
    const { app: other } = await buildApp(db.connection);
    const gate = sender.gate("e");
    try {
      await app.outbox.enqueue([message("e", "Tin 1")]);
      dispatcher.wake();
      await reached("the send", gate);
      await other.outbox.enqueue([message("e", "Tin 2, từ nơi khác")]);
      gate.rateLimit(800);
      await outcome(2);
      // Parked in memory, its chat busy: the look reads it "sending", and "Tin 2" behind it.
      await lookNow(run, "e-look");
      await waitFor(() => sender.to("e").length >= 1, "Tin 1 back from its wait");
      await app.outbox.enqueue([message("e", "Tin 3")]);
      dispatcher.wake();
      await waitFor(() => sender.to("e").length === 3, "all three messages");
      expect(sender.to("e")).toEqual(["Tin 1", "Tin 2, từ nơi khác", "Tin 3"]);
    } finally {
      gate.pass();
      await dispatcher.stop();
    }
  });
});

describe("a message for later (a broadcast spread over minutes)", () => {
  const later = (chatId: string, text: string, at: Date) => ({ ...message(chatId, text), notBefore: at });

  it("holds back none of its chat's replies, and goes when it is due", async () => {
    const { app, clock, sender, dispatcher } = await running();
    const { app: other } = await buildApp(db.connection);
    const inFiveMinutes = new Date(clock.now().getTime() + 5 * 60_000);
    try {
      // Written here, and by another process: each is its chat's oldest unsent message.
      await app.outbox.enqueue([later("f", "Thông báo của Sở", inFiveMinutes)]);
      await other.outbox.enqueue([later("g", "Thông báo của Sở", inFiveMinutes)]);
      dispatcher.wake();
      // Looked at while it waits (and handed over, for the one written here).
      await new Promise((resolve) => setTimeout(resolve, 300));
      await app.outbox.enqueue([message("f", "Trả lời"), message("g", "Trả lời")]);
      dispatcher.wake();
      await waitFor(
        () => sender.to("f").length === 1 && sender.to("g").length === 1,
        "the replies, before the broadcast's time",
      );
      expect([sender.to("f"), sender.to("g")]).toEqual([["Trả lời"], ["Trả lời"]]);
      clock.advance(5 * 60_000);
      await waitFor(() => sender.to("f").length === 2 && sender.to("g").length === 2, "the broadcast");
      expect(sender.to("f")).toEqual(["Trả lời", "Thông báo của Sở"]);
    } finally {
      await dispatcher.stop();
    }
  });

  it("keeps the order of two broadcasts' messages to one person, the later one due sooner", async () => {
    const { app, clock, sender, dispatcher } = await running();
    const { app: other } = await buildApp(db.connection);
    const start = clock.now().getTime();
    try {
      // The first broadcast reaches this person late in its spread, the second (a correction to
      // a few people) early in its own; one is written by another process.
      await other.outbox.enqueue([later("n", "Thông báo thứ nhất", new Date(start + 7 * 60_000))]);
      await app.outbox.enqueue([later("n", "Đính chính", new Date(start + 60_000))]);
      dispatcher.wake();
      clock.advance(2 * 60_000);
      await app.outbox.enqueue([message("n", "Trả lời")]);
      dispatcher.wake();
      await waitFor(() => sender.to("n").length === 1, "the reply");
      // Looked at, with the correction due: it waits for the first.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(sender.to("n")).toEqual(["Trả lời"]);
      clock.advance(5 * 60_000);
      await waitFor(() => sender.to("n").length === 3, "both broadcasts");
      expect(sender.to("n")).toEqual(["Trả lời", "Thông báo thứ nhất", "Đính chính"]);
    } finally {
      await dispatcher.stop();
    }
  });

  it("still holds back its chat once due and told to wait", async () => {
    const { app, clock, sender, dispatcher, outcome } = await running();
    const soon = new Date(clock.now().getTime() + 1_000);
    const gate = sender.gate("h");
    try {
      await app.outbox.enqueue([later("h", "Thông báo của Sở", soon)]);
      dispatcher.wake();
      clock.advance(1_000);
      await reached("the broadcast's send", gate);
      // Due and sent: a network failure puts it back to wait its retry, in its place.
      gate.fail();
      await outcome(2);
      await app.outbox.enqueue([message("h", "Trả lời")]);
      dispatcher.wake();
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(sender.to("h")).toEqual([]);
      clock.advance(60_000);
      await waitFor(() => sender.to("h").length === 2, "both messages");
      expect(sender.to("h")).toEqual(["Thông báo của Sở", "Trả lời"]);
    } finally {
      gate.pass();
      await dispatcher.stop();
    }
  });
});
