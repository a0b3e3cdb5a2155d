import { formatDateTime } from "../../clock.js";
import type { Feature } from "../../engine/engine.js";
import { defineFlow, type FlowStep, type StepAnswer, type StepResult } from "../../engine/flow.js";
import type { Choice } from "../../engine/message.js";
import type { Turn } from "../../engine/turn.js";
import { fold } from "../../text/normalize.js";
import { t } from "../../text/vi.js";
import { dayOf, formatDay, parseDay } from "../calendar/work-calendar.js";
import type { Role } from "../people/roles.js";
import { statsArgs, type StatsHandler } from "../reports/stats-command.js";
import type { UnitsService } from "../units/service.js";
import {
  CONTENT_KEYS,
  MODEL_STATUSES,
  OFFICE_TRANSITIONS,
  type ModelContent,
  type ModelDoc,
  type ModelStatus,
} from "./schema.js";
import { ModelError, type DvkService } from "./service.js";

const UNITS_ROLES: readonly Role[] = ["staff", "unit_head"];
const OFFICE: readonly Role[] = ["office", "admin"];
const READERS: readonly Role[] = ["staff", "unit_head", "office", "leader", "admin"];
const CODE = /\bMH-\d{4}-\d{3,}\b/i;

/** The fields a person types, in the order they are asked (the unit is the registrant's own). */
type Asked = Exclude<keyof ModelContent, "unitKey">;
const ASKED = CONTENT_KEYS.filter((k): k is Asked => k !== "unitKey");

interface Draft {
  content: Partial<ModelContent>;
  confirmed?: boolean;
}

interface EditData extends Draft {
  code: string;
  editing?: Asked;
  submit?: boolean;
}

/** Validates one answer for one field; the same rules for registering and for editing. */
function readField(
  dvk: DvkService,
  key: Asked,
  answer: StepAnswer,
  content: Partial<ModelContent>,
): string | { error: string } {
  const text = answer.text.trim();
  switch (key) {
    case "field":
      return answer.choice?.value ?? { error: t.dvk.pickField };
    case "startDay":
    case "endDay": {
      const day = parseDay(text);
      if (!day || day < "2000-01-01" || day > "2100-12-31") return { error: t.dvk.badDate };
      if (key === "endDay" && content.startDay && day < content.startDay) {
        return { error: t.dvk.endBeforeStart(formatDay(content.startDay)) };
      }
      if (key === "startDay" && content.endDay && day > content.endDay) {
        return { error: t.dvk.startAfterEnd(formatDay(content.endDay)) };
      }
      return day;
    }
    default: {
      const min = key === "content" || key === "expectedResults" ? 20 : 3;
      if (text.length < min) return { error: t.dvk.tooShort(min) };
      return text;
    }
  }
}

function fieldChoices(dvk: DvkService): Choice[] {
  return dvk.rules.fields.map((f) => ({ label: f.label, value: f.key }));
}

async function summary(
  dvk: DvkService,
  units: UnitsService,
  content: Partial<ModelContent>,
): Promise<string> {
  const unit = content.unitKey ? ((await units.get(content.unitKey))?.name ?? content.unitKey) : "";
  return t.dvk.summary({
    name: content.name ?? "",
    field: dvk.fieldLabel(content.field ?? ""),
    unit,
    personInCharge: content.personInCharge ?? "",
    targetGroup: content.targetGroup ?? "",
    content: content.content ?? "",
    expectedResults: content.expectedResults ?? "",
    period: `${formatDay(content.startDay ?? "")} – ${formatDay(content.endDay ?? "")}`,
  });
}

/** "Dân vận khéo" models: /dangkymohinh, /mohinh, /duyet, /suamohinh, /ketquamohinh. */
export function dvkFeature(
  dvk: DvkService,
  units: UnitsService,
  /** `/mohinh thongke [năm]`: the statistics, computed by the reports area. */
  modelStats?: StatsHandler,
): Feature {
  const today = (turn: Turn) => dayOf(turn.now, turn.services.timeZone);

  /** A registration step for each asked field, chained in order, then the summary to confirm. */
  const registerSteps: Record<string, FlowStep<Draft>> = {};
  ASKED.forEach((key, index) => {
    registerSteps[key] = {
      prompt: () => t.dvk.ask[key],
      ...(key === "field" ? { choices: () => fieldChoices(dvk) } : {}),
      accept(answer, data): StepResult<Draft> {
        const value = readField(dvk, key, answer, data.content);
        if (typeof value !== "string") return value;
        return {
          data: { ...data, content: { ...data.content, [key]: value } },
          next: ASKED[index + 1] ?? "confirm",
        };
      },
    };
  });

  const register = defineFlow<Draft>({
    name: "dangkymohinh",
    version: 1,
    roles: UNITS_ROLES,
    ttlMinutes: 120,
    first: ASKED[0] ?? "name",
    initial: (turn) => ({ content: { unitKey: turn.speaker.unitId ?? "" } }),
    steps: {
      ...registerSteps,
      confirm: {
        prompt: async (data) => `${await summary(dvk, units, data.content)}\n\n${t.dvk.confirmPrompt}`,
        choices: () => [
          { label: t.dvk.submit, value: "yes" },
          { label: t.dvk.cancel, value: "no" },
        ],
        accept: (answer, data) => ({ data: { ...data, confirmed: answer.choice?.value === "yes" } }),
      },
    },
    async finish(data, turn) {
      if (!data.confirmed || !turn.speaker.unitId) {
        turn.reply(t.dvk.cancelled);
        return;
      }
      const content = { ...data.content, unitKey: turn.speaker.unitId } as ModelContent;
      const model = await dvk.register(content, turn.speaker, today(turn), turn.now, turn.idempotencyKey);
      const deadline = await dvk.deadline(model.year);
      turn.reply(t.dvk.registered(model.code, model.late && deadline ? formatDay(deadline.day) : undefined), {
        subject: { kind: "model", id: model.code },
      });
      for (const officer of await turn.services.people.list({ role: "office" })) {
        const to = await turn.services.people.contactOf(officer._id.toString());
        if (to) {
          turn.notify(
            to,
            `model:${officer._id.toString()}`,
            t.dvk.newForOffice(model.code, model.name, model.late),
            {
              subject: { kind: "model", id: model.code },
            },
          );
        }
      }
    },
  });

  const edit = defineFlow<EditData>({
    name: "suamohinh",
    version: 1,
    roles: UNITS_ROLES,
    ttlMinutes: 120,
    first: "pick",
    initial: () => ({ code: "", content: {} }),
    steps: {
      pick: {
        prompt: () => t.dvk.pickEdit,
        choices: () => [
          ...ASKED.map((key) => ({ label: t.dvk.label[key], value: key })),
          { label: t.dvk.resubmit, value: "submit" },
        ],
        accept(answer, data) {
          if (answer.choice?.value === "submit") return { data, next: "confirm" };
          return { data: { ...data, editing: answer.choice?.value as Asked }, next: "value" };
        },
      },
      value: {
        prompt: (data) => t.dvk.ask[data.editing ?? "name"],
        choices: (data) => (data.editing === "field" ? fieldChoices(dvk) : []),
        freeText: true,
        accept(answer, data) {
          const key = data.editing ?? "name";
          if (key === "field" && !answer.choice) return { error: t.dvk.pickField };
          const value = readField(dvk, key, answer, data.content);
          if (typeof value !== "string") return value;
          return { data: { ...data, content: { ...data.content, [key]: value } }, next: "pick" };
        },
      },
      confirm: {
        prompt: async (data) => `${await summary(dvk, units, data.content)}\n\n${t.dvk.confirmResubmit}`,
        choices: () => [
          { label: t.dvk.resubmit, value: "yes" },
          { label: t.dvk.cancel, value: "no" },
        ],
        accept: (answer, data) => ({ data: { ...data, confirmed: answer.choice?.value === "yes" } }),
      },
    },
    async finish(data, turn) {
      if (!data.confirmed) {
        turn.reply(t.dvk.cancelled);
        return;
      }
      try {
        const model = await dvk.resubmit(
          data.code,
          data.content as ModelContent,
          turn.speaker,
          turn.now,
          turn.idempotencyKey,
        );
        turn.reply(t.dvk.resubmitted(model.code, model.versions.length), {
          subject: { kind: "model", id: model.code },
        });
        // The Office asked for the changes and must appraise again: it hears of the new version.
        for (const officer of await turn.services.people.list({ role: "office" })) {
          const to = await turn.services.people.contactOf(officer._id.toString());
          if (to) {
            turn.notify(
              to,
              `resubmitted:${model.versions.length}:${officer._id.toString()}`,
              t.dvk.resubmittedForOffice(model.code, model.name, model.versions.length),
              { subject: { kind: "model", id: model.code } },
            );
          }
        }
      } catch (error) {
        if (!(error instanceof ModelError)) throw error;
        turn.reply(t.dvk.errors[error.reason]);
      }
    },
  });

  const decide = defineFlow<{ code: string; status?: ModelStatus; comment?: string }>({
    name: "duyet",
    version: 1,
    roles: OFFICE,
    ttlMinutes: 60,
    first: "status",
    initial: (_turn, code) => ({ code }),
    steps: {
      status: {
        prompt: (data) => t.dvk.askDecision(data.code),
        async choices(data) {
          const model = await dvk.byCode(data.code);
          return (model ? OFFICE_TRANSITIONS[model.status] : []).map((s) => ({
            label: t.dvk.status(s),
            value: s,
          }));
        },
        accept: (answer, data) => ({
          data: { ...data, status: answer.choice?.value as ModelStatus },
          next: "comment",
        }),
      },
      comment: {
        prompt: () => t.dvk.askComment,
        accept(answer, data) {
          const comment = answer.text.trim();
          if (comment.length < 3) return { error: t.dvk.tooShort(3) };
          return { data: { ...data, comment } };
        },
      },
    },
    async finish(data, turn) {
      const { comment = "" } = data;
      if (!data.status) return;
      try {
        const model = await dvk.decide(
          data.code,
          data.status,
          comment,
          turn.speaker,
          turn.now,
          turn.idempotencyKey,
        );
        turn.reply(t.dvk.decided(model.code, t.dvk.status(model.status)));
        const registrant = await turn.services.people.contactOf(model.registeredBy.personId.toString());
        const recipients = new Map<string, NonNullable<typeof registrant>>();
        if (registrant) recipients.set(model.registeredBy.personId.toString(), registrant);
        for (const head of await turn.services.people.ofUnit(model.unitKey, ["unit_head"])) {
          const to = await turn.services.people.contactOf(head._id.toString());
          if (to) recipients.set(head._id.toString(), to);
        }
        for (const [personId, to] of recipients) {
          turn.notify(
            to,
            `decided:${model.history.length}:${personId}`,
            t.dvk.decisionNotice(
              model.code,
              model.name,
              t.dvk.status(model.status),
              comment,
              model.status === "needs_changes",
            ),
            {
              subject: { kind: "model", id: model.code },
            },
          );
        }
      } catch (error) {
        if (!(error instanceof ModelError)) throw error;
        turn.reply(t.dvk.errors[error.reason]);
      }
    },
  });

  const results = defineFlow<{ code: string; text?: string; attachments: StepAnswer["attachments"] }>({
    name: "ketquamohinh",
    version: 1,
    roles: UNITS_ROLES,
    ttlMinutes: 120,
    first: "text",
    initial: (_turn, code) => ({ code, attachments: [] }),
    steps: {
      text: {
        prompt: (data) => t.dvk.askResult(data.code),
        accept(answer, data) {
          if (answer.text.trim().length < 10) return { error: t.dvk.tooShort(10) };
          return {
            data: {
              ...data,
              text: answer.text.trim(),
              attachments: [...data.attachments, ...answer.attachments],
            },
            next: "files",
          };
        },
      },
      files: {
        prompt: (data) =>
          data.attachments.length > 0 ? t.dvk.filesCount(data.attachments.length) : t.dvk.askFiles,
        accept(answer, data) {
          if (answer.attachments.length > 0)
            return {
              data: { ...data, attachments: [...data.attachments, ...answer.attachments] },
              next: "files",
            };
          if (t.dvk.doneWords.includes(fold(answer.text))) return { data };
          return { error: t.dvk.filesHint };
        },
      },
    },
    async finish(data, turn) {
      try {
        const model = await dvk.addResult(
          data.code,
          data.text ?? "",
          data.attachments,
          turn.speaker,
          turn.now,
          turn.idempotencyKey,
        );
        turn.reply(t.dvk.resultSaved(model.code, model.results.length), {
          subject: { kind: "model", id: model.code },
        });
      } catch (error) {
        if (!(error instanceof ModelError)) throw error;
        turn.reply(t.dvk.errors[error.reason]);
      }
    },
  });

  async function detail(model: ModelDoc, turn: Turn): Promise<string> {
    const unit = (await units.get(model.unitKey))?.name ?? model.unitKey;
    const tz = turn.services.timeZone;
    return [
      t.dvk.detailHeader(model.code, model.name, t.dvk.status(model.status), model.late),
      (await summary(dvk, units, model)).split("\n").slice(1).join("\n"),
      t.dvk.unitLine(unit),
      t.dvk.historyHeader,
      ...model.history.map((h) =>
        t.dvk.historyLine(formatDateTime(h.at, tz), h.byName, t.dvk.status(h.status), h.comment),
      ),
      ...(model.versions.length > 1 ? [t.dvk.versions(model.versions.length)] : []),
      ...(model.results.length > 0
        ? [
            t.dvk.resultsHeader,
            ...model.results.map((r) =>
              t.dvk.resultLine(formatDateTime(r.at, tz), r.byName, r.text, r.attachments.length),
            ),
          ]
        : []),
    ].join("\n");
  }

  /** /mohinh [năm] [trạng thái] [đơn vị] or /mohinh MH-2025-007. */
  async function listModels(turn: Turn, args: string): Promise<void> {
    const stats = modelStats && statsArgs(args);
    if (modelStats && stats !== undefined) {
      await modelStats(turn, stats);
      return;
    }
    const code = CODE.exec(args)?.[0];
    if (code) {
      const model = await dvk.byCode(code);
      if (!model || !dvk.canSee(turn.speaker, model)) {
        turn.reply(t.dvk.errors.not_found);
        return;
      }
      turn.reply(await detail(model, turn), { subject: { kind: "model", id: model.code } });
      return;
    }
    let rest = ` ${fold(args)} `;
    const year = /\b(20\d{2})\b/.exec(rest)?.[1];
    if (year) rest = rest.replace(year, " ");
    const statuses: ModelStatus[] = [];
    for (const status of MODEL_STATUSES) {
      const label = ` ${fold(t.dvk.status(status))} `;
      if (rest.includes(label)) {
        statuses.push(status);
        rest = rest.replace(label, " ");
      }
    }
    rest = rest.trim();
    let unitKey: string | undefined;
    if (!["office", "leader", "admin"].includes(turn.speaker.role)) {
      // A unit sees its own models only, whatever it asks for.
      unitKey = turn.speaker.unitId;
      if (!unitKey) {
        turn.reply(t.plans.noUnit);
        return;
      }
    } else if (rest) {
      const [unit, ...others] = await units.find(rest);
      if (!unit || others.length > 0) {
        turn.reply(t.dvk.filterUnknown(rest));
        return;
      }
      unitKey = unit.key;
    }
    const list = await dvk.list({
      year: Number(year ?? today(turn).slice(0, 4)),
      ...(unitKey ? { unitKey } : {}),
      statuses,
    });
    if (list.length === 0) {
      turn.reply(t.dvk.listEmpty);
      return;
    }
    const names = await units.names();
    turn.reply(
      [
        t.dvk.listHeader(Number(year ?? today(turn).slice(0, 4)), list.length),
        ...list.map((m) =>
          t.dvk.listLine(m.code, m.name, names.get(m.unitKey) ?? m.unitKey, t.dvk.status(m.status), m.late),
        ),
        "",
        t.dvk.listFooter,
      ].join("\n"),
    );
  }

  async function ownModel(
    turn: Turn,
    args: string,
    status: readonly ModelStatus[],
  ): Promise<ModelDoc | undefined> {
    const code = CODE.exec(args)?.[0];
    const model = code ? await dvk.byCode(code) : undefined;
    if (!model || model.unitKey !== turn.speaker.unitId) {
      turn.reply(code ? t.dvk.errors.not_found : t.dvk.codeUsage);
      return undefined;
    }
    if (!status.includes(model.status)) {
      turn.reply(t.dvk.errors.bad_state);
      return undefined;
    }
    return model;
  }

  return {
    name: "dvk",
    flows: [register, edit, decide, results],
    commands: [
      {
        name: "dangkymohinh",
        roles: UNITS_ROLES,
        description: t.dvk.registerDescription,
        async run(turn) {
          if (!turn.speaker.unitId) {
            turn.reply(t.plans.noUnit);
            return;
          }
          const deadline = await dvk.deadline(Number(today(turn).slice(0, 4)));
          if (deadline && today(turn) > deadline.day) {
            turn.reply(t.dvk.lateWarning(formatDay(deadline.day), deadline.taskCode, deadline.planCode));
          }
          turn.startFlow("dangkymohinh");
        },
      },
      {
        name: "mohinh",
        roles: READERS,
        description: t.dvk.listDescription,
        usage: "/mohinh [năm] [trạng thái] [đơn vị] | /mohinh <mã>",
        run: listModels,
      },
      {
        name: "duyet",
        roles: OFFICE,
        description: t.dvk.decideDescription,
        usage: "/duyet <mã>",
        async run(turn, args) {
          const code = CODE.exec(args)?.[0];
          const model = code ? await dvk.byCode(code) : undefined;
          if (!model) {
            turn.reply(code ? t.dvk.errors.not_found : t.dvk.codeUsage);
            return;
          }
          if (OFFICE_TRANSITIONS[model.status].length === 0) {
            turn.reply(t.dvk.errors.bad_state);
            return;
          }
          turn.reply(await detail(model, turn));
          turn.startFlow("duyet", model.code);
        },
      },
      {
        name: "suamohinh",
        roles: UNITS_ROLES,
        description: t.dvk.editDescription,
        usage: "/suamohinh <mã>",
        async run(turn, args) {
          const model = await ownModel(turn, args, ["needs_changes"]);
          if (!model) return;
          turn.reply(await summary(dvk, units, model));
          turn.startFlow("suamohinh", model.code, { code: model.code, content: dvk.contentOf(model) });
        },
      },
      {
        name: "ketquamohinh",
        roles: UNITS_ROLES,
        description: t.dvk.resultDescription,
        usage: "/ketquamohinh <mã>",
        async run(turn, args) {
          const model = await ownModel(turn, args, ["passed", "implementing", "reported", "recognised"]);
          if (model) turn.startFlow("ketquamohinh", model.code);
        },
      },
    ],
  };
}
