import { readFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { systemClock } from "../clock.js";
import { DataFileError } from "../domain/data-file.js";
import { readPlanFile } from "../domain/plans/plan-file.js";
import { t } from "../text/vi.js";
import { openCliApp, runTool } from "./open-app.js";

/**
 * `npm run plans:import FILE...` loads plan files (re-importing updates, never duplicates);
 * `--dry-run` only checks them, without a database, and prints "<code>: N tasks".
 */
async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { "dry-run": { type: "boolean" } },
  });
  if (positionals.length === 0) {
    console.error(t.cli.plansImportUsage);
    return 2;
  }
  const plans = [];
  let failed = false;
  for (const file of positionals) {
    try {
      const plan = readPlanFile(await readFile(file, "utf8"), file);
      plans.push({ file, plan });
      console.log(`${plan.code}: ${plan.tasks.length} tasks`);
    } catch (error) {
      if (!(error instanceof DataFileError)) throw error;
      console.error(error.message);
      failed = true;
    }
  }
  if (failed) return 1;
  if (values["dry-run"]) return 0;

  const { db, app } = await openCliApp();
  try {
    for (const { file, plan } of plans) {
      const result = await app.plans.importPlan(plan, path.basename(file), systemClock.now());
      console.log(t.cli.planImported(plan.code, result.tasks, result.created, result.archived));
    }
    return 0;
  } finally {
    await db.close();
  }
}

runTool(main);
