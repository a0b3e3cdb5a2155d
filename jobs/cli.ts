import { parseArgs } from "node:util";
import { FixedClock, formatDateTime, systemClock } from "../src/clock.js";
import { t } from "../src/text/vi.js";
import { openCliApp, runTool } from "../src/cli/open-app.js";
import { allJobs } from "./index.js";
import { cronOf } from "./job.js";
import { JobRunner } from "./runner.js";

/**
 * `npm run jobs:list`: every job, its schedule, last run and next run (the next look that will
 * act: a working day, in office hours, in a slot not run yet).
 * `npm run jobs:run NAME [--at TIME]`: look at one job now (or as if it were TIME) and run it
 * if its slot has not run yet. Messages go to the outbox; the running bot delivers them.
 */
async function main(): Promise<number> {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { at: { type: "string" } } });
  const [command, name] = positionals;
  if (command !== "list" && !(command === "run" && name)) {
    console.error(t.jobs.runUsage);
    return 2;
  }
  const at = values.at ? new Date(values.at) : undefined;
  if (at && Number.isNaN(at.getTime())) {
    console.error(t.jobs.runUsage);
    return 2;
  }
  const clock = at ? new FixedClock(at) : systemClock;
  const { config, db, app, log } = await openCliApp({ clock });
  try {
    const ctx = { app, clock, settings: config.jobs, timeZone: config.timeZone, log };
    const runner = new JobRunner(ctx, db.connection);
    await runner.init();
    const jobs = allJobs(db.connection);
    if (command === "list") {
      for (const job of jobs) {
        const last = await runner.lastRun(job.name);
        const next = await runner.nextRun(job, clock.now());
        console.log(
          t.jobs.listLine({
            name: job.name,
            cron: cronOf(job, config.jobs.officeHours),
            description: job.description,
            last: last
              ? `${formatDateTime(last.startedAt, config.timeZone)} (${last.slot}, ${last.status})`
              : t.jobs.never,
            next: next ? formatDateTime(next, config.timeZone) : "—",
          }),
        );
      }
      return 0;
    }
    const job = jobs.find((j) => j.name === name);
    if (!job) {
      console.error(t.jobs.unknownJob(name ?? "", jobs.map((j) => j.name).join(", ")));
      return 2;
    }
    const outcome = await runner.runDue(job, clock.now());
    switch (outcome.kind) {
      case "idle":
        console.log(t.jobs.outcome.idle);
        return 0;
      case "ran":
        console.log(t.jobs.outcome.ran(outcome.slot, outcome.messages));
        return 0;
      case "failed":
        console.error(t.jobs.outcome.failed(outcome.slot, outcome.error));
        return 1;
      default:
        console.log(t.jobs.outcome[outcome.kind](outcome.slot));
        return 0;
    }
  } finally {
    await db.close();
  }
}

runTool(main);
