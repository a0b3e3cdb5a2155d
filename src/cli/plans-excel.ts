import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import type { App } from "../app.js";
import { systemClock, type Clock } from "../clock.js";
import { DataFileError } from "../domain/data-file.js";
import { loadedPlan, planFileOf } from "../domain/plans/plan-changes.js";
import { readPlanFile, type PlanFile } from "../domain/plans/plan-file.js";
import { readPlanWorkbook, writePlanWorkbook, type KnownUnit } from "../domain/plans/plan-xlsx.js";
import { WorkbookError } from "../domain/plans/xlsx-cells.js";
import { t } from "../text/vi.js";
import { openCliApp } from "./open-app.js";

/**
 * `npm run plans:import` and `npm run plans:export`, as functions: the entry files (plans-import.ts,
 * plans-export.ts) run them on the process's arguments, the tests in the test's own process.
 */

/** Where a tool's lines go: stdout and stderr for the tools. */
export interface ToolOutput {
  out(line: string): void;
  err(line: string): void;
}

export const consoleOutput: ToolOutput = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

/** The app over the database, opened only when a tool needs it (a dry run or a YAML export does not). */
export type OpenApp = () => Promise<{ app: App; clock: Clock; close(): Promise<void> }>;

/** The database as every command-line tool opens it (.env, configuration), on the system clock. */
export const openToolApp: OpenApp = async () => {
  const { db, app } = await openCliApp();
  return { app, clock: systemClock, close: () => db.close() };
};

async function readPlan(file: string): Promise<{ plan: PlanFile; invented: KnownUnit[] }> {
  if (/\.ya?ml$/i.test(file)) return { plan: readPlanFile(await readFile(file, "utf8"), file), invented: [] };
  // Anything else is taken for a workbook, so a .csv or .xls is told what to save it as.
  const { plan, invented } = await readPlanWorkbook(await readFile(file), [], path.basename(file));
  return { plan, invented };
}

/**
 * `plans:import [--dry-run] FILE...` loads plan files, YAML or the Excel template (re-importing
 * updates in place, never duplicates, closes the tasks a file no longer has); `--dry-run` only
 * checks them, without a database, and prints "<code>: N tasks". Nothing is loaded when any file
 * has a mistake. Returns the exit code.
 */
export async function plansImport(args: string[], open: OpenApp, io = consoleOutput): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { "dry-run": { type: "boolean" } },
  });
  if (positionals.length === 0) {
    io.err(t.cli.plansImportUsage);
    return 2;
  }
  const plans = [];
  let failed = false;
  for (const file of positionals) {
    try {
      const { plan, invented } = await readPlan(file);
      plans.push({ file, plan });
      io.out(t.plansExcel.cli.checked(plan.code, plan.tasks.length));
      if (invented.length > 0) io.out(t.plansExcel.cli.newUnits(invented.map((u) => u.name)));
    } catch (error) {
      if (error instanceof WorkbookError) io.err(`${file}:\n${error.message}`);
      else if (error instanceof DataFileError) io.err(error.message);
      else throw error;
      failed = true;
    }
  }
  if (failed) return 1;
  if (values["dry-run"]) return 0;

  const { app, clock, close } = await open();
  try {
    for (const { file, plan } of plans) {
      const result = await app.plans.importPlan(plan, path.basename(file), clock.now());
      io.out(t.cli.planImported(plan.code, result.tasks, result.created, result.archived));
    }
    return 0;
  } finally {
    await close();
  }
}

/**
 * `plans:export SOURCE OUT.xlsx` writes a plan in the Excel template's layout, the file the Office
 * edits and sends back. SOURCE is a YAML plan file (read without a database) or the code of a plan
 * in the database (its open tasks). Returns the exit code.
 */
export async function plansExport(args: string[], open: OpenApp, io = consoleOutput): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  const [source, out] = positionals;
  if (!source || !out || positionals.length > 2 || !out.toLowerCase().endsWith(".xlsx")) {
    io.err(t.plansExcel.cli.exportUsage);
    return 2;
  }
  let plan: PlanFile;
  let bytes: Buffer;
  if (/\.ya?ml$/i.test(source)) {
    try {
      plan = readPlanFile(await readFile(source, "utf8"), source);
    } catch (error) {
      if (!(error instanceof DataFileError)) throw error;
      io.err(error.message);
      return 1;
    }
    bytes = await writePlanWorkbook(plan, []);
  } else {
    const { app, close } = await open();
    try {
      const loaded = await loadedPlan(app.models, source.trim().toUpperCase());
      if (!loaded) {
        io.err(t.plansExcel.cli.noSuchPlan(source));
        return 1;
      }
      const units = await app.units.list();
      plan = planFileOf(loaded, units);
      bytes = await writePlanWorkbook(plan, units);
    } finally {
      await close();
    }
  }
  await writeFile(out, bytes);
  io.out(t.plansExcel.cli.exported(plan.code, plan.tasks.length, out));
  return 0;
}
