import type { ReplyMessage } from "../../engine/engine.js";
import type { Choice } from "../../engine/message.js";
import type { Turn } from "../../engine/turn.js";
import { t } from "../../text/vi.js";
import { dayOf } from "../calendar/work-calendar.js";
import type { Role } from "../people/roles.js";
import type { UnitsService } from "../units/service.js";
import {
  digestSubject,
  doneValue,
  readDoneValue,
  type DigestDoc,
  type DigestItem,
  type ReminderDigests,
} from "./digest.js";
import { readAnswers, readProgress, type ProgressReading } from "./progress.js";
import type { TaskDoc } from "./schema.js";
import { stateKey, type PlansService } from "./service.js";

const REPORTERS: readonly Role[] = ["staff", "unit_head"];
/** Numbered answers typed without quoting the digest still answer one sent this recently. */
const RECENT_MS = 48 * 3_600_000;
/** Buttons under a confirmation: the tasks still open, at most this many. */
export const MAX_DONE_BUTTONS = 8;

/**
 * Answers to a digest (a numbered list of tasks in one message): "1 xong, 2 được 50%, 3 vướng kinh
 * phí" by reply, numbered answers typed right after it, or a "xong" button per task on Telegram.
 * All the answers of a message are recorded, or none: whatever is unclear is said, and nothing
 * lands on a task the person did not mean.
 */
export function digestReplies(plans: PlansService, units: UnitsService, digests: ReminderDigests) {
  const today = (turn: Turn) => dayOf(turn.now, turn.services.timeZone);

  /** The digest's buttons: one "xong" per task not done yet, then the detailed report. */
  async function buttons(turn: Turn, digest: DigestDoc): Promise<Choice[]> {
    const open: Choice[] = [];
    const tasks = await tasksOf(digest.items);
    const states = await plans.states(
      digest.items.flatMap((item) => {
        const task = tasks.get(item.taskKey);
        return task ? [{ task, unitKey: item.unitKey }] : [];
      }),
      today(turn),
    );
    digest.items.forEach((item, index) => {
      const task = tasks.get(item.taskKey);
      if (!task || states.get(stateKey(item.taskKey, item.unitKey))?.status === "done") return;
      open.push({
        label: t.reminders.doneButton(index + 1, task.code),
        value: doneValue(digest.key, index + 1),
      });
    });
    if (open.length === 0) return [];
    return [...open.slice(0, MAX_DONE_BUTTONS), { label: t.reminders.reportButton, value: "/baocao" }];
  }

  async function tasksOf(items: DigestItem[]): Promise<Map<string, TaskDoc>> {
    const tasks = new Map<string, TaskDoc>();
    for (const { taskKey } of items) {
      if (tasks.has(taskKey)) continue;
      const task = await plans.task(taskKey);
      if (task) tasks.set(taskKey, task);
    }
    return tasks;
  }

  /**
   * Records one report per answer, each under a key of its own derived from the update, so a
   * redelivered reply records nothing twice; then says back what was recorded, task by task.
   */
  async function record(
    turn: Turn,
    digest: DigestDoc,
    answers: { n: number; reading: ProgressReading }[],
    message: ReplyMessage,
    withButtons: boolean,
  ): Promise<void> {
    const subject = digestSubject(turn.inbound.channel, digest.key);
    const tasks = await tasksOf(digest.items);
    const unitKey = turn.speaker.unitId;
    const notYours = answers.flatMap(({ n }) => {
      const item = digest.items[n - 1];
      const task = item && tasks.get(item.taskKey);
      if (task && item.unitKey === unitKey && plans.isResponsible(task, unitKey)) return [];
      return [task?.code ?? String(n)];
    });
    if (notYours.length > 0 || !unitKey) {
      turn.reply(t.reminders.notYours(notYours), { subject });
      return;
    }
    const unread = answers.filter((a) => !a.reading.status);
    if (unread.length > 0) {
      turn.reply(t.reminders.unread(unread.map((a) => ({ n: a.n, text: a.reading.note }))), { subject });
      return;
    }
    const unit = (await units.get(unitKey))?.name ?? unitKey;
    const lines = [t.reminders.recordedHeader];
    for (const { n, reading } of answers) {
      const item = digest.items[n - 1];
      const task = item && tasks.get(item.taskKey);
      if (!item || !task) continue;
      await plans.addReport({
        idempotencyKey: `${turn.idempotencyKey}#${stateKey(item.taskKey, item.unitKey)}`,
        task,
        unitKey,
        personId: turn.speaker.personId,
        personName: turn.speaker.name,
        channel: turn.inbound.channel,
        ...(reading.status ? { status: reading.status } : {}),
        ...(reading.percent !== undefined ? { percent: reading.percent } : {}),
        note: reading.note,
        attachments: message.attachments,
        source: "reply",
        now: turn.now,
        today: today(turn),
      });
      lines.push(
        t.reminders.recordedLine({
          n,
          code: task.code,
          plan: task.planCode,
          unit,
          status: t.plans.status(reading.status ?? "in_progress"),
          percent: reading.percent,
        }),
      );
    }
    lines.push("", t.reminders.recordedFooter);
    const choices = withButtons ? await buttons(turn, digest) : [];
    turn.reply(lines.join("\n"), { subject, ...(choices.length > 0 ? { choices } : {}) });
  }

  /** Reads a reply to `digest`; the task key when it lists one task and the reply names none. */
  async function answer(turn: Turn, digest: DigestDoc, message: ReplyMessage): Promise<string | undefined> {
    const subject = digestSubject(turn.inbound.channel, digest.key);
    const count = digest.items.length;
    const reading = readAnswers(message.text, count);
    switch (reading.kind) {
      case "unnumbered":
        if (count === 1) return digest.items[0]?.taskKey;
        turn.reply(t.reminders.whichNumber(count), { subject });
        return undefined;
      case "ambiguous":
        turn.reply(t.reminders.ambiguous, { subject });
        return undefined;
      case "outOfRange":
        turn.reply(t.reminders.outOfRange(reading.numbers, count), { subject });
        return undefined;
      case "repeated":
        turn.reply(t.reminders.repeated(reading.n), { subject });
        return undefined;
      case "empty":
        turn.reply(t.reminders.empty(reading.n), { subject });
        return undefined;
      case "answers":
        await record(
          turn,
          digest,
          reading.answers.map((a) => ({ n: a.n, reading: readProgress(a.text) })),
          message,
          false,
        );
        return undefined;
    }
  }

  return {
    /**
     * A reply to a digest's message (or, on Zalo, to the chat's latest digest). Returns the task
     * key when the digest lists one task and the reply names none: the caller reads it as a
     * reply to that task, as before digests.
     */
    async reply(turn: Turn, subjectId: string, message: ReplyMessage): Promise<string | undefined> {
      const { inbound, speaker } = turn;
      const digest = await digests.find(subjectId, inbound.channel, inbound.chatId);
      if (!digest) {
        turn.reply(t.reminders.notFound);
        return undefined;
      }
      if (!REPORTERS.includes(speaker.role)) {
        turn.reply(t.plans.officialsOnly);
        return undefined;
      }
      return answer(turn, digest, message);
    },

    /**
     * An official's message that replies to nothing: a "xong" button of a digest, or numbered
     * answers typed in a private chat shortly after a digest (Telegram may drop the quote of a
     * reply to the bot's latest message). False when it is neither.
     */
    async freeText(turn: Turn): Promise<boolean> {
      const { inbound } = turn;
      const pressed = inbound.choice ? readDoneValue(inbound.choice) : undefined;
      if (pressed) {
        const digest = await digests.byKey(pressed.key, inbound.channel, inbound.chatId);
        if (!digest) {
          turn.reply(t.reminders.notFound);
          return true;
        }
        if (pressed.n < 1 || pressed.n > digest.items.length) {
          turn.reply(t.reminders.outOfRange([pressed.n], digest.items.length));
          return true;
        }
        const message = { text: "xong", attachments: [] };
        await record(turn, digest, [{ n: pressed.n, reading: readProgress(message.text) }], message, true);
        return true;
      }
      if (inbound.chatType !== "private") return false;
      const since = new Date(turn.now.getTime() - RECENT_MS);
      const digest = await digests.latest(inbound.channel, inbound.chatId, since);
      if (!digest || readAnswers(inbound.text, digest.items.length).kind === "unnumbered") return false;
      const attachments = inbound.attachments.filter((a) => a.kind === "photo" || a.kind === "document");
      await answer(turn, digest, { text: inbound.text, attachments });
      return true;
    },

    buttons,
  };
}

export type DigestReplies = ReturnType<typeof digestReplies>;
