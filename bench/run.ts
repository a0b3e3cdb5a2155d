/**
 * `npm run bench [-- PART...] [--flags]`: the benchmarks, each printing figures and asserting no
 * speed. PARTs: `reports` (bench/reports.ts: summaries and report files over a large quarter),
 * `load` (the webhooks under load with a SIGKILL and restart, then two instances on one
 * database), `peer` (our bot and the idiomatic grammY bot of bench/peer under the same Telegram
 * load, with the ratios). No PART: all of them. Exits 1 when an integrity check fails.
 *
 * Flags: --citizens N (30), --officials N (10), --think MS (1000: how long a person takes to read
 * a reply and answer; with 0 a "person" presses a button before the bot has even recorded sending
 * it, which no finger does), --resend R (0.1: share of updates posted twice, as platforms do),
 * --crash-at R (0.4: share of the steps sent before the SIGKILL), --step-timeout S (180).
 * Database: MONGODB_URI if set, else a FerretDB (`npm run ferretdb:build`) on a fresh data folder.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { ROOT_DIR } from "../src/paths.js";
import { openBenchDatabase } from "./load/database.js";
import { allPassed, out, printResult } from "./load/print.js";
import { profileSteps } from "./load/profile.js";
import { runScenario, type ScenarioOptions, type ScenarioResult } from "./load/scenario.js";

const PARTS = ["reports", "load", "peer"] as const;
type Part = (typeof PARTS)[number];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    citizens: { type: "string", default: "30" },
    officials: { type: "string", default: "10" },
    think: { type: "string", default: "1000" },
    resend: { type: "string", default: "0.1" },
    "crash-at": { type: "string", default: "0.4" },
    "step-timeout": { type: "string", default: "180" },
  },
});
const unknown = positionals.filter((p) => !(PARTS as readonly string[]).includes(p));
if (unknown.length > 0) {
  process.stderr.write(`unknown part ${unknown.join(", ")}; parts: ${PARTS.join(", ")}\n`);
  process.exit(2);
}
const parts = new Set<Part>(positionals.length > 0 ? (positionals as Part[]) : PARTS);

function runReports(): boolean {
  out("== reports (bench/reports.ts)");
  const run = spawnSync(process.execPath, ["--import", "tsx", path.join("bench", "reports.ts")], {
    cwd: ROOT_DIR,
    stdio: "inherit",
  });
  return run.status === 0;
}

async function runLoad(): Promise<boolean> {
  const db = await openBenchDatabase();
  const workDir = mkdtempSync(path.join(os.tmpdir(), "dvbot-bench-load-"));
  const base = {
    uri: db.uri,
    citizens: Number(values.citizens),
    officials: Number(values.officials),
    thinkMs: Number(values.think),
    stepTimeoutMs: Number(values["step-timeout"]) * 1000,
  };
  const scenario = (
    name: string,
    options: Omit<ScenarioOptions, keyof typeof base | "dbName" | "workDir"> & Partial<typeof base>,
  ) => runScenario({ ...base, ...options, dbName: `bench_${name}`, workDir: path.join(workDir, name) });
  const results: ScenarioResult[] = [];
  let ok = true;
  try {
    out(`database: ${db.kind}; node ${process.version}; ${os.cpus().length} cores; logs in ${workDir}`);
    if (parts.has("load")) {
      const crash = await scenario("crash", {
        title: "load: one instance, SIGKILL and restart midway",
        bot: "ours",
        instances: 1,
        channels: ["telegram", "zalo"],
        crashAt: Number(values["crash-at"]),
        resendRate: Number(values.resend),
      });
      printResult(crash);
      results.push(crash);
      const two = await scenario("two", {
        title: "load: two instances on one database, webhooks round-robin",
        bot: "ours",
        instances: 2,
        channels: ["telegram", "zalo"],
        resendRate: Number(values.resend),
      });
      printResult(two);
      results.push(two);
    }
    if (parts.has("peer")) {
      // The same Telegram load on both, no officials (the peer has no plans), nothing resent
      // (the peer does not dedupe redeliveries, so resending would only measure its mistakes).
      const same = {
        instances: 1,
        channels: ["telegram"] as ("telegram" | "zalo")[],
        officials: 0,
        resendRate: 0,
      };
      const ours = await scenario("ours_tg", {
        ...same,
        title: "peer comparison: our bot, Telegram",
        bot: "ours",
      });
      printResult(ours);
      const peer = await scenario("peer_tg", {
        ...same,
        title: "peer comparison: grammY + conversations",
        bot: "peer",
      });
      printResult(peer);
      results.push(ours, peer);
      out(`throughput ratio: ${(ours.recorder.throughput / peer.recorder.throughput).toFixed(2)}`);
      out(`p99 ratio: ${(ours.p99 / peer.p99).toFixed(2)}`);
      out("(ours ÷ peer; the goal is throughput ≥ 1.5 and p99 ≤ 0.7)");
      for (const [who, run] of [
        ["our bot", ours],
        ["the peer", peer],
      ] as const) {
        if (run.unplannedExits.length > 0 || run.recorder.lost > 0) {
          out(
            `(${who} lost ${run.recorder.lost} people${run.unplannedExits.length > 0 ? " and died" : ""}: ` +
              "its figures cover only the answers given, so these ratios flatter it)",
          );
        }
      }
      // Each person waits for the answer and then thinks, so the people set a pace no bot can
      // beat: the throughput ratio cannot exceed what the peer leaves of it.
      if (base.thinkMs > 0 && peer.recorder.throughput > 0) {
        const ceiling = (base.citizens * 1000) / base.thinkMs;
        out(
          `(the people's pace caps throughput at ${ceiling.toFixed(1)} msgs/s, ${base.citizens} citizens ÷ ${base.thinkMs} ms think; ` +
            `the peer ran at ${((100 * peer.recorder.throughput) / ceiling).toFixed(0)}% of it, so the ratio can reach ` +
            `${(ceiling / peer.recorder.throughput).toFixed(2)} at most here)`,
        );
      }
      await profileSteps(db.uri, out);
    }
    ok = allPassed(results);
    out(ok ? "integrity: PASS" : "integrity: FAIL");
  } finally {
    await db.stop();
    if (ok) rmSync(workDir, { recursive: true, force: true });
  }
  return ok;
}

let ok = true;
if (parts.has("reports")) ok = runReports() && ok;
if (parts.has("load") || parts.has("peer")) ok = (await runLoad()) && ok;
process.exit(ok ? 0 : 1);
