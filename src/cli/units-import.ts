import { parseArgs } from "node:util";
import { DataFileError } from "../domain/data-file.js";
import { readUnitsFile } from "../domain/units/service.js";
import { t } from "../text/vi.js";
import { openCliApp, runTool } from "./open-app.js";

/**
 * `npm run units:import FILE` loads the Department's units (the format of data/units/demo.yaml):
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
    units = readUnitsFile(file);
  } catch (error) {
    if (!(error instanceof DataFileError)) throw error;
    console.error(error.message);
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
