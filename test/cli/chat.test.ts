import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, inject, it } from "vitest";
import { parseTranscript, TranscriptSyntaxError } from "../../bots/console/transcript.js";
import { databaseName } from "../support/db.js";
import { root, runScript, serverSecrets } from "./spawn.js";

const dir = path.join(root, "test", "transcripts");

describe("npm run chat -- --script FILE", () => {
  // The two that read dates ("Số liệu đến ngày 06/10/2025", "còn 39 ngày làm việc"): they pass
  // only on the clock their `!clock` line sets, as they do under npm test.
  for (const file of ["reports.txt", "reports-office.txt"]) {
    it(`plays test/transcripts/${file} as npm test does`, async () => {
      const run = await runScript(
        "bots/console/chat-cli.ts",
        ["--script", path.join("test", "transcripts", file)],
        { MONGODB_URI: inject("mongoUri"), MONGODB_DB: databaseName(`chat-${file}`), ...serverSecrets() },
      );
      expect(run.stderr).toBe("");
      expect(run.stdout).toMatch(/\nOK: \d+ expectation\(s\) met\.\n$/);
      expect(run.code).toBe(0);
    });
  }

  it("every transcript of the test suite sets its clock, so no date depends on the day it runs", () => {
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".txt"))) {
      const steps = parseTranscript(readFileSync(path.join(dir, file), "utf8"));
      expect(steps[0], file).toMatchObject({ kind: "clock" });
    }
  });

  it("reads !clock as a local time, and refuses one that does not exist", () => {
    expect(parseTranscript("!clock 2025-10-06 09:00\n!clock 2026-01-02")).toEqual([
      { kind: "clock", line: 1, at: "2025-10-06 09:00" },
      { kind: "clock", line: 2, at: "2026-01-02 00:00" },
    ]);
    expect(() => parseTranscript("# x\n!clock 2025-02-30 09:00")).toThrow(TranscriptSyntaxError);
    expect(() => parseTranscript("!clock 2025-02-28 25:00")).toThrow(
      'line 1: no such time "2025-02-28 25:00"',
    );
  });
});
