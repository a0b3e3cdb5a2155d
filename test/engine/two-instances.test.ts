import { afterAll, afterEach, beforeAll, describe, expect, it, inject } from "vitest";
import mongoose, { type Connection } from "mongoose";
import type { App } from "../../src/app.js";
import { seedDemoPeople } from "../../src/seed.js";
import { connectMongo } from "../../src/db/connect.js";
import { buildApp as buildAnApp, consoleSpeaker, fileTicket, useDatabase } from "../support/db.js";
import { consoleInbound } from "../support/inbound.js";

/**
 * Two bot instances on one database, each handed a different message of the same chat at the same
 * moment (a webhook spread over instances): each message must be applied to the state the other left,
 * never both to the same state, or a step is answered twice and an answer lost.
 */
const db = useDatabase(import.meta.filename);
/**
 * The apps of a test, idled after it: each holds its turns' "handled" marks for a few seconds, and
 * a later test's recovery, its clock moved past every claim, would take their updates back.
 */
const built: App[] = [];
async function buildApp(connection: Connection): ReturnType<typeof buildAnApp> {
  const made = await buildAnApp(connection);
  built.push(made.app);
  return made;
}
afterEach(async () => {
  await Promise.all(built.splice(0).map((app) => app.engine.idle()));
});
let second: Connection;

beforeAll(async () => {
  second = await connectMongo(inject("mongoUri"), db.connection.name);
});
afterAll(async () => {
  await second.close();
});

async function stepOf(app: App, chat: string): Promise<string | undefined> {
  return (await app.sessions.load(`console:${chat}:${chat}`, new Date("2025-10-06T02:00:00Z")))?.step;
}

/** Two instances on one database (the first with the clock), and the console chat's session key. */
async function twoInstances(chat: string) {
  const { app: a, clock } = await buildApp(db.connection);
  const { app: b } = await buildApp(second);
  return { a, b, clock, key: `console:${chat}:${chat}` };
}

/** What a citizen types in /gopy up to its confirmation, sending anonymously. */
const TO_CONFIRM = [
  "/gopy",
  "gop y",
  "chuyen doi so",
  "Cổng dịch vụ công nên cho biết hồ sơ đang ở bước nào, kèm ngày dự kiến trả kết quả.",
  "bỏ qua",
  "Gửi ẩn danh",
];

describe("two instances, one chat", () => {
  it("applies two answers given at once one after the other, as one instance would", async () => {
    const { app: a } = await buildApp(db.connection);
    const { app: b } = await buildApp(second);
    // What one instance does with /gopy, then "1" (the type), then "1" (the field).
    await a.engine.handle(consoleInbound("alone", "/gopy"));
    await a.engine.handle(consoleInbound("alone", "1"));
    await a.engine.handle(consoleInbound("alone", "1"));
    const expected = await stepOf(a, "alone");
    expect(expected).toBeDefined();

    for (let round = 0; round < 3; round += 1) {
      const chat = `racer${round}`;
      await a.engine.handle(consoleInbound(chat, "/gopy"));
      const outcomes = await Promise.all([
        a.engine.handle(consoleInbound(chat, "1")),
        b.engine.handle(consoleInbound(chat, "1")),
      ]);
      expect(outcomes).toEqual(["handled", "handled"]);
      expect(await stepOf(a, chat)).toBe(expected);
    }
  });

  it("answers where the chat is when the other instance moved it on since this one's last turn", async () => {
    const { app: a } = await buildApp(db.connection);
    const { app: b } = await buildApp(second);
    // One instance alone: where "/gopy" then "1" leaves a chat, and where one more "1" does.
    await a.engine.handle(consoleInbound("solo", "/gopy"));
    await a.engine.handle(consoleInbound("solo", "1"));
    const afterType = await stepOf(a, "solo");
    await a.engine.handle(consoleInbound("solo", "1"));
    const afterField = await stepOf(a, "solo");
    expect(afterType).toBeDefined();
    expect(afterField).not.toBe(afterType);

    // A's last turn left the chat outside any flow; B starts /gopy in it; A gets the answer. A
    // must answer B's flow, not the state its own last turn left: it remembers that state, and
    // finds B's after it by its id before the turn runs (a flow's effects come before any write).
    await a.engine.handle(consoleInbound("moved", "xin chào"));
    await b.engine.handle(consoleInbound("moved", "/gopy"));
    expect(await a.engine.handle(consoleInbound("moved", "1"))).toBe("handled");
    expect(await stepOf(a, "moved")).toBe(afterType);

    // A's last turn left the chat at the type step; B answers it; A's answer is to the next step.
    await a.engine.handle(consoleInbound("moved2", "/gopy"));
    await b.engine.handle(consoleInbound("moved2", "1"));
    expect(await a.engine.handle(consoleInbound("moved2", "1"))).toBe("handled");
    expect(await stepOf(a, "moved2")).toBe(afterField);
  });

  it("files one ticket when the confirming answer is sent twice and handled on both at once", async () => {
    const { app: a } = await buildApp(db.connection);
    const { app: b } = await buildApp(second);
    for (let round = 0; round < 3; round += 1) {
      const chat = `double-tap${round}`;
      for (const text of [
        "/gopy",
        "gop y",
        "chuyen doi so",
        `Cổng dịch vụ công nên có video hướng dẫn cho từng thủ tục, lần ${round}.`,
        "bỏ qua",
        "Gửi ẩn danh",
      ]) {
        await a.engine.handle(consoleInbound(chat, text));
      }
      expect(await stepOf(a, chat)).toBe("confirm");
      const outcomes = await Promise.all([
        a.engine.handle(consoleInbound(chat, "Gửi")),
        b.engine.handle(consoleInbound(chat, "Gửi")),
      ]);
      expect(outcomes).toEqual(["handled", "handled"]);
      const filer = await a.models.ChannelAccount.findOne({ externalId: chat }).lean();
      expect(await a.models.Ticket.countDocuments({ "filer.personId": filer?.personId })).toBe(1);
    }
  });

  it("lets one of two changes made to one ticket at once through, and records it", async () => {
    const { app: a, clock } = await buildApp(db.connection);
    const { app: b } = await buildApp(second);
    await seedDemoPeople(a, clock.now());
    const citizen = await consoleSpeaker(a, "citizen");
    const [officeA, officeB] = [await consoleSpeaker(a, "office"), await consoleSpeaker(b, "office")];
    for (let round = 0; round < 4; round += 1) {
      const code = await fileTicket(
        a,
        citizen,
        `race-${round}`,
        `Góp ý số ${round} về thời gian trả kết quả hồ sơ.`,
      );
      const results = await Promise.allSettled([
        a.feedback.answer(code, "Trả lời của người thứ nhất.", officeA, clock.now(), `ua-${round}`),
        b.feedback.answer(code, "Trả lời của người thứ hai.", officeB, clock.now(), `ub-${round}`),
      ]);
      const won = results.filter((r) => r.status === "fulfilled");
      expect(won).toHaveLength(1);
      const ticket = await a.feedback.byCode(code);
      const answered = ticket?.history.filter((h) => h.action === "answered") ?? [];
      expect(answered).toHaveLength(1);
      expect(ticket?.answer?.text).toBe(answered[0]?.note);
    }
  });

  it("does not apply a replayed update again when its run on a later state was already saved", async () => {
    const { app, clock } = await buildApp(db.connection);
    const chat = "console:rerun:rerun";
    await app.engine.handle(consoleInbound("rerun", "/gopy"));
    const loaded = await app.sessions.read(chat, clock.now());
    const state = loaded.state;
    if (!state) throw new Error("no flow");
    const u = consoleInbound("rerun", "1");
    await app.inbox.record(u, clock.now(), state, loaded.seq, loaded.stateId);
    // Another instance answered first (seq + 1); u lost the race, ran again on that state and
    // saved its answer (seq + 2), then the process died before marking u handled.
    await app.sessions.save(chat, loaded.seq, { ...state, step: "field" }, "another-update", clock.now());
    await app.sessions.save(chat, loaded.seq + 1, { ...state, step: "content" }, u.dedupeKey, clock.now());
    clock.advance(61_000);
    expect(await app.engine.recoverAbandoned()).toBe(1);
    const newest = await app.models.Session.findOne({ key: chat }).sort({ seq: -1 }).lean();
    expect([newest?.seq, newest?.update]).toEqual([loaded.seq + 2, u.dedupeKey]);
  });

  it("knows a cut-off update was overtaken even when the later one's record sorts first", async () => {
    const { app, clock } = await buildApp(db.connection);
    const chat = "console:overtaken:overtaken";
    await app.engine.handle(consoleInbound("overtaken", "/gopy"));
    const loaded = await app.sessions.read(chat, clock.now());
    // V, handled on another instance, answered the type question first...
    await app.engine.handle(consoleInbound("overtaken", "1"));
    expect(await stepOf(app, "overtaken")).toBe("field");
    // ...and U, which came first and whose instance died at once, was recorded by a process whose
    // ids happen to sort after V's (ids from two processes say nothing of their order).
    const u = consoleInbound("overtaken", "phản ánh");
    await app.inbox.record(u, clock.now(), loaded.state ?? null, loaded.seq, loaded.stateId);
    clock.advance(61_000);
    expect(await app.engine.recoverAbandoned()).toBe(1);
    // U is not applied to the field question V moved the chat to: no new state, nothing said.
    const newest = await app.models.Session.findOne({ key: chat }).sort({ seq: -1 }).lean();
    expect(newest?.seq).toBe(loaded.seq + 1);
    expect(await app.models.Outbox.countDocuments({ dedupeKey: { $regex: `^${u.dedupeKey}#` } })).toBe(0);
  });

  it("checks a remembered state before a flow's end: a feedback withdrawn on the other instance is not filed", async () => {
    const chat = "stale-confirm";
    const { a, b } = await twoInstances(chat);
    for (const text of TO_CONFIRM) await a.engine.handle(consoleInbound(chat, text));
    expect(await stepOf(a, chat)).toBe("confirm");
    // The person cancels, on B. A still remembers the confirmation, and its "Gửi" from there
    // would file what the person withdrew.
    expect(await b.engine.handle(consoleInbound(chat, "Hủy"))).toBe("handled");
    expect(await stepOf(b, chat)).toBeUndefined();
    expect(await a.engine.handle(consoleInbound(chat, "Gửi"))).toBe("handled");
    const filer = await a.models.ChannelAccount.findOne({ externalId: chat }).lean();
    expect(await a.models.Ticket.countDocuments({ "filer.personId": filer?.personId })).toBe(0);
  });

  it("checks a remembered state beside the confirmation's reads, and still files once it passed", async () => {
    const chat = "check-beside";
    const watched = await mongoose
      .createConnection(inject("mongoUri"), { dbName: db.connection.name, monitorCommands: true })
      .asPromise();
    const { app } = await buildApp(watched);
    try {
      for (const text of TO_CONFIRM) await app.engine.handle(consoleInbound(chat, text));
      // Connections enough in the pool for the turn's reads at once: the driver says a command
      // started only once it has a connection, and one being made could come after the check's answer.
      await Promise.all(Array.from({ length: 6 }, () => watched.db?.command({ ping: 1 })));
      // What the "Gửi" turn sends the database, in order: the check reads the chat's state by
      // _id, the filing reads the person's tickets.
      const events: string[] = [];
      const names = new Map<number, string>();
      const client = watched.getClient();
      client.on("commandStarted", (event) => {
        const target = (event.command as Record<string, unknown>).find;
        if (target !== "sessions" && target !== "tickets") return;
        names.set(event.requestId, target);
        events.push(`${target} asked`);
      });
      client.on("commandSucceeded", (event) => {
        const name = names.get(event.requestId);
        if (name) events.push(`${name} answered`);
      });
      expect(await app.engine.handle(consoleInbound(chat, "Gửi"))).toBe("handled");
      // The check and the filing's read are both asked before the check's answer is in.
      expect(events.indexOf("sessions asked")).toBeGreaterThanOrEqual(0);
      expect(events.indexOf("tickets asked")).toBeGreaterThanOrEqual(0);
      expect(events.indexOf("tickets asked")).toBeLessThan(events.indexOf("sessions answered"));
      const filer = await app.models.ChannelAccount.findOne({ externalId: chat }).lean();
      expect(await app.models.Ticket.countDocuments({ "filer.personId": filer?.personId })).toBe(1);
    } finally {
      // Its "handled" marks written while its connection is open: a later test's recovery would take them.
      await app.engine.idle();
      await watched.close();
    }
  });

  it("without the platform's order (Zalo, the console) reads the state first: a withdrawn feedback is not filed", async () => {
    const chat = "unordered";
    const { a, b, clock, key } = await twoInstances(chat);
    const unordered = (text: string) => consoleInbound(chat, text, { order: undefined });
    for (const text of TO_CONFIRM) await a.engine.handle(unordered(text));
    expect(await stepOf(a, chat)).toBe("confirm");
    expect(await b.engine.handle(unordered("Hủy"))).toBe("handled");
    const u = unordered("Gửi");
    expect(await a.engine.handle(u)).toBe("handled");
    const filer = await a.models.ChannelAccount.findOne({ externalId: chat }).lean();
    expect(await a.models.Ticket.countDocuments({ "filer.personId": filer?.personId })).toBe(0);
    // Read, not remembered: its record keeps no mark of an unchecked state, and needs no note.
    const record = await a.models.InboundRecord.findOne({ dedupeKey: u.dedupeKey }).lean();
    expect(record?.unchecked).toBeUndefined();
    expect(await a.inbox.wasChecked(u.dedupeKey)).toBe(false);
    expect((await a.sessions.current(key, clock.now())).unchecked).toBeUndefined();
  });

  it("counts a button of the other instance's newer question, though this one remembers an older state", async () => {
    const chat = "newer-keyboard";
    const { a, b, clock, key } = await twoInstances(chat);
    await a.engine.handle(consoleInbound(chat, "/gopy"));
    // B asks the field question; its keyboard carries the sequence number B left the chat at.
    await b.engine.handle(consoleInbound(chat, "1"));
    const { seq } = await b.sessions.read(key, clock.now());
    expect((await a.sessions.recall(key, clock.now())).seq).toBe(seq - 1);
    const field = a.feedback.rules.fields[0]?.key ?? "";
    expect(await a.engine.handle(consoleInbound(chat, "", { choice: field, step: seq }))).toBe("handled");
    expect(await stepOf(b, chat)).not.toBe("field");
  });

  it("refuses a second press of a keyboard the other instance already took, though this one remembers it", async () => {
    const chat = "double-press";
    const { a, b, clock, key } = await twoInstances(chat);
    await a.engine.handle(consoleInbound(chat, "/gopy"));
    // The type question's keyboard carries the sequence number A left the chat at, and A remembers it.
    const { seq, unchecked } = await a.sessions.recall(key, clock.now());
    expect(unchecked).toBe(true);
    // A double tap: the first press reaches B, which asks the field question; the second reaches
    // A, where its step still matches. It must not answer the field question B asked.
    expect(await b.engine.handle(consoleInbound(chat, "", { choice: "gop_y", step: seq }))).toBe("handled");
    expect(await a.engine.handle(consoleInbound(chat, "", { choice: "gop_y", step: seq }))).toBe("stale");
    const newest = await a.models.Session.findOne({ key }).sort({ seq: -1 }).lean();
    expect(newest?.seq).toBe(seq + 1);
    // A met B's state where it remembered its own: for a while it reads this chat's state rather
    // than remember it, a balancer spreading the chat's messages making every other memory old.
    expect((await a.sessions.recall(key, clock.now())).unchecked).toBeUndefined();
    // Five minutes on, the chat is read once more (the memory is too old too), then remembered.
    clock.advance(5 * 60_000);
    expect((await a.sessions.recall(key, clock.now())).unchecked).toBeUndefined();
    expect((await a.sessions.recall(key, clock.now())).unchecked).toBe(true);
  });

  it("answers where the chat is when a cut-off update's remembered state was left before it came", async () => {
    const chat = "stale-cut";
    const { a, b, clock, key } = await twoInstances(chat);
    await a.engine.handle(consoleInbound(chat, "/gopy"));
    // A remembers the type question. B answers it (V); the person's answer to B's field question
    // (U) reaches A, which records it with the state it remembers, and dies before its turn ends.
    const remembered = await a.sessions.recall(key, clock.now());
    expect(remembered.unchecked).toBe(true);
    const early = consoleInbound(chat, "2");
    await b.engine.handle(consoleInbound(chat, "1"));
    // B's "handled" marks written, so recovery on A takes only what A left.
    await b.engine.idle();
    await a.engine.idle();
    const u = consoleInbound(chat, "1");
    const { state, seq, stateId } = remembered;
    await a.inbox.record(u, clock.now(), state ?? null, seq, stateId, true);
    clock.advance(61_000);
    expect(await a.engine.recoverAbandoned()).toBe(1);
    // U answered the field question B asked: the chat is past it, on the state U wrote.
    const newest = await a.models.Session.findOne({ key }).sort({ seq: -1 }).lean();
    expect([newest?.seq, newest?.update]).toEqual([seq + 2, u.dedupeKey]);
    expect(await a.models.Outbox.countDocuments({ dedupeKey: { $regex: `^${u.dedupeKey}#r` } })).toBe(1);

    // The same record for a message the person sent before V: V took its place, it is dropped.
    await a.inbox.record(early, clock.now(), state ?? null, seq, stateId, true);
    clock.advance(61_000);
    expect(await a.engine.recoverAbandoned()).toBe(1);
    const after = await a.models.Session.findOne({ key }).sort({ seq: -1 }).lean();
    expect(after?.seq).toBe(seq + 2);
    expect(await a.models.Outbox.countDocuments({ dedupeKey: { $regex: `^${early.dedupeKey}#` } })).toBe(0);
  });

  it("takes a cut-off update whose flow's end was checked as any other: a state written later overtook it", async () => {
    const { app, clock } = await buildApp(db.connection);
    const chat = "checked-end";
    const key = `console:${chat}:${chat}`;
    const steps = [
      "/gopy",
      "gop y",
      "chuyen doi so",
      "Nên nhắn tin báo khi hồ sơ trực tuyến bị trả lại, kèm lý do cụ thể.",
      "bỏ qua",
      "Gửi ẩn danh",
      "Gửi",
    ];
    const updates = steps.map((text) => consoleInbound(chat, text));
    for (const update of updates) await app.engine.handle(update);
    await app.engine.idle();
    // A step in the middle kept its state from memory unchecked; the flow's end checked it.
    const [middle, end] = updates.slice(-2).map((u) => u.dedupeKey);
    const record = await app.models.InboundRecord.findOne({ dedupeKey: middle }).lean();
    expect(record?.unchecked).toBe(true);
    expect(await app.inbox.wasChecked(middle ?? "")).toBe(false);
    expect(await app.inbox.wasChecked(end ?? "")).toBe(true);

    // So a crash after the flow's effects: U recorded from memory, its state checked, then E, a
    // message the platform had before U, writes the next state (late: E was left to wait for the
    // database). U is not run again on E's state, where it would answer a question it never saw.
    await app.engine.handle(consoleInbound(chat, "/gopy"));
    const loaded = await app.sessions.read(key, clock.now());
    const e = consoleInbound(chat, "1");
    const u = consoleInbound(chat, "2");
    await app.inbox.record(u, clock.now(), loaded.state ?? null, loaded.seq, loaded.stateId, true);
    await app.inbox.stateChecked(u.dedupeKey, clock.now());
    if (!loaded.state) throw new Error("no flow");
    await app.sessions.save(
      key,
      loaded.seq,
      { ...loaded.state, step: "field" },
      e.dedupeKey,
      clock.now(),
      [],
      { order: e.order },
    );
    await app.engine.idle();
    clock.advance(61_000);
    expect(await app.engine.recoverAbandoned()).toBe(1);
    const newest = await app.models.Session.findOne({ key }).sort({ seq: -1 }).lean();
    expect(newest?.update).toBe(e.dedupeKey);

    // A command in the middle of a flow is checked before it runs, and its record says so too.
    expect((await app.sessions.recall(key, clock.now())).unchecked).toBe(true);
    const cancel = consoleInbound(chat, "/huy");
    expect(await app.engine.handle(cancel)).toBe("handled");
    expect(await app.inbox.wasChecked(cancel.dedupeKey)).toBe(true);
  });

  it("still sees the chat moved on from a state known long ago, once the sweep removed the next one", async () => {
    const chat = "long-ago";
    const { a, b, clock, key } = await twoInstances(chat);
    await a.engine.handle(consoleInbound(chat, "/gopy"));
    const remembered = await a.sessions.recall(key, clock.now());
    // B takes two steps; eleven minutes on, the sweep keeps only the newest of its states. A turn
    // of A's left to wait for the database, run again now from what A knew then, must see that.
    await b.engine.handle(consoleInbound(chat, "1"));
    await b.engine.handle(consoleInbound(chat, "1"));
    clock.advance(11 * 60_000);
    await a.sessions.sweep(clock.now());
    expect(await a.models.Session.exists({ _id: `${key}#${remembered.seq + 1}` })).toBeNull();
    expect(await a.sessions.movedPast(key, remembered.seq, clock.now(), remembered.knownAt)).toBe(true);
  });

  it("keeps one state per chat after the sweep, and a flow in progress survives it", async () => {
    const { app, clock } = await buildApp(db.connection);
    await app.engine.handle(consoleInbound("sweeper", "/gopy"));
    await app.engine.handle(consoleInbound("sweeper", "1"));
    await app.engine.handle(consoleInbound("ender", "/gopy"));
    await app.engine.handle(consoleInbound("ender", "/huy"));
    const count = (key: string) => app.models.Session.countDocuments({ key });
    expect(await count("console:sweeper:sweeper")).toBe(2);
    // A state written over stays ten minutes: another instance may remember the one before it,
    // and learns the chat moved on by finding this one (Sessions.current).
    await app.sessions.sweep(clock.now());
    expect(await count("console:sweeper:sweeper")).toBe(2);
    clock.advance(11 * 60_000);
    await app.sessions.sweep(clock.now());
    expect(await count("console:sweeper:sweeper")).toBe(1);
    expect(await stepOf(app, "sweeper")).toBe("field");
    // A chat's last state stays (its sequence must not start again), but an expired flow's data goes.
    expect(await count("console:ender:ender")).toBe(1);
    clock.advance(2 * 3_600_000);
    await app.sessions.sweep(clock.now());
    expect(await count("console:ender:ender")).toBe(1);
    const [left] = await app.models.Session.find({ key: "console:sweeper:sweeper" }).lean();
    expect([left?.ended, left?.dataSealed, left?.seq]).toEqual([true, "", 2]);
    expect(await stepOf(app, "sweeper")).toBeUndefined();
  });
});
