import { existsSync } from "node:fs";

/**
 * Reads `.env` from the working directory when there is one. Variables already set in the
 * environment win, so a deployment's real environment is never overridden by a stray file.
 */
export function loadDotEnv(file = ".env"): void {
  if (existsSync(file)) process.loadEnvFile(file);
}
