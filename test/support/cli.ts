import { spawn } from "node:child_process";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command-line tool as `npm run` does (`tsx src/cli/….ts ARGS`), with only the variables
 * given (plus PATH and HOME), so a developer's own `.env` settings cannot leak into a test.
 * @example await runCli("src/cli/keys.ts", ["rotate"], { MONGODB_URI: uri, MONGODB_DB: "t_x" });
 */
export function runCli(script: string, args: string[], env: Record<string, string>): Promise<CliRun> {
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
  });
  const output = { stdout: "", stderr: "" };
  child.stdout.on("data", (c: Buffer) => (output.stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output.stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, ...output }));
  });
}
