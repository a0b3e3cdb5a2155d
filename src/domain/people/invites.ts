import { createHash } from "node:crypto";
import { Schema, Types, type Model } from "mongoose";
import type { Claims } from "../../db/claims.js";
import { isDuplicateKeyError } from "../../db/errors.js";
import type { Sealer } from "../../privacy/sealer.js";
import { ROLES, type Role } from "./roles.js";
import { randomCode, type PeopleModels, type Speaker } from "./service.js";

/** A single-use code the Office gives an official, binding their chat account to a unit and role. */
export interface InviteDoc {
  _id: Types.ObjectId;
  /**
   * The code's keyed hash (Sealer.lookupHash), never the code: whoever reads a dump must not be
   * able to join as an official. Invites of earlier versions hold the code in the clear.
   */
  code: string;
  unitKey: string;
  role: Role;
  createdBy: Types.ObjectId;
  createdAt: Date;
  expiresAt: Date;
  usedAt?: Date;
  usedBy?: Types.ObjectId;
  /** The update that redeemed it: only its replay after a crash may finish the redemption again. */
  usedByUpdate?: string;
}

export const inviteSchema = new Schema<InviteDoc>(
  {
    code: { type: String, required: true, unique: true },
    unitKey: { type: String, required: true },
    role: { type: String, required: true },
    createdBy: { type: Schema.Types.ObjectId, required: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    usedAt: { type: Date },
    usedBy: { type: Schema.Types.ObjectId },
    usedByUpdate: { type: String },
  },
  { collection: "invites" },
);

/** One wrong code typed by one account; counted to slow down guessing. */
export interface InviteFailureDoc {
  _id: Types.ObjectId;
  accountId: string;
  at: Date;
}

export const inviteFailureSchema = new Schema<InviteFailureDoc>(
  { accountId: { type: String, required: true }, at: { type: Date, required: true } },
  { collection: "invite_failures" },
);
inviteFailureSchema.index({ accountId: 1, at: 1 });

/** The id of the wrong-code count an update made: the same for its replay. */
function failureId(guess: string): Types.ObjectId {
  return new Types.ObjectId(createHash("sha256").update(`invite-failure:${guess}`).digest().subarray(0, 12));
}

export const INVITE_DAYS = 7;
/** Five wrong codes within fifteen minutes and the account waits: guessing 8 characters stays hopeless. */
export const MAX_FAILURES = 5;
export const FAILURE_WINDOW_MS = 15 * 60_000;

/** The roles an invite can give; citizens need none, admins come from configuration. */
export const INVITABLE_ROLES: readonly Role[] = ["staff", "unit_head", "office", "leader"];

/**
 * Who may give which role, by invite or by /phanquyen. The Office brings in the units' officials;
 * the Office, leadership and admin roles see and decide for the whole Department, so only an
 * admin gives them.
 */
const GRANTABLE: Partial<Record<Role, readonly Role[]>> = {
  office: ["staff", "unit_head"],
  admin: ROLES,
};

/** @example mayGrant("office", "leader") // false */
export function mayGrant(granter: Role, role: Role): boolean {
  return GRANTABLE[granter]?.includes(role) ?? false;
}

/** The roles `granter` may put on an invite. */
export function invitableBy(granter: Role): Role[] {
  return INVITABLE_ROLES.filter((role) => mayGrant(granter, role));
}

/** An invite asked for a role its creator may not give. */
export class GrantError extends Error {
  constructor(
    readonly granter: Role | undefined,
    readonly role: Role,
  ) {
    super(`${granter ?? "unknown"} may not grant ${role}`);
    this.name = "GrantError";
  }
}

export type RedeemResult =
  | { kind: "ok"; unitKey: string; role: Role }
  | { kind: "invalid" | "used" | "expired" | "revoked" }
  | { kind: "throttled"; retryAt: Date };

/** A code for createWithCode: 8 characters, as create makes them. */
export function newInviteCode(): string {
  return randomCode(8);
}

export class InvitesService {
  constructor(
    private readonly invites: Model<InviteDoc>,
    private readonly failures: Model<InviteFailureDoc>,
    private readonly people: PeopleModels,
    private readonly claims: Claims,
    private readonly sealer: Sealer,
    /** Runs the write that changes a person's role (PeopleService.changing). */
    private readonly changingPeople: <T>(write: () => Promise<T>) => Promise<T> = (write) => write(),
  ) {}

  /**
   * A new invite; throws GrantError when its creator may not give that role. The code is in the
   * returned invite only: what is stored is its hash.
   */
  async create(unitKey: string, role: Role, createdBy: string, now: Date): Promise<InviteDoc> {
    await this.mayCreate(role, createdBy);
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.insert(randomCode(8), unitKey, role, createdBy, now);
      } catch (error) {
        if (!isDuplicateKeyError(error) || attempt >= 5) throw error;
      }
    }
  }

  /**
   * The invite with the code `code`, chosen beforehand (see newInviteCode) and kept by the caller
   * until the invite is made: the same call again — a turn replayed after a crash — finds the
   * invite it made and returns it with its code, so a replay makes no second invite for the same
   * person. Throws GrantError like create.
   */
  async createWithCode(
    code: string,
    unitKey: string,
    role: Role,
    createdBy: string,
    now: Date,
  ): Promise<InviteDoc> {
    await this.mayCreate(role, createdBy);
    try {
      return await this.insert(code, unitKey, role, createdBy, now);
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const made = await this.invites
        .findOne({ code: { $in: this.sealer.lookupHashes(`invite:${code}`) } })
        .lean();
      // Another invite with the same code (one in 32^8 per invite alive) is not ours to hand out.
      if (!made || String(made.createdBy) !== createdBy || made.unitKey !== unitKey || made.role !== role)
        throw error;
      return { ...made, code };
    }
  }

  private async mayCreate(role: Role, createdBy: string): Promise<void> {
    const granter = await this.roleOf(createdBy);
    if (!granter || !mayGrant(granter, role)) throw new GrantError(granter, role);
  }

  private async insert(
    code: string,
    unitKey: string,
    role: Role,
    createdBy: string,
    now: Date,
  ): Promise<InviteDoc> {
    const doc = await this.invites.create({
      code: this.sealer.lookupHash(`invite:${code}`),
      unitKey,
      role,
      createdBy: new Types.ObjectId(createdBy),
      createdAt: now,
      expiresAt: new Date(now.getTime() + INVITE_DAYS * 86_400_000),
    });
    return { ...doc.toObject(), code };
  }

  private async roleOf(personId: Types.ObjectId | string): Promise<Role | undefined> {
    const person = await this.people.Person.findOne({ _id: personId, active: true }, { role: 1 }).lean();
    return person?.role;
  }

  /**
   * Counts a wrong code, once per `guess` (the update that typed it): its replay after a crash
   * finds the count made and adds none. Named by an id made from the update, so the count stays
   * one insert.
   */
  private async fail(
    accountId: string,
    kind: "invalid" | "used" | "expired",
    now: Date,
    guess: string | undefined,
  ): Promise<RedeemResult> {
    try {
      await this.failures.create({ ...(guess ? { _id: failureId(guess) } : {}), accountId, at: now });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    return { kind };
  }

  /**
   * Binds the speaker to the invite's unit and role. Single use even when two accounts race for
   * the same code: the claim key lets exactly one through. `update` is the turn's idempotency
   * key (its replay may finish a redemption it began); `guess` the update that typed the code,
   * which names the count of a wrong one.
   */
  async redeem(
    code: string,
    speaker: Speaker,
    now: Date,
    update?: string,
    guess?: string,
  ): Promise<RedeemResult> {
    const since = new Date(now.getTime() - FAILURE_WINDOW_MS);
    const recent = await this.failures
      .find({ accountId: speaker.accountId, at: { $gt: since } })
      .sort({ at: 1 })
      .lean();
    if (recent.length >= MAX_FAILURES) {
      const oldest = recent[recent.length - MAX_FAILURES]?.at ?? now;
      return { kind: "throttled", retryAt: new Date(oldest.getTime() + FAILURE_WINDOW_MS) };
    }
    const typed = code.trim().toUpperCase();
    // Under any key of the ring (an invite made before a rotation still works while its key is
    // kept), or in the clear as versions before the hash kept it.
    const invite = await this.invites
      .findOne({ code: { $in: [...this.sealer.lookupHashes(`invite:${typed}`), typed] } })
      .lean();
    if (!invite) return this.fail(speaker.accountId, "invalid", now, guess);
    // An invite to a role its creator may no longer give (made before only admins could, or by
    // someone since moved out of the role) gives nothing. Not a guess: no failure is counted.
    if (!invite.usedAt) {
      const granter = await this.roleOf(invite.createdBy);
      if (!granter || !mayGrant(granter, invite.role)) return { kind: "revoked" };
    }
    // Used by this very update: a crash cut the redemption off before the role was given, and this
    // is its replay. It finishes instead of burning the code. The same person sending the code
    // again later is refused like anyone else: a deactivated official gets no role back by it.
    const mine = update !== undefined && invite.usedByUpdate === update;
    if (invite.usedAt && !mine) return this.fail(speaker.accountId, "used", now, guess);
    if (!invite.usedAt) {
      if (invite.expiresAt <= now) return this.fail(speaker.accountId, "expired", now, guess);
      // The claim names the account, so the same account meeting its own claim (taken by a turn
      // that died before marking the invite used) goes on.
      if (!(await this.claims.takeOrHeld(`invite:${invite.code}`, speaker.accountId, now))) {
        return this.fail(speaker.accountId, "used", now, guess);
      }
      await this.invites.updateOne(
        { _id: invite._id, usedAt: { $exists: false } },
        {
          $set: {
            usedAt: now,
            usedBy: new Types.ObjectId(speaker.personId),
            ...(update !== undefined ? { usedByUpdate: update } : {}),
          },
        },
      );
    }
    await this.changingPeople(() =>
      this.people.Person.updateOne(
        { _id: speaker.personId },
        { $set: { role: invite.role, unitId: invite.unitKey, active: true } },
      ),
    );
    return { kind: "ok", unitKey: invite.unitKey, role: invite.role };
  }

  /**
   * Hashes the codes of invites an earlier version kept in the clear. Hashes cannot be remade
   * under a new key (the code is not kept): an invite made under the old key works while that key
   * stays in the ring, so drop it once the week an invite lives has passed. For keys:rotate.
   */
  async hashLegacyCodes(): Promise<number> {
    let changed = 0;
    const legacy = this.invites.find().lean().cursor();
    for await (const invite of legacy as AsyncIterable<InviteDoc>) {
      // A hash is `<key id>.<digest>`; a code has no dot.
      if (invite.code.includes(".")) continue;
      const { matchedCount } = await this.invites.updateOne(
        { _id: invite._id, code: invite.code },
        { $set: { code: this.sealer.lookupHash(`invite:${invite.code}`) } },
      );
      changed += matchedCount;
    }
    return changed;
  }

  async sweep(now: Date): Promise<void> {
    await this.failures.deleteMany({ at: { $lt: new Date(now.getTime() - FAILURE_WINDOW_MS) } });
  }
}
