import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import path from "node:path";
import type { Connection } from "mongoose";
import type { App } from "../../src/app.js";
import { connectMongo } from "../../src/db/connect.js";
import { freePort } from "../../src/db/embedded.js";
import { ROOT_DIR } from "../../src/paths.js";
import { FAKE_TOKEN, type ApiCall } from "../../test/telegram/fake-bot-api.js";
import { UpdateFactory } from "../../test/telegram/updates.js";
import { BOT_ENTRY, BotProcess } from "../load/bot-process.js";
import { walk, type Outcome, type Person, type WalkContext } from "../load/people.js";
import { Platforms, type Arrival } from "../load/platforms.js";
import { benchApp } from "../load/seed.js";
import { Recorder, seededRandom } from "../load/stats.js";
import { Webhooks } from "../load/webhooks.js";
import { DB_FAULTS, hostOf, throughProxy, WireProxy, type DbFault, type WriteSeen } from "./proxy.js";

/** Faults at the platform: the Nth send answered 502, held unanswered, or accepted and then the bot killed. */
export const SEND_FAULTS = ["send-502", "send-hang", "send-kill"] as const;
export type SendFault = (typeof SEND_FAULTS)[number];
export type Fault = DbFault | SendFault;
export const ALL_FAULTS: readonly Fault[] = [...DB_FAULTS, ...SEND_FAULTS];

export function isSendFault(fault: Fault): fault is SendFault {
  return (SEND_FAULTS as readonly string[]).includes(fault);
}

/** One fault at one place: write number `at` (database faults) or send number `at` (platform faults). */
export interface FaultPlan {
  at: number;
  fault: Fault;
}

export type Step = Person["steps"][number];

/** What the harness saw at a kill, to tell the send-then-crash window from a real double. */
export interface KillSnapshot {
  /** Texts delivered to each chat (channel:chatId) before the kill. */
  delivered: Map<string, string[]>;
  /** Texts of outbox messages recorded as sent at the kill, by chat. */
  recordedSent: Map<string, string[]>;
}

export interface WorldOptions {
  uri: string;
  dbName: string;
  workDir: string;
  stepTimeoutMs: number;
  thinkMs: number;
  /** How far ahead a restarted bot's clock runs (past the killed one's claims). */
  clockAheadMs: number;
}

const TELEGRAM_SECRET = "faults-telegram-webhook-secret";
const SEND_METHODS = new Set(["sendMessage", "sendPhoto", "sendDocument"]);
/** The scheduler looks again hourly (jobs/scheduler.ts), past the job runner's 10-minute slot lease. */
const JOB_AGAIN_MS = 60 * 60_000;
const CLOCK_AHEAD = path.join(import.meta.dirname, "clock-ahead.ts");

/**
 * One case's world: fake platforms, a fresh database reached by the bot through the fault proxy,
 * the bot as a child process (restarted after a kill with its clock past the dead one's claims),
 * the people who talk to it, and the job runs. The harness itself reads and seeds the database
 * directly, never through the proxy.
 */
export class World {
  readonly platforms = new Platforms();
  readonly proxy: WireProxy;
  readonly dataKeys = `faults:${randomBytes(32).toString("base64")}`;
  direct!: Connection;
  app!: App;
  bot!: BotProcess;
  private webhooks!: Webhooks;
  private ctx!: WalkContext;
  private botPort = 0;
  private jobPort = 0;
  private plan: FaultPlan | undefined;
  private sendsCounting = false;
  private sendCount = 0;
  /** Sends counted since `arm`, as "method chat". */
  readonly sends: string[] = [];
  faultedSend: string | undefined;
  private faultedCall: ApiCall | undefined;
  readonly kills: KillSnapshot[] = [];
  private restarting: Promise<void> | undefined;
  private job: ChildProcess | undefined;
  private jobLog: WriteStream | undefined;
  readonly problems: string[] = [];

  constructor(readonly options: WorldOptions) {
    this.proxy = new WireProxy(hostOf(options.uri), (tag) => this.killed(tag));
  }

  get logDir(): string {
    return this.options.workDir;
  }

  async open(): Promise<void> {
    mkdirSync(this.options.workDir, { recursive: true });
    await this.platforms.start();
    this.direct = await connectMongo(this.options.uri, this.options.dbName);
    this.app = benchApp(this.direct, this.dataKeys);
    await this.app.ensureIndexes();
    this.botPort = await this.proxy.listen("bot");
    this.jobPort = await this.proxy.listen("job");
    const port = await freePort();
    this.bot = new BotProcess(this.platforms, {
      name: "bot",
      entry: BOT_ENTRY,
      port,
      env: {
        MONGODB_URI: throughProxy(this.options.uri, this.botPort),
        MONGODB_DB: this.options.dbName,
        HOST: "127.0.0.1",
        PORT: String(port),
        PUBLIC_URL: "https://faults.invalid",
        TELEGRAM_BOT_TOKEN: FAKE_TOKEN,
        TELEGRAM_WEBHOOK_SECRET: TELEGRAM_SECRET,
        TELEGRAM_API_ROOT: this.platforms.telegram.apiRoot,
        CONSOLE_CHANNEL: "off",
        JOBS: "off",
        LOG_LEVEL: "warn",
        DATA_ENCRYPTION_KEYS: this.dataKeys,
        DATA_DIR: path.join(this.options.workDir, "data"),
        FILE_LINK_SECRET: "faults-file-link-secret-0123456789abcdef",
      },
      logFile: path.join(this.options.workDir, "bot.log"),
      readyWhen: ["telegram"],
    });
    const telegram = this.platforms.telegram;
    telegram.hooks.before = (call) => this.beforeSend(call);
    telegram.hooks.accepted = (call) => this.acceptedSend(call);
    this.webhooks = new Webhooks(
      () => (this.bot.running ? [this.bot.url] : []),
      { telegram: TELEGRAM_SECRET, zalo: "unused-zalo-secret" },
      new Recorder(),
      performance.now() + 3_600_000,
      () => this.bot.died,
    );
    this.ctx = {
      platforms: this.platforms,
      webhooks: this.webhooks,
      recorder: new Recorder(),
      telegramUpdates: new UpdateFactory(),
      stepTimeoutMs: this.options.stepTimeoutMs,
      thinkMs: this.options.thinkMs,
      resendRate: 0,
      random: seededRandom(1),
    };
    await this.bot.start();
  }

  async close(): Promise<void> {
    await this.restarting?.catch(() => undefined);
    this.job?.kill("SIGKILL");
    await this.bot?.stop();
    this.jobLog?.end();
    await this.proxy.close();
    await this.platforms.stop();
    await this.direct?.dropDatabase().catch(() => undefined);
    await this.direct?.close();
  }

  /** Counts writes and sends from now on and plays `plan`'s fault at its place (none: the fault-free run). */
  arm(plan?: FaultPlan): void {
    this.plan = plan;
    this.proxy.arm(plan && !isSendFault(plan.fault) ? { at: plan.at, fault: plan.fault } : undefined);
    this.sendsCounting = true;
    this.sendCount = 0;
    this.sends.length = 0;
  }

  disarm(): void {
    this.proxy.disarm();
    this.sendsCounting = false;
    this.plan = undefined;
  }

  get writes(): WriteSeen[] {
    return this.proxy.writes;
  }

  get faultedWrite(): WriteSeen | undefined {
    return this.proxy.faulted;
  }

  /** A person walks these steps through the webhook, waiting for each answer (see bench/load/people.ts). */
  walk(
    id: string,
    steps: Step[],
    waitForFirst?: (text: string) => boolean,
    kind: Person["kind"] = "citizen",
  ): Promise<Outcome> {
    return walk({ kind, channel: "telegram", id, steps }, this.ctx, waitForFirst);
  }

  /** The first message to a Telegram chat from index `from` that `match` accepts, or undefined after `timeoutMs` (the step timeout). */
  waitFor(
    chatId: string,
    from: number,
    match: (text: string) => boolean,
    timeoutMs = this.options.stepTimeoutMs,
  ): Promise<Arrival | undefined> {
    return this.platforms.waitFor("telegram", chatId, from, (a) => match(a.text), timeoutMs);
  }

  arrivals(chatId: string): readonly Arrival[] {
    return this.platforms.arrivals("telegram", chatId);
  }

  /**
   * Runs a job as its own process (`jobs/cli.ts run NAME --at TIME`) through the proxy, so its
   * writes are counted and faulted too. A job killed or failed by a fault is run once more at
   * the scheduler's next look, an hour later (past the runner's 10-minute slot lease). Resolves
   * with the last exit code.
   */
  async runJob(name: string, at: Date): Promise<number | null> {
    this.jobLog ??= createWriteStream(path.join(this.options.workDir, "job.log"), { flags: "a" });
    for (let run = 0; ; run += 1) {
      const when = new Date(at.getTime() + run * JOB_AGAIN_MS);
      const child = spawn(
        process.execPath,
        ["--import", "tsx", path.join("jobs", "cli.ts"), "run", name, "--at", when.toISOString()],
        {
          cwd: ROOT_DIR,
          env: {
            PATH: process.env.PATH ?? "",
            HOME: process.env.HOME ?? "",
            MONGODB_URI: throughProxy(this.options.uri, this.jobPort),
            MONGODB_DB: this.options.dbName,
            DATA_ENCRYPTION_KEYS: this.dataKeys,
            // Required with MONGODB_URI, like the keys; the same value as the bot's.
            FILE_LINK_SECRET: "faults-file-link-secret-0123456789abcdef",
            DATA_DIR: path.join(this.options.workDir, "data-job"),
            LOG_LEVEL: "warn",
          },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      this.job = child;
      child.stdout?.pipe(this.jobLog, { end: false });
      child.stderr?.pipe(this.jobLog, { end: false });
      const { code, signal } = await new Promise<{ code: number | null; signal: string | null }>((resolve) =>
        child.once("exit", (c, s) => resolve({ code: c, signal: s })),
      );
      this.job = undefined;
      if (code === 0 || run > 0) return code;
      this.problems.push(
        `the ${name} job ${signal ? `was killed (${signal})` : `exited with ${String(code)}`}; ran again`,
      );
    }
  }

  /**
   * Waits until the bot has nothing left to do: no restart under way, no update unhandled, no
   * message waiting in the outbox, and no new message for a second; at most `maxMs`.
   */
  async settle(maxMs: number): Promise<boolean> {
    const deadline = performance.now() + maxMs;
    let quietSince = performance.now();
    let seen = -1;
    while (performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const count = this.platforms.telegram.calls.length;
      if (count !== seen) {
        seen = count;
        quietSince = performance.now();
      }
      if (this.restarting || this.job) continue;
      const [inbound, outbox] = await Promise.all([
        this.direct.collection("inbound").countDocuments({ status: "received" }),
        this.direct.collection("outbox").countDocuments({ status: { $in: ["pending", "sending"] } }),
      ]);
      if (inbound === 0 && outbox === 0 && performance.now() - quietSince > 1_000) return true;
    }
    return false;
  }

  private beforeSend(call: ApiCall): { errorCode: number; description: string } | "hang" | undefined {
    if (!this.sendsCounting || !SEND_METHODS.has(call.method)) return undefined;
    this.sendCount += 1;
    this.sends.push(`${call.method} ${String(call.params.chat_id ?? "")}`);
    if (!this.plan || this.plan.at !== this.sendCount) return undefined;
    this.faultedSend = this.sends.at(-1);
    this.faultedCall = call;
    if (this.plan.fault === "send-502") return { errorCode: 502, description: "Bad Gateway" };
    if (this.plan.fault === "send-hang") return "hang";
    return undefined;
  }

  private acceptedSend(call: ApiCall): Promise<void> | undefined {
    if (this.plan?.fault !== "send-kill" || call !== this.faultedCall) return undefined;
    // Accepted by the platform; the bot dies before the answer reaches it.
    return this.killed("bot");
  }

  /** SIGKILLs the process behind a proxy listener; the bot is started again at once, its clock past the dead one's claims. */
  private async killed(tag: string): Promise<void> {
    if (tag === "job") {
      this.job?.kill("SIGKILL");
      await new Promise((resolve) => (this.job ? this.job.once("exit", resolve) : resolve(undefined)));
      return;
    }
    await this.bot.kill();
    this.kills.push(await this.snapshot());
    this.restarting = (async () => {
      Object.assign(this.bot.options.env, {
        NODE_OPTIONS: `--import tsx --import ${CLOCK_AHEAD}`,
        FAULTS_CLOCK_AHEAD_MS: String(this.options.clockAheadMs * this.bot.starts),
      });
      try {
        await this.bot.start();
      } catch (error) {
        this.problems.push(`restart failed: ${String(error)}`);
      } finally {
        this.restarting = undefined;
      }
    })();
  }

  private async snapshot(): Promise<KillSnapshot> {
    const delivered = new Map<string, string[]>();
    for (const call of this.platforms.telegram.calls) {
      if (!SEND_METHODS.has(call.method) || !call.ok) continue;
      const chat = String(call.params.chat_id ?? "");
      const text = String(call.params.text ?? call.params.caption ?? "");
      delivered.set(chat, [...(delivered.get(chat) ?? []), text]);
    }
    const recordedSent = new Map<string, string[]>();
    const docs = await this.direct.collection("outbox").find({ status: "sent" }).toArray();
    for (const doc of docs) {
      const chat = String(doc.chatId);
      let text = "";
      try {
        text = this.app.outbox.textOf(doc as never);
      } catch {
        // A sent record whose text was already removed: it cannot be one sent again.
      }
      recordedSent.set(chat, [...(recordedSent.get(chat) ?? []), text]);
    }
    return { delivered, recordedSent };
  }
}
