import { runConsole } from "../bots/console/interactive.js";
import { createTelegramChannel } from "../bots/telegram/index.js";
import { allJobs } from "../jobs/index.js";
import { JobRunner } from "../jobs/runner.js";
import { Scheduler } from "../jobs/scheduler.js";
import { App } from "./app.js";
import { systemClock } from "./clock.js";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { loadDotEnv } from "./env-file.js";
import { openDatabase, type Database } from "./db/connect.js";
import { HttpServer } from "./http.js";
import { createLogger, type Logger } from "./log.js";
import { t } from "./text/vi.js";

/** Prints one line and stops: configuration and start-up problems are not worth a stack trace. */
function fail(line: string): never {
  process.stderr.write(`${line}\n`);
  process.exit(1);
}

function readConfig(): Config {
  try {
    loadDotEnv();
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
}

async function connect(config: Config, log: Logger): Promise<Database> {
  try {
    return await openDatabase({
      uri: config.mongoUri,
      dbName: config.mongoDb,
      dataDir: config.dataDir,
      ferretdbBin: config.ferretdbBin,
      log,
    });
  } catch (error) {
    fail(t.db.unreachable((error as Error).message.split("\n")[0] ?? ""));
  }
}

/** Wiring only: configuration, database, the app, its channels and the HTTP server. */
async function main(): Promise<void> {
  const config = readConfig();
  const log = createLogger(config.logLevel);
  const clock = systemClock;
  const db = await connect(config, log);
  const app = new App({
    connection: db.connection,
    clock,
    log,
    orgName: config.orgName,
    timeZone: config.timeZone,
    consoleRoles: config.consoleChannel,
    feedbackLimits: { maxPerDay: config.feedbackMaxPerDay, duplicateMinutes: 10 },
  });
  await app.ensureIndexes();
  for (const admin of config.adminAccounts)
    await app.people.ensureAdmin(admin.channel, admin.id, undefined, clock.now());
  await app.engine.recoverAbandoned();

  const http = new HttpServer(log, async () => ({ ok: await db.ping(), detail: { database: db.source } }));
  const port = await http.listen(config.port, config.host);
  log.info({ port, host: config.host }, "http: listening (/healthz, /readyz)");

  const channels = [
    config.telegram &&
      createTelegramChannel({
        token: config.telegram.token,
        webhookSecret: config.telegram.webhookSecret,
        publicUrl: config.publicUrl,
        app,
        http,
        log,
      }),
  ].filter((channel) => channel !== undefined);
  if (config.zaloBot ?? config.zaloOa) {
    log.warn(
      { channel: "zalo" },
      "channel configured but its adapter is not built yet; messages wait in the outbox",
    );
  }
  for (const channel of channels) await channel.start();

  const jobContext = { app, clock, settings: config.jobs, timeZone: config.timeZone, log };
  const scheduler = config.jobs.enabled
    ? new Scheduler(jobContext, new JobRunner(jobContext, db.connection), allJobs(db.connection))
    : undefined;
  await scheduler?.start();

  // Updates whose handling was cut off, and flows nobody finished, are looked at now and then.
  const timers = [
    setInterval(
      () => void app.engine.recoverAbandoned().catch((err) => log.error({ err }, "recovery failed")),
      30_000,
    ),
    setInterval(() => void app.sweep().catch((err) => log.error({ err }, "sweep failed")), 600_000),
  ];

  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string) => {
    stopping ??= (async () => {
      log.info({ reason }, "shutting down");
      timers.forEach(clearInterval);
      await scheduler?.stop();
      for (const channel of channels) await channel.stop();
      await app.stop();
      await http.close();
      await db.close();
      log.info("stopped");
    })();
    return stopping;
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => void shutdown(signal).then(() => process.exit(0)));
  }

  if (config.consoleChannel) {
    await runConsole({
      app,
      input: process.stdin,
      output: process.stdout,
      orgName: config.orgName,
      chatty: Boolean(process.stdin.isTTY),
    });
    await shutdown("console input ended");
    process.exit(0);
  }
}

await main();
