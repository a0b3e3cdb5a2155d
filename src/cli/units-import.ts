import { readFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { DataFileError } from "../domain/data-file.js";
import { WorkbookError } from "../domain/plans/xlsx-cells.js";
import { readUnitsFile, type UnitInput } from "../domain/units/service.js";
import { readUnitsWorkbook } from "../domain/units/units-xlsx.js";
import { t } from "../text/vi.js";
import { openCliApp, runTool } from "./open-app.js";

/** A units file: YAML (data/units/demo.yaml), or the workbook /maudonvi sends. */
async function readUnits(file: string): Promise<UnitInput[]> {
  if (/\.ya?ml$/i.test(file)) return readUnitsFile(file);
  return readUnitsWorkbook(await readFile(file), path.basename(file));
}

/**
 * `npm run units:import FILE` loads the Department's units (YAML as data/units/demo.yaml, or .xlsx):
 * a unit is found by its key, so importing again updates names and kinds and never duplicates;
 * `--dry-run` only checks the file, without a database.
 */
async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { "dry-run": { type: "boolean" } },
  });
  const [file] = positionals;
  if (!file || positionals.length > 1) {
    console.error(t.cli.unitsImportUsage);
    return 2;
  }
  let units;
  try {
    units = await readUnits(file);
  } catch (error) {
    if (error instanceof WorkbookError) console.error(`${file}:\n${error.message}`);
    else if (error instanceof DataFileError) console.error(error.message);
    else throw error;
    return 1;
  }
  console.log(t.cli.unitsChecked(file, units.length));
  if (values["dry-run"]) return 0;

  const { db, app } = await openCliApp();
  try {
    const result = await app.units.upsert(units);
    console.log(t.cli.unitsImported(result.created, result.updated, result.unchanged));
    return 0;
  } finally {
    await db.close();
  }
}

runTool(main);
