import { afterEach, describe, expect, inject, it } from "vitest";
import { ZaloBotApi } from "../../bots/zalo/bot-api.js";
import { buildApp, useDatabase } from "../support/db.js";
import { captureLog, WARN } from "./capture-log.js";
import { deliverAll, type Rig, startRig, textUpdate } from "./harness.js";

const db = useDatabase(import.meta.filename);
let rig: Rig | undefined;

afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

async function open(log = captureLog()) {
  await db.connection.dropDatabase();
  const { app } = await buildApp(db.connection);
  rig = await startRig(app, {
    mode: "polling",
    channel: { log: log.log, polling: { timeoutSeconds: 1, backoffMs: 10, maxBackoffMs: 20 } },
  });
  return { app, rig, lines: log.lines };
}

const pause = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** Waits until the poller has called getUpdates `count` more times. */
async function polls(r: Rig, count: number): Promise<void> {
  const target = r.fake.bot.polls + count;
  for (let i = 0; i < 500 && r.fake.bot.polls < target; i += 1) await new Promise((ok) => setTimeout(ok, 10));
  expect(r.fake.bot.polls).toBeGreaterThanOrEqual(target);
}

describe("long polling the Bot Platform", () => {
  it("reads Zalo's 408 'Request timeout' as nothing new, not as an error", async () => {
    const { rig, lines } = await open();
    rig.fake.bot.maxHoldMs = 5;
    await polls(rig, 5);
    expect(lines.filter((l) => l.level >= WARN)).toEqual([]);
    const api = new ZaloBotApi({ token: rig.fake.bot.token, baseUrl: rig.fake.url });
    expect(await api.getUpdates({ timeoutSeconds: 1 })).toEqual([]);
  });

  it("handles an update Zalo returns twice only once", async () => {
    const { app, rig } = await open();
    const update = textUpdate("6ede9afa66b88fe6d6a9", "/start");
    await rig.fake.deliver(update, 2);
    // Handed out at two polls, and the poller came back after each.
    expect(rig.fake.bot.calls.filter((c) => c.method === "getUpdates").length).toBeGreaterThanOrEqual(3);
    expect(await app.models.InboundRecord.countDocuments()).toBe(1);
    await deliverAll(app);
    expect(rig.fake.bot.sent.filter((m) => m.chatId === "6ede9afa66b88fe6d6a9")).toHaveLength(1);
  });

  it("keeps polling after a failed call, and logs it", async () => {
    const { app, rig, lines } = await open();
    rig.fake.failNext("getUpdates", { status: 502, body: "<html>Bad Gateway</html>" });
    rig.fake.failNext("getUpdates", {
      status: 200,
      body: { ok: false, error_code: 500, description: "Internal" },
    });
    await rig.fake.deliver(textUpdate("c0ffee00c0ffee00c0ff", "/help"));
    expect(await app.models.InboundRecord.countDocuments()).toBe(1);
    expect(lines.filter((l) => l.msg.includes("getUpdates failed"))).toHaveLength(2);
  });

  it("hands an update over again while the database is down, instead of letting the next poll drop it", async () => {
    const { app, rig, lines } = await open();
    const name = db.connection.name;
    // A real fault outside our code: the connection to the database goes away.
    await db.connection.close();
    const delivered = rig.fake.deliver(textUpdate("d0d0d0d0d0d0d0d0d0d0", "/help"));
    for (let i = 0; i < 500 && !lines.some((l) => l.level >= WARN); i += 1) await pause(10);
    await pause(200);
    await db.connection.openUri(inject("mongoUri"), { dbName: name });
    await delivered;
    expect(await app.models.InboundRecord.countDocuments()).toBe(1);
    await deliverAll(app);
    expect(rig.fake.bot.sent.filter((m) => m.chatId === "d0d0d0d0d0d0d0d0d0d0")).toHaveLength(1);
    // Held on to as a database failure, which is waited out however long it lasts.
    const retried = lines.find((l) => l.msg.includes("trying it again before polling on"));
    expect((retried as { database?: boolean } | undefined)?.database).toBe(true);
  });

  it("removes a webhook left by an earlier run, since getUpdates fails while one is set", async () => {
    const { app, rig } = await open();
    // The rig started polling already; simulate the earlier run's webhook and start again.
    await rig.channel.stop();
    rig.fake.bot.webhook = { url: "https://old.example.test/zalo/webhook", secret: "old-secret-123" };
    await rig.channel.start();
    expect(rig.fake.bot.webhook).toBeUndefined();
    await rig.fake.deliver(textUpdate("abcdefabcdefabcdefab", "/help"));
    expect(await app.models.InboundRecord.countDocuments()).toBe(1);
  });

  it("stops cleanly while a poll is held open", async () => {
    const { rig } = await open();
    rig.fake.bot.maxHoldMs = 60_000;
    await polls(rig, 1);
    await rig.channel.stop();
    const before = rig.fake.bot.polls;
    await new Promise((ok) => setTimeout(ok, 50));
    expect(rig.fake.bot.polls).toBe(before);
  });
});
