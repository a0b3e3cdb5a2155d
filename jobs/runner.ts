import { randomUUID } from "node:crypto";
import { Schema, type Connection, type Model, type Types } from "mongoose";
import { isDuplicateKeyError } from "../src/db/errors.js";
import { dayOf, type Day } from "../src/domain/calendar/work-calendar.js";
import { METRIC } from "../src/metrics.js";
import { atLocal, looks, type Job, type JobContext } from "./job.js";

/** One run of a job for one slot; the record `jobs:list` reads and a crashed run is retried from. */
export interface JobRunDoc {
  _id: Types.ObjectId;
  job: string;
  slot: string;
  status: "running" | "done" | "failed";
  /** Bumped by each attempt; names the claim key (see src/db/claims.ts). */
  claimSeq: number;
  leaseUntil: Date;
  instance: string;
  startedAt: Date;
  finishedAt?: Date;
  messages?: number;
  error?: string;
}

const jobRunSchema = new Schema<JobRunDoc>(
  {
    job: { type: String, required: true },
    slot: { type: String, required: true },
    status: { type: String, required: true },
    claimSeq: { type: Number, required: true },
    leaseUntil: { type: Date, required: true },
    instance: { type: String, required: true },
    startedAt: { type: Date, required: true },
    finishedAt: { type: Date },
    messages: { type: Number },
    error: { type: String },
  },
  { collection: "job_runs" },
);
jobRunSchema.index({ job: 1, slot: 1 }, { unique: true });
jobRunSchema.index({ job: 1, startedAt: -1 });

export type RunOutcome =
  | { kind: "idle" }
  | { kind: "already-done"; slot: string }
  | { kind: "busy"; slot: string }
  | { kind: "ran"; slot: string; messages: number }
  | { kind: "failed"; slot: string; error: string };

/**
 * A run holds its slot this long, renewed while it runs; a run whose process died is retried by
 * the next look after it lapses, and so is a claim whose taker died before writing its record.
 */
const LEASE_MS = 10 * 60_000;

/** Looks ahead this far for `nextRun`: a quarterly job's next slot is at most a quarter away. */
const HORIZON_DAYS = 400;

/**
 * Runs jobs at most once per slot, whatever the number of instances: the first to take the claim
 * `job:<name>:<slot>:<seq>` runs; the others see it busy or done. A run that crashed leaves its
 * lease to expire, and the next look retries with a fresh claim key; a claim whose taker died
 * before bumping `claimSeq` lapses after the same lease (`Claims.takeSeq`). Every write after the
 * claim names the claim, so a run that outlived its lease cannot overwrite the record of the run
 * that took over (nor mark that one's "done" as failed, which would run the slot again).
 */
export class JobRunner {
  readonly model: Model<JobRunDoc>;
  private readonly instance = randomUUID();

  constructor(
    private readonly ctx: JobContext,
    connection: Connection,
  ) {
    this.model =
      (connection.models.JobRun as Model<JobRunDoc> | undefined) ??
      connection.model<JobRunDoc>("JobRun", jobRunSchema);
  }

  async init(): Promise<void> {
    await this.model.createCollection().catch(() => undefined);
    await this.model.createIndexes();
  }

  async runDue(job: Job, at: Date = this.ctx.clock.now()): Promise<RunOutcome> {
    const outcome = await this.look(job, at);
    this.ctx.app.metrics.count(...METRIC.jobRuns, { job: job.name, outcome: outcome.kind });
    return outcome;
  }

  private async look(job: Job, at: Date): Promise<RunOutcome> {
    const slot = job.slot(at, this.ctx);
    if (!slot) return { kind: "idle" };
    const claimed = await this.claim(job, slot);
    if (typeof claimed !== "number") return claimed;
    const mine = { job: job.name, slot, claimSeq: claimed, instance: this.instance };
    const renew = setInterval(() => {
      this.model
        .updateOne(
          { ...mine, status: "running" },
          { $set: { leaseUntil: new Date(this.ctx.clock.now().getTime() + LEASE_MS) } },
        )
        .catch((error: unknown) =>
          this.ctx.log.warn({ err: error, job: job.name, slot }, "job: lease not renewed"),
        );
    }, LEASE_MS / 3);
    renew.unref();
    try {
      const { messages } = await job.run(this.ctx, at, slot);
      clearInterval(renew);
      await this.finish(mine, { status: "done", finishedAt: this.ctx.clock.now(), messages });
      this.ctx.log.info({ job: job.name, slot, messages }, "job: ran");
      return { kind: "ran", slot, messages };
    } catch (error) {
      clearInterval(renew);
      const message = error instanceof Error ? error.message : String(error);
      // "failed" lets the next look try again: the outbox keys keep what was already written single.
      const now = this.ctx.clock.now();
      await this.finish(mine, { status: "failed", finishedAt: now, error: message, leaseUntil: now });
      this.ctx.log.error({ err: error, job: job.name, slot }, "job: failed");
      return { kind: "failed", slot, error: message };
    }
  }

  /** Takes the slot: the claimSeq its record now carries, or why not. */
  private async claim(job: Job, slot: string): Promise<number | RunOutcome> {
    const now = this.ctx.clock.now();
    const previous = await this.model.findOne({ job: job.name, slot }).lean();
    if (previous?.status === "done") return { kind: "already-done", slot };
    if (previous?.status === "running" && previous.leaseUntil > now) return { kind: "busy", slot };
    const seq = await this.ctx.app.claims.takeSeq(
      `job:${job.name}:${slot}`,
      previous?.claimSeq ?? 0,
      this.instance,
      now,
      LEASE_MS,
    );
    if (seq === undefined) return { kind: "busy", slot };
    const record = {
      status: "running" as const,
      claimSeq: seq + 1,
      leaseUntil: new Date(now.getTime() + LEASE_MS),
      instance: this.instance,
      startedAt: now,
    };
    if (!previous) {
      try {
        await this.model.create({ job: job.name, slot, ...record });
      } catch (error) {
        // Another took a later claim (ours looked dead) and wrote the record first.
        if (isDuplicateKeyError(error)) return { kind: "busy", slot };
        throw error;
      }
      return record.claimSeq;
    }
    // Only the record as it was read: one that moved on belongs to a later claim.
    const marked = await this.model.updateOne(
      { _id: previous._id, claimSeq: previous.claimSeq },
      { $set: record },
    );
    return marked.matchedCount === 0 ? { kind: "busy", slot } : record.claimSeq;
  }

  /** Writes the end of this claim's run, unless its lease lapsed and another run took the slot. */
  private async finish(
    mine: Pick<JobRunDoc, "job" | "slot" | "claimSeq" | "instance">,
    end: Partial<JobRunDoc>,
  ): Promise<void> {
    const written = await this.model.updateOne(mine, { $set: end });
    if (written.matchedCount === 0) {
      this.ctx.log.warn(
        { job: mine.job, slot: mine.slot, status: end.status },
        "job: slot taken over, record left",
      );
    }
  }

  async lastRun(job: string): Promise<JobRunDoc | undefined> {
    return (await this.model.findOne({ job }).sort({ startedAt: -1 }).lean()) ?? undefined;
  }

  /**
   * When `job` will next act: the first of its looks after `from` that falls in a slot not run
   * yet (a look on a day off, at night, or in a week already digested does nothing).
   */
  async nextRun(job: Job, from: Date): Promise<Date | undefined> {
    const times = looks(job, this.ctx.settings.officeHours);
    const done = new Map<string, boolean>();
    let day = dayOf(from, this.ctx.timeZone);
    for (let n = 0; n < HORIZON_DAYS; n += 1, day = nextDay(day)) {
      for (const time of times) {
        const at = atLocal(day, time, this.ctx.timeZone);
        if (at <= from) continue;
        const slot = job.slot(at, this.ctx);
        if (!slot) continue;
        if (!done.has(slot)) {
          done.set(slot, (await this.model.exists({ job: job.name, slot, status: "done" })) !== null);
        }
        if (!done.get(slot)) return at;
      }
    }
    return undefined;
  }
}

function nextDay(day: Day): Day {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString().slice(0, 10);
}
