import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { App } from "../app.js";
import { systemClock } from "../clock.js";
import { ConfigError, loadConfig } from "../config.js";
import { openDatabase } from "../db/connect.js";
import { ROLES } from "../domain/people/roles.js";
import { readPlanFile } from "../domain/plans/plan-file.js";
import { readUnitsFile } from "../domain/units/service.js";
import { loadDotEnv } from "../env-file.js";
import { silentLogger } from "../log.js";
import { DATA_DIR } from "../paths.js";
import { t } from "../text/vi.js";

const peopleFile = z.object({
  people: z.array(
    z.object({ console: z.string(), name: z.string(), role: z.enum(ROLES), unit: z.string().optional() }),
  ),
});

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
    const units = readUnitsFile(path.join(DATA_DIR, "units", "demo.yaml"));
    await app.units.upsert(units);
    console.log(t.cli.seededUnits(units.length));
    const plansDir = path.join(DATA_DIR, "plans");
    for (const file of readdirSync(plansDir)
      .filter((f) => f.endsWith(".yaml"))
      .sort()) {
      const plan = readPlanFile(readFileSync(path.join(plansDir, file), "utf8"), file);
      const result = await app.plans.importPlan(plan, file, systemClock.now());
      console.log(t.cli.planImported(plan.code, result.tasks, result.created, result.archived));
    }
    const { people } = peopleFile.parse(
      parse(readFileSync(path.join(DATA_DIR, "demo", "people.yaml"), "utf8")),
    );
    for (const person of people) {
      await app.people.ensurePerson(
        "console",
        person.console,
        { role: person.role, name: person.name, ...(person.unit ? { unitId: person.unit } : {}) },
        systemClock.now(),
      );
      console.log(t.cli.seededPerson(person.console, person.name, t.people.role(person.role)));
    }
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
