import { Types, type Model } from "mongoose";
import { describe, expect, it } from "vitest";
import {
  channelAccountSchema,
  personSchema,
  type ChannelAccountDoc,
  type PersonDoc,
} from "../../src/domain/people/schema.js";
import {
  storedAccount,
  storedPerson,
  type NewAccountFields,
  type NewPersonFields,
} from "../../src/domain/people/stored-people.js";
import { ROLES } from "../../src/domain/people/roles.js";
import { buildApp, firstSpeaker, useDatabase } from "../support/db.js";

/**
 * A newcomer's person and account are made by hand (stored-people.ts) and inserted as they stand,
 * not made and validated by the models, which was about a seventh of the bot's CPU in a wave of
 * newcomers. What they store must be what the models store of the same fields, read back from
 * the server; what the models refuse they must refuse.
 */
const db = useDatabase(import.meta.filename);
const models = () => ({
  Person: (db.connection.models.StoredPersonCheck ??
    db.connection.model("StoredPersonCheck", personSchema, "stored_people_check")) as Model<PersonDoc>,
  Account: (db.connection.models.StoredAccountCheck ??
    db.connection.model(
      "StoredAccountCheck",
      channelAccountSchema,
      "stored_accounts_check",
    )) as Model<ChannelAccountDoc>,
});

/** A document read back, its timestamps checked to be dates and set aside. */
function withoutTimes(doc: Record<string, unknown> | null): Record<string, unknown> {
  expect(doc?.createdAt).toBeInstanceOf(Date);
  expect(doc?.updatedAt).toEqual(doc?.createdAt);
  const { createdAt: _c, updatedAt: _u, ...rest } = doc ?? {};
  return rest;
}

const personVariants: NewPersonFields[] = [];
for (const role of ROLES)
  for (const keys of [{}, { nameKeys: [] }, { nameKeys: ["h1", "h0"] }])
    for (const unit of [{}, { unitId: "VP" }])
      for (const active of [true, false])
        personVariants.push({ ref: "AB23CD", name: "sealed-name", role, active, ...keys, ...unit });

const lastSeenAt = new Date("2026-12-02T01:00:00.000Z");
const accountVariants: NewAccountFields[] = [];
for (const channel of ["telegram", "zalo", "console"] as const)
  for (const name of [{}, { displayName: "sealed-display" }, { displayName: "" }])
    accountVariants.push({
      channel,
      externalId: "7000001",
      personId: new Types.ObjectId(),
      chatId: "7000001",
      lastSeenAt,
      ...name,
    });

describe("a newcomer's person made by hand", () => {
  it("stores what the model stores of the same fields, for every role and mix of the optional ones", async () => {
    const { Person } = models();
    expect(personVariants).toHaveLength(ROLES.length * 12);
    for (const fields of personVariants) {
      const made = storedPerson(fields);
      const before = Date.now();
      await Person.collection.insertOne(made);
      const byModel = await Person.create({ ...fields, _id: new Types.ObjectId() });
      const [mine, theirs] = await Promise.all([
        Person.findById(made._id).lean(),
        Person.findById(byModel._id).lean(),
      ]);
      expect(mine?.createdAt.getTime()).toBeGreaterThanOrEqual(before - 1_000);
      expect({ ...withoutTimes(mine as never), _id: null }).toStrictEqual({
        ...withoutTimes(theirs as never),
        _id: null,
      });
    }
  });

  it("keeps the _id it is given, and the moment it is given", () => {
    const _id = new Types.ObjectId();
    const at = new Date("2026-12-02T02:00:00.000Z");
    const made = storedPerson({ _id, ref: "X", name: "n", role: "citizen", active: true }, at);
    expect(made._id).toBe(_id);
    expect(made.createdAt).toBe(at);
    expect(made.__v).toBe(0);
  });

  it.each<[string, Partial<NewPersonFields>]>([
    ["an empty name", { name: "" }],
    ["an empty ref", { ref: "" }],
    ["a role not in the list", { role: "chairman" as never }],
    ["no active flag", { active: undefined as never }],
  ])("refuses %s, as the model does", async (_, change) => {
    const { Person } = models();
    const fields = {
      ref: "AB23CD",
      name: "sealed-name",
      role: "citizen",
      active: true,
      ...change,
    } as NewPersonFields;
    // The model would fill a missing flag with its default: the hand checks what callers must pass.
    if (change.active === undefined && "active" in change) {
      expect(() => storedPerson(fields)).toThrow(/active/);
      return;
    }
    await expect(new Person(fields).validate()).rejects.toThrow();
    expect(() => storedPerson(fields)).toThrow();
  });
});

describe("a newcomer's account made by hand", () => {
  it("stores what the model stores of the same fields", async () => {
    const { Account } = models();
    for (const fields of accountVariants) {
      const made = storedAccount(fields);
      await Account.collection.insertOne(made);
      const byModel = await Account.create({ ...fields, externalId: `${fields.externalId}-model` });
      const [mine, theirs] = await Promise.all([
        Account.findById(made._id).lean(),
        Account.findById(byModel._id).lean(),
      ]);
      expect({ ...withoutTimes(mine as never), _id: null }).toStrictEqual({
        ...withoutTimes(theirs as never),
        _id: null,
        externalId: fields.externalId,
      });
      await Account.deleteMany({});
    }
  });

  it.each<[string, Partial<NewAccountFields>]>([
    ["an empty channel", { channel: "" as never }],
    ["an empty external id", { externalId: "" }],
    ["an empty chat", { chatId: "" }],
    ["no person", { personId: undefined as never }],
    ["a last-seen moment that is not a date", { lastSeenAt: new Date(Number.NaN) }],
  ])("refuses %s, as the model does", async (_, change) => {
    const { Account } = models();
    const fields = { ...(accountVariants[0] as NewAccountFields), ...change };
    await expect(new Account(fields).validate()).rejects.toThrow();
    expect(() => storedAccount(fields)).toThrow();
  });

  it("written with others at once, one of them known already: each newcomer filed once, the known one read", async () => {
    const { app, clock } = await buildApp(db.connection);
    const known = await app.people.ensurePerson(
      "telegram",
      "631",
      { role: "staff", name: "Lan" },
      clock.now(),
    );
    const speak = (senderId: string) => firstSpeaker(app, senderId, `Người ${senderId}`);
    // One insertMany of four accounts, one refused as a duplicate: only that caller hears it.
    const [a, b, staff, c] = await Promise.all(["632", "633", "631", "634"].map(speak));
    expect([a, b, c].map((s) => s?.newcomer)).toEqual([true, true, true]);
    expect(staff).toMatchObject({ personId: known.personId, role: "staff", name: "Lan" });
    expect(staff?.newcomer).toBeUndefined();
    expect(
      await app.models.ChannelAccount.countDocuments({ externalId: { $in: ["631", "632", "633", "634"] } }),
    ).toBe(4);
    for (const speaker of [a, b, c]) {
      const person = await app.models.Person.findById(speaker?.personId).lean();
      expect(person).toMatchObject({ role: "citizen", active: true, __v: 0 });
      // Sealed at rest, opened for the speaker.
      expect(person?.name).not.toContain("Người");
      expect(speaker?.name).toMatch(/^Người 63/);
    }
  });
});
