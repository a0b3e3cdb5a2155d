import { createHash } from "node:crypto";
import { Schema, type Connection, type Model, type Types } from "mongoose";
import { DEFAULT_JOB_SETTINGS, type JobSettings } from "../src/config.js";
import { MAX_UPDATES_PER_COMMAND } from "../src/db/limits.js";
import { oneUpdateCommandAtATime } from "../src/db/update-gate.js";
import { formatDay, type Day } from "../src/domain/calendar/work-calendar.js";
import type { PersonDoc } from "../src/domain/people/schema.js";
import type { Outbound, Recipient } from "../src/engine/message.js";
import { t } from "../src/text/vi.js";
import { officeDay, type Job } from "./job.js";
import { reminderStep } from "./reminders.js";

/** Reminders 3 and 1 working days before and on the day; past the deadline, one notice. */
const STEPS: JobSettings = {
  ...DEFAULT_JOB_SETTINGS,
  reminderOffsets: [3, 1, 0],
  overdueEvery: 1_000,
  overdueMax: 1,
};

/**
 * One (ticket, deadline, step, person) a message told of, and that message's outbox key. A notice
 * counts as given only once its message is in the outbox: recorded first, so that a crash before
 * the outbox write leaves a record without a message, which the next run gives again.
 */
interface NoticeDoc {
  _id: Types.ObjectId;
  key: string;
  message: string;
  at: Date;
}

const noticeSchema = new Schema<NoticeDoc>(
  {
    key: { type: String, required: true, unique: true },
    message: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { collection: "ticket_deadline_notices" },
);

function notices(connection: Connection): Model<NoticeDoc> {
  return (
    (connection.models.TicketDeadlineNotice as Model<NoticeDoc> | undefined) ??
    connection.model<NoticeDoc>("TicketDeadlineNotice", noticeSchema)
  );
}

/** What a person is told of one ticket: its code, type and deadline only, never the filer's words. */
interface Notice {
  /** `ticket-due:<code>:<deadline>:<step>:<person>`, the key of the one-ticket message of old. */
  key: string;
  code: string;
  type: string;
  accepting: boolean;
  due: Day;
  left: number;
}

/** Most overdue first, then the soonest due, so the numbers read as an order of work. */
const byUrgency = (x: Notice, y: Notice) => x.due.localeCompare(y.due) || x.code.localeCompare(y.code);

/**
 * One person's message for a run. A single ticket reads as the sentence it always did, under the
 * key it always had. A list is numbered across its two parts (overdue, then due soon), one line a
 * ticket and no blank line, so that a platform's split (Telegram 4096, Zalo 2000 characters) falls
 * between tickets and never right under the heading.
 */
function message(to: Recipient, personId: string, fresh: Notice[], today: Day): Outbound {
  const [only] = fresh;
  if (fresh.length === 1 && only) {
    const [dueText, overdueText] = only.accepting
      ? [t.jobs.ticketAcceptDue, t.jobs.ticketAcceptOverdue]
      : [t.jobs.ticketDue, t.jobs.ticketOverdue];
    return {
      to,
      text:
        only.left < 0
          ? overdueText(only.code, only.type, formatDay(only.due), -only.left)
          : dueText(only.code, only.type, formatDay(only.due), t.plans.daysLeft(only.left)),
      subject: { kind: "ticket", id: only.code },
      dedupeKey: only.key,
    };
  }
  const overdue = fresh.filter((n) => n.left < 0).sort(byUrgency);
  const due = fresh.filter((n) => n.left >= 0).sort(byUrgency);
  const lines = [t.jobs.ticketDigestHeader(formatDay(today), fresh.length)];
  let n = 0;
  for (const [part, heading] of [
    [overdue, t.jobs.ticketDigestOverdue],
    [due, t.jobs.ticketDigestDue],
  ] as const) {
    if (part.length === 0) continue;
    lines.push(heading(part.length));
    for (const notice of part) {
      n += 1;
      lines.push(
        t.jobs.ticketDigestLine({
          n,
          code: notice.code,
          type: notice.type,
          accepting: notice.accepting,
          due: formatDay(notice.due),
          left: t.plans.daysLeft(notice.left),
          ...(notice.left < 0 ? { late: -notice.left } : {}),
        }),
      );
    }
  }
  lines.push(t.jobs.ticketDigestFooter([...overdue, ...due][0]?.code ?? ""));
  // The key names what the message lists: a rerun that finds the same notices writes nothing new.
  const listed = createHash("sha256")
    .update(
      fresh
        .map((x) => x.key)
        .sort()
        .join("\n"),
    )
    .digest("hex")
    .slice(0, 16);
  return { to, text: lines.join("\n"), dedupeKey: `ticket-digest:${today}:${personId}:${listed}` };
}

/**
 * Citizen tickets against their legal deadlines — for a khiếu nại or tố cáo first the thụ lý
 * decision, then the answer: the handling unit (or the Office, while a ticket is unassigned, and
 * always for a thụ lý decision) is reminded 3 and 1 working days before and on the day; once a
 * deadline passes the Office and the handling unit are told, once per deadline (an extension sets
 * a new one): the Office follows it up, the unit still has to answer. Every open ticket due within
 * the reminder window is read, however many are overdue before it.
 *
 * Each person gets one message per run listing the tickets new for them (a backlog of 20 overdue
 * tickets is one message, not 20), and each (ticket, deadline, step, person) is listed once, across
 * restarts and reruns: recorded in `ticket_deadline_notices` with the message that listed it, or
 * sent alone under its own key by the version that wrote one message per ticket.
 */
export const ticketDeadlinesJob: Job = {
  name: "ticket-deadlines",
  firstLookAfter: 45,
  description: t.jobs.ticketsDescription,
  slot: officeDay,
  async run(ctx, at, today) {
    const { app } = ctx;
    // The connection the app's own models live on.
    const model = notices(app.models.Ticket.db);
    await model.createCollection().catch(() => undefined);
    await model.createIndexes();
    // Due on this working day or later, a ticket has more working days left than any reminder.
    const beyond = app.plans.calendar.addWorkingDays(today, Math.max(...STEPS.reminderOffsets) + 1);
    const office = await app.people.list({ role: "office" });
    const units = new Map<string, PersonDoc[]>();
    const people = new Map<string, { to: Recipient; notices: Notice[] }>();
    const reachable = new Map<string, Recipient | undefined>();
    const contactOf = async (id: string) => {
      if (!reachable.has(id)) reachable.set(id, await app.people.contactOf(id));
      return reachable.get(id);
    };
    // Every notice is held until the run's end: one message per person needs all of theirs. A
    // notice is a few short strings (no content is read), so even thousands are small.
    for await (const ticket of app.feedback.openDueBefore(beyond)) {
      // A khiếu nại or tố cáo not yet accepted owes the thụ lý decision first (its dueDay is the
      // accept-by day); once accepted, the answer by the resolve-by day.
      const accepting = app.feedback.awaitingAcceptance(ticket);
      const due = (accepting && app.feedback.acceptBy(ticket)) || ticket.dueDay;
      const left = app.plans.calendar.workingDaysBetween(today, due);
      const step = reminderStep(left, STEPS);
      if (!step) continue;
      let recipients = office;
      if (ticket.unitKey) {
        const unit =
          units.get(ticket.unitKey) ?? (await app.people.ofUnit(ticket.unitKey, ["staff", "unit_head"]));
        units.set(ticket.unitKey, unit);
        // Overdue, or a thụ lý decision (which only the Office records): the Office and the unit,
        // each person once (an Office official may be in the unit).
        recipients =
          left < 0 || accepting
            ? [...new Map([...office, ...unit].map((p) => [p._id.toString(), p])).values()]
            : unit;
      }
      const type = app.feedback.rule(ticket.type).label;
      for (const person of recipients) {
        const id = person._id.toString();
        const to = await contactOf(id);
        if (!to) continue;
        const entry = people.get(id) ?? { to, notices: [] };
        entry.notices.push({
          key: `ticket-due:${ticket.code}:${due}:${step}:${id}`,
          code: ticket.code,
          type,
          accepting,
          due,
          left,
        });
        people.set(id, entry);
      }
    }

    const keys = [...people.values()].flatMap((p) => p.notices.map((n) => n.key));
    const given = new Set<string>();
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      const recorded = await model.find({ key: { $in: chunk } }, { key: 1, message: 1 }).lean();
      const outboxKeys = [...chunk, ...recorded.map((r) => r.message)];
      const inOutbox = await app.outbox.written(outboxKeys);
      for (const key of chunk) if (inOutbox.has(key)) given.add(key);
      for (const { key, message } of recorded) if (inOutbox.has(message)) given.add(key);
    }

    const messages: { message: Outbound; keys: string[] }[] = [];
    for (const [id, { to, notices: all }] of people) {
      const fresh = all.filter((n) => !given.has(n.key));
      if (fresh.length > 0)
        messages.push({ message: message(to, id, fresh, today), keys: fresh.map((n) => n.key) });
    }
    const records = messages.flatMap(({ message: m, keys: listed }) =>
      listed.map((key) => ({
        updateOne: { filter: { key }, update: { $set: { message: m.dedupeKey, at } }, upsert: true },
      })),
    );
    // In commands FerretDB answers (src/db/limits.ts): on PostgreSQL, an update command of 50
    // statements never returns and stops the database; a day of 500 notices went as one.
    for (let i = 0; i < records.length; i += MAX_UPDATES_PER_COMMAND)
      await oneUpdateCommandAtATime(() => model.bulkWrite(records.slice(i, i + MAX_UPDATES_PER_COMMAND)));
    return { messages: await app.outbox.enqueue(messages.map((m) => m.message)) };
  },
};
