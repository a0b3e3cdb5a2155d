import { openToolApp, plansImport } from "./plans-excel.js";
import { runTool } from "./open-app.js";

/**
 * `npm run plans:import [--dry-run] FILE...` loads plan files, YAML or the Excel template
 * (re-importing updates in place, never duplicates, closes the tasks a file no longer has);
 * `--dry-run` only checks them, without a database. See plansImport in plans-excel.ts.
 */
runTool(() => plansImport(process.argv.slice(2), openToolApp));
