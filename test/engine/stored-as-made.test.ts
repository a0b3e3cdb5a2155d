import { Types } from "mongoose";
import { describe, expect, it, vi } from "vitest";
import type { ChannelSender, Delivery } from "../../src/engine/channel.js";
import type { Choice, OutboundFile, Subject } from "../../src/engine/message.js";
import { storedReply } from "../../src/engine/outbox.js";
import { buildApp, useDatabase } from "../support/db.js";
import { consoleInbound } from "../support/inbound.js";
import { waitFor } from "../support/wait.js";

/**
 * A turn's replies and the chats' states are made into documents by hand (storedReply,
 * Sessions.save and end) and inserted as they are (GroupInsert, asStored), not by the model,
 * which cost a burst of turns a sixth of the bot's CPU. What lands must be what the model would
 * have stored: the same fields, of the schema's types, nothing undefined written as null.
 */
const db = useDatabase(import.meta.filename);

const now = new Date("2026-12-01T08:00:00.000Z");
const choices: Choice[] = [
  { label: "Phản ánh", value: "phan_anh" },
  { label: "Góp ý", value: "gop_y" },
];
const files: OutboundFile[] = [{ kind: "document", ref: "/tmp/bao-cao.docx", name: "bao-cao.docx" }];
const subject: Subject = { kind: "ticket", id: "PA-2026-000123" };

/** The fields as Outbox.enqueueTurn gives them: absent ones undefined, as there. */
function fieldsOf(variant: {
  personId?: string;
  choices?: Choice[];
  step?: number;
  files?: OutboundFile[];
  subject?: Subject;
}) {
  return {
    dedupeKey: `u:${Math.random()}`,
    channel: "telegram",
    chatId: "7000001",
    personId: variant.personId,
    textSealed: "sealed-text",
    choices: variant.choices ?? [],
    ...(variant.step !== undefined && variant.choices?.length ? { step: variant.step } : {}),
    files: variant.files ?? [],
    subject: variant.subject,
    status: "sending" as const,
    attempts: 1,
    lockedBy: "worker-1",
    lockedUntil: new Date(now.getTime() + 60_000),
    claimSeq: 0,
    nextAttemptAt: now,
    createdAt: now,
    dueAt: now,
    platformMessageIds: [],
  };
}

/** Values of other types than the fields': what a platform's JSON or a flow's data could carry. */
const loose = {
  choices: [{ label: 5, value: 6 }] as unknown as Choice[],
  step: 1,
  subject: { kind: "ticket", id: 123 } as unknown as Subject,
};

const variants = [
  {},
  loose,
  { personId: new Types.ObjectId().toHexString() },
  { choices, step: 3 },
  { choices, step: 0, personId: new Types.ObjectId().toHexString(), subject },
  { files },
  { subject, files, choices },
];

describe("a reply made into a document by hand", () => {
  it("is the document the model makes of the same fields, for every mix of person, buttons, step, files and subject", async () => {
    const { app } = await buildApp(db.connection);
    for (const variant of variants) {
      const fields =
        variant === loose
          ? { ...fieldsOf(variant), chatId: 7000001 as unknown as string }
          : fieldsOf(variant);
      const doc = storedReply(fields);
      const byModel = new app.models.Outbox({ ...fields, _id: doc._id }).toObject();
      expect(doc).toEqual(byModel);
      // toEqual passes over keys whose value is undefined: none may be there, or it is stored as null.
      expect(Object.values(doc).some((value) => value === undefined)).toBe(false);
    }
  });

  it("lands, after its send, as the model would store it: no null field, the person an ObjectId, the version a first write gives", async () => {
    const built = await buildApp(db.connection);
    const { app } = built;
    const delivered: Delivery[] = [];
    const platform: ChannelSender = {
      channel: "console",
      async send(delivery) {
        delivered.push(delivery);
        return { messageIds: [`m${delivered.length}`] };
      },
    };
    const dispatcher = app.addChannel(platform, { pollMs: 100 });
    dispatcher.start();
    // Made by hand and inserted by the driver: the model neither makes nor inserts it.
    const create = vi.spyOn(app.models.Outbox, "create");
    const insertMany = vi.spyOn(app.models.Outbox, "insertMany");
    try {
      // Past the dispatcher's first look, so the turn's replies are born claimed and handed over unwritten.
      await new Promise((resolve) => setTimeout(resolve, 300));
      // /gopy opens the flow: its first question has buttons and the step they answer.
      expect(await app.engine.handle(consoleInbound("stored", "/gopy"))).toBe("handled");
      await waitFor(() => delivered.length === 1, "the first question");
      await app.engine.idle();
      const raw = await app.models.Outbox.collection.findOne({ chatId: "stored" });
      expect(raw).not.toBeNull();
      if (!raw) return;
      expect(raw).toMatchObject({ status: "sent", platformMessageIds: ["m1"], __v: 0 });
      expect((raw.choices as unknown[]).length).toBeGreaterThan(0);
      expect(typeof raw.step).toBe("number");
      expect(raw.personId).toBeInstanceOf(Types.ObjectId);
      expect(Object.entries(raw).filter(([, value]) => value === null)).toEqual([]);
      // The model, given it, changes nothing: every value is of the schema's type already.
      const { __v: _version, ...fields } = raw;
      expect(new app.models.Outbox(fields).toObject()).toEqual(fields);
      expect(create).not.toHaveBeenCalled();
      expect(insertMany).not.toHaveBeenCalled();
    } finally {
      create.mockRestore();
      insertMany.mockRestore();
      await dispatcher.stop();
    }
  });
});

describe("a chat's state made into a document by hand", () => {
  it("lands as the model would store it, a flow's step and a flow's end alike", async () => {
    const { app, clock } = await buildApp(db.connection);
    const now = clock.now();
    // As a state read back from its document is: more than a state's fields, none of them to be stored.
    const state = {
      flow: "gopy",
      version: 2,
      step: "content",
      expiresAt: new Date(now.getTime() + 3_600_000),
      data: { type: "gop_y" },
      dataSealed: "old",
      outboundSealed: "old",
      ended: true,
      high: 99,
    };
    await app.sessions.save("made:1", 0, state, "u1", now, [], { order: 41 });
    await app.sessions.end("made:1", 1, "u2", now, undefined, { order: 42 });
    const raw = await app.models.Session.collection.find({ key: "made:1" }).sort({ seq: 1 }).toArray();
    expect(raw).toHaveLength(2);
    for (const doc of raw) {
      expect(doc.__v).toBe(0);
      expect(Object.entries(doc).filter(([, value]) => value === null || value === undefined)).toEqual([]);
      const { __v: _version, ...fields } = doc;
      expect(new app.models.Session(fields).toObject()).toEqual(fields);
    }
    expect(raw[0]).toMatchObject({
      key: "made:1",
      seq: 1,
      flow: "gopy",
      version: 2,
      step: "content",
      order: 41,
    });
    expect(raw[0]?.dataSealed).not.toBe("old");
    expect(raw[0]?.outboundSealed).not.toBe("old");
    expect(raw[0]).not.toHaveProperty("ended");
    expect(raw[0]?.high).toBe(41);
    expect(raw[1]).toMatchObject({
      key: "made:1",
      seq: 2,
      ended: true,
      flow: "",
      version: 0,
      step: "",
      dataSealed: "",
    });
    expect(raw[1]).not.toHaveProperty("outboundSealed");
    expect(await app.sessions.load("made:1", now)).toBeUndefined();
  });
});
