import { randomBytes } from "node:crypto";
import path from "node:path";
import type { Connection } from "mongoose";
import { afterAll, beforeAll, inject } from "vitest";
import { App, type AppOptions } from "../../src/app.js";
import { FixedClock } from "../../src/clock.js";
import { connectMongo } from "../../src/db/connect.js";
import type { OutboxDoc } from "../../src/engine/outbox.js";
import type { SessionState } from "../../src/engine/session.js";
import type { FeedbackType } from "../../src/domain/feedback/rules.js";
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

/** Files a ticket for `filer` (in the console chat `chatId`) under `key`, as /gopy would; its code. */
export async function fileTicket(
  app: App,
  filer: Speaker,
  key: string,
  content: string,
  type: FeedbackType = "kien_nghi",
  chatId = "citizen",
): Promise<string> {
  const now = app.engine.services.clock.now();
  const filed = await app.feedback.file({
    idempotencyKey: key,
    type,
    field: "khac",
    content,
    attachments: [],
    consentAt: now,
    filer: { ...filer, channel: "console", chatId },
    now,
  });
  if (filed.kind !== "filed") throw new Error(`ticket ${key} not filed: ${filed.kind}`);
  return filed.ticket.code;
}

/** The Office's /xuly of `code`, up to the question asking for the answer's text. */
export async function atAnswerStep(app: App, code: string): Promise<void> {
  await app.engine.handle(consoleInbound("office", `/xuly ${code}`));
  await app.engine.handle(consoleInbound("office", "", { choice: "answer" }));
}
