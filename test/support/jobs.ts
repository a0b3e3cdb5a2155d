import type { Connection } from "mongoose";
import type { JobContext } from "../../jobs/job.js";
import { DEFAULT_JOB_SETTINGS } from "../../src/config.js";
import { JobRunner } from "../../jobs/runner.js";
import type { App } from "../../src/app.js";
import type { FixedClock } from "../../src/clock.js";
import { silentLogger } from "../../src/log.js";

/** A JobRunner on the app's database with the default job settings, as the scheduler builds one. */
export async function jobRunner(
  app: App,
  clock: FixedClock,
  connection: Connection,
): Promise<{ ctx: JobContext; runner: JobRunner }> {
  const ctx: JobContext = {
    app,
    clock,
    settings: DEFAULT_JOB_SETTINGS,
    timeZone: "Asia/Ho_Chi_Minh",
    log: silentLogger(),
  };
  const runner = new JobRunner(ctx, connection);
  await runner.init();
  return { ctx, runner };
}
