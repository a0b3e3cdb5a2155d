import { Types } from "mongoose";
import { definedFields, requiredString, StoredRefused } from "../../db/group-insert.js";
import type { Attachment } from "../../engine/message.js";
import { FEEDBACK_TYPES } from "./rules.js";
import { MAX_STORED_CONTENT, TICKET_STATUSES, type HistoryEntry, type TicketDoc } from "./schema.js";

/** A new ticket's fields, its words sealed already (FeedbackService.file). */
export type NewTicketFields = Omit<
  TicketDoc,
  "_id" | "acceptedDay" | "secondCode" | "unitKey" | "answer" | "rating"
>;

/** A new ticket as the model would store it, `_id` and the version of a first write included. */
export type StoredTicket = TicketDoc & { __v: number };

/** A ticket the schema would refuse: like the model's refusal, it files nothing. */
const refused = (path: string, why: string) => new StoredRefused("ticket", path, why);
const present = (value: string | undefined, path: string) => requiredString(value, "ticket", path);

/**
 * A new ticket made by hand, as `ticketSchema` would make it and then refuse or store it: the
 * same fields (each named here, nothing else), the same checks (required, the two lists of
 * values, the content's length). The model made and validated each ticket at a confirmation, a
 * tenth of the bot's CPU in a wave of thirty confirmations (`node --cpu-prof`, 2026-12-01);
 * `test/domain/stored-ticket.test.ts` checks that what this makes is what the model makes, and
 * that it refuses what the model refuses. A field added to the schema is added here.
 */
export function storedTicket(fields: NewTicketFields): StoredTicket {
  if (!(FEEDBACK_TYPES as readonly string[]).includes(fields.type)) throw refused("type", "is not a type");
  if (!(TICKET_STATUSES as readonly string[]).includes(fields.status))
    throw refused("status", "is not a status");
  if (present(fields.content, "content").length > MAX_STORED_CONTENT)
    throw refused("content", `is longer than ${MAX_STORED_CONTENT}`);
  if (!(fields.receivedAt instanceof Date) || Number.isNaN(fields.receivedAt.getTime()))
    throw refused("receivedAt", "is not a date");
  if (!(fields.filer.personId instanceof Types.ObjectId)) throw refused("filer.personId", "is required");
  return definedFields({
    _id: new Types.ObjectId(),
    code: present(fields.code, "code"),
    type: fields.type,
    field: present(fields.field, "field"),
    content: fields.content,
    attachments: fields.attachments.map((a: Attachment) =>
      definedFields({ kind: a.kind, ref: a.ref, name: a.name, mimeType: a.mimeType, size: a.size }),
    ),
    status: fields.status,
    receivedAt: fields.receivedAt,
    receivedDay: present(fields.receivedDay, "receivedDay"),
    dueDay: present(fields.dueDay, "dueDay"),
    extensions: fields.extensions,
    acceptBy: fields.acceptBy,
    acceptExtensions: fields.acceptExtensions,
    round: fields.round,
    firstCode: fields.firstCode,
    filer: {
      personId: fields.filer.personId,
      channel: present(fields.filer.channel, "filer.channel"),
      chatId: present(fields.filer.chatId, "filer.chatId"),
    },
    identitySealed: fields.identitySealed,
    phoneHash: fields.phoneHash,
    consentAt: fields.consentAt,
    informedAt: fields.informedAt,
    history: fields.history.map((h: HistoryEntry) => {
      if (
        !(h.at instanceof Date) ||
        Number.isNaN(h.at.getTime()) ||
        !(h.byPersonId instanceof Types.ObjectId)
      )
        throw refused("history", "needs a date and a person");
      return definedFields({
        at: h.at,
        action: present(h.action, "history.action") as HistoryEntry["action"],
        byPersonId: h.byPersonId,
        byName: h.byName,
        note: h.note,
        update: h.update,
      });
    }),
    idempotencyKey: present(fields.idempotencyKey, "idempotencyKey"),
    contentKey: present(fields.contentKey, "contentKey"),
    __v: 0,
  });
}
