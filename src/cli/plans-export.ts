import { openToolApp, plansExport } from "./plans-excel.js";
import { runTool } from "./open-app.js";

/**
 * `npm run plans:export -- SOURCE OUT.xlsx` writes a plan in the Excel template's layout, the file
 * the Office edits and sends back. SOURCE is a YAML plan file (read without a database) or the
 * code of a plan in the database (its open tasks). See plansExport in plans-excel.ts.
 */
runTool(() => plansExport(process.argv.slice(2), openToolApp));
