import { existsSync } from "node:fs";
import path from "node:path";

/** The repository root: the nearest folder above this module with a package.json (works from src/ and dist/). */
function findRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) return start;
  }
}

export const ROOT_DIR = findRoot(import.meta.dirname);
/** Data shipped with the product: plans, units, holidays. */
export const DATA_DIR = path.join(ROOT_DIR, "data");
