import { ConfigError } from "../config.js";
import { DataFileError } from "../domain/data-file.js";
import { t } from "../text/vi.js";

/** A failure whose message is already what the person at the terminal should read. */
export class PlainError extends Error {
  override name = "PlainError";
}

interface SystemError extends Error {
  code?: string;
  syscall?: string;
  path?: string;
  address?: string;
  port?: number;
}

const firstLine = (text: string) => text.split("\n")[0]?.trim() ?? "";

/**
 * What a tool or the bot prints when it cannot go on: one line in Vietnamese, saying what is
 * wrong and, where it can, what to do. A stack helps whoever writes the code, not whoever runs
 * it; `LOG_LEVEL=debug` shows it as well (see `printFailure`).
 */
export function errorLine(error: unknown, otherwise: (detail: string) => string = t.cli.failed): string {
  if (error instanceof ConfigError || error instanceof PlainError) return error.message;
  // A data file's problems are listed one per line, each with where it is: that list is the message.
  if (error instanceof DataFileError) return error.message;
  if (!(error instanceof Error)) return otherwise(String(error));
  const system = error as SystemError;
  if (system.syscall === "listen" && system.code === "EADDRINUSE")
    return t.cli.portBusy(system.port ?? 0, system.address ?? "");
  if (system.syscall === "listen" && system.code === "EACCES")
    return t.cli.portDenied(system.port ?? 0, system.address ?? "");
  if (system.path && system.code === "ENOENT") return t.cli.fileMissing(system.path);
  if (system.path && (system.code === "EACCES" || system.code === "EPERM"))
    return t.cli.fileDenied(system.path);
  if (system.path && system.code === "EISDIR") return t.cli.fileIsFolder(system.path);
  if (/^Mongo/.test(error.name)) return t.db.unreachable(firstLine(error.message));
  return otherwise(firstLine(error.message) || error.name);
}

/** Prints `errorLine(error)` on stderr, and the stack after it only when LOG_LEVEL=debug. */
export function printFailure(error: unknown): void {
  process.stderr.write(`${errorLine(error)}\n`);
  const level = process.env.LOG_LEVEL;
  if ((level === "debug" || level === "trace") && error instanceof Error && error.stack) {
    process.stderr.write(`${error.stack}\n`);
  }
}
