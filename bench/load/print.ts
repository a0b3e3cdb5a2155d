import type { ScenarioResult } from "./scenario.js";
import { percentile } from "./stats.js";

export const out = (line = "") => process.stdout.write(`${line}\n`);
const ms = (value: number) => `${value.toFixed(0)} ms`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

/** The figures of one run, one per line, then its integrity checks. */
export function printResult(result: ScenarioResult): void {
  const { options, recorder: r } = result;
  out(`== ${options.title}`);
  const who = [
    `${options.citizens} citizens`,
    options.bot === "ours" && options.officials > 0 ? `${options.officials} officials` : "",
    `on ${options.channels.join(" + ")}`,
    `${options.instances} instance${options.instances > 1 ? "s" : ""}`,
    options.thinkMs > 0 ? `think ${options.thinkMs} ms` : "",
  ].filter(Boolean);
  out(`   ${who.join(", ")}`);
  out(`   messages sent:       ${r.sent} (each step one update)`);
  out(`   handled:             ${r.answered} (answer reached the fake platform)`);
  out(
    `   duplicates:          ${r.retries + r.resent} redeliveries (${r.retries} after a failed POST, ${r.resent} resent after a 200), ` +
      `${result.repeated} repeated replies at the platforms`,
  );
  out(`   lost:                ${r.lost}`);
  out(
    `   refused:             ${r.refused} tries turned down and made again (stale button, reply not tied to a reminder)`,
  );
  out(`   throughput:          ${r.throughput.toFixed(1)} msgs/s over ${r.seconds.toFixed(1)} s`);
  // Second by second only for a short run (saturation: 100 people, about half a minute).
  const perSecond = r.answersPerSecond;
  if (perSecond.length > 1 && perSecond.length <= 60) {
    out(`   answers per second:  ${perSecond.join(" ")} (from the first update)`);
  }
  if (options.limits) {
    out(
      `   Telegram's limits:   ${result.refusedByLimits} sends refused with a 429 (30 msgs/s in all, bursts of 3 per chat)`,
    );
  }
  out(
    `   latency p50 / p99:   ${ms(result.p50)} / ${ms(result.p99)} (POST → reply at the platform; max ${ms(Math.max(0, ...r.latencies))})`,
  );
  const steps = [...r.byStep.entries()]
    .map(([name, samples]) => ({ name, p50: percentile(samples, 50), p99: percentile(samples, 99) }))
    .sort((a, b) => b.p99 - a.p99);
  if (steps.length > 1) {
    out(
      `   by step p50/p99:     ${steps
        .slice(0, 4)
        .map((s) => `${s.name} ${ms(s.p50)} / ${ms(s.p99)}`)
        .join("; ")} (the slowest four)`,
    );
  }
  out(
    `   webhook 200 p50/p99: ${ms(result.ackP50)} / ${ms(result.ackP99)} (POST → the bot answered the POST)`,
  );
  if (result.split) {
    const [h50, h99] = result.split.handled;
    const [s50, s99] = result.split.sent;
    out(
      `   inside the bot:      handling p50/p99 ${ms(h50)} / ${ms(h99)} (inbox write → handled); ` +
        `outbox p50/p99 ${ms(s50)} / ${ms(s99)} (reply written → sent)`,
    );
  }
  out(`   peak memory:         ${mb(result.peakRss)} RSS (bot process, sampled every 50 ms)`);
  if (result.cpuMs !== undefined && r.sent > 0) {
    out(
      `   bot CPU:             ${(result.cpuMs / r.sent).toFixed(1)} ms a step (${(result.cpuMs / 1000).toFixed(1)} s ` +
        "while the people walked, start-up left out; from /proc)",
    );
  }
  if (Object.keys(result.inbox).length > 0) {
    const states = Object.entries(result.inbox)
      .map(([state, n]) => `${n} ${state}`)
      .join(", ");
    out(`   bot's inbox:         ${states}`);
  }
  if (result.restartMs !== undefined) {
    out(
      `   crash:               SIGKILL after ${Math.round((options.crashAt ?? 0) * 100)}% of the steps; ` +
        `up again in ${ms(result.restartMs)}; ${result.recovered} cut-off update(s) resumed by recovery`,
    );
  }
  if (result.reminders) out(`   reminders job:       ${result.reminders}`);
  for (const check of result.checks)
    out(`   ${check.pass ? "PASS" : "FAIL"}  ${check.name}: ${check.detail}`);
  const exits = result.unplannedExits;
  out(
    `   ${exits.length === 0 ? "PASS" : "FAIL"}  no bot process died unasked: ` +
      (exits.length === 0 ? "none did" : `${exits.join("; ")} (see its log)`),
  );
}

/** True when every integrity check of every run passed and no bot process died by itself. */
export function allPassed(results: ScenarioResult[]): boolean {
  return results.every(
    (result) => result.checks.every((check) => check.pass) && result.unplannedExits.length === 0,
  );
}
