import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { describeFailure, runScenarioMatrix } from "../../bench/faults/matrix.js";
import { SCENARIOS } from "../../bench/faults/scenarios.js";

const workDir = mkdtempSync(path.join(os.tmpdir(), "dvbot-faults-slice-"));
/** A failure's bot logs, which its message names, are kept for whoever reads it. */
let failed = false;
afterAll(() => {
  if (!failed) rmSync(workDir, { recursive: true, force: true });
});

/**
 * A slice of `npm run bench -- faults`: the citizen's /gopy, with the database refusing the
 * ticket's insert, and with the connection cut after the ticket's insert and after the
 * confirming turn's state, its one commit (the write happened, the bot never heard). The bot runs as a
 * child process behind the wire proxy; the result is checked against the fault-free run.
 */
describe("fault matrix (slice)", () => {
  it(
    "loses and doubles nothing when a /gopy write fails or its connection is cut",
    { timeout: 90_000 },
    async () => {
      const gopy = SCENARIOS.find((s) => s.name === "gopy");
      if (!gopy) throw new Error("no gopy scenario");
      const summary = await runScenarioMatrix(gopy, {
        uri: inject("mongoUri"),
        workDir,
        scenarios: ["gopy"],
        faults: ["error", "cut-after"],
        select: (write, all) =>
          write.collection === "tickets" ||
          write === all.filter((w) => w.command === "insert" && w.collection === "sessions").at(-1),
        stepTimeoutMs: 20_000,
        thinkMs: 100,
        settleMs: 20_000,
        clockAheadMs: 65_000,
        parallel: 4,
        out: () => undefined,
      });
      failed ||= summary.failures.length > 0;
      expect(summary.failures.map(describeFailure)).toEqual([]);
      expect(summary.cases).toBeGreaterThanOrEqual(4);
      expect(summary.lost + summary.doubled).toBe(0);
    },
  );

  it(
    "with two bot processes on one database, loses and doubles nothing when the ticket's insert fails",
    { timeout: 90_000 },
    async () => {
      const gopy = SCENARIOS.find((s) => s.name === "gopy");
      if (!gopy) throw new Error("no gopy scenario");
      const summary = await runScenarioMatrix(gopy, {
        uri: inject("mongoUri"),
        workDir,
        scenarios: ["gopy"],
        faults: ["error"],
        select: (write) => write.collection === "tickets",
        stepTimeoutMs: 20_000,
        thinkMs: 100,
        settleMs: 20_000,
        clockAheadMs: 65_000,
        parallel: 1,
        instances: 2,
        out: () => undefined,
      });
      failed ||= summary.failures.length > 0;
      expect(summary.failures.map(describeFailure)).toEqual([]);
      expect(summary.places).toEqual([expect.stringMatching(/^insert tickets \(bot-[ab]\)$/)]);
      expect(summary.lost + summary.doubled).toBe(0);
    },
  );
});
