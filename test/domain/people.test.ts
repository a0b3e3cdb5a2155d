import { describe, expect, it } from "vitest";
import { t } from "../../src/text/vi.js";
import { buildApp, useDatabase } from "../support/db.js";
import { consoleInbound } from "../support/inbound.js";

const db = useDatabase(import.meta.filename);

describe("/toi", () => {
  it("names the unit, and falls back to its key when the unit is gone", async () => {
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection);
    await app.units.upsert([{ key: "phong-qlkh", name: "Phòng Quản lý khoa học", kind: "division" }]);
    await app.people.ensurePerson(
      "console",
      "lan",
      { role: "staff", name: "Lê Thị Lan", unitId: "phong-qlkh" },
      clock.now(),
    );
    const reply = async () => {
      const update = consoleInbound("lan", "/toi");
      await app.engine.handle(update);
      const [message] = await app.models.Outbox.find({
        dedupeKey: { $regex: `^${update.dedupeKey}#` },
      }).lean();
      return message ? app.outbox.textOf(message) : "";
    };

    expect(await reply()).toBe(
      t.basics.me({
        name: "Lê Thị Lan",
        role: t.people.role("staff"),
        ref: (await app.people.search("Lê Thị Lan"))[0]?.ref ?? "",
        unit: "Phòng Quản lý khoa học",
        channels: "Console",
      }),
    );

    await app.models.Unit.deleteOne({ key: "phong-qlkh" });
    expect(await reply()).toContain("Đơn vị: phong-qlkh");
  });
});

describe("a speaker's channel account", () => {
  it("is written only when a message changes it: a new name, a lapse of 10 minutes, an unblock", async () => {
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection);
    const speak = (senderName: string) =>
      app.people.resolveSpeaker({
        channel: "console",
        senderId: "minh",
        chatId: "minh",
        chatType: "private",
        senderName,
        now: clock.now(),
      });
    // The display name is stored sealed; the test reads it as the service does.
    const account = async () => {
      const stored = await app.models.ChannelAccount.findOne({ externalId: "minh" }).lean();
      return stored && { ...stored, displayName: app.sealer.read(stored.displayName ?? "") };
    };
    const first = await speak("Minh");
    const seen = (await account())?.lastSeenAt;
    clock.advance(5 * 60_000);
    expect((await speak("Minh")).personId).toBe(first.personId);
    expect((await account())?.lastSeenAt).toEqual(seen);
    await speak("Trần Minh");
    expect(await account()).toMatchObject({ displayName: "Trần Minh", lastSeenAt: clock.now() });
    await app.people.markBlocked("console", "minh", clock.now());
    await speak("Trần Minh");
    expect((await account())?.blockedAt).toBeUndefined();
    // Blocked by another process (its dispatcher met the 403): this one took the citizen as read
    // a moment ago, and writes the unblock once that has lapsed (a minute).
    await app.models.ChannelAccount.updateOne({ externalId: "minh" }, { $set: { blockedAt: clock.now() } });
    clock.advance(61_000);
    await speak("Trần Minh");
    expect((await account())?.blockedAt).toBeUndefined();
    clock.advance(10 * 60_000);
    await speak("Trần Minh");
    expect((await account())?.lastSeenAt).toEqual(clock.now());
  });

  it("takes a citizen as read for a minute, and forgets that at once when people change here", async () => {
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection);
    const speak = () =>
      app.people.resolveSpeaker({
        channel: "telegram",
        senderId: "555",
        chatId: "555",
        chatType: "private",
        senderName: "Lan",
        now: clock.now(),
      });
    const first = await speak();
    expect(first.role).toBe("citizen");
    // Changed behind this process's back: not seen within the minute (a citizen may do least)…
    await app.models.Person.updateOne({ _id: first.personId }, { $set: { role: "staff" } });
    expect((await speak()).role).toBe("citizen");
    clock.advance(61_000);
    expect((await speak()).role).toBe("staff");
    // …and officials are never taken as read: taken back to citizen, it shows on the next message.
    await app.models.Person.updateOne({ _id: first.personId }, { $set: { role: "citizen" } });
    expect((await speak()).role).toBe("citizen");
    // A change made through this process shows at once.
    await app.people.setRole(first.personId, "office");
    expect((await speak()).role).toBe("office");
  });
});

describe("finding people by name", () => {
  it("matches the beginnings of the name's words in any order, with no readable name stored", async () => {
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection);
    for (const [id, name] of [
      ["binh", "Nguyễn Văn Bình"],
      ["binh2", "Trần Thị Bình"],
      ["an", "Lê Văn An"],
    ] as const) {
      await app.people.ensurePerson("console", id, { role: "staff", name }, clock.now());
    }
    const names = async (query: string) => (await app.people.search(query)).map((p) => p.name).sort();
    expect(await names("binh nguyen")).toEqual(["Nguyễn Văn Bình"]);
    expect(await names("BÌNH")).toEqual(["Nguyễn Văn Bình", "Trần Thị Bình"]);
    expect(await names("ngu va bi")).toEqual(["Nguyễn Văn Bình"]);
    expect(await names("van")).toEqual(["Lê Văn An", "Nguyễn Văn Bình"]);
    expect(await names("inh")).toEqual([]);
    expect(await names("--")).toEqual([]);
    const stored = JSON.stringify(await app.models.Person.find().lean()).toLowerCase();
    for (const piece of ["bình", "binh", "nguyễn", "nguyen"]) expect(stored).not.toContain(piece);
  });
});
