import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { Types, type Connection } from "mongoose";
import { connectMongo } from "../../src/db/connect.js";
import { freePort } from "../../src/db/embedded.js";
import { FAKE_TOKEN } from "../../test/telegram/fake-bot-api.js";
import { UpdateFactory } from "../../test/telegram/updates.js";
import { FAKE_BOT_TOKEN } from "../../test/zalo/fake-zalo.js";
import { BOT_ENTRY, BotProcess, PEER_ENTRY } from "./bot-process.js";
import { checkIntegrity, repeatedReplies, type Check, type Stored } from "./integrity.js";
import { citizenSteps, officialSteps, walk, type Outcome, type Person, type WalkContext } from "./people.js";
import { Platforms, type Channel } from "./platforms.js";
import { benchApp, runReminders, seedLoad, TASK_TITLE } from "./seed.js";
import { percentile, Recorder, seededRandom } from "./stats.js";
import { Webhooks } from "./webhooks.js";

export interface ScenarioOptions {
  /** Printed above the figures. */
  title: string;
  uri: string;
  dbName: string;
  bot: "ours" | "peer";
  instances: number;
  channels: Channel[];
  citizens: number;
  /** Officials answering a reminder (our bot only; they need the plans feature). */
  officials: number;
  /** SIGKILL the first instance once this share of all steps has been sent, then start it again. */
  crashAt?: number;
  thinkMs: number;
  resendRate: number;
  stepTimeoutMs: number;
  /** The fake Telegram enforces Telegram's published limits with 429s (bench/load/platforms.ts). */
  limits?: boolean;
  /** Logs of the bot processes go here. */
  workDir: string;
}

export interface ScenarioResult {
  options: ScenarioOptions;
  recorder: Recorder;
  p50: number;
  p99: number;
  ackP50: number;
  ackP99: number;
  peakRss: number;
  /**
   * CPU time the bot processes spent while the people walked (their start-up left out), in ms;
   * undefined when a process was restarted meanwhile. Steadier from run to run than latencies,
   * for comparing two versions of a bot's work per step.
   */
  cpuMs?: number;
  checks: Check[];
  repeated: number;
  /** The bot's own inbox: updates recorded once each, by the state they ended in. */
  inbox: Record<string, number>;
  /** Updates a restarted bot picked up because the crash had cut their handling off. */
  recovered: number;
  restartMs?: number;
  reminders?: string;
  /**
   * Our bot only, from its own records: how long an update took from the inbox write to
   * "handled", and a reply from the outbox write to "sent" (both on the bot's clock).
   */
  split?: { handled: [number, number]; sent: [number, number] };
  /** Bot processes that exited without being told to (a crash of the bot itself), and how. */
  unplannedExits: string[];
  /** Sends the fake Telegram refused with a 429 (limits on). */
  refusedByLimits: number;
}

/** p50 and p99 of `to - from` over the documents of a collection that have both dates. */
async function spans(connection: Connection, collection: string, from: string, to: string) {
  const docs = await connection
    .collection(collection)
    .find({ [to]: { $exists: true } }, { projection: { [from]: 1, [to]: 1 } })
    .toArray();
  const ms = docs
    .filter((d) => d[from] instanceof Date && d[to] instanceof Date)
    .map((d) => (d[to] as Date).getTime() - (d[from] as Date).getTime());
  return [percentile(ms, 50), percentile(ms, 99)] as [number, number];
}

const TELEGRAM_SECRET = "bench-telegram-webhook-secret";
const ZALO_SECRET = "bench-zalo-webhook-secret";

/** Citizens and officials alternate between the channels; Telegram ids are numbers, Zalo's hex. */
function people(options: ScenarioOptions): Person[] {
  const channelOf = (i: number) => options.channels[i % options.channels.length] ?? "telegram";
  const idFor = (channel: Channel, n: number) =>
    channel === "telegram" ? String(5_000_000 + n) : randomBytes(10).toString("hex");
  const citizens = Array.from({ length: options.citizens }, (_, i): Person => {
    const channel = channelOf(i);
    return {
      kind: "citizen",
      channel,
      id: idFor(channel, i),
      steps: citizenSteps(
        `Góp ý thử tải số ${i + 1}: cổng dịch vụ công nên có video hướng dẫn từng thủ tục.`,
      ),
    };
  });
  const officials = Array.from({ length: options.bot === "ours" ? options.officials : 0 }, (_, i): Person => {
    const channel = channelOf(i);
    return { kind: "official", channel, id: idFor(channel, 100_000 + i), steps: officialSteps() };
  });
  return [...citizens, ...officials];
}

function botEnv(
  options: ScenarioOptions,
  platforms: Platforms,
  port: number,
  dataKeys: string,
  dataDir: string,
) {
  const env: Record<string, string> = {
    MONGODB_URI: options.uri,
    MONGODB_DB: options.dbName,
    HOST: "127.0.0.1",
    PORT: String(port),
    PUBLIC_URL: "https://bench.invalid",
    TELEGRAM_BOT_TOKEN: FAKE_TOKEN,
    TELEGRAM_WEBHOOK_SECRET: TELEGRAM_SECRET,
    TELEGRAM_API_ROOT: platforms.telegram.apiRoot,
    CONSOLE_CHANNEL: "off",
    JOBS: "off",
    LOG_LEVEL: "warn",
    DATA_ENCRYPTION_KEYS: dataKeys,
    DATA_DIR: dataDir,
    // The same on every instance, as the operator's page asks; also keeps a warning out of the log.
    FILE_LINK_SECRET: "bench-file-link-secret-0123456789abcdef",
  };
  if (options.channels.includes("zalo")) {
    Object.assign(env, {
      ZALO_BOT_TOKEN: FAKE_BOT_TOKEN,
      ZALO_WEBHOOK_SECRET: ZALO_SECRET,
      ZALO_API_BASE: platforms.zalo.url,
    });
  }
  return env;
}

/** Our collections, or the peer's (bench/peer/bot.ts), as the integrity checks read them. */
function storedIn(options: ScenarioOptions, connection: Connection, personIds: Map<string, string>): Stored {
  if (options.bot === "peer") {
    return {
      async ticketsOf(_channel, chatId) {
        const docs = await connection.collection("peer_tickets").find({ chatId }).toArray();
        return docs.map((d) => String(d.code));
      },
    };
  }
  return {
    async ticketsOf(channel, chatId) {
      const docs = await connection
        .collection("tickets")
        .find({ "filer.channel": channel, "filer.chatId": chatId })
        .toArray();
      return docs.map((d) => String(d.code));
    },
    async reportsOf(channel, chatId) {
      const personId = personIds.get(`${channel}:${chatId}`);
      if (!personId) return 0;
      return connection.collection("reports").countDocuments({ personId: new Types.ObjectId(personId) });
    },
  };
}

/**
 * One load run: fake platforms, a fresh database, the bot (or the peer) as child processes, many
 * people walking their flows at once through the real webhooks, optionally a SIGKILL and restart
 * in the middle; then the integrity checks.
 */
export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  mkdirSync(options.workDir, { recursive: true });
  const platforms = new Platforms({ limits: options.limits ?? false });
  await platforms.start();
  const dataKeys = `bench:${randomBytes(32).toString("base64")}`;
  const connections = [await connectMongo(options.uri, options.dbName)];
  const bots: BotProcess[] = [];
  try {
    const main = connections[0] as Connection;
    const app = benchApp(main, dataKeys);
    const everyone = people(options);
    const officials = everyone.filter((p) => p.kind === "official");
    const personIds = options.bot === "ours" ? await seedLoad(app, officials) : new Map<string, string>();

    for (let i = 0; i < options.instances; i += 1) {
      const name = options.bot === "peer" ? "peer" : `bot ${String.fromCharCode(65 + i)}`;
      const port = await freePort();
      const slug = name.replace(/\s/g, "-");
      bots.push(
        new BotProcess(platforms, {
          name,
          entry: options.bot === "peer" ? PEER_ENTRY : BOT_ENTRY,
          port,
          env: botEnv(options, platforms, port, dataKeys, path.join(options.workDir, `data-${slug}`)),
          logFile: path.join(options.workDir, `${slug}.log`),
          readyWhen: options.channels,
        }),
      );
    }
    // One after the other, as a rolling deploy starts them; the load begins once all are up.
    for (const bot of bots) await bot.start();

    const cpuAtStart = bots.reduce((sum, b) => sum + b.cpuMs(), 0);
    const recorder = new Recorder();
    const totalSteps = everyone.reduce((sum, p) => sum + p.steps.length, 0);
    const started = performance.now();
    const webhooks = new Webhooks(
      () => bots.filter((b) => b.running).map((b) => b.url),
      { telegram: TELEGRAM_SECRET, zalo: ZALO_SECRET },
      recorder,
      // Generous (every step a second, plus two step timeouts), only so that a bot that never
      // comes back cannot keep the run retrying forever.
      started + options.stepTimeoutMs * 2 + totalSteps * 1_000,
      // A process that died by itself is not restarted (only the planned SIGKILL is): once all
      // have, the people stop knocking instead of retrying until the deadline.
      () => bots.every((b) => b.died),
    );
    const ctx: WalkContext = {
      platforms,
      webhooks,
      recorder,
      telegramUpdates: new UpdateFactory(),
      stepTimeoutMs: options.stepTimeoutMs,
      thinkMs: options.thinkMs,
      resendRate: options.resendRate,
      random: seededRandom(12_345),
    };

    let reminders: string | undefined;
    const jobs = (async () => {
      if (officials.length === 0) return;
      // Each instance's scheduler fires the job at the same moment, on its own connection.
      while (connections.length < options.instances) {
        connections.push(await connectMongo(options.uri, options.dbName));
      }
      const apps = connections.map((c, i) => (i === 0 ? app : benchApp(c, dataKeys)));
      const outcomes = await runReminders(apps, connections);
      reminders = outcomes
        .map((o) => (o.kind === "ran" ? `ran (${o.messages} messages)` : o.kind))
        .join(", ");
    })();

    let restartMs: number | undefined;
    const crash = (async () => {
      if (options.crashAt === undefined) return;
      const at = Math.floor(totalSteps * options.crashAt);
      while (recorder.sent < at) await new Promise((resolve) => setTimeout(resolve, 5));
      const victim = bots[0] as BotProcess;
      const killedAt = performance.now();
      await victim.kill();
      await victim.start();
      restartMs = performance.now() - killedAt;
    })();

    const outcomes: Outcome[] = await Promise.all(
      everyone.map((person) =>
        walk(person, ctx, person.kind === "official" ? (text) => text.includes(TASK_TITLE) : undefined),
      ),
    );
    await Promise.all([jobs, crash]);
    const cpuMs =
      restartMs === undefined ? bots.reduce((sum, b) => sum + b.cpuMs(), 0) - cpuAtStart : undefined;
    // A repeated message (the at-least-once window) would come within moments: give it time.
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    const checks = await checkIntegrity(
      outcomes,
      platforms,
      storedIn(options, main, personIds),
      officials.length > 0 ? TASK_TITLE : undefined,
    );
    const inbox: Record<string, number> = {};
    if (options.bot === "ours") {
      const rows = await main
        .collection("inbound")
        .aggregate<{ _id: string; n: number }>([{ $group: { _id: "$status", n: { $sum: 1 } } }])
        .toArray();
      for (const row of rows) inbox[row._id] = row.n;
    }
    const split =
      options.bot === "ours"
        ? {
            handled: await spans(main, "inbound", "receivedAt", "handledAt"),
            sent: await spans(main, "outbox", "createdAt", "sentAt"),
          }
        : undefined;
    const recovered = bots.reduce((sum, b) => sum + b.logLines("resuming an update cut off by a crash"), 0);
    return {
      options,
      recorder,
      p50: percentile(recorder.latencies, 50),
      p99: percentile(recorder.latencies, 99),
      ackP50: percentile(recorder.acks, 50),
      ackP99: percentile(recorder.acks, 99),
      peakRss: Math.max(...bots.map((b) => b.peakRss)),
      ...(cpuMs !== undefined ? { cpuMs } : {}),
      checks,
      repeated: repeatedReplies(outcomes, platforms),
      inbox,
      recovered,
      ...(restartMs !== undefined ? { restartMs } : {}),
      ...(reminders !== undefined ? { reminders } : {}),
      ...(split ? { split } : {}),
      unplannedExits: bots.flatMap((b) => b.unplannedExits.map((how) => `${b.options.name}: ${how}`)),
      refusedByLimits: platforms.refusedByLimits,
    };
  } finally {
    await Promise.all(bots.map((b) => b.stop()));
    await platforms.stop();
    for (const c of connections) {
      await c.dropDatabase().catch(() => undefined);
      await c.close();
    }
  }
}
