import { systemClock } from "../clock.js";
import { importPlanFile, seedDemoPeople, shippedPlanFiles } from "../seed.js";
import { t } from "../text/vi.js";
import { openCliApp, runTool } from "./open-app.js";

/**
 * `npm run seed:demo`: the demo units, both shipped plans and one person per role on the console
 * channel, so a newcomer can try every role with `/as office`, `/as staff`… Safe to run again.
 */
async function main(): Promise<number> {
  const { db, app } = await openCliApp();
  try {
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

runTool(main);
