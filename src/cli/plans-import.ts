import { readFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { systemClock } from "../clock.js";
import { DataFileError } from "../domain/data-file.js";
import { readPlanFile, type PlanFile } from "../domain/plans/plan-file.js";
import { readPlanWorkbook, type KnownUnit } from "../domain/plans/plan-xlsx.js";
import { WorkbookError } from "../domain/plans/xlsx-cells.js";
import { t } from "../text/vi.js";
import { openCliApp, runTool } from "./open-app.js";

/**
 * `npm run plans:import FILE...` loads plan files, YAML or the Excel template (re-importing
 * updates in place, never duplicates, closes the tasks a file no longer has); `--dry-run` only
 * checks them, without a database, and prints "<code>: N tasks".
 */
async function readPlan(file: string): Promise<{ plan: PlanFile; invented: KnownUnit[] }> {
  if (/\.ya?ml$/i.test(file)) return { plan: readPlanFile(await readFile(file, "utf8"), file), invented: [] };
  // Anything else is taken for a workbook, so a .csv or .xls is told what to save it as.
  const { plan, invented } = await readPlanWorkbook(await readFile(file), [], path.basename(file));
  return { plan, invented };
}

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
      const { plan, invented } = await readPlan(file);
      plans.push({ file, plan });
      console.log(t.plansExcel.cli.checked(plan.code, plan.tasks.length));
      if (invented.length > 0) console.log(t.plansExcel.cli.newUnits(invented.map((u) => u.name)));
    } catch (error) {
      if (error instanceof WorkbookError) console.error(`${file}:\n${error.message}`);
      else if (error instanceof DataFileError) console.error(error.message);
      else throw error;
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
