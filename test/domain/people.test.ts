import { Types } from "mongoose";
import { describe, expect, it, vi } from "vitest";
import { t } from "../../src/text/vi.js";
import { buildApp, firstSpeaker, useDatabase } from "../support/db.js";
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

  it("says newcomer on the message that filed the person, and on none after", async () => {
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection);
    const speak = (senderId: string) =>
      app.people.resolveSpeaker({
        channel: "telegram",
        senderId,
        chatId: senderId,
        chatType: "private",
        now: clock.now(),
      });
    const [one, two] = await Promise.all([speak("601"), speak("602")]);
    expect(one?.newcomer).toBe(true);
    expect(two?.newcomer).toBe(true);
    // Both written, each with its own person, though filed at the same moment.
    expect(await app.models.Person.countDocuments()).toBe(2);
    expect(one?.personId).not.toBe(two?.personId);
    expect((await speak("601")).newcomer).toBeUndefined();
    clock.advance(61_000);
    expect((await speak("601")).newcomer).toBeUndefined();
    // Made by configuration before writing: not a newcomer to the bot.
    await app.people.ensurePerson("telegram", "603", { role: "citizen" }, clock.now());
    clock.advance(61_000);
    expect((await speak("603")).newcomer).toBeUndefined();
  });

  it("in a chat that never kept a state, is written as new without a read first, and a known one is read all the same", async () => {
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection);
    const known = await app.people.ensurePerson(
      "telegram",
      "611",
      { role: "staff", name: "Lan" },
      clock.now(),
    );
    const reads = vi.spyOn(app.models.ChannelAccount, "findOne");
    try {
      const speak = (senderId: string) => firstSpeaker(app, senderId);
      // Three newcomers at once: each written as new, none read first.
      const fresh = await Promise.all(["612", "613", "614"].map(speak));
      for (const speaker of fresh) expect(speaker.newcomer).toBe(true);
      expect(reads).not.toHaveBeenCalled();
      const stored = await app.models.ChannelAccount.find({
        externalId: { $in: ["612", "613", "614"] },
      }).lean();
      expect(stored.map((a) => [a.externalId, a.personId.toHexString(), a.chatId]).sort()).toEqual(
        fresh.map((f, i) => [String(612 + i), f.personId, String(612 + i)]).sort(),
      );
      for (const account of stored) expect(account.createdAt).toBeInstanceOf(Date);
      // Someone known already: the write as new is refused, and their account is read.
      const staff = await speak("611");
      expect(reads).toHaveBeenCalledTimes(1);
      expect(staff).toMatchObject({ personId: known.personId, role: "staff", name: "Lan" });
      expect(staff.newcomer).toBeUndefined();
      expect(await app.models.ChannelAccount.countDocuments()).toBe(4);
    } finally {
      reads.mockRestore();
    }
  });
});

describe("a person filed twice at once", () => {
  it("is filed once: the second first message takes the person the first one wrote", async () => {
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection);
    // An account whose person is not written yet, as between a first message's two writes.
    const personId = new Types.ObjectId();
    await app.models.ChannelAccount.create({
      channel: "telegram",
      externalId: "621",
      personId,
      chatId: "621",
      lastSeenAt: clock.now(),
    });
    const speak = (chatId: string, chatType: "private" | "group") =>
      app.people.resolveSpeaker({ channel: "telegram", senderId: "621", chatId, chatType, now: clock.now() });
    const [one, two] = await Promise.all([speak("621", "private"), speak("-100621", "group")]);
    expect(one?.personId).toBe(personId.toHexString());
    expect(two?.personId).toBe(personId.toHexString());
    expect(await app.models.Person.countDocuments()).toBe(1);
  });
});

describe("the list of a role", () => {
  it("is read once for the callers asking together, and again for one asking after a change here", async () => {
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection);
    const lan = await app.people.ensurePerson(
      "telegram",
      "701",
      { role: "office", name: "Lan" },
      clock.now(),
    );
    await app.people.ensurePerson("telegram", "702", { role: "office", name: "Minh" }, clock.now());
    const reads = vi.spyOn(app.models.Person, "find");
    try {
      const together = await Promise.all([1, 2, 3].map(() => app.people.list({ role: "office" })));
      expect(reads).toHaveBeenCalledTimes(1);
      for (const list of together) expect(list.map((p) => p.name)).toEqual(["Lan", "Minh"]);
      // Each caller has its own copies: one changing its list changes no one else's.
      expect(together[0]?.[0]).not.toBe(together[1]?.[0]);

      // Asked while a read is on its way, after a change made here (one that needs no round
      // trip, so that read is surely still out): a read of its own.
      const early = app.people.list({ role: "office" });
      await app.people.changing(async () => undefined);
      const late = app.people.list({ role: "office" });
      expect(reads).toHaveBeenCalledTimes(3);
      await Promise.all([early, late]);
      // Nothing kept: the next caller reads again, and sees a change made since.
      await app.people.deactivate(lan.personId);
      expect((await app.people.list({ role: "office" })).map((p) => p.name)).toEqual(["Minh"]);
      expect(reads).toHaveBeenCalledTimes(4);
    } finally {
      reads.mockRestore();
    }
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
