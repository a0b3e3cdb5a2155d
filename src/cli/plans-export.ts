import { readFile, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { DataFileError } from "../domain/data-file.js";
import { loadedPlan, planFileOf } from "../domain/plans/plan-changes.js";
import { readPlanFile, type PlanFile } from "../domain/plans/plan-file.js";
import { writePlanWorkbook } from "../domain/plans/plan-xlsx.js";
import { t } from "../text/vi.js";
import { openCliApp, runTool } from "./open-app.js";

/**
 * `npm run plans:export -- SOURCE OUT.xlsx` writes a plan in the Excel template's layout, the file
 * the Office edits and sends back. SOURCE is a YAML plan file (read without a database) or the
 * code of a plan in the database (its open tasks).
 */
async function main(): Promise<number> {
  const { positionals } = parseArgs({ allowPositionals: true, options: {} });
  const [source, out] = positionals;
  if (!source || !out || positionals.length > 2 || !out.toLowerCase().endsWith(".xlsx")) {
    console.error(t.plansExcel.cli.exportUsage);
    return 2;
  }
  let plan: PlanFile;
  let bytes: Buffer;
  if (/\.ya?ml$/i.test(source)) {
    try {
      plan = readPlanFile(await readFile(source, "utf8"), source);
    } catch (error) {
      if (!(error instanceof DataFileError)) throw error;
      console.error(error.message);
      return 1;
    }
    bytes = await writePlanWorkbook(plan, []);
  } else {
    const { db, app } = await openCliApp();
    try {
      const loaded = await loadedPlan(app.models, source.trim().toUpperCase());
      if (!loaded) {
        console.error(t.plansExcel.cli.noSuchPlan(source));
        return 1;
      }
      const units = await app.units.list();
      plan = planFileOf(loaded, units);
      bytes = await writePlanWorkbook(plan, units);
    } finally {
      await db.close();
    }
  }
  await writeFile(out, bytes);
  console.log(t.plansExcel.cli.exported(plan.code, plan.tasks.length, out));
  return 0;
}

runTool(main);
