import { Schema, Types, type Model } from "mongoose";
import type { Speaker } from "../people/service.js";

/**
 * Every read and every write of a ticket's personal data: who, when, which ticket, which fields.
 * Kept apart from the ticket so that handlers cannot edit it along with the ticket.
 */
export interface AuditDoc {
  _id: Types.ObjectId;
  at: Date;
  personId: Types.ObjectId;
  personName: string;
  role: string;
  action: "read" | "write";
  ticketCode: string;
  fields: string[];
}

export const auditSchema = new Schema<AuditDoc>(
  {
    at: { type: Date, required: true },
    personId: { type: Schema.Types.ObjectId, required: true },
    personName: { type: String, required: true },
    role: { type: String, required: true },
    action: { type: String, required: true },
    ticketCode: { type: String, required: true },
    fields: { type: [String], required: true },
  },
  { collection: "audit_log" },
);
auditSchema.index({ ticketCode: 1, at: 1 });
auditSchema.index({ personId: 1, at: 1 });

export class AuditLog {
  constructor(private readonly model: Model<AuditDoc>) {}

  async record(
    by: Speaker,
    action: AuditDoc["action"],
    ticketCode: string,
    fields: string[],
    at: Date,
  ): Promise<void> {
    await this.model.create({
      at,
      personId: new Types.ObjectId(by.personId),
      personName: by.name,
      role: by.role,
      action,
      ticketCode,
      fields,
    });
  }

  async ofTicket(ticketCode: string): Promise<AuditDoc[]> {
    return this.model.find({ ticketCode }).sort({ at: 1 }).lean();
  }
}
