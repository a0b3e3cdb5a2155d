import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from "node:fs";
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
import { Webhooks, type Secrets } from "../load/webhooks.js";
import {
  DB_FAULTS,
  hostOf,
  throughProxy,
  WireProxy,
  type DbFault,
  type WriteKey,
  type WriteSeen,
} from "./proxy.js";

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
  /** A database fault's write found by kind and occurrence rather than by `at` (several instances). */
  key?: WriteKey;
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
  /** Bot processes on the one database, each through a proxy listener of its own; 1 when absent. */
  instances?: number;
}

const TELEGRAM_SECRET = "faults-telegram-webhook-secret";
const SEND_METHODS = new Set(["sendMessage", "sendPhoto", "sendDocument"]);
/** The scheduler looks again hourly (jobs/scheduler.ts), past the job runner's 10-minute slot lease. */
const JOB_AGAIN_MS = 60 * 60_000;
const CLOCK_AHEAD = path.join(import.meta.dirname, "clock-ahead.ts");
const FIRST_RETRY_MS = 200;
const MAX_RETRY_MS = 1_000;

/**
 * The load balancer in front of several instances: each update goes to the next running instance
 * in turn, and its redelivery after a non-200 to the one after it (with two, the other), as a
 * balancer that marks a failing backend does. With one instance it is the platform's plain retry.
 */
class Balancer extends Webhooks {
  private deliveries = 0;
  private readonly pick: { url: string | undefined };

  constructor(
    private readonly running: () => string[],
    secrets: Secrets,
    private readonly until: number,
    private readonly gone: () => boolean,
  ) {
    // post() asks for its targets before its first await: the one picked just before the call.
    const pick: { url: string | undefined } = { url: undefined };
    super(() => (pick.url ? [pick.url] : []), secrets, new Recorder(), until, gone);
    this.pick = pick;
  }

  override async deliver(channel: "telegram" | "zalo", body: string): Promise<number | undefined> {
    const first = this.deliveries++;
    let wait = FIRST_RETRY_MS;
    for (let attempt = 0; performance.now() < this.until && !this.gone(); attempt += 1) {
      const targets = this.running();
      this.pick.url = targets[(first + attempt) % Math.max(1, targets.length)];
      if ((await this.post(channel, body)) === 200) return performance.now();
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(MAX_RETRY_MS, wait * 2);
    }
    return undefined;
  }
}

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
  /** The bot processes: "bot" alone, or "bot-a", "bot-b", … (each also its proxy listener's tag). */
  readonly bots: BotProcess[] = [];
  private webhooks!: Webhooks;
  private ctx!: WalkContext;
  private jobPort = 0;
  /** With several instances: the file their clocks read their offset from (clock-ahead.ts). */
  private clockFile: string | undefined;
  private clockAhead = 0;
  private plan: FaultPlan | undefined;
  private sendsCounting = false;
  private sendCount = 0;
  /** Sends counted since `arm`, as "method chat". */
  readonly sends: string[] = [];
  faultedSend: string | undefined;
  private faultedCall: ApiCall | undefined;
  readonly kills: KillSnapshot[] = [];
  /** Restarts under way, by tag. */
  private readonly restarting = new Map<string, Promise<void>>();
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
    this.jobPort = await this.proxy.listen("job");
    const count = this.options.instances ?? 1;
    const tags =
      count === 1 ? ["bot"] : Array.from({ length: count }, (_, i) => `bot-${String.fromCharCode(97 + i)}`);
    if (count > 1) {
      this.clockFile = path.join(this.options.workDir, "clock-ahead");
      writeFileSync(this.clockFile, "0");
    }
    for (const tag of tags) {
      const dbPort = await this.proxy.listen(tag);
      const port = await freePort();
      this.bots.push(
        new BotProcess(this.platforms, {
          name: tag,
          entry: BOT_ENTRY,
          port,
          env: {
            MONGODB_URI: throughProxy(this.options.uri, dbPort),
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
            DATA_DIR: path.join(this.options.workDir, `data-${tag}`),
            FILE_LINK_SECRET: "faults-file-link-secret-0123456789abcdef",
            ...(this.clockFile
              ? { NODE_OPTIONS: `--import tsx --import ${CLOCK_AHEAD}`, FAULTS_CLOCK_FILE: this.clockFile }
              : {}),
          },
          logFile: path.join(this.options.workDir, `${tag}.log`),
          readyWhen: ["telegram"],
        }),
      );
    }
    const telegram = this.platforms.telegram;
    telegram.hooks.before = (call) => this.beforeSend(call);
    telegram.hooks.accepted = (call) => this.acceptedSend(call);
    this.webhooks = new Balancer(
      () => this.bots.filter((bot) => bot.running).map((bot) => bot.url),
      { telegram: TELEGRAM_SECRET, zalo: "unused-zalo-secret" },
      performance.now() + 3_600_000,
      () => this.bots.every((bot) => bot.died),
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
    // One after another: a start counts as done at the next setWebhook, which either could make.
    for (const bot of this.bots) await bot.start();
  }

  async close(): Promise<void> {
    await Promise.all([...this.restarting.values()].map((p) => p.catch(() => undefined)));
    this.job?.kill("SIGKILL");
    await Promise.all(this.bots.map((bot) => bot.stop()));
    this.jobLog?.end();
    await this.proxy.close();
    await this.platforms.stop();
    await this.direct?.dropDatabase().catch(() => undefined);
    await this.direct?.close();
  }

  /** Counts writes and sends from now on and plays `plan`'s fault at its place (none: the fault-free run). */
  arm(plan?: FaultPlan): void {
    this.plan = plan;
    this.proxy.arm(
      plan && !isSendFault(plan.fault)
        ? { at: plan.at, fault: plan.fault, ...(plan.key ? { key: plan.key } : {}) }
        : undefined,
    );
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
      if (this.restarting.size > 0 || this.job) continue;
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
    // Accepted by the platform; the bot dies before the answer reaches it. The fake platform does
    // not tell which instance called, so with several every one of them dies (the whole machine).
    return this.killed(this.bots.length === 1 ? "bot" : "*");
  }

  /** SIGKILLs the process behind a proxy listener; the bot is started again at once, its clock past the dead one's claims. */
  private async killed(tag: string): Promise<void> {
    if (tag === "job") {
      this.job?.kill("SIGKILL");
      await new Promise((resolve) => (this.job ? this.job.once("exit", resolve) : resolve(undefined)));
      return;
    }
    const dead = this.bots.filter((bot) => tag === "*" || bot.options.name === tag);
    await Promise.all(dead.map((bot) => bot.kill()));
    this.kills.push(await this.snapshot());
    if (this.clockFile) {
      // Every instance's clock moves ahead together (clock-ahead.ts), the survivor's too.
      this.clockAhead += this.options.clockAheadMs;
      writeFileSync(this.clockFile, String(this.clockAhead));
    }
    for (const bot of dead) {
      const name = bot.options.name;
      this.restarting.set(
        name,
        (async () => {
          if (!this.clockFile) {
            Object.assign(bot.options.env, {
              NODE_OPTIONS: `--import tsx --import ${CLOCK_AHEAD}`,
              FAULTS_CLOCK_AHEAD_MS: String(this.options.clockAheadMs * bot.starts),
            });
          }
          // A port of its own again: the one it had was free while it was down, and another case
          // running side by side (--parallel) may have taken it.
          const port = await freePort();
          bot.options.port = port;
          bot.options.env.PORT = String(port);
          try {
            await bot.start();
          } catch (error) {
            this.problems.push(`restart of ${name} failed: ${String(error)}`);
          } finally {
            this.restarting.delete(name);
          }
        })(),
      );
    }
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
