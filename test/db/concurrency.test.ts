import { describe, expect, it } from "vitest";
import type { ChannelSender, Delivery } from "../../src/engine/channel.js";
import { buildApp, useDatabase } from "../support/db.js";

const db = useDatabase(import.meta.filename);

describe("claims under concurrency", () => {
  it("gives a claim key to exactly one of many concurrent takers", async () => {
    const { app, clock } = await buildApp(db.connection);
    for (let round = 0; round < 5; round += 1) {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => app.claims.take(`race:${round}`, `w${i}`, clock.now())),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    }
  });

  it("two dispatchers on one outbox deliver each message exactly once", async () => {
    const { app } = await buildApp(db.connection);
    const delivered: string[] = [];
    const sender: ChannelSender = {
      channel: "console",
      async send(delivery: Delivery) {
        delivered.push(delivery.text);
        await new Promise((r) => setTimeout(r, 2));
        return { messageIds: [`p${delivered.length}`] };
      },
    };
    await app.outbox.enqueue(
      Array.from({ length: 30 }, (_, i) => ({
        to: { channel: "console" as const, chatId: `chat${i % 3}` },
        text: `tin ${i}`,
        dedupeKey: `race-outbox:${i}`,
      })),
    );
    const first = app.addChannel(sender);
    const { app: other } = await buildApp(db.connection);
    const second = other.addChannel(sender);
    await Promise.all([first.drain(), second.drain(), first.drain(), second.drain()]);
    expect(delivered).toHaveLength(30);
    expect(new Set(delivered).size).toBe(30);
    expect(await app.models.Outbox.countDocuments({ status: "sent" })).toBe(30);
  });
});
