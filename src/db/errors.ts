import mongoose from "mongoose";

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

/**
 * The database could not answer: a command failed, the connection dropped, no server was found in
 * time. Running the same work again later may succeed, unlike a bug in our code. A duplicate key
 * is an answer, not a failure, and does not count.
 */
export function isDatabaseError(error: unknown): boolean {
  if (isDuplicateKeyError(error)) return false;
  if (error instanceof mongoose.mongo.MongoError) return true;
  if (!(error instanceof mongoose.Error)) return false;
  // Mongoose's own words for "no connection": no server selected, or commands queued too long.
  return error.name === "MongooseServerSelectionError" || /buffering timed out/i.test(error.message);
}
