import { Types } from "mongoose";
import { definedFields, requiredString, StoredRefused } from "../../db/group-insert.js";
import type { ChannelName } from "../../config.js";
import { ROLES, type Role } from "./roles.js";
import type { ChannelAccountDoc, PersonDoc } from "./schema.js";

/**
 * A newcomer's person and account, made by hand as `personSchema` and `channelAccountSchema`
 * would make them and then refuse or store them: the same fields (each named here, nothing else),
 * the same checks (required, the list of roles), the timestamps an insert adds, the version of a
 * first write. The models made and validated both at every newcomer's first message: in a CPU
 * profile of a wave of thirty newcomers (`node --cpu-prof`, 2026-12-02) about a seventh of the
 * bot's CPU. `test/domain/stored-people.test.ts` checks that what these store is what the models
 * store, and that they refuse what the models refuse. A field added to a schema is added here.
 */

/** A person or an account the schema would refuse: like its refusal, it stores nothing. */
const refused = (path: string, why: string) => new StoredRefused("people", path, why);
const present = (value: string | undefined, path: string) => requiredString(value, "people", path);

/** The fields of a new person; `_id` chosen by the caller where an account names it already. */
export interface NewPersonFields {
  _id?: Types.ObjectId;
  ref: string;
  /** Sealed. */
  name: string;
  nameKeys?: string[];
  role: Role;
  unitId?: string;
  active: boolean;
}

export type StoredPerson = PersonDoc & { __v: number };

/** A new person as the model would store it. `now`: its timestamps (the model takes the wall clock). */
export function storedPerson(fields: NewPersonFields, now = new Date()): StoredPerson {
  if (!(ROLES as readonly string[]).includes(fields.role)) throw refused("role", "is not a role");
  if (typeof fields.active !== "boolean") throw refused("active", "is required");
  return definedFields({
    _id: fields._id ?? new Types.ObjectId(),
    ref: present(fields.ref, "ref"),
    name: present(fields.name, "name"),
    nameKeys: fields.nameKeys && [...fields.nameKeys],
    role: fields.role,
    unitId: fields.unitId,
    active: fields.active,
    createdAt: now,
    updatedAt: now,
    __v: 0,
  });
}

/** The fields of a newcomer's account. */
export interface NewAccountFields {
  channel: ChannelName;
  externalId: string;
  personId: Types.ObjectId;
  chatId: string;
  /** Sealed. */
  displayName?: string;
  lastSeenAt: Date;
}

export type StoredAccount = ChannelAccountDoc & { __v: number };

/** A new channel account as the model would store it. */
export function storedAccount(fields: NewAccountFields, now = new Date()): StoredAccount {
  if (!(fields.personId instanceof Types.ObjectId)) throw refused("personId", "is required");
  if (!(fields.lastSeenAt instanceof Date) || Number.isNaN(fields.lastSeenAt.getTime()))
    throw refused("lastSeenAt", "is not a date");
  return definedFields({
    _id: new Types.ObjectId(),
    channel: present(fields.channel, "channel") as ChannelName,
    externalId: present(fields.externalId, "externalId"),
    personId: fields.personId,
    chatId: present(fields.chatId, "chatId"),
    displayName: fields.displayName,
    lastSeenAt: fields.lastSeenAt,
    createdAt: now,
    updatedAt: now,
    __v: 0,
  });
}
