import { Schema } from "mongoose";
import { describe, expect, inject, it } from "vitest";
import { isDuplicateKeyError } from "../../src/db/errors.js";
import { useDatabase } from "../support/db.js";

const db = useDatabase(import.meta.filename);

interface Note {
  key: string;
  text: string;
  count: number;
}

describe(`MongoDB through mongoose (${inject("databaseKind")})`, () => {
  it("writes a document and reads it back intact, Vietnamese included", async () => {
    const Note = db.connection.model<Note>(
      "Note",
      new Schema<Note>({ key: String, text: String, count: Number }),
    );
    await Note.create({ key: "a", text: "Phản ánh về đường điện ở xã Hòa Bình", count: 1 });
    const read = await Note.findOne({ key: "a" }).lean();
    expect(read?.text).toBe("Phản ánh về đường điện ở xã Hòa Bình");
    expect(read?.count).toBe(1);
  });

  it("rejects a duplicate on a unique index, on insert and on update", async () => {
    const schema = new Schema<Note>({ key: { type: String, required: true }, text: String, count: Number });
    schema.index({ key: 1 }, { unique: true });
    const Unique = db.connection.model<Note>("UniqueNote", schema);
    await Unique.createIndexes();
    await Unique.create({ key: "x", text: "một", count: 1 });
    await Unique.create({ key: "y", text: "hai", count: 1 });
    const insert = await Unique.create({ key: "x", text: "lần hai", count: 2 }).catch((e: unknown) => e);
    expect(isDuplicateKeyError(insert)).toBe(true);
    const update = await Unique.updateOne({ key: "y" }, { $set: { key: "x" } }).catch((e: unknown) => e);
    expect(isDuplicateKeyError(update)).toBe(true);
    expect(await Unique.countDocuments({ key: "x" })).toBe(1);
  });

  it("upserts: $setOnInsert applies once, $inc on every call", async () => {
    const Counter = db.connection.model<Note>(
      "Counter",
      new Schema<Note>({ key: String, text: String, count: Number }),
    );
    for (const text of ["lần đầu", "lần hai", "lần ba"]) {
      await Counter.updateOne({ key: "c" }, { $setOnInsert: { text }, $inc: { count: 1 } }, { upsert: true });
    }
    const docs = await Counter.find({ key: "c" }).lean();
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({ text: "lần đầu", count: 3 });
  });
});
