import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { inject } from "vitest";

export const root = path.resolve(import.meta.dirname, "../..");

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a script of the repository as `npm run …` does (node with tsx, from the repository root),
 * with only the environment given here (and what finds the embedded database), and waits for it.
 */
export function runScript(
  script: string,
  args: string[],
  env: Record<string, string>,
  input = "",
): Promise<Finished> {
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      LOG_LEVEL: "warn",
      ...(process.env.FERRETDB_BIN ? { FERRETDB_BIN: process.env.FERRETDB_BIN } : {}),
      ...(process.env.DVBOT_CACHE_DIR ? { DVBOT_CACHE_DIR: process.env.DVBOT_CACHE_DIR } : {}),
      ...env,
    },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  child.stdin.end(input);
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

/** A tool run on the test database `dbName` with its data in `dataDir`, as production configures it. */
export function toolEnv(dbName: string, dataDir: string): Record<string, string> {
  return { MONGODB_URI: inject("mongoUri"), MONGODB_DB: dbName, DATA_DIR: dataDir, ...serverSecrets() };
}

/** What production requires beside MONGODB_URI (a data key and the file-link secret). */
export function serverSecrets(): Record<string, string> {
  return {
    DATA_ENCRYPTION_KEYS: `test:${randomBytes(32).toString("base64")}`,
    FILE_LINK_SECRET: "test-file-link-secret-0123456789abcdef",
  };
}
