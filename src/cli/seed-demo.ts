import { App } from "../app.js";
import { systemClock } from "../clock.js";
import { ConfigError, loadConfig } from "../config.js";
import { openDatabase } from "../db/connect.js";
import { loadDotEnv } from "../env-file.js";
import { silentLogger } from "../log.js";
import { importPlanFile, seedDemoPeople, shippedPlanFiles } from "../seed.js";
import { t } from "../text/vi.js";

/**
 * `npm run seed:demo`: the demo units, both shipped plans and one person per role on the console
 * channel, so a newcomer can try every role with `/as office`, `/as staff`… Safe to run again.
 */
async function main(): Promise<number> {
  loadDotEnv();
  const config = loadConfig();
  const log = silentLogger();
  const db = await openDatabase({
    uri: config.mongoUri,
    dbName: config.mongoDb,
    dataDir: config.dataDir,
    ferretdbBin: config.ferretdbBin,
    log,
  });
  try {
    const app = new App({
      connection: db.connection,
      clock: systemClock,
      log,
      orgName: config.orgName,
      timeZone: config.timeZone,
    });
    await app.ensureIndexes();
    const { units, people } = await seedDemoPeople(app, systemClock.now());
    console.log(t.cli.seededUnits(units));
    for (const file of shippedPlanFiles()) {
      const result = await importPlanFile(app, file, systemClock.now());
      console.log(t.cli.planImported(result.plan.code, result.tasks, result.created, result.archived));
    }
    for (const person of people)
      console.log(t.cli.seededPerson(person.console, person.name, t.people.role(person.role)));
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
