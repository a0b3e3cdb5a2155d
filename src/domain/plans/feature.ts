import { formatDate } from "../../clock.js";
import type { Feature, ReplyMessage } from "../../engine/engine.js";
import { choiceRetry } from "../../engine/choices.js";
import { defineFlow, type StepAnswer } from "../../engine/flow.js";
import type { Attachment, Subject } from "../../engine/message.js";
import type { Turn } from "../../engine/turn.js";
import { fold } from "../../text/normalize.js";
import { t } from "../../text/vi.js";
import { provisionalNote } from "../calendar/provisional.js";
import { dayOf, formatDay } from "../calendar/work-calendar.js";
import type { Role } from "../people/roles.js";
import type { UnitsService } from "../units/service.js";
import { isDigestSubject, type ReminderDigests } from "./digest.js";
import { digestReplies } from "./digest-replies.js";
import { readProgress } from "./progress.js";
import type { TaskDoc } from "./schema.js";
import { stateKey, tasksNamed, type NewReport, type PlansService } from "./service.js";
import { summarize } from "./summary.js";
import { TASK_STATUSES, type TaskStatus } from "./status.js";

const REPORTERS: readonly Role[] = ["staff", "unit_head"];
const OVERSEERS: readonly Role[] = ["office", "leader", "admin"];

/** How plans number their tasks: a Roman section, then items ("III", "II.1.a", "III.3.c-1", "II.2-3"). */
const SECTION_CODE = /^[ivx]+(?:[.-][\p{L}\d]+)*$/iu;

const shortTitle = (title: string) => (title.length > 60 ? `${title.slice(0, 57)}…` : title);

interface ReportData {
  taskKey?: string;
  taskCode?: string;
  /** The tasks of several plans that share the code typed, while the person says which plan. */
  candidates?: string[];
  status?: TaskStatus;
  percent?: number;
  note?: string;
  attachments?: Attachment[];
  confirmed?: boolean;
}

/** /nhiemvu CODE when the code is in several plans: which plan's task to show. */
interface PickData {
  code: string;
  candidates: string[];
  picked?: string;
}

interface ConfirmData {
  taskKey: string;
  note: string;
  status?: TaskStatus;
}

/** Plans and tasks: officials see and report their tasks; the Office sees everyone's. */
export function plansFeature(plans: PlansService, units: UnitsService, digests: ReminderDigests): Feature {
  const fromDigest = digestReplies(plans, units, digests);
  const today = (turn: Turn) => dayOf(turn.now, turn.services.timeZone);

  async function taskLines(turn: Turn, tasks: TaskDoc[], unitKey: string): Promise<string[]> {
    const day = today(turn);
    const planList = await plans.plans();
    const byCode = new Map(planList.map((p) => [p.code, p]));
    const states = await plans.states(
      tasks.map((task) => ({ task, unitKey })),
      day,
    );
    const lines: string[] = [];
    let currentPlan = "";
    for (const task of tasks) {
      if (task.planCode !== currentPlan) {
        currentPlan = task.planCode;
        lines.push(t.plans.planHeader(byCode.get(task.planCode)?.title ?? task.planCode));
      }
      const due = plans.dueOf(task, byCode.get(task.planCode), day);
      const state = states.get(stateKey(task.key, unitKey));
      lines.push(
        t.plans.taskLine({
          code: task.code,
          title: shortTitle(task.title),
          due: formatDay(due.day) + provisionalNote(plans.calendar, day, due.day),
          left:
            state?.status === "done"
              ? t.plans.status("done").toLowerCase()
              : t.plans.daysLeft(plans.daysLeft(due.day, day)),
          status: t.plans.status(state?.status ?? "not_started"),
          percent: state?.percent ?? 0,
        }),
      );
    }
    return lines;
  }

  /** The plan a task belongs to, as a person recognises it: its title (its code if it is gone). */
  async function planTitle(task: Pick<TaskDoc, "planCode">): Promise<string> {
    return (await plans.plan(task.planCode))?.title ?? task.planCode;
  }

  async function unitName(unitKey: string): Promise<string> {
    return (await units.get(unitKey))?.name ?? unitKey;
  }

  /** One option per plan among tasks that share a code: the plan's code and title tell them apart. */
  async function planChoices(taskKeys: string[]) {
    const byCode = new Map((await plans.plans()).map((p) => [p.code, p]));
    const choices = [];
    for (const key of taskKeys) {
      const task = await plans.task(key);
      if (!task) continue;
      const title = byCode.get(task.planCode)?.title;
      choices.push({ label: title ? `${task.planCode} — ${shortTitle(title)}` : task.planCode, value: key });
    }
    return choices;
  }

  /**
   * The task of the plan a person named among tasks sharing a code: by the plan's code typed as
   * it is ("TEST-2025" is also a piece of "TEST-B-2025 …", which the options' word matching would
   * find ambiguous), else by the option picked.
   */
  async function pickPlan(
    answer: StepAnswer,
    taskKeys: string[],
  ): Promise<{ taskKey: string } | { error: string }> {
    const typed = answer.text.trim().toUpperCase();
    const byCode = taskKeys.find((key) => key.slice(0, key.lastIndexOf(":")).toUpperCase() === typed);
    const taskKey = byCode ?? answer.choice?.value;
    if (taskKey && taskKeys.includes(taskKey)) return { taskKey };
    return { error: choiceRetry({ text: answer.text }, await planChoices(taskKeys)) };
  }

  /**
   * One task: its plan, its deadline and where each unit stands (only `onlyUnit` for an official,
   * who answers for their own unit).
   */
  async function showTask(turn: Turn, task: TaskDoc, onlyUnit?: string): Promise<void> {
    const plan = await plans.plan(task.planCode);
    const day = today(turn);
    const unitsOfTask = (await plans.unitsOf(task)).filter((u) => !onlyUnit || u.key === onlyUnit);
    const states = await plans.states(
      unitsOfTask.map((u) => ({ task, unitKey: u.key })),
      day,
    );
    const due = plans.dueOf(task, plan, day);
    const state = (unitKey: string) => states.get(stateKey(task.key, unitKey));
    const lines = unitsOfTask.map((u) => {
      const s = state(u.key);
      return t.plans.unitStateLine(
        u.name,
        t.plans.status(s?.status ?? "not_started"),
        s?.percent ?? 0,
        s?.lastReportAt ? formatDate(s.lastReportAt, turn.services.timeZone) : undefined,
      );
    });
    const doneEverywhere =
      unitsOfTask.length > 0 && unitsOfTask.every((u) => state(u.key)?.status === "done");
    const left = doneEverywhere
      ? t.plans.status("done").toLowerCase()
      : t.plans.daysLeft(plans.daysLeft(due.day, day));
    turn.reply(
      [
        t.plans.taskAcrossUnits({
          code: task.code,
          title: task.title,
          plan: plan?.title ?? task.planCode,
          due: `${formatDay(due.day)} (${left})${provisionalNote(plans.calendar, day, due.day)}`,
        }),
        ...lines,
      ].join("\n"),
      // An official may answer this view of their own task by replying to it, as to a reminder.
      onlyUnit ? { subject: { kind: "task", id: task.key } } : {},
    );
  }

  /** A report by the speaker for their unit, saved once per update (the turn's idempotency key). */
  function saveReport(
    turn: Turn,
    task: TaskDoc,
    unitKey: string,
    report: Pick<NewReport, "status" | "percent" | "note" | "attachments" | "source">,
  ) {
    return plans.addReport({
      ...report,
      idempotencyKey: turn.idempotencyKey,
      task,
      unitKey,
      personId: turn.speaker.personId,
      personName: turn.speaker.name,
      channel: turn.inbound.channel,
      now: turn.now,
      today: today(turn),
    });
  }

  /** Saves a report from a reply and answers with what was understood. */
  async function reportFromReply(
    turn: Turn,
    task: TaskDoc,
    unitKey: string,
    message: ReplyMessage,
  ): Promise<void> {
    const reading = readProgress(message.text);
    await saveReport(turn, task, unitKey, {
      ...(reading.status ? { status: reading.status } : {}),
      ...(reading.percent !== undefined ? { percent: reading.percent } : {}),
      note: reading.note,
      attachments: message.attachments,
      source: "reply",
    });
    const subject: Subject = { kind: "task", id: task.key };
    if (reading.status) {
      turn.reply(
        t.plans.understood({
          code: task.code,
          unit: await unitName(unitKey),
          status: t.plans.status(reading.status),
          percent: reading.percent ?? 0,
          plan: await planTitle(task),
        }),
        { subject },
      );
      return;
    }
    // Nothing they wrote is lost: the note is saved, and the status is asked for.
    turn.startFlow("xacnhan", task.key, { note: message.text });
  }

  const statusChoices = () => TASK_STATUSES.map((s) => ({ label: t.plans.status(s), value: s }));

  const report = defineFlow<ReportData>({
    name: "baocao",
    version: 2,
    roles: REPORTERS,
    ttlMinutes: 60,
    first: "task",
    initial: () => ({ attachments: [] }),
    steps: {
      task: {
        prompt: () => t.plans.askTask,
        freeText: true,
        async choices(_data, turn) {
          const tasks = await plans.tasksForUnit(turn.speaker.unitId ?? "");
          // Tasks of several plans may share a code: each option then says its plan.
          const several = new Set(tasks.map((x) => x.planCode)).size > 1;
          return tasks.map((task) => ({
            label: `${task.code} ${shortTitle(task.title)}${several ? ` (${task.planCode})` : ""}`,
            value: task.key,
          }));
        },
        async accept(answer, data, turn) {
          const tasks = await plans.tasksForUnit(turn.speaker.unitId ?? "");
          // Something typed as a code names a task only by its whole code: "III" or "II.2" is also
          // a piece of "III.1 …" or "II.2-3 …", which the options' word matching would take it for.
          const typed = tasksNamed(tasks, answer.text);
          const codeLike = SECTION_CODE.test(answer.text.trim());
          const chosen = codeLike ? [] : tasks.filter((x) => x.key === answer.choice?.value);
          const named = typed.length > 0 ? typed : chosen;
          const [task, ...others] = named;
          if (!task) return { error: t.plans.unknownTask };
          if (others.length > 0) {
            return {
              data: { ...data, taskCode: task.code, candidates: named.map((x) => x.key) },
              next: "plan",
            };
          }
          return { data: { ...data, taskKey: task.key, taskCode: task.code }, next: "status" };
        },
      },
      plan: {
        prompt: (data) => t.plans.whichPlan(data.taskCode ?? ""),
        choices: (data) => planChoices(data.candidates ?? []),
        freeText: true,
        async accept(answer, data) {
          const picked = await pickPlan(answer, data.candidates ?? []);
          return "error" in picked ? picked : { data: { ...data, taskKey: picked.taskKey }, next: "status" };
        },
      },
      status: {
        prompt: (data) => t.plans.askStatus(data.taskCode ?? ""),
        choices: statusChoices,
        // Officials answer here as they answer a reminder ("xong", "được 70%", "vướng kinh phí"),
        // read the same way, rather than being told "xong" is not an option.
        freeText: true,
        accept(answer, data) {
          const reading = answer.choice ? undefined : readProgress(answer.text);
          const status = (answer.choice?.value ?? reading?.status) as TaskStatus | undefined;
          if (!status) return { error: choiceRetry({ text: answer.text }, statusChoices()) };
          if (status === "done") return { data: { ...data, status, percent: 100 }, next: "note" };
          if (status === "not_started") return { data: { ...data, status, percent: 0 }, next: "note" };
          if (reading?.percent !== undefined) {
            return { data: { ...data, status, percent: reading.percent }, next: "note" };
          }
          return { data: { ...data, status }, next: "percent" };
        },
      },
      percent: {
        prompt: () => t.plans.askPercent,
        accept(answer, data) {
          const match = /^(\d{1,3})\s*%?$/.exec(answer.text.trim());
          const percent = match ? Number(match[1]) : Number.NaN;
          if (!(percent >= 0 && percent <= 100)) return { error: t.plans.badPercent };
          return { data: { ...data, percent }, next: "note" };
        },
      },
      note: {
        prompt: () => t.plans.askNote,
        accept(answer, data) {
          const skip = t.plans.skipWords.includes(fold(answer.text));
          const attachments = [...(data.attachments ?? []), ...answer.attachments];
          return { data: { ...data, note: skip ? "" : answer.text, attachments }, next: "evidence" };
        },
      },
      evidence: {
        prompt: (data) =>
          (data.attachments?.length ?? 0) > 0
            ? t.plans.evidenceCount(data.attachments?.length ?? 0)
            : t.plans.askEvidence,
        accept(answer, data) {
          if (answer.attachments.length > 0) {
            return {
              data: { ...data, attachments: [...(data.attachments ?? []), ...answer.attachments] },
              next: "evidence",
            };
          }
          if (
            t.plans.doneWords.includes(fold(answer.text)) ||
            t.plans.skipWords.includes(fold(answer.text))
          ) {
            return { data, next: "confirm" };
          }
          return { error: t.plans.evidenceNeedsFile };
        },
      },
      confirm: {
        async prompt(data, turn) {
          const task = data.taskKey ? await plans.task(data.taskKey) : undefined;
          return t.plans.confirm({
            code: data.taskCode ?? "",
            title: task?.title ?? "",
            plan: task ? await planTitle(task) : "",
            unit: await unitName(turn.speaker.unitId ?? ""),
            status: t.plans.status(data.status ?? "not_started"),
            percent: data.percent ?? 0,
            note: data.note ?? "",
            files: data.attachments?.length ?? 0,
          });
        },
        choices: () => [
          { label: t.plans.save, value: "save" },
          { label: t.plans.redo, value: "redo" },
          { label: t.plans.cancel, value: "cancel" },
        ],
        accept(answer, data) {
          if (answer.choice?.value === "redo") return { data: { attachments: [] }, next: "task" };
          return { data: { ...data, confirmed: answer.choice?.value === "save" } };
        },
      },
    },
    async finish(data, turn) {
      const task = data.taskKey ? await plans.task(data.taskKey) : undefined;
      const unitKey = turn.speaker.unitId;
      if (!data.confirmed || !task || !plans.isResponsible(task, unitKey)) {
        turn.reply(t.plans.discarded);
        return;
      }
      await saveReport(turn, task, unitKey, {
        status: data.status ?? "in_progress",
        percent: data.percent ?? 0,
        note: data.note ?? "",
        attachments: data.attachments ?? [],
        source: "flow",
      });
      turn.reply(t.plans.saved(task.code, await unitName(unitKey), await planTitle(task)), {
        subject: { kind: "task", id: task.key },
      });
    },
  });

  /** After a reply the bot could not read: ask for the status, keep the note already saved. */
  const confirmStatus = defineFlow<ConfirmData>({
    name: "xacnhan",
    version: 1,
    roles: REPORTERS,
    ttlMinutes: 24 * 60,
    first: "status",
    initial: (_turn, taskKey) => ({ taskKey, note: "" }),
    steps: {
      status: {
        async prompt(data, turn) {
          const task = await plans.task(data.taskKey);
          return t.plans.notUnderstood(
            task?.code ?? data.taskKey,
            await unitName(turn.speaker.unitId ?? ""),
            task ? await planTitle(task) : "",
          );
        },
        choices: statusChoices,
        accept: (answer, data) => ({ data: { ...data, status: answer.choice?.value as TaskStatus } }),
      },
    },
    async finish(data, turn) {
      const task = await plans.task(data.taskKey);
      const unitKey = turn.speaker.unitId;
      const { status } = data;
      if (!task || !status || !plans.isResponsible(task, unitKey)) return;
      await saveReport(turn, task, unitKey, {
        status,
        percent: status === "done" ? 100 : 0,
        note: "",
        attachments: [],
        source: "confirm",
      });
      turn.reply(
        t.plans.understood({
          code: task.code,
          unit: await unitName(unitKey),
          status: t.plans.status(status),
          percent: status === "done" ? 100 : 0,
          plan: await planTitle(task),
        }),
        { subject: { kind: "task", id: task.key } },
      );
    },
  });

  const pickTask = defineFlow<PickData>({
    name: "chonnhiemvu",
    version: 1,
    roles: [...REPORTERS, ...OVERSEERS],
    ttlMinutes: 30,
    first: "plan",
    initial: () => ({ code: "", candidates: [] }),
    steps: {
      plan: {
        prompt: (data) => t.plans.whichPlan(data.code),
        choices: (data) => planChoices(data.candidates),
        freeText: true,
        async accept(answer, data) {
          const picked = await pickPlan(answer, data.candidates);
          return "error" in picked ? picked : { data: { ...data, picked: picked.taskKey } };
        },
      },
    },
    async finish(data, turn) {
      const task = data.picked ? await plans.task(data.picked) : undefined;
      if (!task) return;
      const official = REPORTERS.includes(turn.speaker.role);
      await showTask(turn, task, official ? turn.speaker.unitId : undefined);
    },
  });

  /** Shows the task `query` names among `tasks`; when several plans share the code, asks which. */
  async function showNamed(turn: Turn, tasks: TaskDoc[], query: string, onlyUnit?: string): Promise<boolean> {
    const named = tasksNamed(tasks, query);
    const [task, ...others] = named;
    if (!task) return false;
    if (others.length > 0) {
      turn.startFlow("chonnhiemvu", "", { code: task.code, candidates: named.map((x) => x.key) });
    } else {
      await showTask(turn, task, onlyUnit);
    }
    return true;
  }

  return {
    name: "plans",
    flows: [report, confirmStatus, pickTask],
    commands: [
      {
        name: "nhiemvu",
        roles: [...REPORTERS, ...OVERSEERS],
        description: t.plans.tasksDescription,
        usage: "/nhiemvu [đơn vị | mã nhiệm vụ]",
        async run(turn, args) {
          const { speaker } = turn;
          if (REPORTERS.includes(speaker.role)) {
            if (!speaker.unitId) {
              turn.reply(t.plans.noUnit);
              return;
            }
            const tasks = await plans.tasksForUnit(speaker.unitId);
            if (args) {
              if (!(await showNamed(turn, tasks, args, speaker.unitId))) {
                turn.reply(t.plans.noSuchTaskOfUnit(args, await unitName(speaker.unitId)));
              }
              return;
            }
            if (tasks.length === 0) {
              turn.reply(t.plans.noTasks);
              return;
            }
            const unit = await units.get(speaker.unitId);
            const lines = await taskLines(turn, tasks, speaker.unitId);
            turn.reply(
              [
                t.plans.myTasksHeader(unit?.name ?? speaker.unitId, tasks.length),
                ...lines,
                "",
                t.plans.replyHint,
              ].join("\n"),
            );
            return;
          }
          if (!args) {
            turn.reply(t.plans.officeTasksUsage);
            return;
          }
          if (await showNamed(turn, await plans.findTasks(args), args)) return;
          const [unit, ...others] = await units.find(args);
          if (!unit || others.length > 0) {
            turn.reply(t.plans.notFound(args));
            return;
          }
          const unitTasks = await plans.tasksForUnit(unit.key);
          const lines = await taskLines(turn, unitTasks, unit.key);
          turn.reply([t.plans.myTasksHeader(unit.name, unitTasks.length), ...lines].join("\n"));
        },
      },
      {
        name: "baocao",
        roles: REPORTERS,
        description: t.plans.reportDescription,
        run(turn) {
          if (!turn.speaker.unitId) {
            turn.reply(t.plans.noUnit);
            return;
          }
          turn.startFlow("baocao");
        },
      },
      {
        name: "kehoach",
        roles: OVERSEERS,
        description: t.plans.plansDescription,
        async run(turn) {
          const summary = await summarize(plans, today(turn));
          if (summary.plans.length === 0) {
            turn.reply(t.plans.noPlans);
            return;
          }
          const lines = [t.plans.plansHeader];
          for (const { plan, done, total, percent } of summary.plans) {
            lines.push(
              t.plans.planLine({
                code: plan.code,
                title: plan.title,
                done,
                total,
                percent,
                period: `${formatDay(plan.period.from)}–${formatDay(plan.period.to)}`,
              }),
            );
          }
          turn.reply(lines.join("\n"));
        },
      },
    ],
    replyHandlers: {
      async task(turn, subject, message) {
        // A reply to a reminder digest: its numbered answers, or the one task it lists.
        const taskKey = isDigestSubject(subject.id)
          ? await fromDigest.reply(turn, subject.id, message)
          : subject.id;
        if (!taskKey) return;
        const task = await plans.task(taskKey);
        if (!task) return;
        if (!REPORTERS.includes(turn.speaker.role)) {
          turn.reply(t.plans.officialsOnly);
          return;
        }
        if (!plans.isResponsible(task, turn.speaker.unitId)) {
          turn.reply(t.plans.notYourTask(task.code));
          return;
        }
        await reportFromReply(turn, task, turn.speaker.unitId, message);
      },
    },
    freeText: Object.fromEntries(
      REPORTERS.map((role) => [
        role,
        async (turn: Turn) => {
          if (!(await fromDigest.freeText(turn))) turn.reply(t.engine.freeTextOfficial);
        },
      ]),
    ),
  };
}
