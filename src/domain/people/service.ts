import { randomInt } from "node:crypto";
import { Types, type Model } from "mongoose";
import type { ChannelName } from "../../config.js";
import { isDuplicateKeyError } from "../../db/errors.js";
import { GroupInsert } from "../../db/group-insert.js";
import type { Recipient } from "../../engine/message.js";
import { resealField } from "../../privacy/reseal.js";
import type { Sealer } from "../../privacy/sealer.js";
import { fold, foldWords } from "../../text/normalize.js";
import { t } from "../../text/vi.js";
import { isRole, type Role } from "./roles.js";
import type { ChannelAccountDoc, LinkCodeDoc, PersonDoc } from "./schema.js";
import { storedAccount, storedPerson, type NewAccountFields } from "./stored-people.js";

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
  /**
   * On the turn whose message filed this person (their account did not exist before it) only:
   * nothing was ever set for them on a platform, e.g. a command menu of their own.
   */
  newcomer?: true;
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

/** Names longer than this are cut: the sealed form leaves the schema nothing to check. */
const MAX_NAME = 200;
/** A search word matches a name word it begins: "bin" finds "Bình". Longer prefixes add nothing. */
const MAX_PREFIX = 12;

/**
 * The prefixes of a folded name's words, each once: what nameKeys hashes. "Nguyễn Văn Bình" gives
 * "n", "ng", … "nguyen", "v", "va", "van", "b", "bi", "bin", "binh".
 */
export function namePrefixes(name: string): string[] {
  const prefixes = new Set<string>();
  for (const word of foldWords(name)) {
    for (let n = 1; n <= Math.min(word.length, MAX_PREFIX); n += 1) prefixes.add(word.slice(0, n));
  }
  return [...prefixes];
}

/** How stale lastSeenAt may get: it only orders a person's accounts by recent use. */
const SEEN_GRANULARITY_MS = 10 * 60_000;
/**
 * How long a citizen, once read, is taken as read: every step of a citizen's /gopy read the
 * account and the person again (two of the ten database commands of a step). Citizens only: it is
 * the least a speaker may do, so a change made by another process (a citizen made an official
 * there) shows here at most this late and never grants what was taken away. Changes made in this
 * process forget the remembered speakers at once (PeopleService.changed).
 */
const CITIZEN_CACHE_MS = 60_000;
const CITIZEN_CACHE_MAX = 10_000;

/**
 * Whether an account already says what a message would write to it: most messages change
 * nothing, and skipping the write spares the database one write per message.
 */
function upToDate(
  account: ChannelAccountDoc,
  seen: { chatId?: string; displayName?: string },
  now: Date,
  sealer: Sealer,
): boolean {
  if (account.blockedAt) return false;
  if (now.getTime() - account.lastSeenAt.getTime() >= SEEN_GRANULARITY_MS) return false;
  if (
    seen.displayName !== undefined &&
    (account.displayName === undefined || seen.displayName !== sealer.read(account.displayName))
  )
    return false;
  return seen.chatId === undefined || seen.chatId === account.chatId;
}

/** Who wrote, as a channel says it: what resolveSpeaker works out a person from. */
export interface SpeakerInput {
  channel: ChannelName;
  senderId: string;
  chatId: string;
  chatType: "private" | "group";
  senderName?: string;
  now: Date;
  /**
   * Most likely a newcomer (Engine.firstLike: /start or a flow's command in a chat that never kept
   * a state), whose account is then written as new without a read before it. Only a hint: for a
   * person known already that write is refused, and their account is read as anyone's is.
   */
  newChat?: boolean;
}

export class PeopleService {
  /** Citizens read lately, by channel and account id (see CITIZEN_CACHE_MS). */
  private readonly recentCitizens = new Map<
    string,
    { speaker: Speaker; account: ChannelAccountDoc; until: number }
  >();
  private generation = 0;
  /** Lists being read, by role ("" for everyone): see list. */
  private readonly listing = new Map<string, { generation: number; read: Promise<PersonDoc[]> }>();
  /** New people and newcomers' accounts are written with those of about the same moment. */
  private readonly personInserts: GroupInsert<PersonDoc>;
  private readonly accountInserts: GroupInsert<ChannelAccountDoc>;

  /**
   * Goes up with every write to people or accounts made here (see changing): equal before and
   * after a turn, nothing the turn did changed who anyone is or what role they have.
   */
  get changes(): number {
    return this.generation;
  }

  constructor(
    private readonly models: PeopleModels,
    /** Seals names at rest: a citizen's display name is personal data (README, "Personal data"). */
    private readonly sealer: Sealer,
    /** On the console channel a sender named after a role gets that role (development mode). */
    private readonly consoleRoles = false,
  ) {
    // Made by hand (stored-people.ts), inserted as they stand.
    this.personInserts = new GroupInsert(models.Person, { asStored: true });
    this.accountInserts = new GroupInsert(models.ChannelAccount, { asStored: true });
  }

  /** A name as stored: sealed, with the keyed hashes that let search find it. */
  private storedName(name: string): { name: string; nameKeys: string[] } {
    const clipped = name.slice(0, MAX_NAME);
    return {
      name: this.sealer.seal(clipped),
      // Sorted: in the prefixes' order the hashes would show where each word begins and ends.
      nameKeys: namePrefixes(clipped)
        .map((p) => this.sealer.lookupHash(`name:${p}`))
        .sort(),
    };
  }

  /** A person as the rest of the code sees them: the name readable. */
  private opened(person: PersonDoc): PersonDoc {
    return { ...person, name: this.sealer.read(person.name) };
  }

  private async createPerson(fields: { name: string; role: Role; _id?: Types.ObjectId }): Promise<PersonDoc> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        // Written with the people filed at the same moment (GroupInsert): a wave of newcomers'
        // first messages writes one insertMany, not one insert each.
        const person = storedPerson({
          ...fields,
          ...this.storedName(fields.name),
          ref: randomCode(6),
          active: true,
        });
        await this.personInserts.insert(person);
        return this.opened(person);
      } catch (error) {
        if (!isDuplicateKeyError(error) || attempt >= 5) throw error;
        // The account's person, filed meanwhile by another first message of theirs (another
        // chat, another instance) or by a batch that landed before it failed: that one stands.
        if (fields._id) {
          const filed = await this.models.Person.findById(fields._id).lean();
          if (filed) return this.opened(filed);
        }
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
   * first messages racing: the unique index on the account decides which new person id wins,
   * whether the account is inserted or upserted.
   */
  async resolveSpeaker(input: SpeakerInput): Promise<Speaker> {
    const candidateId = new Types.ObjectId();
    const displayName = input.senderName?.slice(0, MAX_NAME);
    const seen = {
      ...(displayName ? { displayName } : {}),
      // Where to write to this person: their private chat; a group message does not tell us that.
      ...(input.chatType === "private" ? { chatId: input.chatId } : {}),
    };
    const cacheKey = `${input.channel}:${input.senderId}`;
    const cached = this.recentCitizens.get(cacheKey);
    // Still what the account says, by the same rules that decide whether to write it again.
    if (
      cached &&
      cached.until > input.now.getTime() &&
      upToDate(cached.account, seen, input.now, this.sealer)
    )
      return cached.speaker;
    const generation = this.generation;
    const { account, ...speaker } = await this.readSpeaker(input, candidateId, displayName, seen);
    // A change made while it was read may not be in it: not remembered then.
    if (speaker.role === "citizen" && generation === this.generation) {
      if (this.recentCitizens.size >= CITIZEN_CACHE_MAX) this.recentCitizens.clear();
      this.recentCitizens.set(cacheKey, { speaker, account, until: input.now.getTime() + CITIZEN_CACHE_MS });
    }
    // The account this call made names the person id only this call chose.
    return account.personId.equals(candidateId) ? { ...speaker, newcomer: true } : speaker;
  }

  /**
   * Forgets the citizens remembered: something about people or accounts changes here. Called
   * before the change and after it (see changing), so a speaker read while it was being written
   * is not kept.
   */
  private changed(): void {
    this.generation += 1;
    this.recentCitizens.clear();
  }

  /** Runs a write to people or accounts with the citizens remembered forgotten on both sides of it. */
  async changing<T>(write: () => Promise<T>): Promise<T> {
    this.changed();
    try {
      return await write();
    } finally {
      this.changed();
    }
  }

  private async readSpeaker(
    input: SpeakerInput,
    candidateId: Types.ObjectId,
    displayName: string | undefined,
    seen: { chatId?: string; displayName?: string },
  ): Promise<Speaker & { account: ChannelAccountDoc }> {
    const setOnInsert: Record<string, unknown> = { personId: candidateId };
    if (input.chatType !== "private") setOnInsert.chatId = input.senderId;
    const set = {
      ...seen,
      ...(displayName ? { displayName: this.sealer.seal(displayName) } : {}),
      lastSeenAt: input.now,
    };
    let account = input.newChat
      ? await this.insertAccount({
          channel: input.channel,
          externalId: input.senderId,
          personId: candidateId,
          // Their private chat; a group's message names only the sender (as setOnInsert does).
          chatId: input.chatType === "private" ? input.chatId : input.senderId,
          ...(set.displayName ? { displayName: set.displayName } : {}),
          lastSeenAt: input.now,
        })
      : undefined;
    if (!account) {
      const known = await this.models.ChannelAccount.findOne({
        channel: input.channel,
        externalId: input.senderId,
      }).lean();
      account =
        known && upToDate(known, seen, input.now, this.sealer)
          ? known
          : await this.upsertAccount(input.channel, input.senderId, set, setOnInsert);
    }
    // An account this very call made names the person id only this call knows: no one to read.
    const fresh = account.personId.equals(candidateId);
    const existing: PersonDoc | null = fresh
      ? null
      : await this.models.Person.findById(account.personId).lean();
    if (existing) return { ...this.toSpeaker(this.opened(existing), account), account };
    const role = this.initialRole(input.channel, input.senderId);
    const name = input.senderName?.trim() || t.people.defaultName(role);
    const created = await this.createPerson({ _id: account.personId, name, role });
    return { ...this.toSpeaker(created, account), account };
  }

  /**
   * A newcomer's account (SpeakerInput.newChat), written as a new document with those of the same
   * moment (GroupInsert): a wave of first messages writes one insertMany where each upsert was a
   * findAndModify of its own. Undefined when the account exists (the hint was wrong, or another
   * first message of theirs made it meanwhile): the caller then reads it, as for anyone else.
   * Sound only with the unique index on (channel, externalId), which App.ensureIndexes makes
   * before anything is handled: without it, a known person would get a second account.
   */
  private async insertAccount(fields: NewAccountFields): Promise<ChannelAccountDoc | undefined> {
    try {
      const account = storedAccount(fields);
      await this.accountInserts.insert(account);
      return account;
    } catch (error) {
      if (isDuplicateKeyError(error)) return undefined;
      throw error;
    }
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
    if (fields.name) Object.assign(update, this.storedName(fields.name));
    if (fields.unitId) update.unitId = fields.unitId;
    await this.changing(() =>
      this.models.Person.updateOne(
        { _id: speaker.personId },
        { $set: update, ...(fields.name ? { $unset: { nameKey: 1 } } : {}) },
      ),
    );
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
   * People matching what an officer typed: their code (exact), else every word typed beginning a
   * word of their name, without regard to diacritics or case ("van binh" finds "Nguyễn Văn Bình").
   * The names are sealed, so the words are matched by their keyed hashes, under every key of the
   * ring (a person not yet rehashed after a rotation is found too). At most `limit` results.
   */
  async search(query: string, limit = 5): Promise<PersonDoc[]> {
    const byRef = await this.models.Person.findOne({ ref: query.trim().toUpperCase(), active: true }).lean();
    if (byRef) return [this.opened(byRef)];
    const key = fold(query);
    if (key.length < 2) return [];
    const words = foldWords(query).map((w) => w.slice(0, MAX_PREFIX));
    if (words.length === 0) return [];
    const byHash = words.map((w) => ({ nameKeys: { $in: this.sealer.lookupHashes(`name:${w}`) } }));
    // Documents of earlier versions, not yet through keys:rotate, keep the folded name in the clear.
    const pattern = new RegExp(key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    const people = await this.models.Person.find({
      active: true,
      $or: [{ $and: byHash }, { nameKey: pattern }],
    })
      .sort({ createdAt: 1 })
      .limit(limit)
      .lean();
    return people.map((p) => this.opened(p));
  }

  async setRole(personId: string, role: Role): Promise<void> {
    await this.changing(() => this.models.Person.updateOne({ _id: personId }, { $set: { role } }));
  }

  async setUnit(personId: string, unitKey: string): Promise<void> {
    await this.changing(() => this.models.Person.updateOne({ _id: personId }, { $set: { unitId: unitKey } }));
  }

  /** A person who left: no role, no unit, no messages; their history stays. */
  async deactivate(personId: string): Promise<void> {
    await this.changing(() =>
      this.models.Person.updateOne({ _id: personId }, { $set: { active: false, role: "citizen" } }),
    );
  }

  /** The active people of a unit with any of `roles`. */
  async ofUnit(unitKey: string, roles: readonly Role[]): Promise<PersonDoc[]> {
    const people = await this.models.Person.find({
      unitId: unitKey,
      active: true,
      role: { $in: roles },
    }).lean();
    return people.map((p) => this.opened(p));
  }

  async findByRef(ref: string): Promise<PersonDoc | undefined> {
    const person = await this.models.Person.findOne({ ref: ref.trim().toUpperCase(), active: true }).lean();
    return person ? this.opened(person) : undefined;
  }

  /**
   * The active people (with that role), oldest first. A caller who asks while the same list is
   * being read shares that read, sent at most one round trip before it asked: thirty citizens
   * confirming together tell the Office from one read, not thirty. Nothing is kept once the read
   * is back, and a caller after a change made here (see changing) starts a read of its own.
   */
  async list(filter: { role?: Role } = {}): Promise<PersonDoc[]> {
    const key = filter.role ?? "";
    const generation = this.generation;
    let shared = this.listing.get(key);
    if (!shared || shared.generation !== generation) {
      const read = this.models.Person.find({ active: true, ...filter })
        .sort({ createdAt: 1 })
        .lean<PersonDoc[]>()
        .exec();
      const entry = { generation, read };
      shared = entry;
      this.listing.set(key, entry);
      const done = () => {
        if (this.listing.get(key) === entry) this.listing.delete(key);
      };
      read.then(done, done);
    }
    const people = await shared.read;
    return people.map((p) => this.opened(p));
  }

  /** A person's accounts, most recently used first, their display names opened. */
  async accountsOf(personId: string): Promise<ChannelAccountDoc[]> {
    const accounts = await this.models.ChannelAccount.find({ personId: new Types.ObjectId(personId) })
      .sort({ lastSeenAt: -1 })
      .lean();
    return accounts.map((a) =>
      a.displayName === undefined ? a : { ...a, displayName: this.sealer.read(a.displayName) },
    );
  }

  /** Where to reach a person: the channel they used most recently and have not blocked. */
  async contactOf(personId: string): Promise<Recipient | undefined> {
    const account = (await this.accountsOf(personId)).find((a) => !a.blockedAt);
    return account ? { channel: account.channel, chatId: account.chatId, personId } : undefined;
  }

  /** The platform said this chat blocked the bot: stop addressing it until the person writes again. */
  async markBlocked(channel: ChannelName, chatId: string, now: Date): Promise<void> {
    await this.changing(() =>
      this.models.ChannelAccount.updateMany({ channel, chatId }, { $set: { blockedAt: now } }),
    );
  }

  /**
   * A code the person sends from their other app to join both accounts into one person. `update`
   * names the update that asked for it: the code is made from it with the data key, so the
   * update's replay after a crash tells the person the same code rather than a second valid one.
   */
  async createLinkCode(
    personId: string,
    now: Date,
    update: string,
  ): Promise<{ code: string; expiresAt: Date }> {
    const expiresAt = new Date(now.getTime() + LINK_CODE_MINUTES * 60_000);
    for (let attempt = 0; ; attempt += 1) {
      // A code someone else holds (one chance in 31^8) leaves random ones to try.
      const code = attempt === 0 ? this.codeOf(`link-code:${update}`, 8) : randomCode(8);
      const hash = this.sealer.lookupHash(`link:${code}`);
      try {
        await this.models.LinkCode.create({ code: hash, personId: new Types.ObjectId(personId), expiresAt });
        return { code, expiresAt };
      } catch (error) {
        if (!isDuplicateKeyError(error) || attempt >= 5) throw error;
        if (attempt > 0) continue;
        const made = await this.models.LinkCode.findOne({ code: hash }).lean();
        if (made?.personId.toString() === personId) return { code, expiresAt: made.expiresAt };
      }
    }
  }

  /** A code of the alphabet's letters made from `seed` with the data key: the same seed, the same code. */
  private codeOf(seed: string, length: number): string {
    const digest = Buffer.from(this.sealer.lookupHash(seed).split(".").pop() ?? "", "base64url");
    let code = "";
    for (let i = 0; i < length; i += 1) code += ALPHABET[(digest[i] ?? 0) % ALPHABET.length];
    return code;
  }

  /**
   * Puts people's names and accounts' display names under the current key (sealing those an
   * earlier version kept in the clear), remakes the name search hashes under it, and hashes link
   * codes an earlier version kept in the clear. A link code's hash cannot be remade (the code is
   * not kept): codes live ten minutes, and one made under the old key works while that key is in
   * the ring. Returns how many documents changed. For `npm run keys:rotate`.
   */
  async resealAll(): Promise<number> {
    let changed = 0;
    const people = this.models.Person.find().lean().cursor();
    for await (const person of people as AsyncIterable<PersonDoc>) {
      const name = this.sealer.resealed(person.name);
      const stale =
        person.nameKey !== undefined ||
        !person.nameKeys ||
        person.nameKeys.some((h) => !this.sealer.isCurrentHash(h));
      if (name === undefined && !stale) continue;
      // Matching on the old name: a rename meanwhile is kept, never overwritten with a stale one.
      const { matchedCount } = await this.models.Person.updateOne(
        { _id: person._id, name: person.name },
        { $set: this.storedName(this.sealer.read(person.name)), $unset: { nameKey: 1 } },
      );
      changed += matchedCount;
    }
    changed += await resealField(this.models.ChannelAccount, "displayName", this.sealer);
    const links = this.models.LinkCode.find().lean().cursor();
    for await (const link of links as AsyncIterable<LinkCodeDoc>) {
      if (link.code.includes(".")) continue;
      const { matchedCount } = await this.models.LinkCode.updateOne(
        { _id: link._id, code: link.code },
        { $set: { code: this.sealer.lookupHash(`link:${link.code}`) } },
      );
      changed += matchedCount;
    }
    return changed;
  }

  /**
   * Moves the speaking account to the person who created `code`. Single use, enforced by one
   * atomic update. The person the account leaves, if left with no account, is retired.
   */
  async redeemLinkCode(code: string, speaker: Speaker, now: Date, update: string): Promise<LinkResult> {
    const typed = code.trim().toUpperCase();
    // Under any key of the ring (a code made just before a rotation still links), or in the
    // clear as versions before the hash kept it (for the ten minutes a code lives).
    const codes = { $in: [...this.sealer.lookupHashes(`link:${typed}`), typed] };
    const link =
      (await this.models.LinkCode.findOneAndUpdate(
        { code: codes, usedAt: { $exists: false }, expiresAt: { $gt: now } },
        { $set: { usedAt: now, usedByUpdate: update } },
        { returnDocument: "after" },
      ).lean()) ??
      // This update's replay after a crash: the code it used is not a wrong guess, and the link
      // it may not have finished is made again (each write below is the same the second time).
      (await this.models.LinkCode.findOne({ code: codes, usedByUpdate: update }).lean());
    if (!link) return "invalid";
    if (link.personId.toString() === speaker.personId) return "already";
    await this.changing(async () => {
      await this.models.ChannelAccount.updateOne(
        { _id: speaker.accountId },
        { $set: { personId: link.personId } },
      );
      const remaining = await this.models.ChannelAccount.countDocuments({ personId: speaker.personId });
      if (remaining === 0)
        await this.models.Person.updateOne({ _id: speaker.personId }, { $set: { active: false } });
    });
    return "linked";
  }
}
