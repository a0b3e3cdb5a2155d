import { execFileSync, spawn } from "node:child_process";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { findFerretdb, freePort, startFerretdb } from "../../src/db/embedded.js";

export interface BenchDatabase {
  uri: string;
  /** What the figures were measured on. */
  kind: string;
  stop(): Promise<void>;
}

/** FerretDB's storage: SQLite files (what the bot embeds), or a PostgreSQL server (closer to a concurrent one). */
export type Backend = "sqlite" | "postgres";

/**
 * MONGODB_URI when set; else a FerretDB of its own on a free port, on a fresh SQLite folder or, with
 * `postgres`, on a PostgreSQL cluster of its own in a temp folder on 127.0.0.1.
 */
export async function openBenchDatabase(backend: Backend = "sqlite"): Promise<BenchDatabase> {
  if (process.env.MONGODB_URI) {
    return { uri: process.env.MONGODB_URI, kind: "MONGODB_URI", stop: async () => undefined };
  }
  const bin = findFerretdb(process.env.FERRETDB_BIN);
  if (!bin) throw new Error("No database: run `npm run ferretdb:build` or set MONGODB_URI.");
  const dir = mkdtempSync(path.join(os.tmpdir(), "dvbot-bench-db-"));
  if (backend === "postgres") return openOnPostgres(bin, dir);
  const server = await startFerretdb(bin, dir);
  return {
    uri: server.uri,
    kind: "FerretDB v1.24.2 (SQLite), shared by both bots",
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The PostgreSQL programs, from PATH or Debian's versioned folder; undefined when not installed. */
function pgBin(name: string): string | undefined {
  for (const candidate of [
    name,
    ...["17", "16", "15", "14"].map((v) => `/usr/lib/postgresql/${v}/bin/${name}`),
  ]) {
    try {
      execFileSync(candidate, ["--version"], { stdio: "ignore" });
      return candidate;
    } catch {
      // not this one
    }
  }
  return undefined;
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.end();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A PostgreSQL cluster of its own (initdb in the temp folder, trust on 127.0.0.1 only, a port of
 * its own) and FerretDB's `pg` handler over it. PostgreSQL refuses to run as root: as root, its
 * programs run as the `postgres` user, who is given the folder.
 */
async function openOnPostgres(bin: string, dir: string): Promise<BenchDatabase> {
  const initdb = pgBin("initdb");
  const pgCtl = pgBin("pg_ctl");
  const createdb = pgBin("createdb");
  if (!initdb || !pgCtl || !createdb)
    throw new Error("--backend postgres: PostgreSQL is not installed here.");
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    chownSync(dir, uid, gid);
  }
  const run = (program: string, args: string[]) =>
    execFileSync(asRoot ? "runuser" : program, asRoot ? ["-u", "postgres", "--", program, ...args] : args, {
      stdio: "ignore",
    });
  const data = path.join(dir, "pg");
  const pgPort = await freePort();
  run(initdb, ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
  run(pgCtl, [
    "-D",
    data,
    "-l",
    path.join(dir, "pg.log"),
    "-w",
    "-o",
    `-p ${pgPort} -c listen_addresses=127.0.0.1 -k ${dir}`,
    "start",
  ]);
  const stopPg = () => {
    try {
      run(pgCtl, ["-D", data, "-m", "fast", "-w", "stop"]);
    } catch {
      // already down
    }
  };
  try {
    run(createdb, ["-h", "127.0.0.1", "-p", String(pgPort), "-U", "postgres", "ferretdb"]);
    const port = await freePort();
    const ferret = spawn(
      bin,
      [
        "--handler=pg",
        `--postgresql-url=postgres://postgres@127.0.0.1:${pgPort}/ferretdb`,
        `--listen-addr=127.0.0.1:${port}`,
        "--state-dir=-",
        "--debug-addr=-",
        "--telemetry=disable",
        "--log-level=error",
      ],
      { stdio: "ignore" },
    );
    const kill = () => ferret.kill("SIGTERM");
    process.once("exit", kill);
    await waitForPort(port, 15_000);
    return {
      uri: `mongodb://127.0.0.1:${port}/`,
      kind: "FerretDB v1.24.2 (PostgreSQL, a cluster of the bench's own), shared by both bots",
      async stop() {
        process.removeListener("exit", kill);
        ferret.kill("SIGTERM");
        stopPg();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    stopPg();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
