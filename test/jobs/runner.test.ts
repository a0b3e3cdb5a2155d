import { describe, expect, it } from "vitest";
import type { Job } from "../../jobs/job.js";
import { JobRunner } from "../../jobs/runner.js";
import { buildApp, useDatabase } from "../support/db.js";
import { jobRunner } from "../support/jobs.js";

const db = useDatabase(import.meta.filename);
const MINUTE = 60_000;

/** A job that counts its runs; `hold` lets a test keep a run in progress. */
function counting(name: string) {
  const runs: string[] = [];
  let hold: Promise<void> | undefined;
  let fail = false;
  const job: Job = {
    name,
    firstLookAfter: 0,
    description: name,
    slot: () => "2025-10-20",
    async run(_ctx, _at, slot) {
      // Each run keeps the behaviour set when it started.
      const [waitFor, failing] = [hold, fail];
      runs.push(slot);
      const messages = runs.length;
      if (waitFor) await waitFor;
      if (failing) throw new Error("gave up");
      return { messages };
    },
  };
  return {
    job,
    runs,
    holdUntil(until: Promise<void>) {
      hold = until;
    },
    failAfterHold() {
      fail = true;
    },
    release() {
      hold = undefined;
      fail = false;
    },
  };
}

async function setup() {
  const { app, clock } = await buildApp(db.connection);
  clock.set("2025-10-20T03:00:00Z");
  const { ctx, runner: first } = await jobRunner(app, clock, db.connection);
  return { app, clock, first, second: new JobRunner(ctx, db.connection) };
}

describe("job runner claims", () => {
  it("a claim left by a process that died before writing its run record lapses after the lease", async () => {
    const { app, clock, first } = await setup();
    const { job, runs } = counting("dead-before-record");
    // What a process killed between its claim and its run record leaves behind.
    await app.models.Claim.create({
      key: `job:${job.name}:2025-10-20:0`,
      owner: "dead",
      createdAt: clock.now(),
    });
    clock.advance(2 * MINUTE);
    expect(await first.runDue(job, clock.now())).toMatchObject({ kind: "busy" });
    clock.advance(10 * MINUTE);
    expect(await first.runDue(job, clock.now())).toMatchObject({ kind: "ran", messages: 1 });
    expect(await first.runDue(job, clock.now())).toMatchObject({ kind: "already-done" });
    expect(runs).toEqual(["2025-10-20"]);
  });

  it("a claim taken to retry a failed run, by a process that then died, lapses too", async () => {
    const { app, clock, first } = await setup();
    const { job, runs } = counting("dead-retry");
    await first.model.create({
      job: job.name,
      slot: "2025-10-20",
      status: "failed",
      claimSeq: 1,
      leaseUntil: clock.now(),
      instance: "earlier",
      startedAt: clock.now(),
    });
    await app.models.Claim.create({
      key: `job:${job.name}:2025-10-20:1`,
      owner: "dead",
      createdAt: clock.now(),
    });
    clock.advance(11 * MINUTE);
    expect(await first.runDue(job, clock.now())).toMatchObject({ kind: "ran" });
    expect(runs).toHaveLength(1);
  });

  it("two runners looking at once run the job once", async () => {
    const { clock, first, second } = await setup();
    for (let round = 0; round < 5; round += 1) {
      const { job, runs } = counting(`race-${round}`);
      const outcomes = await Promise.all([first.runDue(job, clock.now()), second.runDue(job, clock.now())]);
      expect(outcomes.map((o) => o.kind).sort()).toEqual(["busy", "ran"]);
      expect(runs).toHaveLength(1);
    }
  });

  it("a run that outlived its lease does not overwrite the record of the run that took over", async () => {
    const { clock, first, second } = await setup();
    for (const ending of ["done", "failed"] as const) {
      const c = counting(`slow-${ending}`);
      let release = () => undefined as void;
      c.holdUntil(new Promise<void>((resolve) => (release = resolve)));
      if (ending === "failed") c.failAfterHold();
      const slow = first.runDue(c.job, clock.now());
      while (c.runs.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      clock.advance(11 * MINUTE);
      const held = release;
      c.release();
      expect(await second.runDue(c.job, clock.now())).toMatchObject({ kind: "ran", messages: 2 });
      held();
      await slow;
      const record = await first.model.findOne({ job: c.job.name }).lean();
      expect(record).toMatchObject({ status: "done", messages: 2 });
      expect(await second.runDue(c.job, clock.now())).toMatchObject({ kind: "already-done" });
      expect(c.runs).toHaveLength(2);
    }
  });
});
