import { randomUUID } from "node:crypto";
import { Types, type Model } from "mongoose";
import { isDuplicateKeyError } from "../../db/errors.js";
import { bestFaq } from "./faq.js";
import type { ContactDoc, ContactField, FaqDoc, ReceptionSlotDoc, Removable } from "./schema.js";

export interface PublicInfoModels {
  ReceptionSlot: Model<ReceptionSlotDoc>;
  PublicContact: Model<ContactDoc>;
  Faq: Model<FaqDoc>;
}

export type SlotInput = Pick<ReceptionSlotDoc, "who" | "when" | "where" | "register">;
export type FaqInput = Pick<FaqDoc, "question" | "keywords" | "answer">;
export type ContactInput = Record<ContactField, string>;

/** The defaults of data/public (see public-data.ts). */
export interface PublicData {
  slots: (SlotInput & { key: string })[];
  contact: ContactInput;
  faqs: (FaqInput & { key: string })[];
}

const CONTACT_KEY = "main";

/** Who made a change, for the record kept beside each piece of public information. */
export interface Editor {
  name: string;
  now: Date;
  /**
   * The turn's idempotency key (Turn.idempotencyKey): a new entry is made under it, so a turn run
   * again after a crash finds the entry it made instead of adding a second one.
   */
  key?: string;
}

/**
 * Adds an entry after the last one, under the editor's key (unique): an entry already there under
 * it is this same one, made by an earlier run of the turn.
 */
async function append<T extends { order: number }>(
  model: Model<T>,
  fields: object,
  by: Editor,
): Promise<void> {
  const last = await model.findOne().sort({ order: -1 }).lean<{ order: number }>();
  try {
    await new model({
      ...fields,
      key: by.key ?? randomUUID(),
      order: (last?.order ?? 0) + 1,
      updatedAt: by.now,
      updatedBy: by.name,
    }).save();
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
}

/** Entries not removed (see Removable in schema.ts). */
const LIVE = { removedAt: { $exists: false } };

/**
 * Removes an entry, once: false when it was gone already. `by.key` names the update (see
 * removedBy).
 */
async function remove<T extends Removable>(model: Model<T>, id: string, by: Editor): Promise<boolean> {
  const result = await model.updateOne(
    { _id: new Types.ObjectId(id), ...LIVE },
    {
      $set: { removedAt: by.now, removedBy: by.key ?? randomUUID(), updatedBy: by.name },
    },
  );
  return result.modifiedCount > 0;
}

/** The entry the update `key` removed: its run again after a crash answers as the first did. */
async function removedBy<T extends Removable>(model: Model<T>, key: string): Promise<T | undefined> {
  return (await model.findOne({ removedBy: key }).lean<T>()) ?? undefined;
}

/**
 * What the Department tells everyone who asks: the citizen reception schedule, its contact
 * details and the answers to frequent questions. The Office keeps them up to date in the chat.
 */
export class PublicInfoService {
  constructor(private readonly models: PublicInfoModels) {}

  async slots(): Promise<ReceptionSlotDoc[]> {
    return this.models.ReceptionSlot.find(LIVE).sort({ order: 1, _id: 1 }).lean();
  }

  addSlot(input: SlotInput, by: Editor): Promise<void> {
    return append(this.models.ReceptionSlot, input, by);
  }

  /** False when the entry is gone (another clerk removed it meanwhile). */
  async updateSlot(id: string, changes: Partial<SlotInput>, by: Editor): Promise<boolean> {
    const result = await this.models.ReceptionSlot.updateOne(
      { _id: new Types.ObjectId(id), ...LIVE },
      { $set: { ...changes, updatedAt: by.now, updatedBy: by.name } },
    );
    return result.matchedCount > 0;
  }

  removeSlot(id: string, by: Editor): Promise<boolean> {
    return remove(this.models.ReceptionSlot, id, by);
  }

  /** The slot the update `key` removed (see removedBy). */
  slotRemovedBy(key: string): Promise<ReceptionSlotDoc | undefined> {
    return removedBy(this.models.ReceptionSlot, key);
  }

  async contact(): Promise<ContactDoc | undefined> {
    return (await this.models.PublicContact.findOne({ key: CONTACT_KEY }).lean()) ?? undefined;
  }

  async updateContact(changes: Partial<ContactInput>, by: Editor): Promise<void> {
    await this.models.PublicContact.updateOne(
      { key: CONTACT_KEY },
      { $set: { ...changes, updatedAt: by.now, updatedBy: by.name } },
      { upsert: true },
    );
  }

  async faqs(): Promise<FaqDoc[]> {
    return this.models.Faq.find(LIVE).sort({ order: 1, _id: 1 }).lean();
  }

  addFaq(input: FaqInput, by: Editor): Promise<void> {
    return append(this.models.Faq, input, by);
  }

  async updateFaq(id: string, changes: Partial<FaqInput>, by: Editor): Promise<boolean> {
    const result = await this.models.Faq.updateOne(
      { _id: new Types.ObjectId(id), ...LIVE },
      { $set: { ...changes, updatedAt: by.now, updatedBy: by.name } },
    );
    return result.matchedCount > 0;
  }

  removeFaq(id: string, by: Editor): Promise<boolean> {
    return remove(this.models.Faq, id, by);
  }

  /** The question the update `key` removed (see removedBy). */
  faqRemovedBy(key: string): Promise<FaqDoc | undefined> {
    return removedBy(this.models.Faq, key);
  }

  /** The frequent question a message is about, diacritics or not; see bestFaq. */
  async matchFaq(text: string): Promise<FaqDoc | undefined> {
    return bestFaq(text, await this.faqs());
  }

  /**
   * Loads the defaults into whatever is still empty, so a re-seed never overwrites what the
   * Office has edited (entries it removed count: a list it emptied stays empty). Entries are
   * upserted by their key: two instances seeding at once agree.
   */
  async ensureDefaults(data: PublicData, now: Date): Promise<void> {
    const seeded = { updatedAt: now };
    if ((await this.models.ReceptionSlot.countDocuments()) === 0) {
      for (const [index, { key, ...slot }] of data.slots.entries()) {
        await this.models.ReceptionSlot.updateOne(
          { key },
          { $setOnInsert: { ...slot, order: index + 1, ...seeded } },
          { upsert: true },
        );
      }
    }
    if ((await this.models.Faq.countDocuments()) === 0) {
      for (const [index, { key, ...faq }] of data.faqs.entries()) {
        await this.models.Faq.updateOne(
          { key },
          { $setOnInsert: { ...faq, order: index + 1, ...seeded } },
          { upsert: true },
        );
      }
    }
    await this.models.PublicContact.updateOne(
      { key: CONTACT_KEY },
      { $setOnInsert: { ...data.contact, ...seeded } },
      { upsert: true },
    );
  }
}
