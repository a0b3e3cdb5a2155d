import { runConsole } from "../bots/console/interactive.js";
import { createTelegramChannel } from "../bots/telegram/index.js";
import { createZaloChannel } from "../bots/zalo/index.js";
import { allJobs } from "../jobs/index.js";
import { JobRunner } from "../jobs/runner.js";
import { Scheduler } from "../jobs/scheduler.js";
import { App } from "./app.js";
import { systemClock } from "./clock.js";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { UPLOAD_PATH, uploadRoute } from "./domain/plans/upload-link.js";
import { downloadRoute } from "./domain/reports/download.js";
import { FILES_PATH } from "./domain/reports/files.js";
import { loadDotEnv } from "./env-file.js";
import { openDatabase, type Database } from "./db/connect.js";
import { HttpServer } from "./http.js";
import { Lifecycle } from "./lifecycle.js";
import { errorLine } from "./cli/error-line.js";
import { sealerFor } from "./cli/open-app.js";
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

/** What start-up has opened so far: closed again when a later step fails. */
let opened: Lifecycle | undefined;

/** Wiring only: configuration, database, the app, its channels and the HTTP server. */
async function main(): Promise<void> {
  const config = readConfig();
  const log = createLogger(config.logLevel);
  const lifecycle = new Lifecycle(log);
  opened = lifecycle;
  lifecycle.exitOnSignals();
  const clock = systemClock;
  const db = await connect(config, log);
  lifecycle.onStop("database", () => db.close());
  const app = new App({
    connection: db.connection,
    clock,
    log,
    orgName: config.orgName,
    timeZone: config.timeZone,
    consoleRoles: config.consoleChannel,
    feedbackLimits: { maxPerDay: config.feedbackMaxPerDay, duplicateMinutes: 10 },
    messageRetentionDays: config.messageRetentionDays,
    outboxMaxAgeHours: config.outboxMaxAgeHours,
    sealer: sealerFor(config, log),
    sendLease: true,
    reports: {
      publicUrl: config.publicUrl,
      linkSecret: config.fileLinkSecret,
      letterhead: config.letterhead,
    },
  });
  await app.ensureIndexes();
  for (const admin of config.adminAccounts)
    await app.people.ensureAdmin(admin.channel, admin.id, undefined, clock.now());
  lifecycle.onStop("app", () => app.stop());
  await app.engine.recoverAbandoned();
  await app.broadcasts.resume();

  const http = new HttpServer(log, async () => ({ ok: await db.ping(), detail: { database: db.source } }));
  // Signed, expiring links to report files, for channels that cannot take documents.
  http.route("GET", FILES_PATH, downloadRoute(app.reports.files, clock, log));
  // The upload link: Zalo delivers no documents to bots, so the Office sends its Excel files here.
  const upload = uploadRoute(app.reports.files, app.engine, clock, log, app.sealer);
  http.route("GET", UPLOAD_PATH, upload);
  http.route("POST", UPLOAD_PATH, upload);
  http.route("GET", "/metrics", async (_req, res) => {
    const body = await app.renderMetrics();
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
    res.end(body);
  });
  lifecycle.onStop("http", () => http.close());
  const port = await http.listen(config.port, config.host);
  log.info({ port, host: config.host }, "http: listening (/healthz, /readyz)");

  const channels = [
    config.telegram &&
      createTelegramChannel({
        token: config.telegram.token,
        webhookSecret: config.telegram.webhookSecret,
        publicUrl: config.publicUrl,
        apiRoot: config.telegram.apiRoot,
        timeoutSeconds: config.platformTimeoutSeconds,
        app,
        http,
        log,
      }),
    (config.zaloBot || config.zaloOa) &&
      createZaloChannel({
        bot: config.zaloBot,
        oa: config.zaloOa,
        publicUrl: config.publicUrl,
        ...(config.zaloBot?.apiBase ? { apiBase: { bot: config.zaloBot.apiBase } } : {}),
        timeoutMs: config.platformTimeoutSeconds * 1000,
        app,
        connection: db.connection,
        http,
        log,
      }),
  ].filter((channel) => channel !== undefined);
  for (const channel of channels) {
    lifecycle.onStop("channel", () => channel.stop());
    await channel.start();
  }

  const jobContext = { app, clock, settings: config.jobs, timeZone: config.timeZone, log };
  const scheduler = config.jobs.enabled
    ? new Scheduler(jobContext, new JobRunner(jobContext, db.connection), allJobs(db.connection))
    : undefined;
  if (scheduler) lifecycle.onStop("jobs", () => scheduler.stop());
  await scheduler?.start();

  // Updates whose handling was cut off, and flows nobody finished, are looked at now and then.
  const recover = () =>
    Promise.all([app.engine.recoverAbandoned(), app.broadcasts.resume()]).catch((err) =>
      log.error({ err }, "recovery failed"),
    );
  const timers = [
    setInterval(() => void recover(), 30_000),
    setInterval(() => void app.sweep().catch((err) => log.error({ err }, "sweep failed")), 600_000),
    // A day off another instance took in the chat (/ngaynghi) counts here within a minute.
    setInterval(
      () => void app.calendarDays.refresh().catch((err) => log.error({ err }, "calendar refresh failed")),
      60_000,
    ),
  ];
  lifecycle.onStop("timers", () => timers.forEach(clearInterval));

  if (config.consoleChannel) {
    await runConsole({
      app,
      input: process.stdin,
      output: process.stdout,
      orgName: config.orgName,
      chatty: Boolean(process.stdin.isTTY),
    });
    await lifecycle.shutdown("console input ended");
    process.exit(0);
  }
}

// A busy port, a refused token, a database that fails half-way: one line, never a stack.
await main().catch(async (error: unknown) => {
  await opened?.shutdown("start-up failed");
  fail(errorLine(error, t.cli.startFailed));
});
