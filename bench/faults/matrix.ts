import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { judge, observe, type Observed, type Verdict } from "./compare.js";
import { SCENARIOS, type Scenario } from "./scenarios.js";
import type { WriteSeen } from "./proxy.js";
import { isSendFault, World, type Fault, type FaultPlan } from "./world.js";

export interface MatrixOptions {
  uri: string;
  workDir: string;
  /** Scenario names; all when empty. */
  scenarios: string[];
  faults: readonly Fault[];
  /** Only these write (or send) numbers; all when undefined. */
  places?: Set<number>;
  /** Only writes the fault-free run saw that this accepts (the test's slice); every write when absent. */
  select?: (write: WriteSeen, all: readonly WriteSeen[]) => boolean;
  stepTimeoutMs: number;
  thinkMs: number;
  /** How long after its conversation a case waits for the bot to finish what it owes (deliveries, recovery). */
  settleMs: number;
  /** A restarted bot's clock runs this far ahead, past the killed one's claims (the 60 s lease). */
  clockAheadMs: number;
  /** Cases run side by side. */
  parallel: number;
  /**
   * Bot processes on the one database (1 when absent), webhooks spread over them round-robin; a
   * kill fault kills the one whose write it was. The fault-free run has as many.
   */
  instances?: number;
  out: (line: string) => void;
}

export interface CaseResult {
  scenario: string;
  plan: FaultPlan;
  /** "insert outbox" for a write, "sendMessage 5100001" for a send: what the fault hit. */
  place: string;
  verdict: Verdict;
  /** A person stuck, a restart that failed, a bot that never went quiet. */
  problems: string[];
  logs: string;
}

export interface ScenarioSummary {
  scenario: string;
  cases: number;
  lost: number;
  doubled: number;
  window: number;
  failures: CaseResult[];
  /** What each case's fault hit (CaseResult.place), in the order the cases ended. */
  places: string[];
}

interface Played {
  world: World;
  observed: Observed;
  problems: string[];
}

/** One run of a scenario in a world of its own: seed, start, set up, then the armed part under `plan`. */
async function play(
  scenario: Scenario,
  options: MatrixOptions,
  label: string,
  plan?: FaultPlan,
): Promise<Played> {
  const world = new World({
    uri: options.uri,
    dbName: `faults_${scenario.name}_${randomBytes(4).toString("hex")}`,
    workDir: path.join(options.workDir, label),
    stepTimeoutMs: options.stepTimeoutMs,
    thinkMs: options.thinkMs,
    clockAheadMs: options.clockAheadMs,
    instances: options.instances ?? 1,
  });
  const problems: string[] = [];
  try {
    await world.open();
    await scenario.seed(world);
    if (scenario.setup) {
      problems.push(...(await scenario.setup(world)).map((p) => `setup: ${p}`));
      await world.settle(options.settleMs);
    }
    world.arm(plan);
    problems.push(...(await scenario.act(world)));
    if (!(await world.settle(options.settleMs)))
      problems.push("the bot still had work after the settle time");
    world.disarm();
    problems.push(...world.problems);
    return { world, observed: await observe(world), problems };
  } catch (error) {
    problems.push(`harness: ${String(error)}`);
    return { world, observed: { messages: new Map(), records: new Map() }, problems };
  } finally {
    await world.close().catch((error: unknown) => problems.push(`teardown: ${String(error)}`));
  }
}

function placeOf(world: World, plan: FaultPlan): string {
  if (isSendFault(plan.fault)) return world.faultedSend ?? "(no such send)";
  const write = world.faultedWrite;
  return write
    ? `${write.command} ${write.collection}${write.tag === "bot" ? "" : ` (${write.tag})`}`
    : "(no such write)";
}

/** Runs `tasks` with at most `limit` at a time, in order of start. */
async function pool<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < tasks.length; i = next++) results[i] = await (tasks[i] as () => Promise<T>)();
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
  return results;
}

/** The fault-free run of a scenario, then one case per write (or send) and fault kind. */
export async function runScenarioMatrix(
  scenario: Scenario,
  options: MatrixOptions,
): Promise<ScenarioSummary> {
  const base = await play(scenario, options, `${scenario.name}-fault-free`);
  const summary: ScenarioSummary = {
    scenario: scenario.name,
    cases: 0,
    lost: 0,
    doubled: 0,
    window: 0,
    failures: [],
    places: [],
  };
  if (base.problems.length > 0) {
    options.out(
      `${scenario.name}: the fault-free run failed: ${base.problems.join("; ")} (logs in ${base.world.logDir})`,
    );
    summary.lost = 1;
    return summary;
  }
  rmSync(base.world.logDir, { recursive: true, force: true });
  const writes = base.world.writes;
  const sends = base.world.sends;
  options.out(
    `${scenario.name}: ${scenario.title}; fault-free: ${writes.length} writes, ${sends.length} sends` +
      ` (${writes.map((w) => `${w.n} ${w.command} ${w.collection}${w.tag === "bot" ? "" : `·${w.tag}`}`).join(", ")})`,
  );
  const plans: FaultPlan[] = [];
  for (const fault of options.faults) {
    const places = isSendFault(fault) ? sends.length : writes.length;
    for (let at = 1; at <= places; at += 1) {
      if (options.places && !options.places.has(at)) continue;
      const write = writes[at - 1];
      if (options.select && (isSendFault(fault) || !write || !options.select(write, writes))) continue;
      // With several instances a write is found again by what it is and its occurrence (proxy.ts).
      const key =
        (options.instances ?? 1) > 1 && write && !isSendFault(fault)
          ? {
              command: write.command,
              collection: write.collection,
              nth: writes
                .slice(0, at)
                .filter((w) => w.command === write.command && w.collection === write.collection).length,
            }
          : undefined;
      plans.push({ at, fault, ...(key ? { key } : {}) });
    }
  }
  // Each case is counted as it ends, and a failing one printed at once: a long matrix shows what
  // it found while it runs.
  await pool(
    plans.map((plan) => async () => {
      const label = `${scenario.name}-${plan.fault}-${plan.at}`;
      const run = await play(scenario, options, label, plan);
      const result: CaseResult = {
        scenario: scenario.name,
        plan,
        place: placeOf(run.world, plan),
        verdict: judge(base.observed, run.observed, run.world.kills),
        problems: run.problems,
        logs: run.world.logDir,
      };
      summary.cases += 1;
      summary.places.push(result.place);
      summary.lost += result.verdict.lost.length;
      summary.doubled += result.verdict.doubled.length;
      summary.window += result.verdict.window.length;
      if (result.verdict.lost.length > 0 || result.verdict.doubled.length > 0) {
        summary.failures.push(result);
        writeFileSync(path.join(result.logs, "verdict.json"), JSON.stringify(result, null, 2));
        options.out(describeFailure(result));
      } else {
        rmSync(result.logs, { recursive: true, force: true });
      }
    }),
    options.parallel,
  );
  return summary;
}

/** How a failing case reads: where, what, what it did, and where its logs are. */
export function describeFailure(result: CaseResult): string {
  const kind = isSendFault(result.plan.fault) ? "send" : "write";
  const what = [
    ...result.verdict.lost.map((l) => `LOST ${l}`),
    ...result.verdict.doubled.map((d) => `DOUBLED ${d}`),
    ...result.problems,
    ...result.verdict.other.map((o) => `(also ${o})`),
  ];
  return (
    `  ${result.scenario} ${kind} #${result.plan.at} (${result.place}) ${result.plan.fault}: ` +
    `${what.join("; ")} — logs in ${result.logs}`
  );
}

/** Every chosen scenario's matrix; true when nothing was lost or doubled outside the window. */
export async function runMatrix(options: MatrixOptions): Promise<boolean> {
  // In the order asked for, so a developer puts the one they are fixing first.
  const chosen =
    options.scenarios.length === 0
      ? SCENARIOS
      : options.scenarios.flatMap((name) => SCENARIOS.filter((s) => s.name === name));
  const summaries: ScenarioSummary[] = [];
  for (const scenario of chosen) {
    const summary = await runScenarioMatrix(scenario, options);
    summaries.push(summary);
    options.out(
      `${summary.scenario}: ${summary.cases} cases, ${summary.lost} lost, ${summary.doubled} doubled, ` +
        `${summary.window} in the send-then-crash window`,
    );
  }
  const total = (key: "cases" | "lost" | "doubled" | "window") =>
    summaries.reduce((sum, s) => sum + s[key], 0);
  options.out(
    `fault matrix: ${total("cases")} cases, ${total("lost")} lost, ${total("doubled")} doubled, ` +
      `${total("window")} in the send-then-crash window`,
  );
  return total("lost") === 0 && total("doubled") === 0;
}
