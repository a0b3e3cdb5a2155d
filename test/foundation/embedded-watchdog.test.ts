import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findFerretdb, freePort } from "../../src/db/embedded.js";

/**
 * The embedded database dies with its bot, and one data folder never has two. Before, a SIGKILLed
 * bot left its FerretDB running and the next start launched another on the same SQLite files
 * (three were seen at once). Real processes, real signals.
 */

const root = path.resolve(import.meta.dirname, "../..");
const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "dvbot-watchdog-"));
  dirs.push(dir);
  return dir;
}

/** `src/main.ts` on its own embedded database in `dataDir`, as `npm start` runs it on a fresh machine. */
function spawnBot(dataDir: string) {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      PORT: "0",
      LOG_LEVEL: "info",
      DATA_DIR: dataDir,
      DATA_ENCRYPTION_KEYS: `test:${randomBytes(32).toString("base64")}`,
      FILE_LINK_SECRET: "test-file-link-secret-0123456789abcdef",
      ...(process.env.FERRETDB_BIN ? { FERRETDB_BIN: process.env.FERRETDB_BIN } : {}),
      ...(process.env.DVBOT_CACHE_DIR ? { DVBOT_CACHE_DIR: process.env.DVBOT_CACHE_DIR } : {}),
    },
  });
  children.push(child);
  const output = { stderr: "" };
  child.stdout.resume();
  child.stderr.on("data", (c: Buffer) => (output.stderr += c.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return { child, output, exited };
}

async function until(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * FerretDB servers on `dir`'s SQLite files: processes whose own name is FerretDB's (not the shell
 * wrapper) with that --sqlite-url in their command line.
 */
function serversOn(dir: string): number[] {
  const url = `--sqlite-url=file:${path.join(dir, "ferretdb")}/`;
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      const comm = readFileSync(`/proc/${entry}/comm`, "utf8").trim();
      if (args.includes(url) && comm.startsWith("ferretdb")) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

const listening = (run: { output: { stderr: string } }) => run.output.stderr.includes("http: listening");

describe("the embedded database and its bot", () => {
  it("a SIGKILLed bot leaves no FerretDB behind, and the next start runs one", async () => {
    const dir = tempDir();
    const first = spawnBot(dir);
    await until(() => listening(first), "the first bot");
    expect(serversOn(dir)).toHaveLength(1);

    first.child.kill("SIGKILL");
    await first.exited;
    const killedAt = Date.now();
    await until(() => serversOn(dir).length === 0, "the orphaned FerretDB to stop", 5_000);
    process.stdout.write(`FerretDB gone ${Date.now() - killedAt} ms after its bot's SIGKILL\n`);

    const second = spawnBot(dir);
    await until(() => listening(second), "the second bot");
    expect(serversOn(dir)).toHaveLength(1);
    second.child.kill("SIGTERM");
    await second.exited;
    expect(serversOn(dir)).toEqual([]);
  }, 90_000);

  it("a second bot on the same folder uses the running server instead of starting another", async () => {
    const dir = tempDir();
    const first = spawnBot(dir);
    await until(() => listening(first), "the first bot");
    const [server] = serversOn(dir);
    const second = spawnBot(dir);
    await until(() => listening(second), "the second bot");
    expect(second.output.stderr).toContain("dùng chung máy chủ đó");
    expect(serversOn(dir)).toEqual([server]);
    second.child.kill("SIGTERM");
    await second.exited;
    // The second bot does not own it: the first still has its database.
    expect(serversOn(dir)).toEqual([server]);
    first.child.kill("SIGTERM");
    await first.exited;
    expect(serversOn(dir)).toEqual([]);
  }, 90_000);

  it("a FerretDB an older version left running on the folder (no pid file) is stopped, not joined by a second", async () => {
    const bin = findFerretdb(process.env.FERRETDB_BIN);
    if (!bin) throw new Error("no FerretDB binary for this test");
    const dir = tempDir();
    mkdirSync(path.join(dir, "ferretdb"));
    const port = await freePort();
    const orphan = spawn(
      bin,
      [
        "--handler=sqlite",
        `--sqlite-url=file:${path.join(dir, "ferretdb")}/`,
        `--listen-addr=127.0.0.1:${port}`,
        "--state-dir=-",
        "--debug-addr=-",
        "--telemetry=disable",
        "--log-level=error",
      ],
      { stdio: "ignore" },
    );
    children.push(orphan);
    const orphanGone = new Promise<void>((resolve) => orphan.once("exit", () => resolve()));
    await until(() => serversOn(dir).length === 1, "the orphan");

    const bot = spawnBot(dir);
    await until(() => listening(bot), "the bot");
    await orphanGone;
    const servers = serversOn(dir);
    expect(servers).toHaveLength(1);
    expect(servers).not.toContain(orphan.pid);
    bot.child.kill("SIGKILL");
    await bot.exited;
    await until(() => serversOn(dir).length === 0, "the bot's FerretDB to stop", 5_000);
  }, 90_000);
});
