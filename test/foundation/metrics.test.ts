import { describe, expect, it } from "vitest";
import { SendError, type ChannelSender } from "../../src/engine/channel.js";
import { Metrics } from "../../src/metrics.js";
import { buildApp, useDatabase } from "../support/db.js";

const db = useDatabase(import.meta.filename);

describe("/metrics", () => {
  it("renders counters in the Prometheus text format", () => {
    const m = new Metrics();
    m.count("x_total", "Things", { kind: 'a"b' });
    m.count("x_total", "Things", { kind: 'a"b' }, 2);
    m.set("y", "A gauge", {}, 7);
    expect(m.render()).toBe(
      '# HELP x_total Things\n# TYPE x_total counter\nx_total{kind="a\\"b"} 3\n# HELP y A gauge\n# TYPE y gauge\ny 7\n',
    );
  });

  it("counts inbound outcomes, deliveries and the outbox backlog", async () => {
    const { app } = await buildApp(db.connection);
    let fail = true;
    const sender: ChannelSender = {
      channel: "console",
      async send() {
        if (fail) {
          fail = false;
          throw new SendError("network", "down");
        }
        return { messageIds: ["1"] };
      },
    };
    app.addChannel(sender);
    const update = {
      channel: "console" as const,
      chatId: "c1",
      chatType: "private" as const,
      senderId: "c1",
      messageId: "1",
      text: "/start",
      attachments: [],
      dedupeKey: "metrics:1",
      receivedAt: new Date(),
    };
    await app.engine.handle(update);
    await app.engine.handle(update);
    await app.dispatchers.get("console")?.drain();
    const text = await app.renderMetrics();
    expect(text).toContain('dvbot_inbound_total{channel="console",outcome="handled"} 1');
    expect(text).toContain('dvbot_inbound_total{channel="console",outcome="duplicate"} 1');
    expect(text).toContain('dvbot_outbound_total{channel="console",result="retry"} 1');
    expect(text).toContain('dvbot_outbox_backlog{channel="console",status="pending"} 1');
    expect(text).toMatch(/process_resident_memory_bytes \d+/);
  });
});
