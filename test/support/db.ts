import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Connection } from "mongoose";
import { afterAll, beforeAll, inject } from "vitest";
import { hostOf, throughProxy, WireProxy } from "../../bench/faults/proxy.js";
import { App, type AppOptions } from "../../src/app.js";
import { FixedClock } from "../../src/clock.js";
import { connectMongo } from "../../src/db/connect.js";
import {
  findFerretdb,
  startFerretdb,
  startMemoryServer,
  type EmbeddedServer,
} from "../../src/db/embedded.js";
import type { OutboxDoc } from "../../src/engine/outbox.js";
import type { SessionState } from "../../src/engine/session.js";
import type { FeedbackType } from "../../src/domain/feedback/rules.js";
import type { FileResult, NewTicket } from "../../src/domain/feedback/service.js";
import type { TicketDoc } from "../../src/domain/feedback/schema.js";
import type { Speaker } from "../../src/domain/people/service.js";
import { consoleInbound } from "./inbound.js";
import { silentLogger } from "../../src/log.js";
import { Sealer } from "../../src/privacy/sealer.js";

/** A database name of its own for one test file: ^[a-zA-Z0-9_-]{1,63}$. */
export function databaseName(hint: string): string {
  const base = path
    .basename(hint)
    .replace(/\.test\.ts$/, "")
    .replace(/[^a-zA-Z0-9]/g, "_")
    .slice(0, 40);
  return `t_${base}_${randomBytes(4).toString("hex")}`;
}

/** Opens a fresh database for the calling file before its tests and drops it after them. */
export function useDatabase(hint: string): { readonly connection: Connection } {
  const holder: { connection?: Connection } = {};
  beforeAll(async () => {
    holder.connection = await connectMongo(inject("mongoUri"), databaseName(hint));
  });
  afterAll(async () => {
    await holder.connection?.dropDatabase();
    await holder.connection?.close();
  });
  return {
    get connection(): Connection {
      if (!holder.connection) throw new Error("database not open yet: use it inside a test or hook");
      return holder.connection;
    },
  };
}

/**
 * A fresh database for the calling file reached through a wire proxy (bench/faults/proxy.ts), so
 * its tests can count and refuse the database's writes from outside our code.
 */
export function useProxiedDatabase(hint: string): {
  readonly proxy: WireProxy;
  readonly connection: Connection;
} {
  const proxy = new WireProxy(hostOf(inject("mongoUri")));
  const holder: { connection?: Connection } = {};
  beforeAll(async () => {
    const port = await proxy.listen("bot");
    holder.connection = await connectMongo(throughProxy(inject("mongoUri"), port), databaseName(hint));
  });
  afterAll(async () => {
    proxy.disarm();
    await holder.connection?.dropDatabase();
    await holder.connection?.close();
    await proxy.close();
  });
  return {
    proxy,
    get connection(): Connection {
      if (!holder.connection) throw new Error("database not open yet: use it inside a test or hook");
      return holder.connection;
    },
  };
}

/**
 * A fresh database on a server of the calling file's own, so that its files on disk (SQLite and its
 * write-ahead log, or mongod's) hold only that file's data: for tests that read them (`dir`).
 */
export function useOwnServer(hint: string): { readonly connection: Connection; readonly dir: string } {
  const holder: { server?: EmbeddedServer; dir?: string; connection?: Connection } = {};
  beforeAll(async () => {
    holder.dir = mkdtempSync(path.join(os.tmpdir(), `dvbot-${path.basename(hint, ".test.ts")}-`));
    const bin = findFerretdb(process.env.FERRETDB_BIN);
    holder.server = bin
      ? await startFerretdb(bin, holder.dir, { logLevel: "error" })
      : await startMemoryServer(holder.dir);
    holder.connection = await connectMongo(holder.server.uri, databaseName(hint));
  }, 60_000);
  afterAll(async () => {
    await holder.connection?.close();
    await holder.server?.stop();
    if (holder.dir) rmSync(holder.dir, { recursive: true, force: true });
  });
  const open = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("server not started yet: use it inside a test or hook");
    return value;
  };
  return {
    get connection(): Connection {
      return open(holder.connection);
    },
    get dir(): string {
      return open(holder.dir);
    },
  };
}

/**
 * Where any of `needles` (lower case) is readable in plain text: each collection dumped, then
 * each file below `dir` read byte for byte while the server runs (stopping it would checkpoint
 * the write-ahead log into the main file and remove it). Each place as "collection: needle" or
 * "file name: needle".
 */
export async function readableAtRest(
  connection: Connection,
  dir: string,
  needles: readonly string[],
): Promise<{ collections: string[]; files: string[] }> {
  const collections: string[] = [];
  for (const { name } of await connection.listCollections()) {
    const dump = JSON.stringify(await connection.collection(name).find({}).toArray()).toLowerCase();
    for (const needle of needles) if (dump.includes(needle)) collections.push(`${name}: ${needle}`);
  }
  const files: string[] = [];
  for (const f of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!f.isFile()) continue;
    // Bytes read one to one as characters, so a UTF-8 needle compares byte for byte.
    const bytes = readFileSync(path.join(f.parentPath, f.name)).toString("latin1").toLowerCase();
    for (const needle of needles)
      if (bytes.includes(Buffer.from(needle).toString("latin1"))) files.push(`file ${f.name}: ${needle}`);
  }
  return { collections, files };
}

export const ORG = "Sở Khoa học và Công nghệ tỉnh Thử nghiệm";

/** One data key for the whole test run (a file's apps must open what they sealed). */
export const TEST_SEALER = new Sealer([{ id: "test", key: randomBytes(32) }]);

/** The whole app on a test database with a fixed clock, indexes created. */
export async function buildApp(
  connection: Connection,
  clock = new FixedClock("2025-10-06T02:00:00Z"),
  options: Partial<AppOptions> = {},
): Promise<{ app: App; clock: FixedClock }> {
  const app = new App({
    ...options,
    connection,
    clock,
    log: silentLogger(),
    orgName: ORG,
    timeZone: "Asia/Ho_Chi_Minh",
    consoleRoles: true,
    sealer: TEST_SEALER,
  });
  await app.ensureIndexes();
  return { app, clock };
}

/** Outbox documents with their sealed texts opened, as a test reads what the bot said. */
export function withTexts<T extends Pick<OutboxDoc, "textSealed">>(
  app: App,
  docs: T[],
): (T & { text: string })[] {
  return docs.map((doc) => ({ ...doc, text: app.outbox.textOf(doc) }));
}

/**
 * The flow a chat is in now, as the engine reads it (the newest session state, unless ended or
 * expired): older states stay in the collection until the sweep, so counting documents says nothing.
 */
export async function liveSession(app: App, key: string): Promise<SessionState | undefined> {
  return app.sessions.load(key, app.engine.services.clock.now());
}

/** Every chat's live flow state, for checks that no flow was started anywhere. */
export async function liveSessions(app: App): Promise<SessionState[]> {
  const keys = (await app.models.Session.distinct("key")) as string[];
  const states = await Promise.all(keys.map((key) => liveSession(app, key)));
  return states.filter((state): state is SessionState => state !== undefined);
}

/** The speaker of a console chat named `id`, as the engine resolves it (created on first contact). */
export function consoleSpeaker(app: App, id: string): Promise<Speaker> {
  return app.people.resolveSpeaker({
    channel: "console",
    senderId: id,
    chatId: id,
    chatType: "private",
    now: app.engine.services.clock.now(),
  });
}

/**
 * A Telegram user's first message in their private chat, as the engine files its speaker for a
 * newcomer's first-like message (SpeakerInput.newChat): their account written as new.
 */
export function firstSpeaker(app: App, senderId: string, senderName?: string): Promise<Speaker> {
  return app.people.resolveSpeaker({
    channel: "telegram",
    senderId,
    chatId: senderId,
    chatType: "private",
    ...(senderName ? { senderName } : {}),
    now: app.engine.services.clock.now(),
    newChat: true,
  });
}

/**
 * What a test says of one filing; the rest is the plainest /gopy: a kiến nghị in the field «khác»,
 * no attachments, now, from the console chat `chatId` ("citizen" unless given).
 */
export type Filing = Pick<NewTicket, "idempotencyKey" | "content"> &
  Partial<Omit<NewTicket, "idempotencyKey" | "content" | "filer">> & { chatId?: string };

/** Files feedback for `filer` as the service is asked to by /gopy; whatever it answers. */
export function fileFeedback(app: App, filer: Speaker, filing: Filing): Promise<FileResult> {
  const { chatId = "citizen", ...fields } = filing;
  return app.feedback.file({
    type: "kien_nghi",
    field: "khac",
    attachments: [],
    now: app.engine.services.clock.now(),
    ...fields,
    filer: { ...filer, channel: "console", chatId },
  });
}

/** The ticket a filing opens; throws if the service answers anything else (a duplicate, the limit). */
export async function filedTicket(app: App, filer: Speaker, filing: Filing): Promise<TicketDoc> {
  const filed = await fileFeedback(app, filer, filing);
  if (filed.kind !== "filed") throw new Error(`ticket ${filing.idempotencyKey} not filed: ${filed.kind}`);
  return filed.ticket;
}

/** Files a ticket for `filer` (in the console chat `chatId`) under `key`, as /gopy would; its code. */
export async function fileTicket(
  app: App,
  filer: Speaker,
  key: string,
  content: string,
  type: FeedbackType = "kien_nghi",
  chatId = "citizen",
): Promise<string> {
  const consentAt = app.engine.services.clock.now();
  return (await filedTicket(app, filer, { idempotencyKey: key, content, type, chatId, consentAt })).code;
}

/** The Office's /xuly of `code`, up to the question asking for the answer's text. */
export async function atAnswerStep(app: App, code: string): Promise<void> {
  await app.engine.handle(consoleInbound("office", `/xuly ${code}`));
  await app.engine.handle(consoleInbound("office", "", { choice: "answer" }));
}
