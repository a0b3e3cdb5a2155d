import mongoose, { Schema, Types, type Connection } from "mongoose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { hostOf, throughProxy, WireProxy } from "../../bench/faults/proxy.js";
import { randomBytes } from "node:crypto";
import { isDatabaseError, isDuplicateKeyError } from "../../src/db/errors.js";
import { GroupInsert } from "../../src/db/group-insert.js";
import { GroupWrite } from "../../src/db/group-write.js";
import { MAX_INSERTS_PER_COMMAND, MAX_UPDATES_PER_COMMAND } from "../../src/db/limits.js";
import { resealField } from "../../src/privacy/reseal.js";
import { Sealer } from "../../src/privacy/sealer.js";
import { databaseName } from "../support/db.js";

/**
 * The "handled" marks of turns and the "sent" records of deliveries go through GroupWrite, and
 * the records of updates, the chats' states, decisions and replies through GroupInsert: the
 * writes that many callers make at once must all land, in fewer database commands than callers,
 * each caller hearing its own outcome, and a caller alone must not wait for company. Counted by
 * the driver's command monitor on a real server.
 */
let connection: Connection;
/** Statements per update command, and documents per insert command, in order. */
const updates: number[] = [];
const inserts: number[] = [];
/** Update commands sent and not yet answered, and the most there were at once. */
const updatesOut = new Set<number>();
let mostUpdatesAtOnce = 0;
/** The database refusing a write, from outside our code: a wire proxy in front of the server. */
const proxy = new WireProxy(hostOf(inject("mongoUri")));

beforeAll(async () => {
  const port = await proxy.listen("grouped-writes");
  connection = await mongoose
    .createConnection(throughProxy(inject("mongoUri"), port), {
      dbName: databaseName(import.meta.filename),
      monitorCommands: true,
    })
    .asPromise();
  const client = connection.getClient();
  client.on("commandStarted", (event) => {
    if (event.commandName === "update") {
      updates.push((event.command.updates as unknown[]).length);
      updatesOut.add(event.requestId);
      mostUpdatesAtOnce = Math.max(mostUpdatesAtOnce, updatesOut.size);
    }
    if (event.commandName === "insert") inserts.push((event.command.documents as unknown[]).length);
  });
  client.on("commandSucceeded", (event) => updatesOut.delete(event.requestId));
  client.on("commandFailed", (event) => updatesOut.delete(event.requestId));
});
afterAll(async () => {
  proxy.disarm();
  await connection.dropDatabase();
  await connection.close();
  await proxy.close();
});

/** Every write's outcome, made with the proxy playing `plan` (then disarmed, whatever happens). */
async function settledWhileArmed(
  plan: Parameters<WireProxy["arm"]>[0],
  writes: () => Promise<void>[],
): Promise<PromiseSettledResult<void>[]> {
  proxy.arm(plan);
  try {
    return await Promise.allSettled(writes());
  } finally {
    proxy.disarm();
  }
}

interface Mark {
  _id: Types.ObjectId;
  status: string;
}

/** `count` marks "received" in a collection of their own, and a GroupWrite over them. */
async function receivedMarks(name: string, count: number) {
  const model = connection.model<Mark>(
    name,
    new Schema<Mark>({ status: String }, { collection: name.toLowerCase() }),
  );
  const ids = Array.from({ length: count }, () => new Types.ObjectId());
  await model.insertMany(ids.map((_id) => ({ _id, status: "received" })));
  const group = new GroupWrite(model);
  const mark = (_id: Types.ObjectId) =>
    group.update({ filter: { _id }, update: { $set: { status: "handled" } } });
  return { model, ids, group, mark };
}

describe("writes made together", () => {
  it("land every one, in fewer commands than writers, and a writer alone in one", async () => {
    const { model, ids, group, mark } = await receivedMarks("Marks", 40);

    updates.length = 0;
    await Promise.all(ids.map(mark));
    expect(await model.countDocuments({ status: "handled" })).toBe(40);
    expect(updates.reduce((a, b) => a + b, 0)).toBe(40);
    // The first leaves at once; the rest, come meanwhile, leave together when it is back (in as
    // few commands as the limit allows).
    expect(updates.length).toBeLessThanOrEqual(1 + Math.ceil(39 / MAX_UPDATES_PER_COMMAND));

    updates.length = 0;
    const [one] = ids;
    await group.update({ filter: { _id: one }, update: { $set: { status: "again" } } });
    expect(updates).toEqual([1]);
  });

  it("writes handed over together leave together, in as few commands as MAX_UPDATES_PER_COMMAND allows", async () => {
    const { model, ids, group } = await receivedMarks("Together", 120);
    const marks = (some: Types.ObjectId[]) =>
      group.updateAll(some.map((_id) => ({ filter: { _id }, update: { $set: { status: "handled" } } })));
    updates.length = 0;
    await Promise.all(marks(ids.slice(0, 40)));
    expect(updates.length).toBe(Math.ceil(40 / MAX_UPDATES_PER_COMMAND));
    expect(updates.reduce((a, b) => a + b, 0)).toBe(40);
    updates.length = 0;
    await Promise.all(marks(ids));
    expect(updates.reduce((a, b) => a + b, 0)).toBe(120);
    expect(Math.max(...updates)).toBeLessThanOrEqual(MAX_UPDATES_PER_COMMAND);
    expect(await model.countDocuments({ status: "handled" })).toBe(120);
  });

  it("fails every writer of a batch the database refused, and the batch behind it goes on", async () => {
    const n = MAX_UPDATES_PER_COMMAND;
    const { model, ids, mark } = await receivedMarks("Refused", n + 6);
    // The first write leaves alone; of those made while it is out, the first n leave together and
    // are refused, and the five after them leave next, in the same flush, and land.
    const results = await settledWhileArmed({ at: 2, fault: "error" }, () => ids.map(mark));
    expect(proxy.faulted).toMatchObject({ command: "update", collection: "refused" });
    expect(results.map((r) => r.status)).toEqual([
      "fulfilled",
      ...Array(n).fill("rejected"),
      ...Array(5).fill("fulfilled"),
    ]);
    // Written again, as the callers do: every one lands.
    await Promise.all(ids.slice(1, n + 1).map(mark));
    expect(await model.countDocuments({ status: "handled" })).toBe(n + 6);
  });

  it("sends the update commands of every group in this process one at a time", async () => {
    const first = await receivedMarks("FirstGroup", 3 * MAX_UPDATES_PER_COMMAND);
    const second = await receivedMarks("SecondGroup", 3 * MAX_UPDATES_PER_COMMAND);
    mostUpdatesAtOnce = 0;
    await Promise.all([...first.ids.map(first.mark), ...second.ids.map(second.mark)]);
    expect(await first.model.countDocuments({ status: "handled" })).toBe(3 * MAX_UPDATES_PER_COMMAND);
    expect(await second.model.countDocuments({ status: "handled" })).toBe(3 * MAX_UPDATES_PER_COMMAND);
    // FerretDB on PostgreSQL holds a connection per statement until its command ends: one command
    // at a time keeps a process to MAX_UPDATES_PER_COMMAND of them (src/db/update-gate.ts).
    expect(mostUpdatesAtOnce).toBe(1);
  });

  it("lands 150 writers at once in commands of at most MAX_UPDATES_PER_COMMAND (FerretDB hangs past it)", async () => {
    const { model, ids, mark } = await receivedMarks("Many", 150);
    updates.length = 0;
    await Promise.all(ids.map(mark));
    expect(await model.countDocuments({ status: "handled" })).toBe(150);
    expect(updates.reduce((a, b) => a + b, 0)).toBe(150);
    expect(Math.max(...updates)).toBeLessThanOrEqual(MAX_UPDATES_PER_COMMAND);
  }, 30_000);

  it("reseals 120 documents in commands of at most MAX_UPDATES_PER_COMMAND", async () => {
    const model = connection.model<{ _id: Types.ObjectId; text: string }>(
      "Sealed",
      new Schema({ text: String }, { collection: "sealed" }),
    );
    const oldKey = { id: "old", key: randomBytes(32) };
    const old = new Sealer([oldKey]);
    await model.insertMany(Array.from({ length: 120 }, (_, i) => ({ text: old.seal(`thư ${i}`) })));
    const now = new Sealer([{ id: "new", key: randomBytes(32) }, oldKey]);
    updates.length = 0;
    expect(await resealField(model, "text", now)).toBe(120);
    expect(updates.reduce((a, b) => a + b, 0)).toBe(120);
    expect(Math.max(...updates)).toBeLessThanOrEqual(MAX_UPDATES_PER_COMMAND);
    const docs = await model.find().lean();
    expect(docs.every((d) => now.open(d.text).startsWith("thư "))).toBe(true);
  }, 30_000);
});

interface Entry {
  _id: string;
  key: string;
  n: number;
}

/** A collection of its own with a unique key besides `_id`, and a GroupInsert over it. */
async function entries(name: string) {
  const schema = new Schema<Entry>(
    { _id: String, key: { type: String, required: true }, n: { type: Number, default: 7 } },
    { collection: name.toLowerCase() },
  );
  schema.index({ key: 1 }, { unique: true });
  const model = connection.model<Entry>(name, schema);
  await model.createCollection();
  await model.createIndexes();
  return { model, group: new GroupInsert(model) };
}

const entry = (i: number) => ({ _id: `e${i}`, key: `k${i}` });

describe("inserts made together", () => {
  it("land every one, schema defaults applied, in fewer commands than writers, and a writer alone in one", async () => {
    const { model, group } = await entries("Inserted");
    inserts.length = 0;
    await Promise.all(Array.from({ length: 40 }, (_, i) => group.insert(entry(i))));
    expect(await model.countDocuments({ n: 7 })).toBe(40);
    expect(inserts.reduce((a, b) => a + b, 0)).toBe(40);
    // The first leaves at once; the rest, come meanwhile, leave together when it is back.
    expect(inserts.length).toBeLessThanOrEqual(2);

    inserts.length = 0;
    await group.insert(entry(100));
    expect(inserts).toEqual([1]);
  });

  it("handed over together (insertAll), they leave in one command, each writer its own outcome", async () => {
    const { model, group } = await entries("HandedTogether");
    await model.create(entry(3));
    inserts.length = 0;
    const results = await Promise.allSettled(group.insertAll(Array.from({ length: 7 }, (_, i) => entry(i))));
    expect(inserts).toEqual([7]);
    // Refused: the one there already, alone.
    expect(results.map((r, i) => (r.status === "rejected" ? i : -1)).filter((i) => i >= 0)).toEqual([3]);
    expect(await model.countDocuments()).toBe(7);
  });

  it("gives each writer its own outcome: a duplicate key (by _id or by another unique key) is that writer's alone", async () => {
    const { model, group } = await entries("Duplicates");
    await model.create(entry(0));
    const results = await Promise.allSettled([
      group.insert(entry(1)),
      group.insert(entry(2)),
      group.insert({ _id: "e0", key: "fresh" }),
      group.insert({ _id: "e3", key: "k0" }),
      group.insert(entry(4)),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "rejected",
      "rejected",
      "fulfilled",
    ]);
    for (const r of results.filter((r) => r.status === "rejected")) {
      expect(isDuplicateKeyError(r.reason)).toBe(true);
      expect(isDatabaseError(r.reason)).toBe(false);
    }
    expect((await model.find().sort({ _id: 1 }).lean()).map((d) => d._id)).toEqual(["e0", "e1", "e2", "e4"]);
  });

  it("fails only the writer whose document the schema refuses", async () => {
    const { model, group } = await entries("Invalid");
    const results = await Promise.allSettled([
      group.insert(entry(1)),
      group.insert(entry(2)),
      group.insert({ _id: "e3" }),
      group.insert(entry(4)),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(mongoose.Error.ValidationError);
    expect(await model.countDocuments()).toBe(3);
  });

  it("fails every writer of a batch the database refused, as a database error, and the next batch goes on", async () => {
    const { model, group } = await entries("InsertRefused");
    // The first insert leaves alone; the five made while it is out leave together and are refused.
    const results = await settledWhileArmed({ at: 2, fault: "error" }, () =>
      Array.from({ length: 6 }, (_, i) => group.insert(entry(i))),
    );
    expect(proxy.faulted).toMatchObject({ command: "insert", collection: "insertrefused" });
    expect(results.map((r) => r.status)).toEqual(["fulfilled", ...Array(5).fill("rejected")]);
    for (const r of results.slice(1)) expect(isDatabaseError((r as PromiseRejectedResult).reason)).toBe(true);
    // Written again, as the callers do: every one lands.
    await Promise.all(Array.from({ length: 5 }, (_, i) => group.insert(entry(i + 1))));
    expect(await model.countDocuments()).toBe(6);
  });

  it("tells a duplicate key only to its own writer when the server refuses a batch as a whole with one", async () => {
    const { model, group } = await entries("WholeDuplicate");
    await model.create(entry(3));
    // The first insert leaves alone; the four made while it is out leave together, and the server
    // answers that command with a duplicate key error for it all, naming no document.
    const results = await settledWhileArmed(
      { at: 2, fault: "error", reply: { code: 11000, errmsg: "E11000 duplicate key error" } },
      () => Array.from({ length: 5 }, (_, i) => group.insert(entry(i))),
    );
    expect(proxy.faulted).toMatchObject({ command: "insert", collection: "wholeduplicate" });
    // Each tried on its own: only the document that is there already is a duplicate.
    expect(results.map((r) => r.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
    ]);
    expect(isDuplicateKeyError((results[3] as PromiseRejectedResult).reason)).toBe(true);
    expect(await model.countDocuments()).toBe(5);
  });

  it("as stored: lands documents as handed over, the version added and no undefined field written, each writer its own outcome", async () => {
    const { model } = await entries("AsStored");
    const group = new GroupInsert(model, { asStored: true });
    await model.create(entry(2));
    inserts.length = 0;
    const results = await Promise.allSettled([
      group.insert(entry(0)),
      group.insert({ ...entry(1), n: undefined }),
      group.insert(entry(2)),
      group.insert({ _id: "e3", key: "k0" }),
      group.insert(entry(4)),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "rejected",
      "rejected",
      "fulfilled",
    ]);
    for (const r of results.filter((r) => r.status === "rejected"))
      expect(isDuplicateKeyError((r as PromiseRejectedResult).reason)).toBe(true);
    // The first alone, the four made meanwhile together.
    expect(inserts).toEqual([1, 4]);
    const stored = await model.collection
      .find({ key: { $in: ["k0", "k1", "k4"] } })
      .sort({ _id: 1 })
      .toArray();
    // As handed over: the model's default (n: 7) is the caller's to give, and was not given.
    expect(stored.map(({ _id, key, __v, ...rest }) => [_id, key, __v, rest])).toEqual([
      ["e0", "k0", 0, {}],
      ["e1", "k1", 0, {}],
      ["e4", "k4", 0, {}],
    ]);
  });

  it("lands 250 writers at once in commands of at most MAX_INSERTS_PER_COMMAND", async () => {
    const { model, group } = await entries("InsertedMany");
    inserts.length = 0;
    await Promise.all(Array.from({ length: 250 }, (_, i) => group.insert(entry(i))));
    expect(await model.countDocuments()).toBe(250);
    expect(Math.max(...inserts)).toBeLessThanOrEqual(MAX_INSERTS_PER_COMMAND);
  }, 30_000);
});
