import { Schema, type Types } from "mongoose";
import type { ChannelName } from "../../config.js";
import { ROLES, type Role } from "./roles.js";

export interface PersonDoc {
  _id: Types.ObjectId;
  /** Short code a person can read out to the Office (shown by /toi). */
  ref: string;
  /**
   * Sealed (src/privacy/sealer.ts): a citizen's name is the display name their chat app gave,
   * personal data. PeopleService opens it; documents from earlier versions hold it in the clear.
   */
  name: string;
  /**
   * Keyed hashes of the prefixes of the name's folded words, for search by name without a
   * readable copy (see nameSearchKeys). Remade under the current key by keys:rotate.
   */
  nameKeys?: string[];
  /** The folded name in the clear, as versions before nameKeys kept it; keys:rotate removes it. */
  nameKey?: string;
  role: Role;
  unitId?: string;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export const personSchema = new Schema<PersonDoc>(
  {
    ref: { type: String, required: true, unique: true },
    // Sealed: no maxlength here, the sealed form is longer than the name (checked before sealing).
    name: { type: String, required: true },
    nameKeys: { type: [String], default: undefined },
    nameKey: { type: String },
    role: { type: String, enum: ROLES, required: true, default: "citizen" },
    unitId: { type: String },
    active: { type: Boolean, required: true, default: true },
  },
  { timestamps: true, collection: "people" },
);
personSchema.index({ role: 1 });
personSchema.index({ nameKeys: 1 });

/** One platform identity (a Telegram user, a Zalo user) belonging to one person. */
export interface ChannelAccountDoc {
  _id: Types.ObjectId;
  channel: ChannelName;
  externalId: string;
  personId: Types.ObjectId;
  /** Where to write to this person on this channel (their private chat). */
  chatId: string;
  /** The name the platform shows for the account, sealed (clear in documents of earlier versions). */
  displayName?: string;
  /** Set when the platform says the person blocked the bot; nothing more is sent until they write again. */
  blockedAt?: Date;
  lastSeenAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

export const channelAccountSchema = new Schema<ChannelAccountDoc>(
  {
    channel: { type: String, required: true },
    externalId: { type: String, required: true },
    personId: { type: Schema.Types.ObjectId, required: true },
    chatId: { type: String, required: true },
    displayName: { type: String },
    blockedAt: { type: Date },
    lastSeenAt: { type: Date, required: true },
  },
  { timestamps: true, collection: "channel_accounts" },
);
channelAccountSchema.index({ channel: 1, externalId: 1 }, { unique: true });
channelAccountSchema.index({ personId: 1 });

/** A short-lived code that joins a second channel account to the person who asked for it. */
export interface LinkCodeDoc {
  _id: Types.ObjectId;
  /** The code's keyed hash (Sealer.lookupHash), never the code: a dump must not let anyone link. */
  code: string;
  personId: Types.ObjectId;
  expiresAt: Date;
  usedAt?: Date;
  /** The update that used it: its replay after a crash finds the link made instead of a used code. */
  usedByUpdate?: string;
}

export const linkCodeSchema = new Schema<LinkCodeDoc>(
  {
    code: { type: String, required: true, unique: true },
    personId: { type: Schema.Types.ObjectId, required: true },
    expiresAt: { type: Date, required: true },
    usedAt: { type: Date },
    usedByUpdate: { type: String },
  },
  { collection: "link_codes" },
);
