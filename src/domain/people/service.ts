import { randomInt } from "node:crypto";
import { Types, type Model } from "mongoose";
import type { ChannelName } from "../../config.js";
import { isDuplicateKeyError } from "../../db/errors.js";
import type { Recipient } from "../../engine/message.js";
import { fold } from "../../text/normalize.js";
import { t } from "../../text/vi.js";
import { isRole, type Role } from "./roles.js";
import type { ChannelAccountDoc, LinkCodeDoc, PersonDoc } from "./schema.js";

export interface PeopleModels {
  Person: Model<PersonDoc>;
  ChannelAccount: Model<ChannelAccountDoc>;
  LinkCode: Model<LinkCodeDoc>;
}

/** The person behind a message, as every handler sees them. */
export interface Speaker {
  personId: string;
  ref: string;
  name: string;
  role: Role;
  unitId?: string;
  accountId: string;
}

// No 0/O, 1/I/L: codes are read aloud and typed on phones.
const ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";

export function randomCode(length: number): string {
  let code = "";
  for (let i = 0; i < length; i += 1) code += ALPHABET[randomInt(ALPHABET.length)];
  return code;
}

/** Links last this long: enough to open the other app, too short to guess. */
const LINK_CODE_MINUTES = 10;

export type LinkResult = "linked" | "already" | "invalid";

/** How stale lastSeenAt may get: it only orders a person's accounts by recent use. */
const SEEN_GRANULARITY_MS = 10 * 60_000;

/**
 * Whether an account already says what a message would write to it: most messages change
 * nothing, and skipping the write spares the database one write per message.
 */
function upToDate(account: ChannelAccountDoc, seen: Record<string, unknown>, now: Date): boolean {
  if (account.blockedAt) return false;
  if (now.getTime() - account.lastSeenAt.getTime() >= SEEN_GRANULARITY_MS) return false;
  if (seen.displayName !== undefined && seen.displayName !== account.displayName) return false;
  return seen.chatId === undefined || seen.chatId === account.chatId;
}

export class PeopleService {
  constructor(
    private readonly models: PeopleModels,
    /** On the console channel a sender named after a role gets that role (development mode). */
    private readonly consoleRoles = false,
  ) {}

  private async createPerson(fields: { name: string; role: Role; _id?: Types.ObjectId }): Promise<PersonDoc> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        const doc = await this.models.Person.create({
          ...fields,
          nameKey: fold(fields.name),
          ref: randomCode(6),
          active: true,
        });
        return doc.toObject();
      } catch (error) {
        if (!isDuplicateKeyError(error) || attempt >= 5) throw error;
      }
    }
  }

  private toSpeaker(person: PersonDoc, account: ChannelAccountDoc): Speaker {
    return {
      personId: person._id.toString(),
      ref: person.ref,
      name: person.name,
      role: person.role,
      unitId: person.unitId,
      accountId: account._id.toString(),
    };
  }

  /**
   * The person behind a channel account; anyone unknown becomes a citizen. Safe against two
   * first messages racing: the account upsert decides which new person id wins.
   */
  async resolveSpeaker(input: {
    channel: ChannelName;
    senderId: string;
    chatId: string;
    chatType: "private" | "group";
    senderName?: string;
    now: Date;
  }): Promise<Speaker> {
    const candidateId = new Types.ObjectId();
    const seen: Record<string, unknown> = { lastSeenAt: input.now };
    if (input.senderName) seen.displayName = input.senderName;
    // Where to write to this person: their private chat; a group message does not tell us that.
    const setOnInsert: Record<string, unknown> = { personId: candidateId };
    if (input.chatType === "private") seen.chatId = input.chatId;
    else setOnInsert.chatId = input.senderId;
    const known = await this.models.ChannelAccount.findOne({
      channel: input.channel,
      externalId: input.senderId,
    }).lean();
    const account =
      known && upToDate(known, seen, input.now)
        ? known
        : await this.upsertAccount(input.channel, input.senderId, seen, setOnInsert);
    const existing: PersonDoc | null = await this.models.Person.findById(account.personId).lean();
    if (existing) return this.toSpeaker(existing, account);
    const role = this.initialRole(input.channel, input.senderId);
    const name = input.senderName?.trim() || t.people.defaultName(role);
    return this.toSpeaker(await this.createPerson({ _id: account.personId, name, role }), account);
  }

  private async upsertAccount(
    channel: ChannelName,
    externalId: string,
    set: Record<string, unknown>,
    setOnInsert: Record<string, unknown>,
  ): Promise<ChannelAccountDoc> {
    const update = { $set: set, $setOnInsert: setOnInsert, $unset: { blockedAt: 1 } };
    for (let attempt = 0; ; attempt += 1) {
      try {
        const account = await this.models.ChannelAccount.findOneAndUpdate({ channel, externalId }, update, {
          upsert: true,
          returnDocument: "after",
        }).lean();
        if (account) return account;
      } catch (error) {
        // Two upserts raced and one lost on the unique index: the account exists now, go again.
        if (!isDuplicateKeyError(error) || attempt >= 3) throw error;
      }
    }
  }

  private initialRole(channel: ChannelName, senderId: string): Role {
    if (this.consoleRoles && channel === "console" && isRole(senderId)) return senderId;
    return "citizen";
  }

  /**
   * Makes sure a channel account belongs to a person with this role (and unit, and name), creating
   * the person if they never wrote to the bot. For configuration, the CLIs and the demo seed.
   */
  async ensurePerson(
    channel: ChannelName,
    externalId: string,
    fields: { role: Role; name?: string; unitId?: string },
    now: Date,
  ): Promise<Speaker> {
    const speaker = await this.resolveSpeaker({
      channel,
      senderId: externalId,
      chatId: externalId,
      chatType: "private",
      now,
    });
    const update: Record<string, unknown> = { role: fields.role, active: true };
    if (fields.name) Object.assign(update, { name: fields.name, nameKey: fold(fields.name) });
    if (fields.unitId) update.unitId = fields.unitId;
    await this.models.Person.updateOne({ _id: speaker.personId }, { $set: update });
    return {
      ...speaker,
      role: fields.role,
      name: fields.name ?? speaker.name,
      ...(fields.unitId ? { unitId: fields.unitId } : {}),
    };
  }

  /** Makes a channel account an admin (ADMIN_ACCOUNTS and `npm run admin`). */
  async ensureAdmin(
    channel: ChannelName,
    externalId: string,
    name: string | undefined,
    now: Date,
  ): Promise<Speaker> {
    return this.ensurePerson(channel, externalId, { role: "admin", ...(name ? { name } : {}) }, now);
  }

  /**
   * People matching what an officer typed: their code (exact), else their name without regard to
   * diacritics or case. At most `limit` results.
   */
  async search(query: string, limit = 5): Promise<PersonDoc[]> {
    const byRef = await this.models.Person.findOne({ ref: query.trim().toUpperCase(), active: true }).lean();
    if (byRef) return [byRef];
    const key = fold(query);
    if (key.length < 2) return [];
    const pattern = new RegExp(key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    return this.models.Person.find({ nameKey: pattern, active: true })
      .sort({ createdAt: 1 })
      .limit(limit)
      .lean();
  }

  async setRole(personId: string, role: Role): Promise<void> {
    await this.models.Person.updateOne({ _id: personId }, { $set: { role } });
  }

  async setUnit(personId: string, unitKey: string): Promise<void> {
    await this.models.Person.updateOne({ _id: personId }, { $set: { unitId: unitKey } });
  }

  /** A person who left: no role, no unit, no messages; their history stays. */
  async deactivate(personId: string): Promise<void> {
    await this.models.Person.updateOne({ _id: personId }, { $set: { active: false, role: "citizen" } });
  }

  /** The active people of a unit with any of `roles`. */
  async ofUnit(unitKey: string, roles: readonly Role[]): Promise<PersonDoc[]> {
    return this.models.Person.find({ unitId: unitKey, active: true, role: { $in: roles } }).lean();
  }

  async findByRef(ref: string): Promise<PersonDoc | undefined> {
    return (
      (await this.models.Person.findOne({ ref: ref.trim().toUpperCase(), active: true }).lean()) ?? undefined
    );
  }

  async list(filter: { role?: Role } = {}): Promise<PersonDoc[]> {
    return this.models.Person.find({ active: true, ...filter })
      .sort({ createdAt: 1 })
      .lean();
  }

  async accountsOf(personId: string): Promise<ChannelAccountDoc[]> {
    return this.models.ChannelAccount.find({ personId: new Types.ObjectId(personId) })
      .sort({ lastSeenAt: -1 })
      .lean();
  }

  /** Where to reach a person: the channel they used most recently and have not blocked. */
  async contactOf(personId: string): Promise<Recipient | undefined> {
    const account = (await this.accountsOf(personId)).find((a) => !a.blockedAt);
    return account ? { channel: account.channel, chatId: account.chatId, personId } : undefined;
  }

  /** The platform said this chat blocked the bot: stop addressing it until the person writes again. */
  async markBlocked(channel: ChannelName, chatId: string, now: Date): Promise<void> {
    await this.models.ChannelAccount.updateMany({ channel, chatId }, { $set: { blockedAt: now } });
  }

  /** A code the person sends from their other app to join both accounts into one person. */
  async createLinkCode(personId: string, now: Date): Promise<{ code: string; expiresAt: Date }> {
    const expiresAt = new Date(now.getTime() + LINK_CODE_MINUTES * 60_000);
    for (let attempt = 0; ; attempt += 1) {
      const code = randomCode(8);
      try {
        await this.models.LinkCode.create({ code, personId: new Types.ObjectId(personId), expiresAt });
        return { code, expiresAt };
      } catch (error) {
        if (!isDuplicateKeyError(error) || attempt >= 5) throw error;
      }
    }
  }

  /**
   * Moves the speaking account to the person who created `code`. Single use, enforced by one
   * atomic update. The person the account leaves, if left with no account, is retired.
   */
  async redeemLinkCode(code: string, speaker: Speaker, now: Date): Promise<LinkResult> {
    const link = await this.models.LinkCode.findOneAndUpdate(
      { code: code.trim().toUpperCase(), usedAt: { $exists: false }, expiresAt: { $gt: now } },
      { $set: { usedAt: now } },
      { returnDocument: "after" },
    ).lean();
    if (!link) return "invalid";
    if (link.personId.toString() === speaker.personId) return "already";
    await this.models.ChannelAccount.updateOne(
      { _id: speaker.accountId },
      { $set: { personId: link.personId } },
    );
    const remaining = await this.models.ChannelAccount.countDocuments({ personId: speaker.personId });
    if (remaining === 0)
      await this.models.Person.updateOne({ _id: speaker.personId }, { $set: { active: false } });
    return "linked";
  }
}
