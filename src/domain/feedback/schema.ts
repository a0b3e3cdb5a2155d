import { Schema, type Types } from "mongoose";
import type { Attachment } from "../../engine/message.js";
import type { Day } from "../calendar/work-calendar.js";
import { FEEDBACK_TYPES, type FeedbackType } from "./rules.js";

export const TICKET_STATUSES = ["new", "assigned", "need_info", "answered", "rejected", "closed"] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];
/** Statuses in which the Department still owes the citizen something. */
export const OPEN_STATUSES: readonly TicketStatus[] = ["new", "assigned", "need_info"];

export const TICKET_ACTIONS = [
  "filed",
  "accepted",
  "accept_extended",
  "assigned",
  "asked_info",
  "citizen_info",
  "answered",
  "extended",
  "rejected",
  "closed",
  "rated",
  "second_round",
] as const;
export type TicketAction = (typeof TICKET_ACTIONS)[number];

/**
 * Personal data, shown only to handlers: for a khiếu nại or tố cáo collected because the law asks
 * for it (the filer is informed), otherwise only with consent (Luật Bảo vệ dữ liệu cá nhân 2025).
 */
export interface Identity {
  name?: string;
  address?: string;
  phone?: string;
}

export interface HistoryEntry {
  at: Date;
  action: TicketAction;
  byPersonId: Types.ObjectId;
  /** Absent for the filer's own actions (see FeedbackService.entry). */
  byName?: string;
  note?: string;
  /**
   * The update (its dedupe key) that made this change. Replaying that update after a crash finds
   * the change made and tells the same people again, instead of refusing it as a wrong status.
   */
  update?: string;
}

/** One piece of citizen feedback and everything done about it. */
export interface TicketDoc {
  _id: Types.ObjectId;
  /** PA-2025-123456: random digits, so the next code cannot be guessed from one's own. */
  code: string;
  type: FeedbackType;
  field: string;
  content: string;
  attachments: Attachment[];
  status: TicketStatus;
  receivedAt: Date;
  receivedDay: Day;
  /**
   * The next day the Department owes the filer something: the acceptance (thụ lý) decision while
   * one is pending, then the resolution. Tickets filed before acceptance was modelled carry the
   * old sum of both (they have no acceptBy; see service.acceptBy).
   */
  dueDay: Day;
  extensions: number;
  /** Khiếu nại, tố cáo: the last day to decide acceptance (thụ lý), counted from receipt. */
  acceptBy?: Day;
  /** Extensions of the acceptance step granted (Luật Tố cáo 2018, art. 24). */
  acceptExtensions?: number;
  /** The day acceptance was decided; resolution is counted from it. */
  acceptedDay?: Day;
  /** 2 for a khiếu nại lần hai; absent means the first round. */
  round?: number;
  /** A lần hai: the first-round ticket it follows. */
  firstCode?: string;
  /** A first-round ticket the filer took to a second round: that ticket's code. */
  secondCode?: string;
  filer: { personId: Types.ObjectId; channel: string; chatId: string };
  /** The filer's Identity as JSON, sealed (src/privacy/sealer.ts); never stored in the clear. */
  identitySealed?: string;
  /** Keyed hash of the phone digits, for /tracuu CODE PHONE without keeping the number readable. */
  phoneHash?: string;
  /** Consent to optional contact details (a góp ý's): the basis for keeping them. */
  consentAt?: Date;
  /** When the filer was told what is kept, who sees it, how long, and on what legal basis. */
  informedAt?: Date;
  unitKey?: string;
  answer?: { text: string; at: Date; byName: string };
  rating?: { score: number; comment: string; at: Date };
  history: HistoryEntry[];
  /** The update that filed it: filing the same update twice cannot make two tickets. */
  idempotencyKey: string;
  /** For recognising the same text sent again within minutes. */
  contentKey: string;
}

/**
 * The longest content a ticket stores, sealed: a guard above what a filing can hold. The filing
 * keeps at most `content.maxChars` characters (data/feedback/rules.yaml: 20,000; rules.ts allows
 * 60,000 at most), each up to 4 bytes (an emoji); sealed, the bytes grow by a third (base64), so
 * 60,000 such characters are about 320,000. The guard was 100,000, which 20,000 emoji overran: the
 * citizen's confirmation then failed.
 */
export const MAX_STORED_CONTENT = 400_000;

export const ticketSchema = new Schema<TicketDoc>(
  {
    code: { type: String, required: true, unique: true },
    type: { type: String, enum: FEEDBACK_TYPES, required: true },
    field: { type: String, required: true },
    // A guard above the limit the filing flow states (data/feedback/rules.yaml, content.maxChars).
    content: { type: String, required: true, maxlength: MAX_STORED_CONTENT },
    attachments: [{ _id: false, kind: String, ref: String, name: String, mimeType: String, size: Number }],
    status: { type: String, enum: TICKET_STATUSES, required: true },
    receivedAt: { type: Date, required: true },
    receivedDay: { type: String, required: true },
    dueDay: { type: String, required: true },
    extensions: { type: Number, required: true, default: 0 },
    acceptBy: { type: String },
    acceptExtensions: { type: Number },
    acceptedDay: { type: String },
    round: { type: Number },
    firstCode: { type: String },
    secondCode: { type: String },
    filer: {
      personId: { type: Schema.Types.ObjectId, required: true },
      channel: { type: String, required: true },
      chatId: { type: String, required: true },
    },
    identitySealed: { type: String },
    phoneHash: { type: String },
    consentAt: { type: Date },
    informedAt: { type: Date },
    unitKey: { type: String },
    answer: { type: { _id: false, text: String, at: Date, byName: String }, default: undefined },
    rating: { type: { _id: false, score: Number, comment: String, at: Date }, default: undefined },
    history: [
      {
        _id: false,
        at: { type: Date, required: true },
        action: { type: String, required: true },
        byPersonId: { type: Schema.Types.ObjectId, required: true },
        byName: { type: String },
        note: { type: String },
        update: { type: String },
      },
    ],
    idempotencyKey: { type: String, required: true, unique: true },
    contentKey: { type: String, required: true },
  },
  { collection: "tickets" },
);
ticketSchema.index({ status: 1, dueDay: 1 });
// Statistics for a period filter on the day received.
ticketSchema.index({ receivedDay: 1 });
ticketSchema.index({ unitKey: 1, status: 1 });
ticketSchema.index({ "filer.personId": 1, receivedAt: -1 });
