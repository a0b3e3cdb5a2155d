import mongoose, { Schema, Types, type Connection } from "mongoose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { hostOf, throughProxy, WireProxy } from "../../bench/faults/proxy.js";
import { randomBytes } from "node:crypto";
import { GroupWrite } from "../../src/db/group-write.js";
import { MAX_UPDATES_PER_COMMAND } from "../../src/db/limits.js";
import { resealField } from "../../src/privacy/reseal.js";
import { Sealer } from "../../src/privacy/sealer.js";
import { databaseName } from "../support/db.js";

/**
 * The "handled" marks of turns and the "sent" records of deliveries go through GroupWrite: the
 * writes that many callers make at once must all land, in fewer database commands than callers,
 * and a caller alone must not wait for company. Counted by the driver's command monitor on a real
 * server.
 */
let connection: Connection;
const updates: number[] = [];
/** The database refusing a write, from outside our code: a wire proxy in front of the server. */
const proxy = new WireProxy(hostOf(inject("mongoUri")));

beforeAll(async () => {
  const port = await proxy.listen("group-write");
  connection = await mongoose
    .createConnection(throughProxy(inject("mongoUri"), port), {
      dbName: databaseName(import.meta.filename),
      monitorCommands: true,
    })
    .asPromise();
  connection.getClient().on("commandStarted", (event) => {
    if (event.commandName === "update") updates.push((event.command.updates as unknown[]).length);
  });
});
afterAll(async () => {
  proxy.disarm();
  await connection.dropDatabase();
  await connection.close();
  await proxy.close();
});

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
    // The first leaves at once; the rest, come meanwhile, leave together when it is back.
    expect(updates.length).toBeLessThanOrEqual(2);

    updates.length = 0;
    const [one] = ids;
    await group.update({ filter: { _id: one }, update: { $set: { status: "again" } } });
    expect(updates).toEqual([1]);
  });

  it("writes handed over together leave together: 40 in one command, 120 in commands of at most 50", async () => {
    const { model, ids, group } = await receivedMarks("Together", 120);
    const marks = (some: Types.ObjectId[]) =>
      group.updateAll(some.map((_id) => ({ filter: { _id }, update: { $set: { status: "handled" } } })));
    updates.length = 0;
    await Promise.all(marks(ids.slice(0, 40)));
    expect(updates).toEqual([40]);
    updates.length = 0;
    await Promise.all(marks(ids));
    expect(updates.reduce((a, b) => a + b, 0)).toBe(120);
    expect(Math.max(...updates)).toBeLessThanOrEqual(MAX_UPDATES_PER_COMMAND);
    expect(await model.countDocuments({ status: "handled" })).toBe(120);
  });

  it("fails every writer of a batch the database refused, and the next batch goes on", async () => {
    const { model, ids, mark } = await receivedMarks("Refused", 6);
    // The first write leaves alone; the five made while it is out leave together and are refused.
    proxy.arm({ at: 2, fault: "error" });
    let results: PromiseSettledResult<void>[];
    try {
      results = await Promise.allSettled(ids.map(mark));
    } finally {
      proxy.disarm();
    }
    expect(proxy.faulted).toMatchObject({ command: "update", collection: "refused" });
    expect(results.map((r) => r.status)).toEqual(["fulfilled", ...Array(5).fill("rejected")]);
    // Written again, as the callers do: every one lands.
    await Promise.all(ids.slice(1).map(mark));
    expect(await model.countDocuments({ status: "handled" })).toBe(6);
  });

  it("lands 150 writers at once in commands of at most 50 (FerretDB hangs on 100)", async () => {
    const { model, ids, mark } = await receivedMarks("Many", 150);
    updates.length = 0;
    await Promise.all(ids.map(mark));
    expect(await model.countDocuments({ status: "handled" })).toBe(150);
    expect(Math.max(...updates)).toBeLessThanOrEqual(MAX_UPDATES_PER_COMMAND);
  }, 30_000);

  it("reseals 120 documents in commands of at most 50", async () => {
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
    expect(Math.max(...updates)).toBeLessThanOrEqual(MAX_UPDATES_PER_COMMAND);
    const docs = await model.find().lean();
    expect(docs.every((d) => now.open(d.text).startsWith("thư "))).toBe(true);
  }, 30_000);
});
