import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { FixedClock } from "../../src/clock.js";
import { ConfigError, loadConfig } from "../../src/config.js";
import { openDatabase } from "../../src/db/connect.js";
import { loadDotEnv } from "../../src/env-file.js";
import { silentLogger } from "../../src/log.js";
import { Sealer } from "../../src/privacy/sealer.js";
import { t } from "../../src/text/vi.js";
import { parseTranscript, runTranscript, TranscriptSyntaxError } from "./transcript.js";

/**
 * `npm run chat -- --script FILE`: plays a transcript through the real engine and prints every
 * message. It runs on a fresh database of its own (dropped afterwards), so the dev data is
 * untouched, and exits 1 when an expected reply did not come.
 */
async function main(): Promise<number> {
  const { values } = parseArgs({ options: { script: { type: "string" }, at: { type: "string" } } });
  if (!values.script) {
    console.error(t.console.chatUsage);
    return 2;
  }
  loadDotEnv();
  const config = loadConfig();
  const steps = parseTranscript(await readFile(values.script, "utf8"));
  const log = silentLogger();
  const db = await openDatabase({
    uri: config.mongoUri,
    dbName: `${config.mongoDb}_transcript_${Date.now()}`,
    dataDir: config.dataDir,
    ferretdbBin: config.ferretdbBin,
    log,
  });
  try {
    const result = await runTranscript(steps, {
      connection: db.connection,
      clock: new FixedClock(values.at ?? new Date()),
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

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof TranscriptSyntaxError) console.error(error.message);
    else console.error(error);
    process.exit(1);
  },
);
