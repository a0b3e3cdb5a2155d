import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseTranscript, runTranscript } from "../../bots/console/transcript.js";
import { FixedClock } from "../../src/clock.js";
import { silentLogger } from "../../src/log.js";
import { ORG, TEST_SEALER, useDatabase } from "../support/db.js";

const db = useDatabase(import.meta.filename);
const dir = path.resolve(import.meta.dirname, "../transcripts");

describe("transcripts (test/transcripts/*.txt) through the engine", () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".txt"))) {
    it(file, async () => {
      // Each transcript on a clean database, so people named in one do not meet another's; the
      // clock starts now, as under `npm run chat`: a transcript sets its own with `!clock`.
      await db.connection.dropDatabase();
      const steps = parseTranscript(readFileSync(path.join(dir, file), "utf8"));
      const result = await runTranscript(steps, {
        connection: db.connection,
        clock: new FixedClock(new Date()),
        log: silentLogger(),
        orgName: ORG,
        timeZone: "Asia/Ho_Chi_Minh",
        sealer: TEST_SEALER,
      });
      expect(result.failures, result.output.join("\n\n")).toEqual([]);
    });
  }

  it("reports an expectation that is not met, with its line", async () => {
    await db.connection.dropDatabase();
    const steps = parseTranscript("@citizen /help\n= Câu này không có trong trả lời\n!= Các lệnh");
    const result = await runTranscript(steps, {
      connection: db.connection,
      clock: new FixedClock("2025-10-06T02:00:00Z"),
      log: silentLogger(),
      orgName: ORG,
      timeZone: "Asia/Ho_Chi_Minh",
      sealer: TEST_SEALER,
    });
    expect(result.ok).toBe(false);
    expect(result.failures).toEqual([
      'line 2: expected a message to citizen containing "Câu này không có trong trả lời"',
      'line 3: unexpected a message to citizen containing "Các lệnh"',
    ]);
  });
});
