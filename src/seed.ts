import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import type { App } from "./app.js";
import { readPublicData } from "./domain/announcements/public-data.js";
import { ROLES } from "./domain/people/roles.js";
import { readPlanFile } from "./domain/plans/plan-file.js";
import { readUnitsFile } from "./domain/units/service.js";
import { DATA_DIR } from "./paths.js";

const peopleFile = z.object({
  people: z.array(
    z.object({ console: z.string(), name: z.string(), role: z.enum(ROLES), unit: z.string().optional() }),
  ),
});

/** Reads, checks and imports one plan file. */
export async function importPlanFile(app: App, file: string, now: Date) {
  const plan = readPlanFile(readFileSync(file, "utf8"), file);
  return { plan, ...(await app.plans.importPlan(plan, path.basename(file), now)) };
}

/** The shipped plan files, in name order. */
export function shippedPlanFiles(): string[] {
  const dir = path.join(DATA_DIR, "plans");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => path.join(dir, f));
}

export interface DemoPerson {
  console: string;
  name: string;
  role: (typeof ROLES)[number];
  unit?: string;
}

/** The demo units and one person per role on the console channel (data/units, data/demo). */
export async function seedDemoPeople(app: App, now: Date): Promise<{ units: number; people: DemoPerson[] }> {
  const units = readUnitsFile(path.join(DATA_DIR, "units", "demo.yaml"));
  await app.units.upsert(units);
  const { people } = peopleFile.parse(
    parse(readFileSync(path.join(DATA_DIR, "demo", "people.yaml"), "utf8")),
  );
  for (const person of people) {
    await app.people.ensurePerson(
      "console",
      person.console,
      { role: person.role, name: person.name, ...(person.unit ? { unitId: person.unit } : {}) },
      now,
    );
  }
  await seedPublicInfo(app, now);
  return { units: units.length, people };
}

/**
 * The reception schedule, contact details and frequent questions of data/public, into whatever
 * the Office has not filled yet (its own edits are never overwritten).
 */
export async function seedPublicInfo(app: App, now: Date): Promise<void> {
  await app.publicInfo.ensureDefaults(readPublicData(path.join(DATA_DIR, "public")), now);
}
