/**
 * `npx tsx bench/alone.ts [--runs N] [--bot ours|peer] [--citizens N] [--think MS]`: the peer
 * comparison's Telegram scenario (bench/run.ts, `peer`) for one bot alone on the machine, N times
 * (5), one line a run: overall p50/p99, the first step's and the confirmation's p50/p99, and
 * throughput. Side by side, the two bots share two cores and each one's waves slow the other's;
 * alone, a change to one bot shows above the run-to-run spread in a minute. For A/B comparisons of
 * our own commits, not for the goal lines, which `npm run bench -- peer` prints.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { openBenchDatabase } from "./load/database.js";
import { runScenario } from "./load/scenario.js";
import { percentile } from "./load/stats.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    bot: { type: "string", default: "ours" },
    citizens: { type: "string", default: "30" },
    think: { type: "string", default: "1000" },
  },
});
const bot = values.bot === "peer" ? "peer" : "ours";
const ms = (samples: number[], p: number) => percentile(samples, p).toFixed(0);

const db = await openBenchDatabase("sqlite");
const workDir = mkdtempSync(path.join(os.tmpdir(), "dvbot-bench-alone-"));
try {
  for (let run = 1; run <= Number(values.runs); run += 1) {
    const result = await runScenario({
      title: `${bot} alone, run ${run}`,
      uri: db.uri,
      dbName: `bench_alone_${bot}_${run}`,
      bot,
      instances: 1,
      channels: ["telegram"],
      citizens: Number(values.citizens),
      officials: 0,
      thinkMs: Number(values.think),
      resendRate: 0,
      stepTimeoutMs: 60_000,
      limits: true,
      workDir: path.join(workDir, `run-${run}`),
    });
    const r = result.recorder;
    const first = r.byStep.get("citizen /gopy") ?? [];
    const confirm = r.byStep.get("citizen confirm") ?? [];
    process.stdout.write(
      `${bot} run ${run}: p50 ${result.p50.toFixed(0)} / p99 ${result.p99.toFixed(0)} ms; ` +
        `/gopy ${ms(first, 50)} / ${ms(first, 99)} ms; confirm ${ms(confirm, 50)} / ${ms(confirm, 99)} ms; ` +
        `${r.throughput.toFixed(1)} msgs/s; lost ${r.lost}; ` +
        `answers per second ${r.answersPerSecond.join(" ")}; ` +
        `bot CPU ${result.cpuMs !== undefined ? `${(result.cpuMs / r.sent).toFixed(1)} ms a step` : "?"}\n`,
    );
  }
} finally {
  await db.stop();
  rmSync(workDir, { recursive: true, force: true });
}
