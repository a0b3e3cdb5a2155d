import { Api } from "grammy";
import mongoose, { type Connection } from "mongoose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { hostOf, throughProxy, WireProxy, type DbFault } from "../../bench/faults/proxy.js";
import { TelegramSender } from "../../bots/telegram/sender.js";
import type { App } from "../../src/app.js";
import type { FixedClock } from "../../src/clock.js";
import { loadConfig } from "../../src/config.js";
import { connectMongo } from "../../src/db/connect.js";
import type { ChannelSender, Delivery } from "../../src/engine/channel.js";
import type { Outbound } from "../../src/engine/message.js";
import { t } from "../../src/text/vi.js";
import { buildApp, databaseName, useDatabase } from "../support/db.js";

const db = useDatabase(import.meta.filename);

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const TOKEN = "123456789:TEST_token_for_the_fake_platform_in_outage";

type Outage = "502" | "timeout" | "401";

/**
 * Telegram's Bot API as grammY's fetch sees it, on the tests' clock: while an outage is on it
 * answers 502, never answers (a timeout, as grammY reports one), or refuses the token with 401;
 * otherwise it takes sendMessage and remembers what each chat got, in order.
 */
class FakeTelegram {
  outage: { kind: Outage; until: number } | undefined;
  readonly received = new Map<string, string[]>();
  calls = 0;
  private nextId = 1;
  /** Runs when a message was accepted, before the answer goes back (a fault right after the send). */
  afterAccept: (() => Promise<void>) | undefined;

  constructor(private readonly clock: FixedClock) {}

  readonly fetch = async (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const method = String(url).split("/").at(-1);
    this.calls += 1;
    const outage =
      this.outage && this.clock.now().getTime() < this.outage.until ? this.outage.kind : undefined;
    if (outage === "timeout") throw new Error("network timeout at: https://api.telegram.org (ETIMEDOUT)");
    if (outage === "502") return new Response("<html>502 Bad Gateway</html>", { status: 502 });
    if (outage === "401") {
      return Response.json({ ok: false, error_code: 401, description: "Unauthorized" }, { status: 401 });
    }
    if (method !== "sendMessage") return Response.json({ ok: true, result: true });
    const params = JSON.parse(String(init?.body)) as { chat_id: string | number; text: string };
    const chatId = String(params.chat_id);
    this.received.set(chatId, [...(this.received.get(chatId) ?? []), params.text]);
    const id = this.nextId++;
    await this.afterAccept?.();
    return Response.json({
      ok: true,
      result: { message_id: id, date: 0, chat: { id: Number(chatId), type: "private" }, text: params.text },
    });
  };

  sender(): TelegramSender {
    return new TelegramSender(
      new Api(TOKEN, { apiRoot: "http://fake.invalid", fetch: this.fetch }),
      this.clock,
    );
  }
}

/** The console channel, which carries the admins' alerts in these tests. */
class ConsoleInbox implements ChannelSender {
  readonly channel = "console" as const;
  readonly delivered: Delivery[] = [];
  async send(delivery: Delivery) {
    this.delivered.push(delivery);
    return { messageIds: [`c${this.delivered.length}`] };
  }
}

function to(chatId: string, text: string, extra: Partial<Outbound> = {}): Outbound {
  return { to: { channel: "telegram", chatId }, text, dedupeKey: `outage:${chatId}:${text}`, ...extra };
}

async function setup(connection: Connection = db.connection) {
  await connection.dropDatabase();
  const { app, clock } = await buildApp(connection);
  const fake = new FakeTelegram(clock);
  const telegram = app.addChannel(fake.sender());
  const admins = new ConsoleInbox();
  app.addChannel(admins);
  return { app, clock, fake, telegram, admins };
}

/** Runs the dispatchers the way a running bot would over `ms` of clock time, a look every `stepMs`. */
async function live(
  apps: App[],
  clock: FixedClock,
  ms: number,
  stepMs = 60_000,
  during?: () => Promise<void>,
) {
  const end = clock.now().getTime() + ms;
  while (clock.now().getTime() < end) {
    for (const app of apps) for (const dispatcher of app.dispatchers.values()) await dispatcher.drain();
    await during?.();
    clock.advance(stepMs);
  }
  for (const app of apps) for (const dispatcher of app.dispatchers.values()) await dispatcher.drain();
}

async function statuses(app: App): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const doc of await app.models.Outbox.find({ channel: "telegram" }).lean()) {
    counts[doc.status] = (counts[doc.status] ?? 0) + 1;
  }
  return counts;
}

describe("an outage of the platform ends in delivery, not in dead", () => {
  it("502s then timeouts for two hours: every message delivered once, in order per chat, none dead", async () => {
    const { app, clock, fake } = await setup();
    const chats = ["3001", "3002", "3003"];
    const expected = new Map(chats.map((chat) => [chat, [] as string[]]));
    const queue = async (label: string) => {
      const batch = chats.flatMap((chat) => [1, 2].map((n) => to(chat, `${label}-${n}`)));
      for (const m of batch) expected.get(m.to.chatId)?.push(m.text);
      await app.outbox.enqueue(batch);
    };
    const start = clock.now().getTime();
    fake.outage = { kind: "502", until: start + HOUR };
    await queue("before");
    await live([app], clock, 30 * MINUTE);
    await queue("at-30-min");
    await live([app], clock, 30 * MINUTE);
    // The second hour the platform does not answer at all.
    fake.outage = { kind: "timeout", until: start + 2 * HOUR };
    await queue("at-60-min");
    await live([app], clock, 65 * MINUTE);
    expect(clock.now().getTime() - start).toBeGreaterThan(2 * HOUR);

    expect(await statuses(app)).toEqual({ sent: 18 });
    for (const chat of chats) expect(fake.received.get(chat), chat).toEqual(expected.get(chat));
    // It was tried through the outage, every 5 minutes once the back-off grew (here every 6: the
    // test looks once a minute), not 8 times in 4 minutes.
    const first = await app.models.Outbox.findOne({ dedupeKey: "outage:3001:before-1" }).lean();
    expect(first?.attempts).toBeGreaterThan(15);
  });

  it("gives up by age: OUTBOX_MAX_AGE_HOURS, 72 by default, a bad value refused in one line", () => {
    expect(loadConfig({}).outboxMaxAgeHours).toBe(72);
    expect(loadConfig({ OUTBOX_MAX_AGE_HOURS: "24" }).outboxMaxAgeHours).toBe(24);
    for (const bad of ["0", "1.5", "721", "soon"]) {
      expect(() => loadConfig({ OUTBOX_MAX_AGE_HOURS: bad })).toThrow(
        t.config.invalid("OUTBOX_MAX_AGE_HOURS", t.config.outboxMaxAge),
      );
    }
  });

  it("still gives up a message that keeps failing past its age (72 h), and says why", async () => {
    const { app, clock, fake } = await setup();
    fake.outage = { kind: "502", until: Number.POSITIVE_INFINITY };
    await app.outbox.enqueue([to("3004", "too late")]);
    await live([app], clock, 71 * HOUR, 30 * MINUTE);
    expect(await statuses(app)).toEqual({ pending: 1 });
    await live([app], clock, 2 * HOUR, 30 * MINUTE);
    const doc = await app.models.Outbox.findOne({ chatId: "3004" }).lean();
    expect(doc?.status).toBe("dead");
    expect(doc?.lastError).toMatch(/^expired after 7\d h: network/);
  });
});

describe("a message written for a past time", () => {
  it("is not given up at its first failure: its age counts from when sends began to fail", async () => {
    const { app, clock, fake } = await setup();
    // A catch-up run of a job (jobs:run --at a year ago) writes with its own clock.
    clock.set(new Date(clock.now().getTime() - 365 * 24 * HOUR));
    await app.outbox.enqueue([to("3005", "nhắc hạn muộn")]);
    clock.set(new Date(clock.now().getTime() + 365 * 24 * HOUR));
    fake.outage = { kind: "502", until: clock.now().getTime() + 10 * MINUTE };
    await live([app], clock, 30 * MINUTE);
    expect(await statuses(app)).toEqual({ sent: 1 });
    expect(fake.received.get("3005")).toEqual(["nhắc hạn muộn"]);
  });
});

describe("a refused token (401) pauses the channel instead of burning attempts", () => {
  it("holds every message, alerts the admins once on another channel, and resumes by itself", async () => {
    const { app, clock, fake, telegram, admins } = await setup();
    // A second instance on the same database, as behind a load balancer.
    const { app: other } = await buildApp(db.connection, clock);
    other.addChannel(fake.sender());
    const now = clock.now();
    await app.people.ensureAdmin("console", "admin-a", "Quản trị A", now);
    await app.people.ensureAdmin("telegram", "8001", "Quản trị B", now);
    const expected = new Map<string, string[]>();
    const messages = ["3001", "3002", "3003", "3004", "3005"].flatMap((chat) =>
      [1, 2, 3].map((n) => to(chat, `tin-${n}`, { dedupeKey: `paused:${chat}:${n}` })),
    );
    for (const m of messages) expected.set(m.to.chatId, [...(expected.get(m.to.chatId) ?? []), m.text]);
    fake.outage = { kind: "401", until: clock.now().getTime() + 2 * HOUR };
    await app.outbox.enqueue(messages);

    let pausedSeen = false;
    await live([app, other], clock, 2 * HOUR, 60_000, async () => {
      if (!telegram.paused) return;
      pausedSeen = true;
      expect(await statuses(app)).toEqual({ pending: 15 });
    });
    const callsDuringOutage = fake.calls;
    await live([app, other], clock, 10 * MINUTE);

    expect(pausedSeen).toBe(true);
    expect(telegram.paused).toBeUndefined();
    expect(await statuses(app)).toEqual({ sent: 15 });
    for (const [chat, texts] of expected) expect(fake.received.get(chat), chat).toEqual(texts);
    // No attempt was spent on the refusal: each message counts the one send that went.
    const docs = await app.models.Outbox.find({ channel: "telegram" }).lean();
    expect(docs.map((d) => d.attempts)).toEqual(docs.map(() => 1));
    // Probes, not retries of every message: the first refusals, then about one per 5 minutes per instance.
    expect(callsDuringOutage).toBeLessThan(70);
    // One alert, on the console (admin B has only Telegram, the paused channel), for both instances.
    const alerts = admins.delivered.filter((d) => d.text.includes("token"));
    expect(alerts.map((d) => d.chatId)).toEqual(["admin-a"]);
    expect(alerts[0]?.text).toContain("telegram");
    expect(await app.models.Outbox.countDocuments({ dedupeKey: /^outbox-paused:/ })).toBe(1);
  });

  it("probes with the oldest waiting message once the one that met the refusal went elsewhere", async () => {
    const { app, clock, fake, telegram } = await setup();
    fake.outage = { kind: "401", until: clock.now().getTime() + 20 * MINUTE };
    await app.outbox.enqueue([to("3001", "a")]);
    await telegram.drain();
    expect(telegram.paused?.reason).toContain("401");
    // Another instance, whose token works again, delivered it meanwhile.
    await app.models.Outbox.updateOne({ chatId: "3001" }, { $set: { status: "sent" } });
    await app.outbox.enqueue([to("3002", "b"), to("3003", "c")]);
    await live([app], clock, 40 * MINUTE);
    expect(telegram.paused).toBeUndefined();
    expect(await statuses(app)).toEqual({ sent: 3 });
    expect([...fake.received.keys()]).toEqual(["3002", "3003"]);
  });

  it("shows the pause, the retries and the dead in /metrics", async () => {
    const { app, clock, fake, telegram } = await setup();
    fake.outage = { kind: "401", until: clock.now().getTime() + HOUR };
    await app.outbox.enqueue([to("3001", "a"), to("3002", "b")]);
    await telegram.drain();
    expect(await app.renderMetrics()).toContain('dvbot_outbox_channel_paused{channel="telegram"} 1');
    clock.advance(HOUR);
    fake.outage = { kind: "502", until: clock.now().getTime() + HOUR };
    await live([app], clock, 5 * MINUTE);
    // One was the probe, and waits for the platform's 502s to end; the other is given up here.
    await app.models.Outbox.updateOne({ attempts: 0 }, { $set: { status: "dead" } });
    const metrics = await app.renderMetrics();
    expect(metrics).toContain('dvbot_outbox_retrying{channel="telegram"} 1');
    expect(metrics).toContain('dvbot_outbox_dead{channel="telegram"} 1');
    expect(metrics).toContain('dvbot_outbound_total{channel="telegram",result="paused"}');
  });
});

describe("the send is apart from its record", () => {
  // A connection of its own, so cutting it leaves the other tests' connection alone.
  let connection: Connection;
  const uri = () => inject("mongoUri");
  const name = databaseName(import.meta.filename);
  const open = (c: Connection) =>
    c.openUri(uri(), { dbName: name, autoIndex: false, autoCreate: false, bufferCommands: false });
  beforeAll(async () => {
    connection = mongoose.createConnection();
    await open(connection);
  });
  afterAll(async () => {
    await connection.dropDatabase();
    await connection.close();
  });

  it("the database goes away right after the platform took a reminder: sent once, its reply-to link kept", async () => {
    const { app, clock, fake, telegram } = await setup(connection);
    const subject = { kind: "task" as const, id: "DVCQ-Q4-2025:II.1" };
    await app.outbox.enqueue([to("3001", "Nhắc hạn nhiệm vụ II.1", { subject }), to("3001", "Tin sau")]);
    let reopened: Promise<unknown> | undefined;
    fake.afterAccept = async () => {
      fake.afterAccept = undefined;
      // The fault is the database's: the connection is cut, and comes back a moment later.
      await connection.close();
      reopened = new Promise((resolve) => setTimeout(resolve, 400)).then(() => open(connection));
    };
    await telegram.drain();
    await reopened;
    // Long past the claim's lease: nothing may send the reminder again.
    clock.advance(5 * MINUTE);
    await telegram.drain();
    clock.advance(5 * MINUTE);
    await telegram.drain();

    expect(fake.received.get("3001")).toEqual(["Nhắc hạn nhiệm vụ II.1", "Tin sau"]);
    const reminder = await app.models.Outbox.findOne({
      dedupeKey: "outage:3001:Nhắc hạn nhiệm vụ II.1",
    }).lean();
    expect(reminder).toMatchObject({ status: "sent", platformMessageIds: ["1"] });
    expect(await app.links.subjectOf("telegram", "3001", "1")).toEqual(subject);
  });
});

describe("a fault at one write of a delivery's record, played by a wire proxy in front of the database", () => {
  const proxy = new WireProxy(hostOf(inject("mongoUri")));
  let connection: Connection;
  beforeAll(async () => {
    const port = await proxy.listen("bot");
    connection = await connectMongo(
      throughProxy(inject("mongoUri"), port),
      databaseName(`${import.meta.filename}-proxy`),
    );
  });
  afterAll(async () => {
    proxy.disarm();
    await connection.dropDatabase();
    await connection.close();
    await proxy.close();
  });

  // The record is one write, "sent" with the platform's ids, which is also the reply-to link:
  // refused, or applied with its answer lost to a cut connection.
  it.each([
    [1, "error"],
    [1, "cut-after"],
  ] as [number, DbFault][])(
    "write %i after the send, %s: sent once, marked sent, linked",
    async (at, fault) => {
      const { app, clock, fake, telegram } = await setup(connection);
      const subject = { kind: "task" as const, id: "DVCQ-Q4-2025:II.2" };
      await app.outbox.enqueue([to("3001", "Nhắc hạn nhiệm vụ II.2", { subject }), to("3001", "Tin sau")]);
      fake.afterAccept = async () => {
        fake.afterAccept = undefined;
        proxy.arm({ at, fault });
      };
      await telegram.drain();
      proxy.disarm();
      expect(proxy.faulted?.n).toBe(at);
      clock.advance(5 * MINUTE);
      await telegram.drain();

      expect(fake.received.get("3001")).toEqual(["Nhắc hạn nhiệm vụ II.2", "Tin sau"]);
      const reminder = await app.models.Outbox.findOne({ subject: { $exists: true } }).lean();
      expect(reminder).toMatchObject({ status: "sent", platformMessageIds: ["1"] });
      expect(await app.links.subjectOf("telegram", "3001", "1")).toEqual(subject);
    },
  );

  it("keeps the claim while the record is retried: another instance looking past the first lease leaves it", async () => {
    await connection.dropDatabase();
    const { app, clock } = await buildApp(connection);
    const fake = new FakeTelegram(clock);
    const mine = app.addChannel(fake.sender(), { recordRetryMs: 1_500 });
    const { app: other } = await buildApp(connection, clock);
    const theirs = other.addChannel(fake.sender());
    await app.outbox.enqueue([to("3001", "Nhắc hạn")]);
    let looked: Promise<number> | undefined;
    fake.afterAccept = async () => {
      fake.afterAccept = undefined;
      // A slow send (50 s of the 60 s lease), then its "sent" write is refused.
      clock.advance(50_000);
      proxy.arm({ at: 1, fault: "error" });
      // While the record waits to be written again, the lease taken at the claim runs out and
      // the other instance looks.
      looked = new Promise((resolve) => setTimeout(resolve, 500)).then(() => {
        clock.advance(30_000);
        return theirs.drain();
      });
    };
    await mine.drain();
    proxy.disarm();
    expect(proxy.faulted).toMatchObject({ command: "update", collection: "outbox" });
    expect(await looked).toBe(0);
    expect(fake.received.get("3001")).toEqual(["Nhắc hạn"]);
    expect(await app.models.Outbox.findOne().lean()).toMatchObject({ status: "sent" });
  });
});
