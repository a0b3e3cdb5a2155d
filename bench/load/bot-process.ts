import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, readFileSync, type WriteStream } from "node:fs";
import path from "node:path";
import { ROOT_DIR } from "../../src/paths.js";
import type { Platforms } from "./platforms.js";

/** RSS of a process from /proc (Linux), in bytes; 0 where /proc is not there or the process is gone. */
function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * CPU time a process has used so far (user and system), in ms, from /proc (Linux); 0 where /proc
 * is not there or the process is gone. /proc counts in clock ticks of USER_HZ, which is 100 on
 * every architecture Linux builds for.
 */
function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name, in parentheses, may hold spaces: fields are counted after it.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

export interface BotProcessOptions {
  /** Shown in messages: "bot A", "peer". */
  name: string;
  /** The entry file, relative to the project root, run as `node --import tsx FILE`. */
  entry: string;
  port: number;
  env: Record<string, string>;
  /** Its stderr goes here (append), for the lines a crash recovery writes and for diagnosis. */
  logFile: string;
  /** Which fakes must see a setWebhook call before the process counts as ready. */
  readyWhen: ("telegram" | "zalo")[];
}

/**
 * One bot as a child process, the way it runs in production: its own Node process, reached over
 * HTTP. It counts as started once it has told the platforms its webhook (what makes Telegram and
 * Zalo start delivering). Its resident memory is sampled while it runs.
 */
export class BotProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private log: WriteStream | undefined;
  private sampler: NodeJS.Timeout | undefined;
  peakRss = 0;
  starts = 0;
  /** Exits nobody asked for (the process died by itself), e.g. "exit code 1". */
  readonly unplannedExits: string[] = [];
  private exitPlanned = false;

  constructor(
    private readonly platforms: Platforms,
    readonly options: BotProcessOptions,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  async start(timeoutMs = 60_000): Promise<void> {
    const { options } = this;
    const before = this.platforms.webhookCalls();
    this.log ??= createWriteStream(options.logFile, { flags: "a" });
    const child = spawn(process.execPath, ["--import", "tsx", options.entry], {
      cwd: ROOT_DIR,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...options.env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    this.child = child;
    this.exitPlanned = false;
    this.starts += 1;
    child.stderr?.pipe(this.log, { end: false });
    let exitCode: number | null | undefined;
    this.exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        exitCode = code;
        if (!this.exitPlanned) {
          this.unplannedExits.push(signal ? `signal ${signal}` : `exit code ${String(code)}`);
        }
        resolve();
      }),
    );
    this.sampler ??= setInterval(() => {
      if (this.child?.pid) this.peakRss = Math.max(this.peakRss, rssOf(this.child.pid));
    }, 50);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const now = this.platforms.webhookCalls();
      if (options.readyWhen.every((channel) => now[channel] > before[channel])) return;
      if (exitCode !== undefined) {
        throw new Error(`${options.name} exited with ${exitCode} while starting; see ${options.logFile}`);
      }
      if (Date.now() > deadline) throw new Error(`${options.name} not ready after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** The CPU time the running process has used so far, in ms (0 when it is not running). */
  cpuMs(): number {
    return this.child?.pid ? cpuMsOf(this.child.pid) : 0;
  }

  /** True once the process died without being told to: nothing will answer its webhooks again. */
  get died(): boolean {
    return this.unplannedExits.length > 0;
  }

  /** SIGKILL: no shutdown hook runs, as when the machine or the container dies. */
  async kill(): Promise<void> {
    this.exitPlanned = true;
    this.child?.kill("SIGKILL");
    await this.exited;
    this.child = undefined;
  }

  /** SIGTERM, the graceful stop (drains the outbox for a few seconds). */
  async stop(): Promise<void> {
    this.exitPlanned = true;
    if (this.child) {
      this.child.kill("SIGTERM");
      const killer = setTimeout(() => this.child?.kill("SIGKILL"), 15_000);
      await this.exited;
      clearTimeout(killer);
      this.child = undefined;
    }
    clearInterval(this.sampler);
    this.sampler = undefined;
    await new Promise<void>((resolve) => (this.log ? this.log.end(resolve) : resolve()));
    this.log = undefined;
  }

  /** Lines of its log whose message contains `text`. */
  logLines(text: string): number {
    try {
      return readFileSync(this.options.logFile, "utf8")
        .split("\n")
        .filter((line) => line.includes(text)).length;
    } catch {
      return 0;
    }
  }
}

export const BOT_ENTRY = path.join("src", "main.ts");
export const PEER_ENTRY = path.join("bench", "peer", "main.ts");
