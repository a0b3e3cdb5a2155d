/**
 * A unique index said no. MongoDB reports 11000 (or 11001 from old servers). FerretDB v1 on
 * SQLite reports a duplicate caused by an *update* as code 1 (InternalError) with SQLite's
 * "UNIQUE constraint failed" in the message, so that wording counts too.
 */
export function isDuplicateKeyError(error: unknown): boolean {
  if (!error || typeof error !== "object") return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (code === 11000 || code === 11001) return true;
  const writeErrors = (error as { writeErrors?: { code?: number }[] }).writeErrors;
  if (Array.isArray(writeErrors) && writeErrors.length > 0 && writeErrors.every((w) => w.code === 11000)) {
    return true;
  }
  return typeof message === "string" && /duplicate key|UNIQUE constraint failed/i.test(message);
}
