import type { Connection, Model } from "mongoose";
import { claimSchema, type ClaimDoc } from "./claims.js";
import {
  broadcastSchema,
  contactSchema,
  faqSchema,
  receptionSlotSchema,
  subscriptionSchema,
  type BroadcastDoc,
  type ContactDoc,
  type FaqDoc,
  type ReceptionSlotDoc,
  type SubscriptionDoc,
} from "../domain/announcements/schema.js";
import {
  channelAccountSchema,
  linkCodeSchema,
  personSchema,
  type ChannelAccountDoc,
  type LinkCodeDoc,
  type PersonDoc,
} from "../domain/people/schema.js";
import { calendarChangeSchema, type CalendarChangeDoc } from "../domain/calendar/stored-days.js";
import { modelSchema, type ModelDoc } from "../domain/dvk/schema.js";
import { auditSchema, type AuditDoc } from "../domain/feedback/audit.js";
import { ticketSchema, type TicketDoc } from "../domain/feedback/schema.js";
import {
  inviteFailureSchema,
  inviteSchema,
  type InviteDoc,
  type InviteFailureDoc,
} from "../domain/people/invites.js";
import {
  planSchema,
  reportSchema,
  taskSchema,
  type PlanDoc,
  type ReportDoc,
  type TaskDoc,
} from "../domain/plans/schema.js";
import { guessSchema, type GuessDoc } from "../domain/people/throttle.js";
import { unitSchema, type UnitDoc } from "../domain/units/schema.js";
import { decisionSchema, type DecisionDoc } from "../engine/decisions.js";
import { inboundRecordSchema, type InboundRecordDoc } from "../engine/inbox.js";
import { outboxSchema, type OutboxDoc } from "../engine/outbox.js";
import { sentRecordSchema, type SentRecordDoc } from "../engine/sent-archive.js";
import { sessionSchema, type SessionDoc } from "../engine/session.js";

/** Binds every schema to one connection; features add theirs here as they arrive. */
export function createModels(connection: Connection) {
  return {
    InboundRecord: connection.model<InboundRecordDoc>("InboundRecord", inboundRecordSchema),
    Outbox: connection.model<OutboxDoc>("Outbox", outboxSchema),
    SentRecord: connection.model<SentRecordDoc>("SentRecord", sentRecordSchema),
    Session: connection.model<SessionDoc>("Session", sessionSchema),
    Decision: connection.model<DecisionDoc>("Decision", decisionSchema),
    Person: connection.model<PersonDoc>("Person", personSchema),
    ChannelAccount: connection.model<ChannelAccountDoc>("ChannelAccount", channelAccountSchema),
    LinkCode: connection.model<LinkCodeDoc>("LinkCode", linkCodeSchema),
    Claim: connection.model<ClaimDoc>("Claim", claimSchema),
    Unit: connection.model<UnitDoc>("Unit", unitSchema),
    Invite: connection.model<InviteDoc>("Invite", inviteSchema),
    InviteFailure: connection.model<InviteFailureDoc>("InviteFailure", inviteFailureSchema),
    GuessFailure: connection.model<GuessDoc>("GuessFailure", guessSchema),
    Plan: connection.model<PlanDoc>("Plan", planSchema),
    Task: connection.model<TaskDoc>("Task", taskSchema),
    Report: connection.model<ReportDoc>("Report", reportSchema),
    Ticket: connection.model<TicketDoc>("Ticket", ticketSchema),
    Audit: connection.model<AuditDoc>("Audit", auditSchema),
    DvkModel: connection.model<ModelDoc>("DvkModel", modelSchema),
    Broadcast: connection.model<BroadcastDoc>("Broadcast", broadcastSchema),
    Subscription: connection.model<SubscriptionDoc>("Subscription", subscriptionSchema),
    ReceptionSlot: connection.model<ReceptionSlotDoc>("ReceptionSlot", receptionSlotSchema),
    PublicContact: connection.model<ContactDoc>("PublicContact", contactSchema),
    Faq: connection.model<FaqDoc>("Faq", faqSchema),
    CalendarChange: connection.model<CalendarChangeDoc>("CalendarChange", calendarChangeSchema),
  };
}

export type Models = ReturnType<typeof createModels>;

/** Creates the collections and indexes at start; the unique ones are what dedupe rests on. */
export async function ensureIndexes(models: Models): Promise<void> {
  for (const model of Object.values(models) as Model<unknown>[]) {
    await model.createCollection().catch((error: { codeName?: string; code?: number }) => {
      if (error.code !== 48 && error.codeName !== "NamespaceExists") throw error;
    });
    await model.createIndexes();
  }
}
