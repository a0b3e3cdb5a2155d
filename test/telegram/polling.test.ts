import { describe, expect, inject, it } from "vitest";
import { buildApp, useDatabase } from "../support/db.js";
import { startRig, waitFor } from "./harness.js";
import { handedIn } from "../support/inbound.js";

const db = useDatabase(import.meta.filename);

async function pollingRig(typingAfterMs = 0) {
  await db.connection.dropDatabase();
  const { app, clock } = await buildApp(db.connection);
  return { ...(await startRig(app, { mode: "polling", background: true, typingAfterMs })), clock };
}

describe("long polling (no PUBLIC_URL)", () => {
  it("removes any webhook, polls, and answers through the running outbox dispatcher", async () => {
    const r = await pollingRig();
    try {
      expect(r.fake.callsOf("deleteWebhook")).toHaveLength(1);
      expect(r.fake.callsOf("setWebhook")).toEqual([]);
      const seen = handedIn(r.app.engine);
      r.fake.push(r.updates.text("2001", "/help"));
      r.fake.push(r.updates.photo("2002", "Ảnh hiện trường"));
      r.fake.push(r.updates.text("2001", "/toi"));
      await waitFor(() => {
        // One message per second per chat: let the fixed clock move on while we wait.
        r.clock.advance(1_000);
        return r.fake.messagesTo("2001").length === 2 && r.fake.messagesTo("2002").length === 1;
      }, "the answers to both chats");
      const [help, me] = r.fake.messagesTo("2001");
      expect(help?.text).toContain("Các lệnh anh/chị có thể dùng");
      expect(me?.text).toContain("Mã người dùng");
      const photo = [...seen.values()].find((i) => i.chatId === "2002");
      expect(photo?.attachments[0]).toMatchObject({ kind: "photo" });
      // A typing indicator went to each chat, its turns taking longer than the rig's 0 ms.
      const typing = r.fake.callsOf("sendChatAction").map((c) => [String(c.params.chat_id), c.params.action]);
      expect(typing).toContainEqual(["2001", "typing"]);
      expect(typing).toContainEqual(["2002", "typing"]);
    } finally {
      await r.stop();
    }
    // stop() confirmed the last batch: a restart would not fetch it again.
    expect(r.fake.unconfirmed).toBe(0);
  });

  it("a turn done before the indicator is due shows none", async () => {
    const r = await pollingRig(2_000);
    try {
      // A first turn warms the database up (its collections are made on the first writes).
      r.fake.push(r.updates.text("2005", "/help"));
      await waitFor(() => r.fake.messagesTo("2005").length === 1, "the first answer");
      r.fake.push(r.updates.text("2004", "/help"));
      await waitFor(() => r.fake.messagesTo("2004").length === 1, "the answer");
      await r.channel.idle();
      // Past the time it would have been due: it was called off, not late.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect(r.fake.callsOf("sendChatAction").filter((c) => String(c.params.chat_id) === "2004")).toEqual([]);
    } finally {
      await r.stop();
    }
  });

  it("the same update_id fetched twice (delivery is at least once) is handled once", async () => {
    const r = await pollingRig();
    try {
      const update = r.updates.text("2003", "/start");
      r.fake.push(update);
      r.fake.push(update);
      await waitFor(() => r.fake.unconfirmed === 0 && r.fake.messagesTo("2003").length > 0, "the batch");
      await r.channel.idle();
      expect(await r.app.models.InboundRecord.countDocuments()).toBe(1);
      expect(r.fake.messagesTo("2003")).toHaveLength(1);
    } finally {
      await r.stop();
    }
  });

  it("fetches a batch again when its handling failed because the database was away", async () => {
    const r = await pollingRig();
    try {
      const name = db.connection.name;
      // A real fault outside our code: the connection to the database goes away.
      await db.connection.close();
      r.fake.push(r.updates.text("2005", "/help"));
      const polls = r.fake.callsOf("getUpdates").length;
      await waitFor(() => r.fake.callsOf("getUpdates").length > polls, "a poll that hands the update out");
      await new Promise((resolve) => setTimeout(resolve, 300));
      await db.connection.openUri(inject("mongoUri"), { dbName: name });
      await waitFor(() => {
        r.clock.advance(1_000);
        return r.fake.messagesTo("2005").length === 1;
      }, "the answer once the database is back");
      expect(await r.app.models.InboundRecord.countDocuments()).toBe(1);
    } finally {
      await r.stop();
    }
  });

  it("keeps polling after Telegram fails", async () => {
    const r = await pollingRig();
    try {
      r.fake.fail({ method: "getUpdates", errorCode: 502, description: "Bad Gateway" });
      r.fake.push(r.updates.text("2004", "/help"));
      await waitFor(() => r.fake.messagesTo("2004").length === 1, "the answer after the failure");
      expect(r.fake.callsOf("getUpdates").some((c) => !c.ok)).toBe(true);
    } finally {
      await r.stop();
    }
  });
});
