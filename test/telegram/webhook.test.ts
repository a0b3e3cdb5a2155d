import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { t } from "../../src/text/vi.js";
import { buildApp, useDatabase } from "../support/db.js";
import { PUBLIC_URL, SECRET, startRig } from "./harness.js";

const db = useDatabase(import.meta.filename);
const fixtures = path.resolve(import.meta.dirname, "../fixtures/telegram");

async function rig() {
  await db.connection.dropDatabase();
  const { app, clock } = await buildApp(db.connection);
  return { ...(await startRig(app)), clock };
}

describe("the webhook", () => {
  it("is registered at <PUBLIC_URL>/telegram/webhook with the secret and only the updates we use", async () => {
    const r = await rig();
    try {
      expect(r.fake.callsOf("setWebhook").map((c) => c.params)).toEqual([
        {
          url: `${PUBLIC_URL}/telegram/webhook`,
          secret_token: SECRET,
          allowed_updates: ["message", "callback_query"],
        },
      ]);
      expect(r.fake.callsOf("deleteWebhook")).toEqual([]);
    } finally {
      await r.stop();
    }
  });

  it("refuses with 401 a call without the secret or with a wrong one; nothing reaches the engine", async () => {
    const r = await rig();
    try {
      expect(await r.post(r.updates.text("1001", "/help"), null)).toBe(401);
      expect(await r.post(r.updates.text("1001", "/help"), `${SECRET}-not`)).toBe(401);
      expect(await r.post(r.updates.text("1001", "/help"), SECRET.slice(0, -1))).toBe(401);
      expect(await r.app.models.InboundRecord.countDocuments()).toBe(0);
      await r.deliver();
      expect(r.fake.callsOf("sendMessage")).toEqual([]);
    } finally {
      await r.stop();
    }
  });

  it("with the secret: 200 once the engine has handled it; a redelivered update_id is handled once", async () => {
    const r = await rig();
    try {
      const update = r.updates.text("1002", "/help");
      expect(await r.post(update)).toBe(200);
      // The answer is in the outbox when the 200 goes out: recorded and handled, not yet sent.
      expect(
        await r.app.models.InboundRecord.countDocuments({ dedupeKey: `telegram:${update.update_id}` }),
      ).toBe(1);
      expect(await r.app.outbox.model.countDocuments({ chatId: "1002" })).toBe(1);
      expect(await r.post(update)).toBe(200);
      await r.deliver();
      expect(r.fake.messagesTo("1002")).toHaveLength(1);
      expect(r.fake.messagesTo("1002")[0]?.text).toContain("Các lệnh anh/chị có thể dùng");
    } finally {
      await r.stop();
    }
  });

  it("acknowledges update kinds it does not handle, and malformed bodies are refused", async () => {
    const r = await rig();
    try {
      for (const name of ["message-reaction", "my-chat-member-blocked", "edited-message", "channel-post"]) {
        const update: unknown = JSON.parse(readFileSync(path.join(fixtures, `${name}.json`), "utf8"));
        expect(await r.post(update)).toBe(200);
      }
      expect(await r.post({ hello: "world" })).toBe(400);
      expect(await r.app.models.InboundRecord.countDocuments()).toBe(0);
    } finally {
      await r.stop();
    }
  });

  it("answers 503 after stop, so Telegram keeps the update for later", async () => {
    const r = await rig();
    await r.channel.stop();
    try {
      expect(await r.post(r.updates.text("1003", "/help"))).toBe(503);
    } finally {
      await r.stop();
    }
  });
});

describe("the command menu", () => {
  it("after a message that is not a command, follows the role the turn read: who speaks is read once", async () => {
    const r = await rig();
    try {
      expect(await r.post(r.updates.text("5006", "xin chào"))).toBe(200);
      await r.deliver();
      const accounts = r.app.models.ChannelAccount;
      const reads = vi.spyOn(accounts, "findOne");
      try {
        expect(await r.post(r.updates.text("5006", "cho tôi hỏi"))).toBe(200);
        await r.deliver();
        // At most the turn's own read of the speaker (a citizen read a moment ago is taken as
        // read: none); the menu's refresh took the role from the turn, never reading it again.
        expect(reads.mock.calls.length).toBeLessThanOrEqual(1);
      } finally {
        reads.mockRestore();
      }
      expect(r.fake.messagesTo("5006")).toHaveLength(2);
    } finally {
      await r.stop();
    }
  });

  it("after a command that changes no one, follows the role the turn read too", async () => {
    const r = await rig();
    try {
      expect(await r.post(r.updates.text("5007", "xin chào"))).toBe(200);
      await r.deliver();
      const people = vi.spyOn(r.app.models.Person, "findById");
      try {
        expect(await r.post(r.updates.text("5007", "/help"))).toBe(200);
        await r.deliver();
        // The turn read the speaker (a citizen read a moment ago: not even that); /help wrote no
        // person or account, so the menu's refresh did not read who they are again.
        expect(people).not.toHaveBeenCalled();
      } finally {
        people.mockRestore();
      }
      expect(r.fake.messagesTo("5007")).toHaveLength(2);
    } finally {
      await r.stop();
    }
  });

  it("a newcomer's first message reads no account and costs no menu call; an official's command reads as before; a citizen known before the start has their menu cleared once", async () => {
    const r = await rig();
    try {
      // Known before this process started (a former official's chat may still have its own menu).
      await r.app.people.ensurePerson("telegram", "5010", { role: "citizen" }, r.clock.now());
      // A chat with no state yet: its first message files its sender without reading for them first.
      const reads = vi.spyOn(r.app.models.ChannelAccount, "findOne");
      try {
        expect(await r.post(r.updates.text("5011", "/gopy"))).toBe(200);
        await r.deliver();
        expect(reads).not.toHaveBeenCalled();
      } finally {
        reads.mockRestore();
      }
      // Anything but /start or a flow's command, in a chat that never kept a state (an official's
      // commands): read, and a known account seen a moment ago is not written again.
      await r.app.people.ensurePerson("telegram", "5012", { role: "staff" }, r.clock.now());
      expect(await r.post(r.updates.text("5012", "xin chào"))).toBe(200);
      await r.deliver();
      const writes = vi.spyOn(r.app.models.ChannelAccount, "findOneAndUpdate");
      try {
        expect(await r.post(r.updates.text("5012", "/help"))).toBe(200);
        await r.deliver();
        expect(writes).not.toHaveBeenCalled();
      } finally {
        writes.mockRestore();
      }
      for (const chat of ["5009", "5010"]) {
        expect(await r.post(r.updates.text(chat, "xin chào"))).toBe(200);
        await r.deliver();
        expect(await r.post(r.updates.text(chat, "/help"))).toBe(200);
        await r.deliver();
      }
      const cleared = r.fake.callsOf("deleteMyCommands").map((c) => c.params.scope);
      expect(cleared).toEqual([{ type: "chat", chat_id: "5010" }]);
      expect(r.fake.messagesTo("5009")).toHaveLength(2);
      expect(r.fake.messagesTo("5011")).toHaveLength(1);
    } finally {
      await r.stop();
    }
  });

  it("the default menu lists the citizen commands in Vietnamese", async () => {
    const r = await rig();
    try {
      const [call] = r.fake.callsOf("setMyCommands");
      expect(call?.params.scope).toBeUndefined();
      const commands = call?.params.commands as { command: string; description: string }[];
      expect(commands).toContainEqual({ command: "help", description: t.basics.helpDescription });
      expect(commands.map((c) => c.command)).not.toContain("phanquyen");
    } finally {
      await r.stop();
    }
  });

  it("/start CODE: an invited official joins, and their chat gets the officials' menu", async () => {
    const r = await rig();
    try {
      await r.app.units.upsert([{ key: "van-phong", name: "Văn phòng Sở", kind: "office" }]);
      const office = await r.app.people.ensurePerson("telegram", "900", { role: "office" }, r.clock.now());
      const invite = await r.app.invites.create("van-phong", "staff", office.personId, r.clock.now());
      expect(await r.post(r.updates.text("5005", `/start ${invite.code}`))).toBe(200);
      await r.deliver();
      expect(r.fake.messagesTo("5005").at(-1)?.text).toBe(
        t.officials.joined(t.people.role("staff"), "Văn phòng Sở"),
      );
      const scoped = r.fake
        .callsOf("setMyCommands")
        .filter((c) => (c.params.scope as { chat_id?: unknown } | undefined)?.chat_id !== undefined);
      expect(scoped).toHaveLength(1);
      expect(scoped[0]?.params.scope).toEqual({ type: "chat", chat_id: "5005" });
      const names = (scoped[0]?.params.commands as { command: string }[]).map((c) => c.command);
      expect(names).toEqual(r.app.engine.commands.allowed("staff", "telegram").map((c) => c.name));
      expect(names).toContain("nhiemvu");

      // The same role again costs no call.
      expect(await r.post(r.updates.text("5005", "/help"))).toBe(200);
      await r.deliver();
      expect(r.fake.callsOf("setMyCommands")).toHaveLength(2);
    } finally {
      await r.stop();
    }
  });
});
