import { Schema, type Types } from "mongoose";
import type { OutboundFile } from "../../engine/message.js";

/** Who a broadcast goes to. Citizens are reached only through `subscribers`. */
export const AUDIENCES = ["officials", "units", "unit_heads", "subscribers"] as const;
export type Audience = (typeof AUDIENCES)[number];

/**
 * `queued`: saved with its resolved recipients, nothing in the outbox yet; `sending`: being put
 * into the outbox batch by batch (`enqueued` says how far); `done`: every recipient is in the
 * outbox (delivery itself is the outbox's business and is read back from it).
 */
export const BROADCAST_STATUSES = ["queued", "sending", "done"] as const;
export type BroadcastStatus = (typeof BROADCAST_STATUSES)[number];

/** One announcement from the Office. Its outbox messages are keyed `broadcast:<_id>:<personId>`. */
export interface BroadcastDoc {
  _id: Types.ObjectId;
  /** What the Office reads and types: `TB-XXXXXX`. */
  code: string;
  /** The confirming update's key: the same confirmation handled twice finds this document. */
  idempotencyKey: string;
  text: string;
  files: OutboundFile[];
  /** The channel the files were sent on: their references mean something only there (or are URLs). */
  filesChannel: string;
  /** The organisation's name when it was written, so a resumed broadcast reads the same. */
  org: string;
  audience: Audience;
  unitKeys: string[];
  recipients: Types.ObjectId[];
  /** recipients[0 … enqueued) are in the outbox. */
  enqueued: number;
  status: BroadcastStatus;
  createdBy: Types.ObjectId;
  createdByName: string;
  createdAt: Date;
  finishedAt?: Date;
}

export const broadcastSchema = new Schema<BroadcastDoc>(
  {
    code: { type: String, required: true, unique: true },
    idempotencyKey: { type: String, required: true, unique: true },
    text: { type: String, required: true },
    files: [{ _id: false, kind: String, ref: String, name: String }],
    filesChannel: { type: String, required: true },
    org: { type: String, required: true },
    audience: { type: String, enum: AUDIENCES, required: true },
    unitKeys: { type: [String], default: [] },
    recipients: { type: [Schema.Types.ObjectId], default: [] },
    enqueued: { type: Number, required: true, default: 0 },
    status: { type: String, enum: BROADCAST_STATUSES, required: true },
    createdBy: { type: Schema.Types.ObjectId, required: true },
    createdByName: { type: String, required: true },
    createdAt: { type: Date, required: true },
    finishedAt: { type: Date },
  },
  { collection: "broadcasts" },
);
broadcastSchema.index({ status: 1 });
broadcastSchema.index({ createdAt: -1 });

/**
 * A person's wish to receive the Department's announcements. Kept (inactive) after /huydangky,
 * so when someone subscribed and left stays on record; only the person changes it.
 */
export interface SubscriptionDoc {
  _id: Types.ObjectId;
  personId: Types.ObjectId;
  active: boolean;
  subscribedAt: Date;
  unsubscribedAt?: Date;
}

export const subscriptionSchema = new Schema<SubscriptionDoc>(
  {
    personId: { type: Schema.Types.ObjectId, required: true, unique: true },
    active: { type: Boolean, required: true },
    subscribedAt: { type: Date, required: true },
    unsubscribedAt: { type: Date },
  },
  { collection: "subscriptions" },
);
subscriptionSchema.index({ active: 1 });

/** Who changed a piece of public information, and when: citizens read it as the Department's word. */
interface Edited {
  updatedAt: Date;
  updatedBy?: string;
}

/**
 * An entry the Office removed stays, marked: the update that removed it (`removedBy`) finds it
 * when it is run again after a crash, instead of removing the entry that has since taken its
 * number in the list. Every list leaves such entries out.
 */
export interface Removable {
  removedAt?: Date;
  removedBy?: string;
}

const removable = { removedAt: { type: Date }, removedBy: { type: String } };

/** One line of the citizen reception schedule (lịch tiếp công dân). */
export interface ReceptionSlotDoc extends Edited, Removable {
  _id: Types.ObjectId;
  /** Stable: seeded entries keep the key of data/public; the Office's get their turn's idempotency key. */
  key: string;
  order: number;
  who: string;
  when: string;
  where: string;
  register: string;
}

export const receptionSlotSchema = new Schema<ReceptionSlotDoc>(
  {
    key: { type: String, required: true, unique: true },
    order: { type: Number, required: true },
    who: { type: String, required: true },
    when: { type: String, required: true },
    where: { type: String, required: true },
    register: { type: String, required: true },
    updatedAt: { type: Date, required: true },
    updatedBy: { type: String },
    ...removable,
  },
  { collection: "reception_slots" },
);

export const CONTACT_FIELDS = ["address", "phone", "email", "website", "hours"] as const;
export type ContactField = (typeof CONTACT_FIELDS)[number];

/** The Department's contact details: one document, key "main"; a field never filled is absent. */
export interface ContactDoc extends Edited, Partial<Record<ContactField, string>> {
  _id: Types.ObjectId;
  key: string;
}

export const contactSchema = new Schema<ContactDoc>(
  {
    key: { type: String, required: true, unique: true },
    address: { type: String },
    phone: { type: String },
    email: { type: String },
    website: { type: String },
    hours: { type: String },
    updatedAt: { type: Date, required: true },
    updatedBy: { type: String },
  },
  { collection: "public_contacts" },
);

/** A frequent question: its keywords are compared folded (no diacritics, lower case). */
export interface FaqDoc extends Edited, Removable {
  _id: Types.ObjectId;
  key: string;
  order: number;
  question: string;
  keywords: string[];
  answer: string;
}

export const faqSchema = new Schema<FaqDoc>(
  {
    key: { type: String, required: true, unique: true },
    order: { type: Number, required: true },
    question: { type: String, required: true },
    keywords: { type: [String], default: [] },
    answer: { type: String, required: true },
    updatedAt: { type: Date, required: true },
    updatedBy: { type: String },
    ...removable,
  },
  { collection: "faqs" },
);
