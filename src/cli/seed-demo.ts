import path from "node:path";
import { systemClock } from "../clock.js";
import { seedDemoPeople, seedDemoPlan, shippedPlanFiles } from "../seed.js";
import { ROOT_DIR } from "../paths.js";
import { t } from "../text/vi.js";
import { openCliApp, runTool } from "./open-app.js";

/**
 * `npm run seed:demo`: the demo units, one person per role on the console channel, and a demo
 * plan dated from today (some tasks done, some due soon, a few overdue), so a newcomer can try
 * every role with `/as office`, `/as staff`… in the current quarter. Safe to run again.
 *
 * The real plans in data/plans are not loaded: they are 2025's, so every task in them would be
 * overdue, and the first start would send the Office hundreds of lines about them. They are one
 * `npm run plans:import` away.
 */
async function main(): Promise<number> {
  const { db, app, config } = await openCliApp();
  try {
    const now = systemClock.now();
    const { units, people } = await seedDemoPeople(app, now);
    console.log(t.cli.seededUnits(units));
    const demo = await seedDemoPlan(app, now, config.timeZone);
    console.log(t.cli.planImported(demo.plan.code, demo.tasks, demo.created, demo.archived));
    console.log(t.cli.seededDemoPlan(demo.plan.title, demo.reports));
    for (const person of people)
      console.log(t.cli.seededPerson(person.console, person.name, t.people.role(person.role)));
    console.log(t.cli.realPlansHint(shippedPlanFiles().map((file) => path.relative(ROOT_DIR, file))));
    return 0;
  } finally {
    await db.close();
  }
}

runTool(main);
