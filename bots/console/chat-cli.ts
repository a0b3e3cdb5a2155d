import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { openToolDatabase, runTool } from "../../src/cli/open-app.js";
import { FixedClock } from "../../src/clock.js";
import { loadConfig } from "../../src/config.js";
import { loadDotEnv } from "../../src/env-file.js";
import { silentLogger } from "../../src/log.js";
import { Sealer } from "../../src/privacy/sealer.js";
import { t } from "../../src/text/vi.js";
import { parseTranscript, runTranscript } from "./transcript.js";

/**
 * `npm run chat -- --script FILE`: plays a transcript through the real engine and prints every
 * message. It runs on a fresh database of its own (dropped afterwards), so the dev data is
 * untouched, and exits 1 when an expected reply did not come. The clock starts at the time of the
 * transcript's `!clock` line (else now), exactly as under `npm test`.
 */
async function main(): Promise<number> {
  const { values } = parseArgs({ options: { script: { type: "string" } } });
  if (!values.script) {
    console.error(t.console.chatUsage);
    return 2;
  }
  loadDotEnv();
  const config = loadConfig();
  const steps = parseTranscript(await readFile(values.script, "utf8"));
  const log = silentLogger();
  const db = await openToolDatabase(config, `${config.mongoDb}_transcript_${Date.now()}`, log);
  try {
    const result = await runTranscript(steps, {
      connection: db.connection,
      clock: new FixedClock(new Date()),
      log,
      orgName: config.orgName,
      timeZone: config.timeZone,
      // The transcript's database is dropped afterwards: a key of its own, forgotten with it.
      sealer: new Sealer([{ id: "transcript", key: randomBytes(32) }]),
    });
    console.log(result.output.join("\n\n"));
    if (!result.ok) {
      console.error(`\n${result.failures.length} expectation(s) failed:\n${result.failures.join("\n")}`);
      return 1;
    }
    console.log(`\nOK: ${steps.filter((s) => s.kind === "expect").length} expectation(s) met.`);
    return 0;
  } finally {
    await db.connection.dropDatabase();
    await db.close();
  }
}

runTool(main);
