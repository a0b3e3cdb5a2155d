import { randomUUID } from "node:crypto";
import { Schema, type Connection, type Model, type Types } from "mongoose";
import { METRIC } from "../src/metrics.js";
import type { Job, JobContext } from "./job.js";

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

/** A run holds its slot this long; a run that dies is retried by the next look after it lapses. */
const LEASE_MS = 10 * 60_000;

/**
 * Runs jobs at most once per slot, whatever the number of instances: the first to take the claim
 * `job:<name>:<slot>:<seq>` runs; the others see it busy or done. A run that crashed leaves its
 * lease to expire, and the next look retries with a fresh claim key.
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
    const previous = await this.model.findOne({ job: job.name, slot }).lean();
    if (previous?.status === "done") return { kind: "already-done", slot };
    if (previous?.status === "running" && previous.leaseUntil > at) return { kind: "busy", slot };
    const seq = previous?.claimSeq ?? 0;
    if (!(await this.ctx.app.claims.take(`job:${job.name}:${slot}:${seq}`, this.instance, at))) {
      return { kind: "busy", slot };
    }
    await this.model.updateOne(
      { job: job.name, slot },
      {
        $set: {
          status: "running",
          claimSeq: seq + 1,
          leaseUntil: new Date(at.getTime() + LEASE_MS),
          instance: this.instance,
          startedAt: this.ctx.clock.now(),
        },
      },
      { upsert: true },
    );
    try {
      const { messages } = await job.run(this.ctx, at, slot);
      await this.model.updateOne(
        { job: job.name, slot },
        { $set: { status: "done", finishedAt: this.ctx.clock.now(), messages } },
      );
      this.ctx.log.info({ job: job.name, slot, messages }, "job: ran");
      return { kind: "ran", slot, messages };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // "failed" lets the next look try again: the outbox keys keep what was already written single.
      await this.model.updateOne(
        { job: job.name, slot },
        { $set: { status: "failed", finishedAt: this.ctx.clock.now(), error: message, leaseUntil: at } },
      );
      this.ctx.log.error({ err: error, job: job.name, slot }, "job: failed");
      return { kind: "failed", slot, error: message };
    }
  }

  async lastRun(job: string): Promise<JobRunDoc | undefined> {
    return (await this.model.findOne({ job }).sort({ startedAt: -1 }).lean()) ?? undefined;
  }
}
