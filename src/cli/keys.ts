import { parseArgs } from "node:util";
import { systemClock } from "../clock.js";
import { ConfigError } from "../config.js";
import { t } from "../text/vi.js";
import { openCliApp } from "./open-app.js";

/**
 * `npm run keys:rotate`: reseals every ticket's personal data with the first key of
 * DATA_ENCRYPTION_KEYS. Run it after putting a new key first; then the old key can be removed.
 * Each ticket resealed is in the audit log under "system:keys-rotate".
 */
async function main(): Promise<number> {
  const { positionals } = parseArgs({ allowPositionals: true });
  if (positionals[0] !== "rotate") {
    console.error(t.cli.keysUsage);
    return 2;
  }
  const { db, app } = await openCliApp();
  try {
    console.log(t.cli.resealed(await app.feedback.resealAll("system:keys-rotate", systemClock.now())));
    return 0;
  } finally {
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(1);
  },
);
