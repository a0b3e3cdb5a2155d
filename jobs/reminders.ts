import type { JobSettings } from "../src/config.js";
import { formatDay, type Day } from "../src/domain/calendar/work-calendar.js";
import { formatDate } from "../src/clock.js";
import {
  digestKey,
  digestSubject,
  doneValue,
  type DigestItem,
  type ReminderDigests,
} from "../src/domain/plans/digest.js";
import { MAX_DONE_BUTTONS } from "../src/domain/plans/digest-replies.js";
import { assignments, type Assignment } from "../src/domain/plans/summary.js";
import { CAPABILITIES } from "../src/engine/capabilities.js";
import type { ChannelName, Choice, Outbound, Recipient } from "../src/engine/message.js";
import { t } from "../src/text/vi.js";
import { officeDay, type Job, type JobContext } from "./job.js";

/**
 * Which reminder a (task, unit) pair is due for, given working days left. Before the deadline: the
 * latest offset crossed (with offsets 14,7,3,1,0 and 6 days left: the 7-day one), so a day of
 * downtime delays a reminder but never drops it. Overdue: one every `overdueEvery` working days,
 * at most `overdueMax` times. Undefined: nothing due.
 */
export function reminderStep(daysLeft: number, settings: JobSettings): string | undefined {
  if (daysLeft >= 0) {
    const crossed = settings.reminderOffsets.filter((offset) => daysLeft <= offset);
    return crossed.length > 0 ? `d${Math.min(...crossed)}` : undefined;
  }
  const round = Math.floor((-daysLeft - 1) / settings.overdueEvery);
  return round < settings.overdueMax ? `o${round}` : undefined;
}

/** Deadline tasks count in the quarter they fall due (and while overdue); obligations always do. */
function inScope(a: Assignment, today: string): boolean {
  if (a.plan && a.plan.period.from > today) return false;
  if (a.due.period !== "once") return true;
  const quarterEnd = `${today.slice(0, 4)}-${["03-31", "06-30", "09-30", "12-31"][Math.floor((Number(today.slice(5, 7)) - 1) / 3)]}`;
  return a.due.day <= quarterEnd;
}

/** One chat's share of a run: the (task, unit) pairs it is reminded of, each under its own key. */
export interface DigestEntry {
  itemKey: string;
  a: Assignment;
}

/** A numbered list to one chat, as a message and as the record an answer to it is read against. */
export interface BuiltDigest {
  message: Outbound;
  key: string;
  items: DigestItem[];
}

/**
 * Records the lists about to be sent (`built`), so that an answer to one is read against its
 * numbers; called before their messages are written, so that no message goes out whose list a
 * reply cannot find (a crash in between leaves a record whose message is missing, which lists
 * nothing: see `ReminderDigests.listed`).
 */
export async function recordDigests(
  digests: ReminderDigests,
  built: readonly BuiltDigest[],
  at: Date,
): Promise<void> {
  for (const { key, items, message } of built) {
    await digests.record({
      key,
      channel: message.to.channel,
      chatId: message.to.chatId,
      ...(message.to.personId ? { personId: message.to.personId } : {}),
      items,
      messageKey: message.dedupeKey,
      createdAt: at,
    });
  }
}

/** Soonest first; a plan's tasks together, in the plan's order, so the numbers read as a list. */
function byDeadline(x: DigestEntry, y: DigestEntry): number {
  return (
    (x.a.plan?.title ?? x.a.task.planCode).localeCompare(y.a.plan?.title ?? y.a.task.planCode) ||
    x.a.due.day.localeCompare(y.a.due.day) ||
    x.a.task.order - y.a.task.order ||
    x.a.unit.key.localeCompare(y.a.unit.key)
  );
}

const shortTitle = (title: string) => (title.length > 80 ? `${title.slice(0, 77)}…` : title);

/**
 * One message listing `entries` for `to`, numbered 1…n across plans (a long list is split at the
 * platform's limit by its sender, between tasks, the numbers running on). A list of one reads as
 * the single reminder it always was. Where the platform has buttons and the list is short, each
 * task has a "xong" button.
 */
export function buildDigest(
  to: Recipient,
  recipient: string,
  entries: DigestEntry[],
  today: Day,
  timeZone: string,
  dedupePrefix: string,
  header: (count: number) => string,
  /** A list of one reads as the single reminder it always was; an escalation keeps its list. */
  single = true,
): BuiltDigest {
  const sorted = [...entries].sort(byDeadline);
  const key = digestKey(
    recipient,
    sorted.map((e) => e.itemKey),
  );
  const items = sorted.map(({ itemKey, a }) => ({ itemKey, taskKey: a.task.key, unitKey: a.unit.key }));
  let text: string;
  const [only] = sorted;
  if (single && sorted.length === 1 && only) {
    const { a } = only;
    text = t.jobs.reminder({
      code: a.task.code,
      title: a.task.title,
      plan: a.plan?.title ?? a.task.planCode,
      unit: a.unit.name,
      due: formatDay(a.due.day),
      left: t.plans.daysLeft(a.daysLeft),
      status: t.plans.status(a.state.status),
      percent: a.state.percent,
      reported: a.state.lastReportAt ? formatDate(a.state.lastReportAt, timeZone) : undefined,
    });
  } else {
    // Each task is a paragraph of its own, so a split never cuts one in two.
    const parts = [header(sorted.length)];
    let plan: string | undefined;
    sorted.forEach(({ a }, index) => {
      const title = a.plan?.title ?? a.task.planCode;
      if (title !== plan) {
        plan = title;
        parts.push(t.reminders.planHeader(title));
      }
      parts.push(
        t.reminders.item({
          n: index + 1,
          code: a.task.code,
          title: shortTitle(a.task.title),
          due: formatDay(a.due.day),
          left: t.plans.daysLeft(a.daysLeft),
          status: t.plans.status(a.state.status),
          percent: a.state.percent,
        }),
      );
    });
    parts.push(t.reminders.howToAnswer(sorted.length));
    text = parts.join("\n\n");
  }
  const choices: Choice[] =
    CAPABILITIES[to.channel].buttons && sorted.length <= MAX_DONE_BUTTONS
      ? [
          ...sorted.map(({ a }, index) => ({
            label: t.reminders.doneButton(index + 1, a.task.code),
            value: doneValue(key, index + 1),
          })),
          { label: t.reminders.reportButton, value: "/baocao" },
        ]
      : [];
  return {
    key,
    items,
    message: {
      to,
      text,
      ...(choices.length > 0 ? { choices } : {}),
      subject: digestSubject(to.channel, key),
      dedupeKey: `${dedupePrefix}:${today}:${recipient}:${key}`,
    },
  };
}

/**
 * Every official of a unit, and each of its group chats, gets one message per run: the tasks
 * whose reminder step is new for them, numbered, answerable all at once ("1 xong, 2 được 50%").
 * Each (task, period, unit, recipient, step) is listed once, recorded in the digest that listed
 * it (reminders of the version that sent one message per task count too, by their outbox key).
 */
export const remindersJob: Job = {
  name: "reminders",
  firstLookAfter: 30,
  description: t.jobs.remindersDescription,
  slot: officeDay,
  async run(ctx: JobContext, at: Date, today: string) {
    const { app, settings } = ctx;
    const chats = new Map<string, { to: Recipient; unit: string; entries: DigestEntry[] }>();
    const officials = new Map<string, { id: string; to: Recipient | undefined }[]>();
    const add = (recipient: string, to: Recipient, unit: string, entry: DigestEntry) => {
      const chat = chats.get(recipient) ?? { to, unit, entries: [] };
      chat.entries.push(entry);
      chats.set(recipient, chat);
    };
    for (const a of await assignments(app.plans, today)) {
      if (a.state.status === "done" || !inScope(a, today)) continue;
      const step = reminderStep(a.daysLeft, settings);
      if (!step) continue;
      const base = `remind:${a.task.key}:${a.due.period}:${a.unit.key}`;
      let people = officials.get(a.unit.key);
      if (!people) {
        people = [];
        for (const official of await app.people.ofUnit(a.unit.key, ["staff", "unit_head"])) {
          const id = official._id.toString();
          people.push({ id, to: await app.people.contactOf(id) });
        }
        officials.set(a.unit.key, people);
      }
      for (const { id, to } of people) {
        if (to) add(`person:${id}`, to, a.unit.name, { itemKey: `${base}:${id}:${step}`, a });
      }
      // The unit's group chats get the same list; an answer there reports as in a private chat.
      for (const group of a.unit.groups ?? []) {
        const to = { channel: group.channel as ChannelName, chatId: group.chatId };
        const itemKey = `${base}:group:${group.channel}:${group.chatId}:${step}`;
        add(`group:${group.channel}:${group.chatId}`, to, a.unit.name, { itemKey, a });
      }
    }
    const keys = [...chats.values()].flatMap((c) => c.entries.map((e) => e.itemKey));
    const listed = await app.digests.listed(keys);
    // Reminders the version before lists sent one per task, under the item's own key.
    for (const key of await app.outbox.written(keys)) listed.add(key);
    const digests: BuiltDigest[] = [];
    for (const [recipient, { to, unit, entries }] of chats) {
      const fresh = entries.filter((e) => !listed.has(e.itemKey));
      if (fresh.length === 0) continue;
      digests.push(
        buildDigest(to, recipient, fresh, today, ctx.timeZone, "reminders", (count) =>
          t.reminders.digestHeader(formatDay(today), count, unit),
        ),
      );
    }
    // Recorded before the messages are written: the bot may send one, and its official answer it,
    // before this run could record it after. A crash in between is rerun with the same lists.
    await recordDigests(app.digests, digests, at);
    const written = await app.outbox.enqueue(digests.map((d) => d.message));
    return { messages: written };
  },
};
