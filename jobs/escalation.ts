import { createHash } from "node:crypto";
import { Schema, type Connection, type Model, type Types } from "mongoose";
import { formatDay } from "../src/domain/calendar/work-calendar.js";
import { isDuplicateKeyError } from "../src/db/errors.js";
import type { Role } from "../src/domain/people/roles.js";
import { assignments, type Assignment } from "../src/domain/plans/summary.js";
import type { Outbound } from "../src/engine/message.js";
import { t } from "../src/text/vi.js";
import { officeDay, type Job, type JobContext } from "./job.js";

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

/**
 * Overdue beyond ESCALATE_HEAD_AFTER working days: the unit head is told; beyond
 * ESCALATE_OFFICE_AFTER: the Office. Each step once per (task, period, unit), recorded in
 * `escalations` once someone was told; each recipient gets one message per run listing what is
 * new for them.
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
      const byRecipient = new Map<string, { to: Outbound["to"]; lines: string[]; keys: string[] }>();
      /** False when the person cannot be reached on any channel. */
      const add = async (personId: string, line: string, key: string): Promise<boolean> => {
        const entry = byRecipient.get(personId);
        if (entry) {
          entry.lines.push(line);
          entry.keys.push(key);
          return true;
        }
        const to = await app.people.contactOf(personId);
        if (to) byRecipient.set(personId, { to, lines: [line], keys: [key] });
        return Boolean(to);
      };
      const told = new Set<string>();
      for (const { step, key, a } of fresh) {
        const line = t.jobs.escalationLine({
          code: a.task.code,
          title: a.task.title,
          unit: a.unit.name,
          due: formatDay(a.due.day),
          late: -a.daysLeft,
          status: t.plans.status(a.state.status),
        });
        const roles: Role[] = step === "head" ? ["unit_head"] : ["office"];
        const people =
          step === "head"
            ? await app.people.ofUnit(a.unit.key, roles)
            : await app.people.list({ role: "office" });
        for (const person of people) if (await add(person._id.toString(), line, key)) told.add(key);
      }
      // The key names what the message says: a retry that finds more to say (the first try failed
      // part-way, a unit head was added since) writes a new message instead of being taken for
      // the first one, which would record steps nobody read.
      const messages: Outbound[] = [...byRecipient.entries()].map(([personId, { to, lines, keys }]) => ({
        to,
        text: [t.jobs.escalationHeader(lines.length), ...lines].join("\n"),
        dedupeKey: `escalate:${today}:${personId}:${digest(keys)}`,
      }));
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
