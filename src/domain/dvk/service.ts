import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { Types, type Model } from "mongoose";
import { parse } from "yaml";
import { z } from "zod";
import type { Claims } from "../../db/claims.js";
import { isDuplicateKeyError } from "../../db/errors.js";
import type { Attachment } from "../../engine/message.js";
import { dayOf, type Day } from "../calendar/work-calendar.js";
import type { Speaker } from "../people/service.js";
import {
  CONTENT_KEYS,
  OFFICE_TRANSITIONS,
  type ModelContent,
  type ModelDoc,
  type ModelStatus,
} from "./schema.js";

const rulesFile = z.object({
  fields: z.array(z.object({ key: z.string().regex(/^[a-z_]+$/), label: z.string() })).min(1),
  // The plan task that asks units to register a year's models: its deadline, if the plan gives
  // one, is the registration deadline. No task, no deadline, and no registration is late.
  registration: z
    .array(z.object({ year: z.number().int(), plan: z.string().min(1), task: z.string().min(1) }))
    .default([]),
});
export type DvkRules = z.infer<typeof rulesFile>;

export function loadDvkRules(file: string): DvkRules {
  return rulesFile.parse(parse(readFileSync(file, "utf8")));
}

/** A registration deadline, with the plan task it comes from (cited to whoever reads it). */
export interface RegistrationDeadline {
  day: Day;
  planCode: string;
  taskCode: string;
}

/** The deadline of a plan's task, as imported (plans/service.ts), or undefined. */
export type TaskDeadline = (planCode: string, taskCode: string) => Promise<Day | undefined>;

export class ModelError extends Error {
  override name = "ModelError";
  constructor(readonly reason: "not_found" | "forbidden" | "bad_state") {
    super(reason);
  }
}

const OVERSEERS = ["office", "leader", "admin"];

/** A change claimed by a turn that died before making it frees the model after this long. */
const CHANGE_LEASE_MS = 2 * 60_000;

/** "Dân vận khéo" models: registration by units, appraisal by the Office, results over the year. */
export class DvkService {
  constructor(
    private readonly model: Model<ModelDoc>,
    readonly rules: DvkRules,
    private readonly claims: Claims,
    private readonly taskDeadline: TaskDeadline,
  ) {}

  fieldLabel(key: string): string {
    return this.rules.fields.find((f) => f.key === key)?.label ?? key;
  }

  /**
   * The year's registration deadline, from the plan task data/dvk/rules.yaml names, as imported;
   * undefined when no plan sets one (example data is never a rule).
   */
  async deadline(year: number): Promise<RegistrationDeadline | undefined> {
    const source = this.rules.registration.find((r) => r.year === year);
    const day = source && (await this.taskDeadline(source.plan, source.task));
    return source && day ? { day, planCode: source.plan, taskCode: source.task } : undefined;
  }

  /**
   * Sets each model's "late" flag from the deadline that applies now: one set against a deadline
   * that was example data, or that a plan no longer gives, is cleared. Run at start.
   */
  async reconcileLate(timeZone: string): Promise<number> {
    let changed = 0;
    const deadlines = new Map<number, Day | undefined>();
    for (const model of await this.model.find({}, { year: 1, late: 1, createdAt: 1 }).lean()) {
      if (!deadlines.has(model.year)) deadlines.set(model.year, (await this.deadline(model.year))?.day);
      const deadline = deadlines.get(model.year);
      const late = Boolean(deadline && dayOf(model.createdAt, timeZone) > deadline);
      if (late === model.late) continue;
      await this.model.updateOne({ _id: model._id }, { $set: { late } });
      changed += 1;
    }
    return changed;
  }

  /** Office and leadership see every model; a unit its own. */
  canSee(speaker: Speaker, model: Pick<ModelDoc, "unitKey">): boolean {
    return OVERSEERS.includes(speaker.role) || (Boolean(speaker.unitId) && speaker.unitId === model.unitKey);
  }

  private ownUnit(speaker: Speaker, model: ModelDoc): void {
    if (!(speaker.role === "staff" || speaker.role === "unit_head") || speaker.unitId !== model.unitKey) {
      throw new ModelError("forbidden");
    }
  }

  /**
   * Registers a model with the next code of the year (MH-2025-007). Two registrations racing for
   * the same number meet the unique index; the loser takes the next one.
   */
  async register(
    content: ModelContent,
    by: Speaker,
    today: Day,
    now: Date,
    idempotencyKey: string,
  ): Promise<ModelDoc> {
    const replay = await this.model.findOne({ idempotencyKey }).lean();
    if (replay) return replay;
    const year = Number(today.slice(0, 4));
    const deadline = (await this.deadline(year))?.day;
    let next = (await this.model.countDocuments({ year })) + 1;
    for (let attempt = 0; ; attempt += 1) {
      try {
        const doc = await this.model.create({
          ...content,
          code: `MH-${year}-${String(next).padStart(3, "0")}`,
          year,
          status: "registered",
          late: Boolean(deadline && today > deadline),
          registeredBy: { personId: new Types.ObjectId(by.personId), name: by.name },
          versions: [{ at: now, byName: by.name, content }],
          history: [{ at: now, byName: by.name, status: "registered" }],
          results: [],
          idempotencyKey,
          createdAt: now,
        });
        return doc.toObject();
      } catch (error) {
        if (!isDuplicateKeyError(error) || attempt >= 20) throw error;
        const raced = await this.model.findOne({ idempotencyKey }).lean();
        if (raced) return raced;
        next += 1;
      }
    }
  }

  async byCode(code: string): Promise<ModelDoc | undefined> {
    return (await this.model.findOne({ code: code.trim().toUpperCase() }).lean()) ?? undefined;
  }

  async list(filter: { year?: number; unitKey?: string; statuses?: ModelStatus[] }): Promise<ModelDoc[]> {
    const query: Record<string, unknown> = {};
    if (filter.year) query.year = filter.year;
    if (filter.unitKey) query.unitKey = filter.unitKey;
    if (filter.statuses?.length) query.status = { $in: filter.statuses };
    return this.model.find(query).sort({ year: -1, code: 1 }).limit(100).lean();
  }

  /** The model as `update` left it, when that update already changed it (a replay after a crash). */
  private replayed(model: ModelDoc, update: string | undefined): ModelDoc | undefined {
    return update !== undefined && model.updates?.includes(update) ? model : undefined;
  }

  private async update(
    model: ModelDoc,
    set: Partial<ModelDoc>,
    push: Record<string, unknown>,
    update: string | undefined,
    now: Date,
  ): Promise<ModelDoc> {
    // One change per version of the model, taken by a unique key: FerretDB lets two conditional
    // updates of one document both "win", and one of them would be lost.
    const version = model.history.length + model.versions.length + model.results.length;
    const key = `model:${model._id.toString()}:${version}`;
    if (!(await this.claims.takeVersion(key, update ?? randomUUID(), now, CHANGE_LEASE_MS))) {
      const now = await this.byCode(model.code);
      const raced = now && this.replayed(now, update);
      if (raced) return raced;
      throw new ModelError("bad_state");
    }
    const updated = await this.model
      .findOneAndUpdate(
        { _id: model._id, status: model.status },
        { $set: set, $push: update === undefined ? push : { ...push, updates: update } },
        { returnDocument: "after" },
      )
      .lean();
    if (!updated) throw new ModelError("bad_state");
    return updated;
  }

  /** The Office's decision (/duyet), along OFFICE_TRANSITIONS, with its comment on record. */
  async decide(
    code: string,
    status: ModelStatus,
    comment: string,
    by: Speaker,
    now: Date,
    update?: string,
  ): Promise<ModelDoc> {
    const model = await this.byCode(code);
    if (!model) throw new ModelError("not_found");
    if (by.role !== "office" && by.role !== "admin") throw new ModelError("forbidden");
    const done = this.replayed(model, update);
    if (done) return done;
    if (!OFFICE_TRANSITIONS[model.status].includes(status)) throw new ModelError("bad_state");
    return this.update(
      model,
      { status },
      { history: { at: now, byName: by.name, status, comment } },
      update,
      now,
    );
  }

  /** After "cần bổ sung", the unit edits and resubmits; the earlier version stays in `versions`. */
  async resubmit(
    code: string,
    content: ModelContent,
    by: Speaker,
    now: Date,
    update?: string,
  ): Promise<ModelDoc> {
    const model = await this.byCode(code);
    if (!model) throw new ModelError("not_found");
    this.ownUnit(by, model);
    const done = this.replayed(model, update);
    if (done) return done;
    if (model.status !== "needs_changes") throw new ModelError("bad_state");
    return this.update(
      model,
      { ...content, status: "registered" },
      {
        versions: { at: now, byName: by.name, content },
        history: { at: now, byName: by.name, status: "registered" as ModelStatus, comment: "nộp lại" },
      },
      update,
      now,
    );
  }

  /** The unit reports results (text, figures, photos) during the year. */
  async addResult(
    code: string,
    text: string,
    attachments: Attachment[],
    by: Speaker,
    now: Date,
    update?: string,
  ): Promise<ModelDoc> {
    const model = await this.byCode(code);
    if (!model) throw new ModelError("not_found");
    this.ownUnit(by, model);
    const done = this.replayed(model, update);
    if (done) return done;
    if (!["passed", "implementing", "reported", "recognised"].includes(model.status))
      throw new ModelError("bad_state");
    const status: ModelStatus = model.status === "recognised" ? "recognised" : "reported";
    return this.update(
      model,
      { status },
      {
        results: { at: now, byName: by.name, text, attachments },
        ...(status !== model.status ? { history: { at: now, byName: by.name, status } } : {}),
      },
      update,
      now,
    );
  }

  /** The current content of a model, for editing. */
  contentOf(model: ModelDoc): ModelContent {
    return Object.fromEntries(CONTENT_KEYS.map((k) => [k, model[k]])) as unknown as ModelContent;
  }
}
