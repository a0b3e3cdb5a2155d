import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Logger } from "../log.js";
import { parseDataKeys, type DataKey } from "./sealer.js";

/**
 * The data keys: DATA_ENCRYPTION_KEYS when set (production). Otherwise a key made once and kept in
 * the data folder, so `npm start` works on a fresh machine — with a warning, because a key beside
 * the data it protects protects little.
 */
export function resolveDataKeys(configured: DataKey[] | undefined, dataDir: string, log: Logger): DataKey[] {
  if (configured && configured.length > 0) return configured;
  const file = path.join(dataDir, "keys", "data.key");
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, `local:${randomBytes(32).toString("base64")}\n`, { mode: 0o600 });
  }
  log.warn(
    { file },
    "personal data sealed with a key kept in the data folder; set DATA_ENCRYPTION_KEYS in production",
  );
  return parseDataKeys(readFileSync(file, "utf8"));
}
