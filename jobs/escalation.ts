import { createHash } from "node:crypto";
import { Schema, type Connection, type Model, type Types } from "mongoose";
import { formatDay } from "../src/domain/calendar/work-calendar.js";
import { isDuplicateKeyError } from "../src/db/errors.js";
import { assignments, type Assignment } from "../src/domain/plans/summary.js";
import type { Outbound, Recipient } from "../src/engine/message.js";
import { t } from "../src/text/vi.js";
import { officeDay, type Job, type JobContext } from "./job.js";
import { buildDigest, recordDigests, type BuiltDigest, type DigestEntry } from "./reminders.js";

/** One step of escalation taken for one (task, period, unit): to the unit head, then the Office. */
interface EscalationDoc {
  _id: Types.ObjectId;
  key: string;
  at: Date;
}

const escalationSchema = new Schema<EscalationDoc>(
  { key: { type: String, required: true, unique: true }, at: { type: Date, required: true } },
  { collection: "escalations" },
);

function escalations(connection: Connection): Model<EscalationDoc> {
  return (
    (connection.models.Escalation as Model<EscalationDoc> | undefined) ??
    connection.model<EscalationDoc>("Escalation", escalationSchema)
  );
}

type Step = "head" | "office";

/** A short fingerprint of a set of escalation keys, whatever their order. */
function digest(keys: string[]): string {
  return createHash("sha256")
    .update([...keys].sort().join("\n"))
    .digest("hex")
    .slice(0, 16);
}

/** The Office's list in full while it is short; longer, one line per unit with its tasks' codes. */
const OFFICE_FULL_LINES = 10;
const OFFICE_CODES_PER_UNIT = 8;

function officeText(overdue: Assignment[]): string {
  if (overdue.length <= OFFICE_FULL_LINES) {
    const lines = overdue.map((a) =>
      t.jobs.escalationLine({
        code: a.task.code,
        title: a.task.title,
        unit: a.unit.name,
        due: formatDay(a.due.day),
        late: -a.daysLeft,
        status: t.plans.status(a.state.status),
      }),
    );
    return [t.jobs.escalationHeader(lines.length), ...lines].join("\n");
  }
  const byUnit = new Map<string, Assignment[]>();
  for (const a of overdue) byUnit.set(a.unit.name, [...(byUnit.get(a.unit.name) ?? []), a]);
  const lines = [...byUnit].map(([unit, list]) => {
    const codes = [...new Set(list.sort((x, y) => x.daysLeft - y.daysLeft).map((a) => a.task.code))];
    const shown = codes.slice(0, OFFICE_CODES_PER_UNIT);
    return t.reminders.escalationOfficeUnit(unit, list.length, shown, list.length - shown.length);
  });
  return [
    t.reminders.escalationOfficeHeader(overdue.length, byUnit.size),
    ...lines,
    "",
    t.reminders.escalationOfficeFooter,
  ].join("\n");
}

/**
 * Overdue beyond ESCALATE_HEAD_AFTER working days: the unit head is told; beyond
 * ESCALATE_OFFICE_AFTER: the Office. Each step once per (task, period, unit), recorded in
 * `escalations` once someone was told; each recipient gets one message per run listing what is
 * new for them: a unit head's is numbered and answered like a reminder ("1 xong, 2 được 50%").
 */
export function escalationJob(connection: Connection): Job {
  const model = escalations(connection);
  return {
    name: "escalation",
    firstLookAfter: 60,
    description: t.jobs.escalationDescription,
    slot: officeDay,
    async run(ctx: JobContext, at: Date, today: string) {
      const { app, settings } = ctx;
      await model.createCollection().catch(() => undefined);
      await model.createIndexes();
      const fresh: { step: Step; key: string; a: Assignment }[] = [];
      for (const a of await assignments(app.plans, today)) {
        if (!a.overdue) continue;
        const late = -a.daysLeft;
        const steps: Step[] = [];
        if (late >= settings.escalateHeadAfter) steps.push("head");
        if (late >= settings.escalateOfficeAfter) steps.push("office");
        for (const step of steps) {
          const key = `${a.task.key}:${a.due.period}:${a.unit.key}:${step}`;
          if (!(await model.exists({ key }))) fresh.push({ step, key, a });
        }
      }
      // Each person gets one message listing what is new for them: a unit head a numbered list
      // of their unit's tasks, answerable like a reminder; the Office the whole picture, by unit
      // when it is long (the units' own lists are one /nhiemvu away).
      const heads = new Map<string, { to: Recipient; unit: string; entries: DigestEntry[] }>();
      const office = new Map<string, { to: Recipient; entries: { key: string; a: Assignment }[] }>();
      const contacts = new Map<string, Recipient | undefined>();
      const contactOf = async (personId: string) => {
        if (!contacts.has(personId)) contacts.set(personId, await app.people.contactOf(personId));
        return contacts.get(personId);
      };
      const officePeople = await app.people.list({ role: "office" });
      const headsOf = new Map<string, Awaited<ReturnType<typeof app.people.ofUnit>>>();
      const unitHeads = async (unitKey: string) => {
        if (!headsOf.has(unitKey)) headsOf.set(unitKey, await app.people.ofUnit(unitKey, ["unit_head"]));
        return headsOf.get(unitKey) ?? [];
      };
      const told = new Set<string>();
      for (const { step, key, a } of fresh) {
        const people = step === "head" ? await unitHeads(a.unit.key) : officePeople;
        for (const person of people) {
          const personId = person._id.toString();
          const to = await contactOf(personId);
          if (!to) continue;
          told.add(key);
          if (step === "head") {
            const entry = heads.get(personId) ?? { to, unit: a.unit.name, entries: [] };
            entry.entries.push({ itemKey: `escalate:${key}:${personId}`, a });
            heads.set(personId, entry);
          } else {
            const entry = office.get(personId) ?? { to, entries: [] };
            entry.entries.push({ key, a });
            office.set(personId, entry);
          }
        }
      }
      const digests: BuiltDigest[] = [...heads].map(([personId, { to, unit, entries }]) =>
        buildDigest(
          to,
          `person:${personId}`,
          entries,
          today,
          ctx.timeZone,
          "escalate",
          (count) => t.reminders.escalationHeadHeader(count, unit),
          false,
        ),
      );
      // The key names what the message says: a retry that finds more to say (the first try failed
      // part-way, a unit head was added since) writes a new message instead of being taken for
      // the first one, which would record steps nobody read.
      const messages: Outbound[] = [
        ...digests.map((d) => d.message),
        ...[...office].map(([personId, { to, entries }]) => ({
          to,
          text: officeText(entries.map((e) => e.a)),
          dedupeKey: `escalate:${today}:${personId}:${digest(entries.map((e) => e.key))}`,
        })),
      ];
      // Lists recorded before their messages are written, as the reminders job does.
      await recordDigests(app.digests, digests, at);
      const written = await app.outbox.enqueue(messages);
      // Recorded after the messages are safely in the outbox: a crash in between repeats this run's
      // message under the same keys instead of losing it. A step nobody could be told of (no unit
      // head yet, no chat account) is not recorded: it is tried again the next working day.
      for (const { key } of fresh) {
        if (!told.has(key)) {
          ctx.log.warn({ job: "escalation", key }, "escalation: nobody to tell yet");
          continue;
        }
        try {
          await model.create({ key, at });
        } catch (error) {
          if (!isDuplicateKeyError(error)) throw error;
        }
      }
      return { messages: written };
    },
  };
}
