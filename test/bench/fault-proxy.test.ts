import type { Connection } from "mongoose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { hostOf, throughProxy, WireProxy, type DbFault } from "../../bench/faults/proxy.js";
import { connectMongo } from "../../src/db/connect.js";
import { databaseName } from "../support/db.js";

const dbName = databaseName(import.meta.filename);
const killed: string[] = [];
const proxy = new WireProxy(hostOf(inject("mongoUri")), async (tag) => {
  killed.push(tag);
});
let direct: Connection;
let proxied: Connection;

beforeAll(async () => {
  direct = await connectMongo(inject("mongoUri"), dbName);
  const port = await proxy.listen("bot");
  proxied = await connectMongo(throughProxy(inject("mongoUri"), port), dbName);
});
afterAll(async () => {
  await proxied.close();
  await proxy.close();
  await direct.dropDatabase();
  await direct.close();
});

/** Three inserts through the proxy with `fault` on the second; what each returned and what is stored. */
async function threeInserts(fault: DbFault) {
  const name = `c_${fault.replace("-", "_")}`;
  proxy.arm({ at: 2, fault });
  const outcomes: string[] = [];
  for (const n of [1, 2, 3]) {
    try {
      await proxied.collection(name).insertOne({ n });
      outcomes.push("ok");
    } catch (error) {
      outcomes.push((error as { code?: number }).code === 8000 ? "refused" : "failed");
    }
  }
  proxy.disarm();
  const stored = (await direct.collection(name).find().sort({ n: 1 }).toArray()).map((d) => d.n as number);
  return { outcomes, stored, writes: proxy.writes.map((w) => `${w.n} ${w.command} ${w.collection}`) };
}

/**
 * The fault matrix's proxy: traffic passes untouched, only the Nth write is faulted, and each
 * fault does what it says to the database (written or not) and to the client (told or not).
 */
describe("wire proxy", () => {
  it("passes reads, counts only writes, and answers the Nth with an injected error", async () => {
    await proxied.collection("pass").insertOne({ a: 1 });
    expect(await proxied.collection("pass").countDocuments()).toBe(1);
    const result = await threeInserts("error");
    expect(result.outcomes).toEqual(["ok", "refused", "ok"]);
    expect(result.stored).toEqual([1, 3]);
    expect(result.writes).toEqual(["1 insert c_error", "2 insert c_error", "3 insert c_error"]);
  });

  it("cuts the connection before the write reaches the database", async () => {
    const result = await threeInserts("cut-before");
    expect(result.outcomes).toEqual(["ok", "failed", "ok"]);
    expect(result.stored).toEqual([1, 3]);
  });

  it("cuts the connection after the database wrote, so the client does not know", async () => {
    const result = await threeInserts("cut-after");
    expect(result.outcomes).toEqual(["ok", "failed", "ok"]);
    expect(result.stored).toEqual([1, 2, 3]);
  });

  it("kills the process before the write, or after it and drops the reply", async () => {
    const before = await threeInserts("kill-before");
    expect(before.stored).toEqual([1, 3]);
    expect(before.outcomes[1]).toBe("failed");
    const after = await threeInserts("kill-after");
    expect(after.stored).toEqual([1, 2, 3]);
    expect(after.outcomes[1]).toBe("failed");
    expect(killed).toEqual(["bot", "bot"]);
  });

  it("counts findAndModify, update and delete, with their collection", async () => {
    proxy.arm();
    await proxied.collection("w").findOneAndUpdate({ a: 1 }, { $set: { a: 2 } }, { upsert: true });
    await proxied.collection("w").updateOne({ a: 2 }, { $set: { a: 3 } });
    await proxied.collection("w").deleteOne({ a: 3 });
    await proxied.collection("w").find().toArray();
    proxy.disarm();
    expect(proxy.writes.map((w) => `${w.command} ${w.collection}`)).toEqual([
      "findAndModify w",
      "update w",
      "delete w",
    ]);
  });

  it("holds a read's answer: it tells the state of the moment it ran, late", async () => {
    await proxied.collection("stale").insertOne({ n: 1 });
    const held = proxy.hold({ command: "find", collection: "stale", at: "reply" });
    const read = proxied.collection("stale").find().toArray();
    await held.reached;
    // Written after the read ran, and found by a read of its own while the first is held.
    await proxied.collection("stale").insertOne({ n: 2 });
    expect(await proxied.collection("stale").countDocuments()).toBe(2);
    let answered = false;
    void read.then(() => (answered = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(answered).toBe(false);
    held.release();
    expect((await read).map((d) => d.n as number)).toEqual([1]);
  });

  it("holds a write before the database: it lands once released", async () => {
    const held = proxy.hold({ command: "insert", collection: "late", at: "request" });
    const write = proxied.collection("late").insertOne({ n: 1 });
    await held.reached;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await direct.collection("late").countDocuments()).toBe(0);
    held.release();
    await write;
    expect(await direct.collection("late").countDocuments()).toBe(1);
  });
});
