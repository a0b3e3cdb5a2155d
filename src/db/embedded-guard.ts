import { closeSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import path from "node:path";

/**
 * What keeps one embedded FerretDB per data folder, and none without its bot.
 *
 * FerretDB is a Go binary we cannot change, so it is not told who its parent is. It runs under a
 * tiny `sh` wrapper whose standard input is a pipe from the bot: the kernel closes that pipe when
 * the bot exits however it dies (SIGKILL included), the wrapper reads end of file and stops
 * FerretDB. A pid file in the data folder names the bot that owns the server and its port, so a
 * second start on the same folder finds the running server and uses it, and one whose bot is gone
 * is stopped before a new one starts: two servers never write the same SQLite files.
 */

/**
 * Runs "$@" (FerretDB and its flags) and stops it when stdin reaches end of file (the bot is gone)
 * or when the wrapper itself is told to stop; exits with FerretDB's code.
 *
 * A non-interactive shell gives background jobs /dev/null as stdin, so the pipe is kept as fd 3
 * and read there explicitly; the `read` loop is a builtin, so killing the watcher leaves no `cat`.
 */
export const WATCHDOG_SCRIPT = [
  "exec 3<&0",
  '"$@" </dev/null 3<&- &',
  "db=$!",
  '( while read -r _ <&3; do :; done; kill -TERM "$db" 2>/dev/null ) &',
  "watch=$!",
  "exec 3<&-",
  "trap 'kill -TERM \"$db\" 2>/dev/null' TERM INT HUP",
  // `wait` returns early when a trapped signal arrives: wait again until FerretDB has exited.
  'while :; do wait "$db"; code=$?; kill -0 "$db" 2>/dev/null || break; done',
  'kill "$watch" 2>/dev/null',
  'exit "$code"',
].join("\n");

export const PID_FILE = "ferretdb.pid";

/** What the pid file says: the bot process that owns the server, and its port once it listens. */
export interface PidFileContent {
  owner: number;
  port?: number;
}

export function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but is someone else's; still alive.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function readPidFile(dir: string): PidFileContent | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path.join(dir, PID_FILE), "utf8")) as Partial<PidFileContent>;
    if (typeof parsed.owner !== "number") return undefined;
    return typeof parsed.port === "number"
      ? { owner: parsed.owner, port: parsed.port }
      : { owner: parsed.owner };
  } catch {
    return undefined;
  }
}

/**
 * Creates the pid file only if there is none: the exclusive create is what lets exactly one of
 * two bots starting at once on the folder start the server. False when a pid file is there.
 */
export function claimPidFile(dir: string, content: PidFileContent): boolean {
  let fd: number;
  try {
    fd = openSync(path.join(dir, PID_FILE), "wx");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  try {
    writeSync(fd, JSON.stringify(content));
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Rewrites our pid file (with the port, once the server listens). */
export function updatePidFile(dir: string, content: PidFileContent): void {
  const fd = openSync(path.join(dir, PID_FILE), "w");
  try {
    writeSync(fd, JSON.stringify(content));
  } finally {
    closeSync(fd);
  }
}

/** Removes the pid file if it still names `owner` (a later owner's file is left alone). */
export function releasePidFile(dir: string, owner: number): void {
  if (readPidFile(dir)?.owner !== owner) return;
  try {
    unlinkSync(path.join(dir, PID_FILE));
  } catch {
    // Already gone.
  }
}

/** Removes a pid file whose owner is gone. */
export function removeStalePidFile(dir: string): void {
  try {
    unlinkSync(path.join(dir, PID_FILE));
  } catch {
    // Another starter removed it first.
  }
}

/**
 * Processes serving SQLite files in `dir`: FerretDB itself and its wrapper, found by the
 * `--sqlite-url` in their command line (Linux /proc; elsewhere none are found). Servers an older
 * version left behind have no pid file; this is how they are found.
 */
export function serversOn(dir: string, sqliteUrl: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (args.includes(`--sqlite-url=${sqliteUrl}`)) found.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}

/** SIGTERM, then SIGKILL to what is left after `graceMs`; resolves once none of them runs. */
export async function stopProcesses(pids: number[], graceMs = 5_000): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        // Already gone.
      }
    }
  };
  signal("SIGTERM");
  const deadline = Date.now() + graceMs;
  while (pids.some(alive)) {
    if (Date.now() > deadline) {
      signal("SIGKILL");
      await new Promise((resolve) => setTimeout(resolve, 100));
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
