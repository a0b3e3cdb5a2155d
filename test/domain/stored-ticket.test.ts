import mongoose, { Types } from "mongoose";
import { describe, expect, it } from "vitest";
import type { Attachment } from "../../src/engine/message.js";
import { MAX_STORED_CONTENT, ticketSchema, type HistoryEntry } from "../../src/domain/feedback/schema.js";
import { storedTicket, type NewTicketFields } from "../../src/domain/feedback/stored-ticket.js";
import { TEST_SEALER } from "../support/db.js";

/**
 * A new ticket is made by hand (storedTicket) and inserted as it stands, not made and validated
 * by the model, which was a tenth of the bot's CPU in a wave of confirmations. What it makes must
 * be what the model makes of the same fields, and what the model refuses it must refuse.
 */
// A model on a connection never opened: making and validating documents needs no server.
const Ticket = mongoose.createConnection().model("StoredTicketCheck", ticketSchema);

const now = new Date("2026-12-01T08:00:00.000Z");
const filerId = new Types.ObjectId();
const photo: Attachment = {
  kind: "photo",
  ref: "sealed-ref",
  name: "sealed-name",
  mimeType: "image/jpeg",
  size: 1234,
};
const bare: Attachment = { kind: "document", ref: "sealed-ref-2" };
const filed: HistoryEntry = { at: now, action: "filed", byPersonId: filerId };
const noted: HistoryEntry = { ...filed, byName: "sealed-name", note: "sealed-note", update: "u:1" };

function fieldsOf(variant: Partial<NewTicketFields> = {}): NewTicketFields {
  return {
    code: "PA-2026-000123",
    type: "gop_y",
    field: "chuyen_doi_so",
    content: "sealed-content",
    attachments: [],
    status: "new",
    receivedAt: now,
    receivedDay: "2026-12-01",
    dueDay: "2026-12-22",
    extensions: 0,
    filer: { personId: filerId, channel: "telegram", chatId: "7000001" },
    history: [filed],
    idempotencyKey: "state:abc",
    contentKey: "hash",
    ...variant,
  };
}

/** Every mix of the optional fields a filing sets. */
const variants: Partial<NewTicketFields>[] = [];
for (const attachments of [[], [photo], [bare, photo]])
  for (const acceptance of [{}, { acceptBy: "2026-12-04", acceptExtensions: 0 }])
    for (const round of [{}, { round: 2, firstCode: "PA-2026-000001" }])
      for (const identity of [
        {},
        { identitySealed: "sealed-identity", consentAt: now, phoneHash: "phone-hash" },
        { identitySealed: "sealed-identity", informedAt: now },
      ])
        for (const history of [[filed], [noted]])
          variants.push({ attachments, ...acceptance, ...round, ...identity, history, type: "khieu_nai" });

describe("a ticket made by hand", () => {
  it("is what the model makes of the same fields, for every mix of the optional ones", async () => {
    expect(variants).toHaveLength(72);
    for (const variant of variants) {
      const fields = fieldsOf(variant);
      const made = storedTicket(fields);
      const byModel = new Ticket({ ...fields, _id: made._id, __v: 0 });
      await byModel.validate();
      expect(made).toStrictEqual(byModel.toObject());
    }
  });

  it("leaves out what is undefined, and keeps no key the schema does not name", () => {
    const made = storedTicket({
      ...fieldsOf({ acceptBy: undefined, round: undefined }),
      attachments: [{ ...bare, name: undefined, extra: "x" } as Attachment],
      ...({ stray: "field" } as object),
    });
    expect(Object.keys(made)).not.toContain("acceptBy");
    expect(Object.keys(made)).not.toContain("round");
    expect(Object.keys(made)).not.toContain("stray");
    expect(made.attachments).toStrictEqual([{ kind: "document", ref: "sealed-ref-2" }]);
  });

  it("refuses what the model refuses", async () => {
    const refused: [string, Partial<NewTicketFields>][] = [
      ["a type that is none", { type: "khac" as NewTicketFields["type"] }],
      ["a status that is none", { status: "open" as NewTicketFields["status"] }],
      ["an empty content", { content: "" }],
      ["a content too long", { content: "x".repeat(MAX_STORED_CONTENT + 1) }],
      ["an empty field", { field: "" }],
      ["an empty code", { code: "" }],
      ["no chat", { filer: { personId: filerId, channel: "telegram", chatId: "" } }],
      ["no filer", { filer: { channel: "telegram", chatId: "1" } as NewTicketFields["filer"] }],
      ["no day due", { dueDay: "" }],
      ["a history line with no date", { history: [{ ...filed, at: undefined as unknown as Date }] }],
      ["no idempotency key", { idempotencyKey: "" }],
      ["no content key", { contentKey: "" }],
      ["no day received", { receivedDay: "" }],
      ["no moment received", { receivedAt: new Date(Number.NaN) }],
      ["no channel", { filer: { personId: filerId, channel: "", chatId: "1" } }],
      ["a history line with no action", { history: [{ ...filed, action: "" as HistoryEntry["action"] }] }],
      [
        "a history line with no one",
        { history: [{ ...filed, byPersonId: undefined as unknown as Types.ObjectId }] },
      ],
    ];
    for (const [name, variant] of refused) {
      const fields = fieldsOf(variant);
      await expect(new Ticket(fields).validate(), name).rejects.toThrow();
      expect(() => storedTicket(fields), name).toThrow(/^ticket: /);
    }
    // The longest the model takes, it takes too.
    const longest = fieldsOf({ content: "x".repeat(MAX_STORED_CONTENT) });
    await new Ticket(longest).validate();
    expect(storedTicket(longest).content).toHaveLength(MAX_STORED_CONTENT);
  });

  it("has room for the longest content the filing takes, sealed, in characters of four bytes", () => {
    // The filing counts characters, not bytes: 20,000 emoji overran the guard when it was 100,000.
    expect(TEST_SEALER.seal("😀".repeat(20_000)).length).toBeGreaterThan(100_000);
    // The most the rules allow (rules.ts: content.maxChars at most 60,000).
    expect(TEST_SEALER.seal("😀".repeat(60_000)).length).toBeLessThanOrEqual(MAX_STORED_CONTENT);
    expect(() => storedTicket(fieldsOf({ content: TEST_SEALER.seal("😀".repeat(60_000)) }))).not.toThrow();
  });
});
