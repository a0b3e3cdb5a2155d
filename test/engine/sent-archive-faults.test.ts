import { describe, expect, it } from "vitest";
import type { Outbound } from "../../src/engine/message.js";
import { buildApp, useProxiedDatabase } from "../support/db.js";
import { RecordingSender } from "../support/recording-sender.js";

/**
 * The move of deliveries out of the outbox, and a decision taken again after it, with the database
 * failing at each of their writes in turn, seen through a wire proxy (from outside our code): the
 * write refused, the connection cut before it reached the server, or cut after the server did it
 * (the answer lost). Whatever the fault, once the work is run again every delivery's record is
 * kept exactly once, with its platform ids, and nothing is sent a second time.
 */
const db = useProxiedDatabase(import.meta.filename);
const { proxy } = db;

const FAULTS = ["error", "cut-before", "cut-after"] as const;
const KEYS = ["reminder:a", "reminder:b", "reminder:c"];

const said = (key: string): Outbound => ({
  to: { channel: "console", chatId: key.slice(-1) },
  text: `Nhắc việc ${key}`,
  dedupeKey: key,
});

/** Three reminders delivered two hours ago, their records still in the outbox. */
async function sentLongAgo() {
  await db.connection.dropDatabase();
  const { app, clock } = await buildApp(db.connection);
  const platform = new RecordingSender();
  const dispatcher = app.addChannel(platform, { baseBackoffMs: 100 });
  await app.outbox.enqueue(KEYS.map(said));
  await dispatcher.drain();
  clock.advance(2 * 3_600_000);
  return { app, clock, platform, dispatcher };
}

type Setup = Awaited<ReturnType<typeof sentLongAgo>>;

/** What must hold after any fault, once the work ran again: each record once, nothing said twice. */
async function holds({ app, platform, dispatcher }: Setup): Promise<void> {
  await app.outbox.enqueue(KEYS.map(said)).catch(() => undefined);
  await dispatcher.drain();
  expect(platform.delivered.map((d) => d.text)).toEqual(KEYS.map((key) => `Nhắc việc ${key}`));
  expect(await app.models.Outbox.countDocuments()).toBe(0);
  const records = await app.models.SentRecord.find().sort({ _id: 1 }).lean();
  expect(records.map((r) => [r._id, r.platformMessageIds])).toEqual([
    ["reminder:a", ["p1"]],
    ["reminder:b", ["p2"]],
    ["reminder:c", ["p3"]],
  ]);
}

/** How many writes `work` makes, counted on a clean run. */
async function writesOf(
  work: (setup: Setup) => Promise<unknown>,
  before?: (setup: Setup) => Promise<unknown>,
) {
  const setup = await sentLongAgo();
  await before?.(setup);
  proxy.arm();
  await work(setup);
  proxy.disarm();
  await holds(setup);
  return proxy.writes.length;
}

describe("deliveries moved out of the outbox, the database failing at each write", () => {
  const move = ({ app, clock }: Setup) => app.outbox.moveSent(clock.now());
  const decideAgain = ({ app }: Setup) => app.outbox.enqueue([said("reminder:b")]);

  it.each(FAULTS)("the move (%s), then the next sweep", async (fault) => {
    const writes = await writesOf(move);
    expect(writes).toBeGreaterThanOrEqual(2);
    for (let at = 1; at <= writes; at += 1) {
      const setup = await sentLongAgo();
      proxy.arm({ at, fault });
      await move(setup).catch(() => undefined);
      expect(proxy.faulted, `write ${at}`).toBeDefined();
      proxy.disarm();
      await move(setup);
      await holds(setup);
    }
  });

  it.each(FAULTS)("a decision taken again after the move (%s), then taken again once more", async (fault) => {
    const writes = await writesOf(decideAgain, move);
    // Its insert, and the delete of its copy once the record is found.
    expect(writes).toBe(2);
    for (let at = 1; at <= writes; at += 1) {
      const setup = await sentLongAgo();
      await move(setup);
      proxy.arm({ at, fault });
      await decideAgain(setup).catch(() => undefined);
      expect(proxy.faulted, `write ${at}`).toBeDefined();
      proxy.disarm();
      await holds(setup);
    }
  });
});
