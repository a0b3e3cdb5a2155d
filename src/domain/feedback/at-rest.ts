import type { Attachment } from "../../engine/message.js";
import type { Sealer } from "../../privacy/sealer.js";
import type { HistoryEntry, TicketDoc } from "./schema.js";

/**
 * A ticket's words at rest. What a citizen wrote (the content, the notes on its history, a
 * rating's comment), what they attached (a file's name, the platform's handle on it), the
 * answer written back to them (which quotes them) and the names of the officials who handled it
 * are stored sealed; FeedbackService seals on
 * the way in and opens on the way out, so nothing else sees the sealed form. Values stored in the
 * clear by earlier versions read as they are until `keys:rotate` seals them.
 */

/** The fields of a ticket, or of an update to one, that hold words; the others pass through. */
type Worded = Pick<TicketDoc, "content" | "attachments" | "answer" | "rating" | "history">;

function mapAttachments(list: Attachment[], f: (value: string) => string): Attachment[] {
  return list.map((a) => ({ ...a, ref: f(a.ref), ...(a.name !== undefined ? { name: f(a.name) } : {}) }));
}

/**
 * A history line's note and the name of the official who wrote it: people's names are sealed in
 * `people` and the audit log, so a ticket must not keep a readable copy of them either.
 */
function mapEntry(entry: HistoryEntry, f: (value: string) => string): HistoryEntry {
  return {
    ...entry,
    ...(entry.note !== undefined ? { note: f(entry.note) } : {}),
    ...(entry.byName !== undefined ? { byName: f(entry.byName) } : {}),
  };
}

/** Every worded field present in `fields`, passed through `f`; the rest as it is. */
function mapWords<T extends Partial<Worded>>(fields: T, f: (value: string) => string): T {
  const out: T = { ...fields };
  if (fields.content !== undefined) out.content = f(fields.content);
  if (fields.attachments) out.attachments = mapAttachments(fields.attachments, f);
  if (fields.answer) {
    const { text, byName } = fields.answer;
    out.answer = { ...fields.answer, text: f(text), ...(byName !== undefined ? { byName: f(byName) } : {}) };
  }
  if (fields.rating) out.rating = { ...fields.rating, comment: f(fields.rating.comment) };
  if (fields.history) out.history = fields.history.map((h) => mapEntry(h, f));
  return out;
}

/** A new ticket, or the `$set` of a change, as it is stored. */
export function sealWords<T extends Partial<Worded>>(sealer: Sealer, fields: T): T {
  return mapWords(fields, (value) => sealer.seal(value));
}

/** A history entry as it is stored. */
export function sealEntry(sealer: Sealer, entry: HistoryEntry): HistoryEntry {
  return mapEntry(entry, (value) => sealer.seal(value));
}

/** A stored ticket (whole or projected) as the rest of the code reads it. */
export function openWords<T extends Partial<Worded>>(sealer: Sealer, stored: T): T {
  return mapWords(stored, (value) => sealer.read(value));
}

/**
 * The `$set` that puts a stored ticket's words under the current key (sealing those an earlier
 * version kept in the clear), or undefined when all of them already are.
 */
export function resealWords(sealer: Sealer, stored: Worded): Partial<Worded> | undefined {
  let changed = false;
  const resealed = mapWords(stored, (value) => {
    const again = sealer.resealed(value);
    if (again === undefined) return value;
    changed = true;
    return again;
  });
  if (!changed) return undefined;
  const { content, attachments, history, answer, rating } = resealed;
  return { content, attachments, history, ...(answer ? { answer } : {}), ...(rating ? { rating } : {}) };
}
