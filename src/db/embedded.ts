import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, existsSync, mkdirSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "../log.js";
import { t } from "../text/vi.js";
import {
  alive,
  claimPidFile,
  PID_FILE,
  readPidFile,
  releasePidFile,
  removeStalePidFile,
  serversOn,
  stopProcesses,
  updatePidFile,
  WATCHDOG_SCRIPT,
} from "./embedded-guard.js";

/**
 * The database a fresh machine gets when no MONGODB_URI is set: a FerretDB process (MongoDB wire
 * protocol over SQLite files) or, failing that, mongod through mongodb-memory-server with a
 * persistent dbPath. Either way the files live under the data folder and survive a restart.
 */
export interface EmbeddedServer {
  kind: "ferretdb" | "mongodb-memory-server";
  uri: string;
  dataPath: string;
  stop(): Promise<void>;
}

export const FERRETDB_VERSION = "v1.24.2";

/** Where built tools are cached: outside the clone, shared by every checkout on the machine. */
export function cacheDir(): string {
  return (
    process.env.DVBOT_CACHE_DIR ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "dvbot")
  );
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export class EmbeddedDatabaseError extends Error {
  override name = "EmbeddedDatabaseError";
}

/** FERRETDB_BIN if given (it must exist), else `ferretdb` on PATH, else the cached build. */
export function findFerretdb(explicit: string | undefined): string | undefined {
  if (explicit) {
    if (!isExecutable(explicit)) {
      throw new EmbeddedDatabaseError(t.db.ferretdbMissing(explicit));
    }
    return explicit;
  }
  const cached = path.join(cacheDir(), `ferretdb-${FERRETDB_VERSION}`);
  return onPath("ferretdb") ?? (isExecutable(cached) ? cached : undefined);
}

const buildScript = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../scripts/build-ferretdb.sh",
);

/** Builds FerretDB into the cache with Go when Go is installed; about a minute, once per machine. */
export async function buildFerretdb(log: Logger): Promise<string | undefined> {
  if (!onPath("go") || !existsSync(buildScript)) return undefined;
  log.info({ version: FERRETDB_VERSION }, t.db.ferretdbBuilding);
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn("bash", [buildScript], { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr.on("data", () => undefined);
    child.on("close", resolve);
    child.on("error", () => resolve(1));
  });
  if (code !== 0) {
    log.warn(t.db.ferretdbBuildFailed);
    return undefined;
  }
  return findFerretdb(undefined);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new EmbeddedDatabaseError(t.db.ferretdbExited(child.exitCode));
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new EmbeddedDatabaseError(t.db.ferretdbNoPort(port, timeoutMs));
}

function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

async function portAnswers(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Another live bot's server on this folder, once it answers (it may still be starting): what a
 * second start uses instead of running a second server on the same files.
 */
async function runningServer(dir: string, timeoutMs: number): Promise<number | "gone"> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = readPidFile(dir);
    if (!found || !alive(found.owner)) return "gone";
    if (found.port !== undefined && (await portAnswers(found.port))) return found.port;
    if (Date.now() > deadline) return "gone";
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts FerretDB on a loopback port with its SQLite files in `dir` — or, when a live bot already
 * runs one there, uses that one (its `stop` then leaves it running). A server whose bot is gone is
 * stopped first. FerretDB runs under the watchdog of embedded-guard.ts: it stops when this
 * process exits, however it exits.
 */
export async function startFerretdb(
  bin: string,
  dir: string,
  options: { port?: number; logLevel?: "warn" | "error"; log?: Logger } = {},
): Promise<EmbeddedServer> {
  mkdirSync(dir, { recursive: true });
  // FerretDB wants a directory URL ending in "/".
  const sqliteUrl = `file:${dir.endsWith("/") ? dir : `${dir}/`}`;
  for (let attempt = 0; !claimPidFile(dir, { owner: process.pid }); attempt += 1) {
    const port = await runningServer(dir, 20_000);
    if (port !== "gone") {
      options.log?.warn({ dataPath: dir, port }, t.db.ferretdbShared);
      return { kind: "ferretdb", uri: `mongodb://127.0.0.1:${port}/`, dataPath: dir, stop: async () => {} };
    }
    if (attempt >= 3) throw new EmbeddedDatabaseError(t.db.ferretdbLocked(path.join(dir, PID_FILE)));
    removeStalePidFile(dir);
  }
  try {
    // Whatever still serves these files has no live bot (ours is the pid file now): an orphan of
    // a bot killed before the watchdog existed, say. Two servers on one SQLite folder corrupt it.
    const strays = serversOn(dir, sqliteUrl);
    if (strays.length > 0) {
      options.log?.warn({ dataPath: dir, pids: strays }, t.db.ferretdbOrphans(strays.length));
      await stopProcesses(strays);
    }
    const server = await spawnFerretdb(bin, dir, sqliteUrl, options);
    updatePidFile(dir, { owner: process.pid, port: server.port });
    return {
      kind: "ferretdb",
      uri: `mongodb://127.0.0.1:${server.port}/`,
      dataPath: dir,
      async stop() {
        await server.stop();
        releasePidFile(dir, process.pid);
      },
    };
  } catch (error) {
    releasePidFile(dir, process.pid);
    throw error;
  }
}

async function spawnFerretdb(
  bin: string,
  dir: string,
  sqliteUrl: string,
  options: { port?: number; logLevel?: "warn" | "error" },
): Promise<{ port: number; stop: () => Promise<void> }> {
  const port = options.port ?? (await freePort());
  const child = spawn(
    "sh",
    [
      "-c",
      WATCHDOG_SCRIPT,
      "sh",
      bin,
      "--handler=sqlite",
      `--sqlite-url=${sqliteUrl}`,
      `--listen-addr=127.0.0.1:${port}`,
      "--state-dir=-",
      // Without this two instances fight over the debug port 8088.
      "--debug-addr=-",
      "--telemetry=disable",
      `--log-level=${options.logLevel ?? "error"}`,
    ],
    // stdin is the watchdog's pipe: it closes when this process is gone.
    { stdio: ["pipe", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  // A clean exit that skipped stop() still takes the database with it, and leaves no pid file.
  const onExit = () => {
    child.kill("SIGTERM");
    releasePidFile(dir, process.pid);
  };
  process.once("exit", onExit);
  try {
    await waitForPort(port, child, 15_000);
  } catch (error) {
    process.removeListener("exit", onExit);
    await stopChild(child, 2_000);
    throw new EmbeddedDatabaseError(
      `${(error as Error).message} ${stderr.trim().split("\n").pop() ?? ""}`.trim(),
    );
  }
  return {
    port,
    async stop() {
      process.removeListener("exit", onExit);
      await stopChild(child);
    },
  };
}

/** mongod through mongodb-memory-server, with a persistent dbPath (it downloads mongod once). */
export async function startMemoryServer(dir: string): Promise<EmbeddedServer> {
  mkdirSync(dir, { recursive: true });
  const { MongoMemoryServer } = await import("mongodb-memory-server-core");
  const server = await MongoMemoryServer.create({
    instance: { dbPath: dir, storageEngine: "wiredTiger", ip: "127.0.0.1" },
  });
  return {
    kind: "mongodb-memory-server",
    uri: server.getUri(),
    dataPath: dir,
    async stop() {
      await server.stop({ doCleanup: false, force: false });
    },
  };
}

/**
 * The resolution order of ARCHITECTURE.md: a FerretDB binary (FERRETDB_BIN, PATH, cache), else
 * build one when Go is installed, else mongodb-memory-server. One clear error when none can serve.
 */
export async function startEmbeddedDatabase(options: {
  dataDir: string;
  ferretdbBin: string | undefined;
  log: Logger;
}): Promise<EmbeddedServer> {
  const bin = findFerretdb(options.ferretdbBin) ?? (await buildFerretdb(options.log));
  if (bin) return startFerretdb(bin, path.join(options.dataDir, "ferretdb"), { log: options.log });
  try {
    return await startMemoryServer(path.join(options.dataDir, "mongod"));
  } catch (error) {
    throw new EmbeddedDatabaseError(t.db.noEmbedded((error as Error).message.split("\n")[0] ?? ""));
  }
}
