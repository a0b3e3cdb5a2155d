import { Schema, Types, type Model } from "mongoose";
import { resealField } from "../../privacy/reseal.js";
import type { Sealer } from "../../privacy/sealer.js";
import type { Speaker } from "../people/service.js";

/**
 * Every read and every write of a ticket's personal data: who, when, which ticket, which fields.
 * Kept apart from the ticket so that handlers cannot edit it along with the ticket.
 */
export interface AuditDoc {
  _id: Types.ObjectId;
  at: Date;
  /** Absent when a process, not a person, touched the data (see SystemActor). */
  personId?: Types.ObjectId;
  /**
   * The person's name, or the process's SystemActor name, sealed: a citizen's name is personal
   * data (entries of earlier versions hold it in the clear). AuditLog opens it.
   */
  personName: string;
  /** The person's role, or "system". */
  role: string;
  /** "reseal": opened and sealed again under the current key, both in one step. */
  action: "read" | "write" | "reseal";
  ticketCode: string;
  fields: string[];
}

/**
 * A process that opens personal data with no person behind it, named after its command, e.g.
 * "system:keys-rotate" for `npm run keys:rotate`.
 */
export type SystemActor = `system:${string}`;

export const auditSchema = new Schema<AuditDoc>(
  {
    at: { type: Date, required: true },
    personId: { type: Schema.Types.ObjectId },
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
  constructor(
    private readonly model: Model<AuditDoc>,
    private readonly sealer: Sealer,
  ) {}

  /**
   * Records one touch of a ticket's personal data.
   * @example await audit.record(speaker, "read", "PA-2025-123456", ["name", "phone"], now);
   * @example await audit.record("system:keys-rotate", "reseal", ticket.code, ["name"], now);
   */
  async record(
    by: Speaker | SystemActor,
    action: AuditDoc["action"],
    ticketCode: string,
    fields: string[],
    at: Date,
  ): Promise<void> {
    const who =
      typeof by === "string"
        ? { personName: by, role: "system" }
        : { personId: new Types.ObjectId(by.personId), personName: by.name, role: by.role };
    await this.model.create({
      at,
      ...who,
      personName: this.sealer.seal(who.personName),
      action,
      ticketCode,
      fields,
    });
  }

  /** A ticket's entries, oldest first, the names opened. */
  async ofTicket(ticketCode: string): Promise<AuditDoc[]> {
    const entries = await this.model.find({ ticketCode }).sort({ at: 1 }).lean();
    return entries.map((e) => ({ ...e, personName: this.sealer.read(e.personName) }));
  }

  /** Puts every name under the current key, sealing those an earlier version kept in the clear. */
  async reseal(): Promise<number> {
    return resealField(this.model, "personName", this.sealer);
  }
}
