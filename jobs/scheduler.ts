import cron, { type ScheduledTask } from "node-cron";
import { cronOf, type Job, type JobContext } from "./job.js";
import type { JobRunner } from "./runner.js";

/**
 * node-cron triggers at each job's looks (`looks` in job.ts: from the start of OFFICE_HOURS,
 * hourly), in the Department's time zone; the runner decides whether the slot still needs a run.
 * At start every job is looked at once, so one missed while the process was down runs now (if it
 * is office hours; otherwise at its next look).
 */
export class Scheduler {
  private readonly tasks: ScheduledTask[] = [];
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly ctx: JobContext,
    private readonly runner: JobRunner,
    readonly jobs: Job[],
  ) {}

  private look(job: Job): void {
    const run = this.runner
      .runDue(job)
      .catch((error: unknown) => this.ctx.log.error({ err: error, job: job.name }, "job: look failed"))
      .finally(() => this.running.delete(run));
    this.running.add(run);
  }

  async start(): Promise<void> {
    await this.runner.init();
    for (const job of this.jobs) {
      this.look(job);
      const task = cron.createTask(cronOf(job, this.ctx.settings.officeHours), () => this.look(job), {
        name: job.name,
        timezone: this.ctx.timeZone,
        noOverlap: true,
      });
      await task.start();
      this.tasks.push(task);
    }
  }

  async stop(): Promise<void> {
    for (const task of this.tasks) await task.stop();
    await Promise.all(this.running);
  }
}
