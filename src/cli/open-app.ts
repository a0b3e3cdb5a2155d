import { App } from "../app.js";
import { systemClock, type Clock } from "../clock.js";
import { loadConfig, type Config } from "../config.js";
import { openDatabase, type Database } from "../db/connect.js";
import { loadDotEnv } from "../env-file.js";
import { silentLogger, type Logger } from "../log.js";
import { resolveDataKeys } from "../privacy/keys.js";
import { Sealer } from "../privacy/sealer.js";
import { t } from "../text/vi.js";
import { PlainError, printFailure } from "./error-line.js";

export interface CliApp {
  config: Config;
  db: Database;
  app: App;
  log: Logger;
}

/** The Sealer for personal data, from configuration (or the local development key). */
export function sealerFor(config: Config, log: Logger): Sealer {
  return new Sealer(resolveDataKeys(config.dataKeys, config.dataDir, log));
}

/**
 * What every command-line tool starts with: `.env`, the configuration, the database (as the bot
 * resolves it) and the app with its indexes. Close `db` when done.
 */
export async function openCliApp(options: { clock?: Clock; dbName?: string } = {}): Promise<CliApp> {
  loadDotEnv();
  const config = loadConfig();
  const log = silentLogger();
  const db = await openToolDatabase(config, options.dbName ?? config.mongoDb, log);
  try {
    const app = new App({
      connection: db.connection,
      clock: options.clock ?? systemClock,
      log,
      orgName: config.orgName,
      timeZone: config.timeZone,
      sealer: sealerFor(config, log),
      feedbackLimits: { maxPerDay: config.feedbackMaxPerDay, duplicateMinutes: 10 },
      reports: { letterhead: config.letterhead },
    });
    await app.ensureIndexes();
    return { config, db, app, log };
  } catch (error) {
    await db.close();
    throw error;
  }
}

/** The database as the bot resolves it; a database that cannot be reached is one line, as at start. */
export async function openToolDatabase(config: Config, dbName: string, log: Logger): Promise<Database> {
  try {
    return await openDatabase({
      uri: config.mongoUri,
      dbName,
      dataDir: config.dataDir,
      ferretdbBin: config.ferretdbBin,
      log,
    });
  } catch (error) {
    throw new PlainError(t.db.unreachable((error as Error).message.split("\n")[0] ?? ""));
  }
}

/**
 * Runs a command-line tool and exits with the code its `main` returns. Whatever stops it (a
 * configuration mistake, a missing file, a database out of reach) is one Vietnamese line on
 * stderr (see errorLine), and the exit code is 1.
 */
export function runTool(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      printFailure(error);
      process.exit(1);
    },
  );
}
