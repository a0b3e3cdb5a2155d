import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { databaseName } from "../support/db.js";

const root = path.resolve(import.meta.dirname, "../..");
const dataDir = mkdtempSync(path.join(os.tmpdir(), "dvbot-process-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

interface Run {
  child: ChildProcessWithoutNullStreams;
  output: { stdout: string; stderr: string };
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Runs `src/main.ts` as `npm start` does. */
function spawnBot(env: Record<string, string>): Run {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      PORT: "0",
      LOG_LEVEL: "warn",
      // A configured data key, as production has; without one the bot warns that it made its own.
      DATA_ENCRYPTION_KEYS: `test:${randomBytes(32).toString("base64")}`,
      FILE_LINK_SECRET: "test-file-link-secret-0123456789abcdef",
      ...(process.env.FERRETDB_BIN ? { FERRETDB_BIN: process.env.FERRETDB_BIN } : {}),
      ...(process.env.DVBOT_CACHE_DIR ? { DVBOT_CACHE_DIR: process.env.DVBOT_CACHE_DIR } : {}),
      ...env,
    },
  });
  const output = { stdout: "", stderr: "" };
  child.stdout.on("data", (c: Buffer) => (output.stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output.stderr += c.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, ...output })),
  );
  return { child, output, done };
}

function start(env: Record<string, string>, input: string) {
  const run = spawnBot(env);
  run.child.stdin.end(input);
  return run.done;
}

function processesUsing(dir: string): string {
  try {
    return execFileSync("pgrep", ["-f", dir]).toString().trim();
  } catch {
    return ""; // pgrep exits 1 when nothing matches
  }
}

describe("the bot process", () => {
  it("answers piped console input in Vietnamese and exits 0 when the input ends", async () => {
    const run = await start(
      { MONGODB_URI: inject("mongoUri"), MONGODB_DB: databaseName("process"), DATA_DIR: dataDir },
      "/help\n",
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Các lệnh anh/chị có thể dùng");
  });

  it("stops with one line naming the variable when the configuration is wrong", async () => {
    const run = await start({ PORT: "không-phải-số", DATA_DIR: dataDir }, "");
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^Cấu hình sai: PORT — /)]);
    expect(run.stdout).toBe("");
  });

  it("on SIGTERM closes the HTTP server and stops the embedded database it started", async () => {
    const ownDir = mkdtempSync(path.join(os.tmpdir(), "dvbot-sigterm-"));
    try {
      const run = spawnBot({ DATA_DIR: ownDir, LOG_LEVEL: "info" });
      const deadline = Date.now() + 30_000;
      while (!run.output.stderr.includes("http: listening") && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(run.output.stderr).toContain("http: listening");
      expect(run.output.stderr).toContain(`data in ${ownDir}`);
      expect(processesUsing(ownDir)).not.toBe("");
      run.child.kill("SIGTERM");
      const { code, stderr } = await run.done;
      expect(code).toBe(0);
      expect(stderr).toContain('"msg":"stopped"');
      expect(processesUsing(ownDir)).toBe("");
    } finally {
      rmSync(ownDir, { recursive: true, force: true });
    }
  });
});
