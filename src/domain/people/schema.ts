import { Schema, type Types } from "mongoose";
import type { ChannelName } from "../../config.js";
import { ROLES, type Role } from "./roles.js";

export interface PersonDoc {
  _id: Types.ObjectId;
  /** Short code a person can read out to the Office (shown by /toi). */
  ref: string;
  name: string;
  /** The name folded for search (no diacritics, lower case). */
  nameKey: string;
  role: Role;
  unitId?: string;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export const personSchema = new Schema<PersonDoc>(
  {
    ref: { type: String, required: true, unique: true },
    name: { type: String, required: true, maxlength: 200 },
    nameKey: { type: String, required: true },
    role: { type: String, enum: ROLES, required: true, default: "citizen" },
    unitId: { type: String },
    active: { type: Boolean, required: true, default: true },
  },
  { timestamps: true, collection: "people" },
);
personSchema.index({ role: 1 });
personSchema.index({ nameKey: 1 });

/** One platform identity (a Telegram user, a Zalo user) belonging to one person. */
export interface ChannelAccountDoc {
  _id: Types.ObjectId;
  channel: ChannelName;
  externalId: string;
  personId: Types.ObjectId;
  /** Where to write to this person on this channel (their private chat). */
  chatId: string;
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
    displayName: { type: String, maxlength: 200 },
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
  code: string;
  personId: Types.ObjectId;
  expiresAt: Date;
  usedAt?: Date;
}

export const linkCodeSchema = new Schema<LinkCodeDoc>(
  {
    code: { type: String, required: true, unique: true },
    personId: { type: Schema.Types.ObjectId, required: true },
    expiresAt: { type: Date, required: true },
    usedAt: { type: Date },
  },
  { collection: "link_codes" },
);
