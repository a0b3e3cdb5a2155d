import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runScript, serverSecrets } from "./spawn.js";

const dataDir = mkdtempSync(path.join(os.tmpdir(), "dvbot-tool-errors-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Exactly one line on stderr, and a failing exit code. */
function expectOneLine(run: { code: number | null; stderr: string }, line: RegExp) {
  expect(run.stderr.trimEnd().split("\n")).toEqual([expect.stringMatching(line)]);
  expect(run.code).toBe(1);
}

describe("a tool that cannot go on says why in one line, never with a stack", () => {
  it("npm run chat: a transcript that is not there", async () => {
    const run = await runScript("bots/console/chat-cli.ts", ["--script", "khong-co-tep-nay.txt"], {
      DATA_DIR: dataDir,
    });
    expectOneLine(run, /^Không tìm thấy tệp khong-co-tep-nay\.txt\.$/);
  });

  it("npm run plans:import: a plan file that is not there", async () => {
    const run = await runScript("src/cli/plans-import.ts", ["--dry-run", "data/plans/khong-co.yaml"], {
      DATA_DIR: dataDir,
    });
    expectOneLine(run, /^Không tìm thấy tệp data\/plans\/khong-co\.yaml\.$/);
  });

  it("npm run units:import: a units file that is not there", async () => {
    const run = await runScript("src/cli/units-import.ts", ["khong-co.yaml"], { DATA_DIR: dataDir });
    expectOneLine(run, /^Không tìm thấy tệp khong-co\.yaml\.$/);
  });

  it("npm run admin: a database that does not answer", async () => {
    // Port 9 (discard) refuses on loopback: the driver gives up after its 5 s server selection.
    const run = await runScript("src/cli/admin.ts", ["list"], {
      DATA_DIR: dataDir,
      MONGODB_URI: "mongodb://127.0.0.1:9/dvbot",
      ...serverSecrets(),
    });
    expectOneLine(run, /^Không kết nối được MongoDB: .*ECONNREFUSED/);
  });
});
