import mongoose, { Schema, type Connection } from "mongoose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { hostOf, throughProxy, WireProxy } from "../../bench/faults/proxy.js";
import { isDatabaseError, isDuplicateKeyError } from "../../src/db/errors.js";
import { GroupInsert } from "../../src/db/group-insert.js";
import { MAX_INSERTS_PER_COMMAND } from "../../src/db/limits.js";
import { databaseName } from "../support/db.js";

/**
 * The records of updates, the chats' states and the replies that many turns write at once go
 * through GroupInsert: each must land or fail exactly as its own insert would have (a duplicate
 * key is that caller's alone: it is what dedupe and the states' compare-and-set rest on), in
 * fewer commands than callers, and a caller alone must not wait for company. Counted by the
 * driver's command monitor on a real server.
 */
let connection: Connection;
/** Documents per insert command, in order. */
const inserts: number[] = [];
/** The database refusing a write, from outside our code: a wire proxy in front of the server. */
const proxy = new WireProxy(hostOf(inject("mongoUri")));

beforeAll(async () => {
  const port = await proxy.listen("group-insert");
  connection = await mongoose
    .createConnection(throughProxy(inject("mongoUri"), port), {
      dbName: databaseName(import.meta.filename),
      monitorCommands: true,
    })
    .asPromise();
  connection.getClient().on("commandStarted", (event) => {
    if (event.commandName === "insert") inserts.push((event.command.documents as unknown[]).length);
  });
});
afterAll(async () => {
  proxy.disarm();
  await connection.dropDatabase();
  await connection.close();
  await proxy.close();
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
    const { model, group } = await entries("Together");
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
    const { model, group } = await entries("Refused");
    // The first insert leaves alone; the five made while it is out leave together and are refused.
    proxy.arm({ at: 2, fault: "error" });
    let results: PromiseSettledResult<void>[];
    try {
      results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => group.insert(entry(i))));
    } finally {
      proxy.disarm();
    }
    expect(proxy.faulted).toMatchObject({ command: "insert", collection: "refused" });
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
    proxy.arm({ at: 2, fault: "error", reply: { code: 11000, errmsg: "E11000 duplicate key error" } });
    let results: PromiseSettledResult<void>[];
    try {
      results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => group.insert(entry(i))));
    } finally {
      proxy.disarm();
    }
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

  it("lands 250 writers at once in commands of at most MAX_INSERTS_PER_COMMAND", async () => {
    const { model, group } = await entries("Many");
    inserts.length = 0;
    await Promise.all(Array.from({ length: 250 }, (_, i) => group.insert(entry(i))));
    expect(await model.countDocuments()).toBe(250);
    expect(Math.max(...inserts)).toBeLessThanOrEqual(MAX_INSERTS_PER_COMMAND);
  }, 30_000);
});
