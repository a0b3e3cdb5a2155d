import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { runScenario } from "../../bench/load/scenario.js";
import { databaseName } from "../support/db.js";

const workDir = mkdtempSync(path.join(os.tmpdir(), "dvbot-bench-smoke-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/**
 * The load benchmark's machinery on a tiny load: two bot processes on one database, three
 * citizens and two officials on Telegram and Zalo through the real webhooks. Integrity only;
 * `npm run bench` measures speed, never a test.
 */
describe("load benchmark (smoke)", () => {
  it(
    "files every ticket and report once with two instances behind one webhook",
    { timeout: 60_000 },
    async () => {
      const result = await runScenario({
        title: "smoke",
        uri: inject("mongoUri"),
        dbName: databaseName(import.meta.filename),
        bot: "ours",
        instances: 2,
        channels: ["telegram", "zalo"],
        citizens: 3,
        officials: 2,
        thinkMs: 300,
        resendRate: 0.3,
        stepTimeoutMs: 20_000,
        workDir,
      });
      expect(result.checks.filter((c) => !c.pass)).toEqual([]);
      expect(result.checks.map((c) => c.name)).toHaveLength(5);
      expect(result.recorder.lost).toBe(0);
    },
  );
});
