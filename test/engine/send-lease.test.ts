import type { Connection } from "mongoose";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { FixedClock } from "../../src/clock.js";
import { connectMongo } from "../../src/db/connect.js";
import type { ChannelSender, Delivery } from "../../src/engine/channel.js";
import { SEND_LEASE_MS, SendLease } from "../../src/engine/send-lease.js";
import { buildApp, useDatabase } from "../support/db.js";

/**
 * Telegram's limits are per bot: 30 messages a second in all, one a second per chat. Two instances
 * each keeping them in memory would together send twice as fast. With the send lease, in any one
 * window only one instance sends on a channel; the other's messages wait and still go, once.
 */
const db = useDatabase(import.meta.filename);
let second: Connection;

beforeAll(async () => {
  second = await connectMongo(inject("mongoUri"), db.connection.name);
});
afterAll(async () => {
  await second.close();
});

/** A platform both instances send to, which notes who sent what and in which lease window. */
class Platform {
  readonly sends: { by: string; window: number; chatId: string; text: string }[] = [];
  constructor(private readonly clock: FixedClock) {}
  sender(by: string): ChannelSender {
    return {
      channel: "telegram",
      send: async (delivery: Delivery) => {
        const window = Math.floor(this.clock.now().getTime() / SEND_LEASE_MS);
        this.sends.push({ by, window, chatId: delivery.chatId, text: delivery.text });
        return { messageIds: [`m${this.sends.length}`] };
      },
    };
  }
}

describe("two instances sending on one channel", () => {
  it("send in turns, one per lease window, and deliver everything once", async () => {
    const clock = new FixedClock("2025-10-06T02:00:00Z");
    const platform = new Platform(clock);
    const { app: a } = await buildApp(db.connection, clock, { sendLease: true });
    const { app: b } = await buildApp(second, clock, { sendLease: true });
    a.addChannel(platform.sender("a"));
    b.addChannel(platform.sender("b"));
    const message = (app: string, i: number) => ({
      to: { channel: "telegram" as const, chatId: `chat${i % 7}` },
      text: `${app}-${i}`,
      dedupeKey: `${app}-${i}`,
    });
    await a.outbox.enqueue(Array.from({ length: 20 }, (_, i) => message("a", i)));
    await b.outbox.enqueue(Array.from({ length: 20 }, (_, i) => message("b", i)));

    for (let round = 0; round < 4 && platform.sends.length < 40; round += 1) {
      await Promise.all([a.dispatchers.get("telegram")?.drain(), b.dispatchers.get("telegram")?.drain()]);
      clock.advance(SEND_LEASE_MS);
    }

    const senders = new Map<number, Set<string>>();
    for (const send of platform.sends)
      senders.set(send.window, (senders.get(send.window) ?? new Set()).add(send.by));
    expect([...senders.values()].map((who) => who.size)).toEqual([...senders.keys()].map(() => 1));
    expect(platform.sends.map((s) => s.text).sort()).toEqual(
      [
        ...Array.from({ length: 20 }, (_, i) => `a-${i}`),
        ...Array.from({ length: 20 }, (_, i) => `b-${i}`),
      ].sort(),
    );
    // Each chat's messages in the order each instance wrote them.
    for (const app of ["a", "b"]) {
      for (let chat = 0; chat < 7; chat += 1) {
        const order = platform.sends
          .filter((s) => s.chatId === `chat${chat}` && s.text.startsWith(`${app}-`))
          .map((s) => Number(s.text.slice(2)));
        expect(order).toEqual([...order].sort((x, y) => x - y));
      }
    }
  });
});

describe("the lease's holder and the others", () => {
  it("knows when another instance waits on it, and when it is alone (then it may look less often)", async () => {
    const { app } = await buildApp(db.connection);
    const channel = "presence";
    const a = new SendLease(app.claims, channel, "a");
    const b = new SendLease(app.claims, channel, "b");
    const L = SEND_LEASE_MS;
    // The start of a window whose number is a multiple of 3, where the holder looks for requests.
    const w = Math.ceil(Date.parse("2025-10-06T02:00:00Z") / L / 3) * 3;
    const at = (window: number, ms = 0): Date => new Date(window * L + ms);

    // Its first window, nobody's before: alone.
    expect(await a.holds(at(w - 1))).toBe(true);
    expect(a.othersLately(at(w - 1))).toBe(false);
    // Alone: nobody asked for a window, and the one before was its own.
    expect(await a.holds(at(w))).toBe(true);
    expect(a.othersLately(at(w + 3))).toBe(false);

    // B, with messages to send, is refused a window; A finds that when it takes the next third.
    expect(await a.holds(at(w + 1))).toBe(true);
    expect(await a.holds(at(w + 2))).toBe(true);
    expect(await b.holds(at(w + 2, 100))).toBe(false);
    expect(a.othersLately(at(w + 4))).toBe(false);
    expect(await a.holds(at(w + 3))).toBe(true);
    expect(a.othersLately(at(w + 3))).toBe(true);
    expect(b.othersLately(at(w + 3))).toBe(false);

    // B stops asking: A is alone again once the last request is old.
    expect(await a.holds(at(w + 4))).toBe(true);
    expect(await a.holds(at(w + 5))).toBe(true);
    expect(await a.holds(at(w + 6))).toBe(true);
    expect(a.othersLately(at(w + 6))).toBe(true);
    expect(a.othersLately(at(w + 7))).toBe(false);
  });

  it("asks again in time to hold on without a gap, and a refused one at the next window", async () => {
    const { app } = await buildApp(db.connection);
    const a = new SendLease(app.claims, "renew", "a");
    const b = new SendLease(app.claims, "renew", "b");
    const L = SEND_LEASE_MS;
    const start = Math.ceil(Date.parse("2025-10-06T03:00:00Z") / L) * L;
    expect(await a.holds(new Date(start))).toBe(true);
    expect(a.renewInMs(new Date(start))).toBe(L - L / 5);
    // In the window's last fifth it takes the next one too: it asks again before that one ends.
    expect(await a.holds(new Date(start + L - L / 5))).toBe(true);
    expect(a.renewInMs(new Date(start + L - L / 5))).toBe(L);
    expect(await b.holds(new Date(start + 100))).toBe(false);
    expect(b.renewInMs(new Date(start + 100))).toBe(L - 100);
    // Refused the next window (B took it first): A asks again when its own ends, not at once.
    const c = new SendLease(app.claims, "renew-refused", "c");
    const d = new SendLease(app.claims, "renew-refused", "d");
    expect(await c.holds(new Date(start))).toBe(true);
    expect(await d.holds(new Date(start + L))).toBe(true);
    expect(await c.holds(new Date(start + L - L / 10))).toBe(true);
    expect(c.renewInMs(new Date(start + L - L / 10))).toBe(L / 10);
    // D took over from C, which may be writing still: D looks often until C's requests stop.
    expect(d.othersLately(new Date(start + L))).toBe(true);
    expect(d.othersLately(new Date(start + 5 * L))).toBe(false);
  });
});
