import http from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { webhookCallback } from "grammy";
import mongoose, { Types, type Connection } from "mongoose";
import { createTelegramChannel } from "../../bots/telegram/index.js";
import { HttpServer } from "../../src/http.js";
import { silentLogger } from "../../src/log.js";
import { FAKE_TOKEN } from "../../test/telegram/fake-bot-api.js";
import { UpdateFactory } from "../../test/telegram/updates.js";
import { createPeerBot } from "../peer/bot.js";
import { citizenSteps, walk } from "./people.js";
import { Platforms } from "./platforms.js";
import { benchApp, TIME_ZONE } from "./seed.js";
import { Recorder, seededRandom } from "./stats.js";
import { Webhooks } from "./webhooks.js";

const SECRET = "bench-profile-webhook-secret";
/** Outbox documents already there in the second pass: about a week of a busy Department. */
const BACKLOG = 5_000;

/**
 * The fields a command filters on, e.g. "{_id,lockedBy,status}": FerretDB filters on `_id` alone
 * in SQL and on anything else in Go, several times slower, and both scan the collection
 * (docs/ferretdb.md), so the shape says how fast a round trip grows with the collection. Empty
 * for commands without a filter (inserts).
 */
function filterShape(command: Record<string, unknown>): string {
  const first = (value: unknown): unknown => (Array.isArray(value) ? value[0] : value);
  const statement = first(command.updates ?? command.deletes) as Record<string, unknown> | undefined;
  const filter = (command.filter ?? command.query ?? statement?.q) as Record<string, unknown> | undefined;
  if (!filter || typeof filter !== "object") return "";
  return ` {${Object.keys(filter).sort().join(",")}}`;
}

/** Database commands by "command collection {filter fields}": how many, and the time the server took. */
class CommandTally {
  readonly byKey = new Map<string, { n: number; ms: number }>();
  private readonly started = new Map<number, string>();
  enabled = false;

  constructor(connection: Connection) {
    const client = connection.getClient();
    client.on("commandStarted", (event) => {
      if (!this.enabled) return;
      const command = event.command as Record<string, unknown>;
      const target = command[event.commandName];
      const key = `${event.commandName} ${typeof target === "string" ? target : ""}`.trim();
      this.started.set(event.requestId, `${key}${filterShape(command)}`);
    });
    const done = (event: { requestId: number; duration: number }) => {
      const key = this.started.get(event.requestId);
      if (!key) return;
      this.started.delete(event.requestId);
      const entry = this.byKey.get(key) ?? { n: 0, ms: 0 };
      entry.n += 1;
      entry.ms += event.duration;
      this.byKey.set(key, entry);
    };
    client.on("commandSucceeded", done);
    client.on("commandFailed", done);
  }

  reset(): void {
    this.byKey.clear();
  }

  get total(): { n: number; ms: number } {
    let n = 0;
    let ms = 0;
    for (const entry of this.byKey.values()) {
      n += entry.n;
      ms += entry.ms;
    }
    return { n, ms };
  }
}

async function monitored(uri: string, dbName: string): Promise<Connection> {
  const connection = mongoose.createConnection(uri, {
    dbName,
    autoIndex: false,
    autoCreate: false,
    bufferCommands: false,
    monitorCommands: true,
  });
  return connection.asPromise();
}

/** Update ids go on increasing across walks, as Telegram's do: a repeated one would be a redelivery. */
const updates = new UpdateFactory();

/** The default load of `npm run bench -- peer`: 30 people, each thinking 1 s before each step. */
const CROWD = 30;

/**
 * Citizens walk /gopy at once, step by step, on a server at `url`, the tally counting every round
 * trip meanwhile, chores included; returns how many steps they took. One alone pays for every
 * chore of the clock and shares no command; a crowd (CROWD, as at the default load) shares the
 * writes and reads of the same moment (GroupInsert, GroupWrite, the batched reads) and the chores,
 * so it shows what one step costs the server when the bot has company.
 */
async function citizensWalk(
  platforms: Platforms,
  url: string,
  tally: CommandTally,
  people: {
    ids: string[];
    /** Long enough, alone, for the chores and the "sent" bookkeeping of each step to be counted with it. */
    thinkMs: number;
    /** Past this the people stop knocking, only so that a bot that never answers ends the run. */
    deadlineMs: number;
    seed: number;
  },
  /** Writes what the bot holds to write later (the "handled" records of a minute), to be counted too. */
  flush: () => Promise<void> = async () => undefined,
): Promise<number> {
  const recorder = new Recorder();
  const random = seededRandom(people.seed);
  const webhooks = new Webhooks(
    () => [url],
    { telegram: SECRET, zalo: "" },
    recorder,
    performance.now() + people.deadlineMs,
  );
  tally.enabled = true;
  const outcomes = await Promise.all(
    people.ids.map((id, i) =>
      walk(
        {
          kind: "citizen",
          channel: "telegram",
          id,
          steps: citizenSteps(`Góp ý số ${i + 1} đo số lần gọi cơ sở dữ liệu: cần thêm hướng dẫn.`),
        },
        {
          platforms,
          webhooks,
          recorder,
          telegramUpdates: updates,
          stepTimeoutMs: 60_000,
          thinkMs: people.thinkMs,
          resendRate: 0,
          random,
        },
      ),
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  await flush();
  tally.enabled = false;
  const stuck = outcomes.find((o) => !o.finished);
  if (stuck) throw new Error(`profile: a citizen got stuck at ${stuck.stuckAt}`);
  return outcomes.reduce((sum, o) => sum + o.person.steps.length, 0);
}

/** One citizen alone, thinking 1.5 s, as the goal line's "one citizen alone" counts. */
const oneCitizen = (
  platforms: Platforms,
  url: string,
  tally: CommandTally,
  id: string,
  flush?: () => Promise<void>,
) => citizensWalk(platforms, url, tally, { ids: [id], thinkMs: 1_500, deadlineMs: 120_000, seed: 1 }, flush);

/** CROWD citizens at once, thinking 1 s, as at the default load. */
const crowd = (
  platforms: Platforms,
  url: string,
  tally: CommandTally,
  firstId: number,
  flush?: () => Promise<void>,
) =>
  citizensWalk(
    platforms,
    url,
    tally,
    {
      ids: Array.from({ length: CROWD }, (_, i) => String(firstId + i)),
      thinkMs: 1_000,
      deadlineMs: 300_000,
      seed: 2,
    },
    flush,
  );

function printTally(label: string, tally: CommandTally, steps: number, out: (line: string) => void): number {
  const { n, ms } = tally.total;
  out(
    `   ${label}: ${(n / steps).toFixed(1)} database commands per step, ${(ms / steps).toFixed(0)} ms of database time`,
  );
  const rows = [...tally.byKey.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const cells = rows.map(([key, e]) => `${key} ${(e.n / steps).toFixed(1)}× ${(e.ms / e.n).toFixed(1)} ms`);
  for (let i = 0; i < cells.length; i += 3) out(`     ${cells.slice(i, i + 3).join("; ")}`);
  return n / steps;
}

/**
 * Where the time goes: one citizen walks /gopy against each bot, in this process, with the
 * driver's command monitor counting every database round trip (the bots in the load runs are
 * child processes, out of the monitor's reach). Ours is measured three times: on an empty
 * outbox; with BACKLOG sent messages in it, because the dispatcher's look reads the collection
 * and FerretDB answers every filter by reading every document; and with those messages sent
 * over an hour before, which the sweep has moved to the archive (`outbox_sent`), as the bot's
 * history stands after its first hour.
 */
export async function profileSteps(uri: string, out: (line: string) => void): Promise<void> {
  out("== where the time goes: database round trips per step (one citizen, in-process, command monitor)");
  const platforms = new Platforms();
  await platforms.start();
  const tag = randomBytes(3).toString("hex");
  let oursPerStep: number | undefined;
  let peerPerStep: number | undefined;
  let oursInCrowd: number | undefined;
  let peerInCrowd: number | undefined;
  try {
    const ours = await monitored(uri, `bench_profile_ours_${tag}`);
    const tally = new CommandTally(ours);
    // As src/main.ts runs it: the send lease on, which a deployment keeps whether or not it is alone.
    const app = benchApp(ours, `bench:${randomBytes(32).toString("base64")}`, { sendLease: true });
    await app.ensureIndexes();
    const server = new HttpServer(silentLogger(), async () => ({ ok: true, detail: {} }));
    const port = await server.listen(0, "127.0.0.1");
    const channel = createTelegramChannel({
      token: FAKE_TOKEN,
      webhookSecret: SECRET,
      publicUrl: "https://bench.invalid",
      apiRoot: platforms.telegram.apiRoot,
      app,
      http: server,
      log: silentLogger(),
    });
    await channel.start();
    const url = `http://127.0.0.1:${port}`;
    // The records of steps handled without one are written within a minute, with the others of
    // that minute: one citizen's walk is shorter, so they are written at its end and counted.
    const flush = () => app.engine.idle();
    try {
      const steps = await oneCitizen(platforms, url, tally, "7000001", flush);
      oursPerStep = printTally("our bot, empty outbox", tally, steps, out);
      out(
        "     (find outbox is the dispatcher's look: every second while busy; while idle every 1, 2, 4, 8, then 10 s)",
      );
      // Sent an hour and a minute ago: the next sweep (every 10 minutes in the bot) moves them
      // out; until it runs, the look reads them.
      const now = new Date(Date.now() - 3_660_000);
      // Straight into the collection, past the schema: these are only there to be scanned, and
      // the legacy plaintext `text` field is one every version of the outbox still reads.
      await app.models.Outbox.collection.insertMany(
        Array.from({ length: BACKLOG }, (_, i) => ({
          _id: new Types.ObjectId(),
          dedupeKey: `profile-backlog-${i}`,
          channel: "telegram",
          chatId: String(8_000_000 + i),
          text: "Tin nhắn cũ đã gửi.",
          status: "sent",
          attempts: 1,
          claimSeq: 1,
          nextAttemptAt: now,
          createdAt: now,
          sentAt: now,
          platformMessageIds: [String(i)],
        })),
      );
      tally.reset();
      const again = await oneCitizen(platforms, url, tally, "7000002", flush);
      printTally(`our bot, ${BACKLOG} sent messages in the outbox`, tally, again, out);
      await app.sweep();
      const moved = await app.models.SentRecord.countDocuments();
      tally.reset();
      const after = await oneCitizen(platforms, url, tally, "7000003", flush);
      printTally(`our bot, after the sweep moved ${moved} of them to the archive`, tally, after, out);
      tally.reset();
      const many = await crowd(platforms, url, tally, 7_100_000, flush);
      oursInCrowd = printTally(`our bot, ${CROWD} citizens at once, thinking 1 s`, tally, many, out);
    } finally {
      await channel.stop();
      await app.stop();
      await server.close();
      await ours.dropDatabase().catch(() => undefined);
      await ours.close();
    }

    const peerDb = await monitored(uri, `bench_profile_peer_${tag}`);
    const peerTally = new CommandTally(peerDb);
    const bot = await createPeerBot({
      token: FAKE_TOKEN,
      apiRoot: platforms.telegram.apiRoot,
      connection: peerDb,
      timeZone: TIME_ZONE,
    });
    const handle = webhookCallback(bot, "http", { secretToken: SECRET });
    const peerServer = http.createServer((req, res) => void handle(req, res));
    await new Promise<void>((resolve) => peerServer.listen(0, "127.0.0.1", resolve));
    try {
      const peerUrl = `http://127.0.0.1:${(peerServer.address() as AddressInfo).port}`;
      const steps = await oneCitizen(platforms, peerUrl, peerTally, "7000003");
      peerPerStep = printTally("peer", peerTally, steps, out);
      peerTally.reset();
      const many = await crowd(platforms, peerUrl, peerTally, 7_200_000);
      peerInCrowd = printTally(`peer, ${CROWD} citizens at once, thinking 1 s`, peerTally, many, out);
    } finally {
      peerServer.closeAllConnections();
      await new Promise((resolve) => peerServer.close(resolve));
      await peerDb.dropDatabase().catch(() => undefined);
      await peerDb.close();
    }
  } finally {
    await platforms.stop();
  }
  // The goal line of issue 22, on a line of its own so a run can be compared at a glance: every
  // round trip while the citizens walk, the chores and the idle looks between steps included. At
  // the default load's crowd, which is what the server carries when the bot is in use; and one
  // person alone, who pays for every chore of the clock and shares no command with anyone.
  const perStep = (n: number | undefined) => n?.toFixed(2) ?? "?";
  out(
    `db commands per step: ${perStep(oursInCrowd)} with ${CROWD} citizens at once (peer ${perStep(peerInCrowd)}); ` +
      `one citizen alone ${perStep(oursPerStep)} (peer ${perStep(peerPerStep)}); the goal is ≤ 3`,
  );
}
