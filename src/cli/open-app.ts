import { App } from "../app.js";
import { systemClock, type Clock } from "../clock.js";
import { ConfigError, loadConfig, type Config } from "../config.js";
import { openDatabase, type Database } from "../db/connect.js";
import { loadDotEnv } from "../env-file.js";
import { silentLogger, type Logger } from "../log.js";
import { resolveDataKeys } from "../privacy/keys.js";
import { Sealer } from "../privacy/sealer.js";

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
  const db = await openDatabase({
    uri: config.mongoUri,
    dbName: options.dbName ?? config.mongoDb,
    dataDir: config.dataDir,
    ferretdbBin: config.ferretdbBin,
    log,
  });
  try {
    const app = new App({
      connection: db.connection,
      clock: options.clock ?? systemClock,
      log,
      orgName: config.orgName,
      timeZone: config.timeZone,
      sealer: sealerFor(config, log),
      feedbackLimits: { maxPerDay: config.feedbackMaxPerDay, duplicateMinutes: 10 },
    });
    await app.ensureIndexes();
    return { config, db, app, log };
  } catch (error) {
    await db.close();
    throw error;
  }
}

/**
 * Runs a command-line tool and exits with the code its `main` returns. A configuration mistake
 * is printed as its one Vietnamese line, anything else with its stack; both exit 1.
 */
export function runTool(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof ConfigError ? error.message : error);
      process.exit(1);
    },
  );
}
