import { createHash } from "node:crypto";
import { Types } from "mongoose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../../src/app.js";
import type { FixedClock } from "../../src/clock.js";
import { t } from "../../src/text/vi.js";
import { HOSTILE_FLOWS } from "../fixtures/hostile/flows.js";
import { HOSTILE_INBOUNDS } from "../fixtures/hostile/inbounds.js";
import { HOSTILE_TELEGRAM, isRaw, type RawBody, telegramText } from "../fixtures/hostile/telegram.js";
import { HOSTILE_TEXTS, type Sender } from "../fixtures/hostile/texts.js";
import { HOSTILE_ZALO, zaloText } from "../fixtures/hostile/zalo.js";
import { buildApp, liveSession, useDatabase } from "../support/db.js";
import { consoleInbound } from "../support/inbound.js";
import {
  OA_SECRET_KEY,
  type Rig as ZaloRig,
  startRig as startZalo,
  WEBHOOK_SECRET,
} from "../zalo/harness.js";
import {
  BROKEN,
  buildWorld,
  diff,
  type RawTelegramRig,
  say,
  snapshot,
  type Snapshot,
  startRawTelegram,
  VIETNAMESE,
  type World,
} from "./support.js";

/**
 * The bad-input corpus (test/fixtures/hostile): every entry through the engine directly and
 * through both real webhooks. Nothing may crash (no 5xx, no unhandled rejection, no handler
 * failure, the servers keep answering), each gets a clear Vietnamese answer or a 4xx, and nothing
 * valid that was stored before the corpus ran may change.
 */

const db = useDatabase(import.meta.filename);
const SLOW = 120_000;

let app: App;
let clock: FixedClock;
let world: World;
let telegram: RawTelegramRig;
let zalo: ZaloRig;
let before: Snapshot;
/**
 * The documents of the scratch collections before the corpus. Upserts get their _id from the
 * server, so "created later" cannot be read from the _id: what is not in this list is the corpus'.
 */
const kept = new Map<string, Types.ObjectId[]>();
let counts: Record<string, number> = {};
let updateId = 900_000;
let answered = "";

const COUNTED = ["tickets", "reports", "dvk_models", "units", "plans", "tasks", "audit_log"] as const;
/** What the corpus itself creates, removed after each entry so entries stay independent. */
const SCRATCH = ["inbound", "outbox", "sessions", "channel_accounts", "people", "claims"];

async function countAll(): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  for (const name of COUNTED) result[name] = await db.connection.collection(name).countDocuments();
  return result;
}

beforeAll(async () => {
  ({ app, clock } = await buildApp(db.connection));
  world = await buildWorld(app, clock.now());
  // One ticket already answered, for the rating flow.
  const filed = await app.feedback.file({
    idempotencyKey: "hostile:answered",
    type: "gop_y",
    field: "khac",
    content: "Góp ý đã được Sở trả lời, để thử đánh giá.",
    attachments: [],
    filer: { ...world.citizen, channel: "console", chatId: "citizen" },
    now: clock.now(),
  });
  if (filed.kind !== "filed") throw new Error("not filed");
  await app.feedback.answer(filed.ticket.code, "Cảm ơn anh/chị, Sở đã tiếp thu.", world.office, clock.now());
  answered = filed.ticket.code;
  telegram = await startRawTelegram(app);
  zalo = await startZalo(app, { oa: true });
  before = await snapshot(db.connection);
  counts = await countAll();
  for (const name of SCRATCH) {
    kept.set(
      name,
      (
        await db.connection
          .collection(name)
          .find({}, { projection: { _id: 1 } })
          .toArray()
      ).map((d) => d._id as Types.ObjectId),
    );
  }
}, SLOW);

afterEach(async () => {
  // No entry may file a ticket, save a report, register a model or touch the audit log.
  expect(await countAll()).toEqual(counts);
  for (const name of SCRATCH)
    await db.connection.collection(name).deleteMany({ _id: { $nin: kept.get(name) ?? [] } });
});

afterAll(async () => {
  await telegram?.stop();
  await zalo?.stop();
});

/** Outbox messages written since `mark` (their ObjectIds are made in this process, so they only grow). */
async function writtenSince(mark: Types.ObjectId): Promise<string[]> {
  const docs = await app.models.Outbox.find({ _id: { $gt: mark } })
    .sort({ _id: 1 })
    .lean();
  return docs.map((d) => app.outbox.textOf(d));
}

/**
 * Each answer is Vietnamese, is not the apology for a handler that crashed, and shows no trace of
 * a rendering bug the person did not type.
 */
function expectReadable(texts: string[], input = "") {
  for (const text of texts) {
    expect(text, text.slice(0, 200)).toMatch(VIETNAMESE);
    expect(text, "a handler failed").not.toBe(t.engine.internalError);
    for (const word of BROKEN) {
      if (!input.includes(word))
        expect(text.includes(word), `"${word}" in: ${text.slice(0, 300)}`).toBe(false);
    }
  }
}

const sessionKey = (id: string) => `console:${id}:${id}`;

/** Demo people keep no flow between corpus entries. */
async function sender(as: Sender | undefined, fresh: string): Promise<string> {
  if (!as || as === "citizen") return fresh;
  await app.sessions.clear(sessionKey(as));
  return as;
}

async function postZalo(api: "bot" | "oa", body: unknown): Promise<number> {
  const appId = zalo.fake.oa.appId;
  const withDefaults =
    api === "oa" && typeof body === "object" && body !== null && !Array.isArray(body)
      ? { app_id: appId, timestamp: String(clock.now().getTime()), ...body }
      : body;
  const raw = isRaw(body) ? body.raw : JSON.stringify(withDefaults);
  const headers = (isRaw(body) && body.headers) || { "content-type": "application/json" };
  if (api === "bot") {
    return zalo.post("/zalo/webhook", raw, { ...headers, "x-bot-api-secret-token": WEBHOOK_SECRET });
  }
  // Signed as Zalo signs: over the exact bytes, with the timestamp the body carries.
  const text = Buffer.isBuffer(raw) ? raw.toString("utf8") : raw;
  const timestamp = /"timestamp":"(\d+)"/.exec(text)?.[1] ?? String(clock.now().getTime());
  const mac = createHash("sha256").update(`${appId}${text}${timestamp}${OA_SECRET_KEY}`).digest("hex");
  return zalo.post("/zalo-oa/webhook", raw, { ...headers, "x-zevent-signature": `mac=${mac}` });
}

async function postTelegram(body: unknown): Promise<number> {
  if (!isRaw(body)) return telegram.post(JSON.stringify(body));
  const raw: RawBody = body;
  return telegram.post(raw.raw, raw.headers ? { headers: raw.headers } : {});
}

/** Checks a webhook's answer against what the entry expects (see fixtures/hostile/telegram.ts). */
function expectOutcome(status: number, expected: string, replies: string[], toasts: string[], input: string) {
  expect(status, "no 5xx").toBeLessThan(500);
  switch (expected) {
    case "reject":
      expect(status).toBeGreaterThanOrEqual(400);
      expect(replies).toEqual([]);
      break;
    case "reply":
      expect(status).toBe(200);
      expect(replies.length).toBeGreaterThan(0);
      break;
    case "ignore":
      expect(status).toBe(200);
      expect(replies).toEqual([]);
      break;
    case "toast":
      expect(status).toBe(200);
      expect(toasts.length + replies.length).toBeGreaterThan(0);
      break;
  }
  expectReadable([...replies, ...toasts], input);
}

const caseName = (x: { category: string; name: string }) => `${x.category}: ${x.name}`;
describe("the corpus", () => {
  it("has at least 200 hostile inputs, each named once", () => {
    const garbage = HOSTILE_FLOWS.reduce((n, f) => n + f.steps.reduce((m, s) => m + s.garbage.length, 0), 0);
    const total =
      HOSTILE_TEXTS.length +
      HOSTILE_INBOUNDS.length +
      HOSTILE_TELEGRAM.length +
      HOSTILE_ZALO.length +
      garbage;
    expect(total).toBeGreaterThanOrEqual(200);
    const names = [
      ...[...HOSTILE_TEXTS, ...HOSTILE_INBOUNDS].map((x) => `engine ${caseName(x)}`),
      ...HOSTILE_TELEGRAM.map((x) => `telegram ${caseName(x)}`),
      ...HOSTILE_ZALO.map((x) => `zalo ${caseName(x)}`),
    ];
    expect(new Set(names).size).toBe(names.length);
  });
});

describe("engine: hostile texts", () => {
  for (const [index, entry] of HOSTILE_TEXTS.entries()) {
    const name = `engine ${caseName(entry)}`;
    it(name, async () => {
      const id = await sender(entry.as, `hostile-text-${index}`);
      const { outcome, replies } = await say(app, id, entry.text);
      expect(outcome).toBe("handled");
      expect(replies.length).toBeGreaterThan(0);
      expectReadable(
        replies.map((r) => r.text),
        entry.text,
      );
    });
  }
});

describe("engine: odd inbound fields", () => {
  for (const [index, entry] of HOSTILE_INBOUNDS.entries()) {
    const name = `engine ${caseName(entry)}`;
    it(name, async () => {
      const id = await sender(entry.as, `hostile-inbound-${index}`);
      const mark = new Types.ObjectId();
      const inbound = consoleInbound(id, "", { receivedAt: clock.now(), ...entry.inbound });
      expect(await app.engine.handle(inbound)).toBe("handled");
      const replies = await writtenSince(mark);
      if (!entry.silent) expect(replies.length).toBeGreaterThan(0);
      expectReadable(replies, `${inbound.text} ${inbound.senderName ?? ""}`);
    });
  }
});

describe("engine: flows fed garbage at every step", () => {
  for (const flow of HOSTILE_FLOWS) {
    const name = `flow ${flow.name}`;
    it(
      name,
      async () => {
        const id = flow.as === "fresh" ? `hostile-flow-${flow.start.slice(1)}` : flow.as;
        await app.sessions.clear(sessionKey(id));
        const start = flow.start
          .replace("{gopY}", world.gopY)
          .replace("{toCao}", world.toCao)
          .replace("{answered}", answered);
        expect((await say(app, id, start)).outcome).toBe("handled");
        for (const step of flow.steps) {
          for (const garbage of step.garbage) {
            const what = `${step.step} ← ${JSON.stringify(garbage)}`;
            const { outcome, replies } = await say(app, id, garbage);
            expect(outcome, what).toBe("handled");
            expect(replies.length, what).toBeGreaterThan(0);
            expectReadable(
              replies.map((r) => r.text),
              garbage,
            );
            const session = await liveSession(app, sessionKey(id));
            expect(session?.step, `${what} moved the flow`).toBe(step.step);
          }
          if (step.valid !== undefined) expect((await say(app, id, step.valid)).outcome).toBe("handled");
        }
        const { replies } = await say(app, id, "/huy");
        expectReadable(replies.map((r) => r.text));
        expect(await liveSession(app, sessionKey(id))).toBeUndefined();
      },
      SLOW,
    );
  }
});

describe("engine: a burst of messages from one chat", () => {
  it(
    // Messages handed in together (two Zalo webhook calls at once, piped console input) are
    // handled in the order they came: the engine joins the chat's queue before the inbox write.
    "is handled in the order it was handed in",
    async () => {
      const orders: string[] = [];
      for (let round = 0; round < 5; round += 1) {
        const id = `hostile-burst-${round}`;
        const inbounds = ["/start", "/help", "/toi", "/lienhe", "/huy"].map((text) =>
          consoleInbound(id, text, { receivedAt: clock.now() }),
        );
        await Promise.all(inbounds.map((inbound) => app.engine.handle(inbound)));
        const replies = await app.models.Outbox.find({ chatId: id }).sort({ _id: 1 }).lean();
        orders.push(
          replies.map((r) => inbounds.findIndex((i) => r.dedupeKey.startsWith(`${i.dedupeKey}#`))).join(""),
        );
      }
      expect(orders).toEqual(["01234", "01234", "01234", "01234", "01234"]);
    },
    SLOW,
  );
});

describe("Telegram webhook", () => {
  for (const [index, entry] of HOSTILE_TEXTS.entries()) {
    const name = `telegram text ${caseName(entry)}`;
    it(name, async () => {
      updateId += 1;
      const mark = new Types.ObjectId();
      const status = await postTelegram(telegramText(updateId, 5_000_000 + index, entry.text));
      // Telegram sends no empty text message; one that says nothing is acknowledged and dropped.
      expectOutcome(status, entry.text === "" ? "safe" : "reply", await writtenSince(mark), [], entry.text);
    });
  }

  for (const [index, entry] of HOSTILE_TELEGRAM.entries()) {
    const name = `telegram ${caseName(entry)}`;
    it(name, async () => {
      updateId += 1;
      const body = entry.body(updateId, 6_000_000 + index);
      const mark = new Types.ObjectId();
      const status = await postTelegram(body);
      const toasts = telegram.fake
        .callsOf("answerCallbackQuery")
        .filter((c) => c.params.callback_query_id === `cb-${updateId}`)
        .map((c) => String(c.params.text ?? ""));
      expectOutcome(
        status,
        entry.expect,
        await writtenSince(mark),
        toasts,
        isRaw(body) ? "" : JSON.stringify(body),
      );
    });
  }
});

describe("Zalo webhooks", () => {
  for (const [index, entry] of HOSTILE_TEXTS.entries()) {
    const name = `zalo text ${caseName(entry)}`;
    it(name, async () => {
      const mark = new Types.ObjectId();
      const status = await postZalo(
        "bot",
        zaloText(index, `7a10${String(index).padStart(16, "0")}`, entry.text),
      );
      expectOutcome(status, "reply", await writtenSince(mark), [], entry.text);
    });
  }

  for (const [index, entry] of HOSTILE_ZALO.entries()) {
    const name = `zalo ${caseName(entry)}`;
    it(name, async () => {
      const user = `${entry.api === "oa" ? "" : "7b20"}${String(8_000_000_000 + index)}`;
      const body = entry.body(1000 + index, user);
      const mark = new Types.ObjectId();
      const status = await postZalo(entry.api, body);
      expectOutcome(
        status,
        entry.expect,
        await writtenSince(mark),
        [],
        isRaw(body) ? "" : JSON.stringify(body),
      );
    });
  }
});

describe("after the corpus", () => {
  it(
    "changed nothing valid that was stored before it",
    async () => {
      const { changed } = diff(before, await snapshot(db.connection));
      expect(changed).toEqual([]);
    },
    SLOW,
  );

  it("still answers on every path", async () => {
    expect((await say(app, "hostile-after", "/help")).text).toContain("Các lệnh");
    updateId += 1;
    const mark = new Types.ObjectId();
    expect(await postTelegram(telegramText(updateId, 5_999_999, "/help"))).toBe(200);
    expect(await postZalo("bot", zaloText(99_999, "7c30aaaaaaaaaaaaaaaa", "/help"))).toBe(200);
    const texts = await writtenSince(mark);
    expect(texts.filter((text) => text.includes("Các lệnh"))).toHaveLength(2);
  });
});
