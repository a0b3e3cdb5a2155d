import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ZaloBotApi } from "../../bots/zalo/bot-api.js";
import { PoliteSender } from "../../bots/zalo/polite.js";
import { ZaloSender } from "../../bots/zalo/sender.js";
import type { App } from "../../src/app.js";
import { SendError } from "../../src/engine/channel.js";
import type { Outbound } from "../../src/engine/message.js";
import { silentLogger } from "../../src/log.js";
import { t } from "../../src/text/vi.js";
import { buildApp, useDatabase } from "../support/db.js";
import { deliverAll, numberedChoices, type Rig, startRig } from "./harness.js";

const db = useDatabase(import.meta.filename);
let rig: Rig | undefined;
const files = mkdtempSync(path.join(os.tmpdir(), "dvbot-zalo-files-"));
afterAll(() => rmSync(files, { recursive: true, force: true }));

/** A file of `size` bytes on this server, as a report or a chart would be. */
function localFile(name: string, size: number): string {
  const file = path.join(files, name);
  writeFileSync(file, Buffer.alloc(size, 7));
  return file;
}

afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

const BOT_CHAT = "6ede9afa66b88fe6d6a9";
const OA_USER = "5510185758261927916";

async function open() {
  await db.connection.dropDatabase();
  const { app, clock } = await buildApp(db.connection);
  rig = await startRig(app, { oa: { withAccessToken: true } });
  return { app, clock, rig };
}

let counter = 0;
async function enqueue(
  app: App,
  chatId: string,
  text: string,
  extra: Partial<Outbound> = {},
): Promise<string> {
  counter += 1;
  const dedupeKey = `sender-test:${counter}`;
  await app.outbox.enqueue([{ to: { channel: "zalo", chatId }, text, dedupeKey, ...extra }]);
  return dedupeKey;
}

const outboxDoc = (app: App, dedupeKey: string) => app.outbox.model.findOne({ dedupeKey }).lean();

/** About 5,000 characters of Vietnamese prose in paragraphs and lines, with an emoji here and there. */
function longAnswer(): string {
  const sentence =
    "Sở Khoa học và Công nghệ đã tiếp nhận phản ánh của anh/chị về đường điện ở xã Đông Hoà 👍.";
  const paragraphs: string[] = [];
  while (paragraphs.join("\n\n").length < 5000) {
    const p = paragraphs.length + 1;
    paragraphs.push(Array.from({ length: 4 }, (_, l) => `${p}.${l + 1} ${sentence}`).join("\n"));
  }
  return paragraphs.join("\n\n");
}

const words = (text: string) => text.split(/\s+/).filter(Boolean);
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe("sending on Zalo", () => {
  it("splits a 5,000-character answer into parts of at most 2000, losing nothing, on both APIs", async () => {
    const { app, rig } = await open();
    const text = longAnswer();
    expect(text.length).toBeGreaterThanOrEqual(5000);
    await enqueue(app, BOT_CHAT, text);
    await enqueue(app, `oa:${OA_USER}`, text);
    await deliverAll(app);
    const botParts = rig.fake.bot.sent.filter((m) => m.chatId === BOT_CHAT).map((m) => m.text ?? "");
    const oaParts = rig.fake.oa.sent.filter((m) => m.userId === OA_USER).map((m) => m.text);
    for (const parts of [botParts, oaParts]) {
      expect(parts.length).toBe(3);
      expect(parts.every((p) => p.length <= 2000 && !loneSurrogate.test(p))).toBe(true);
      expect(words(parts.join("\n"))).toEqual(words(text));
    }
  });

  it("delivers Vietnamese exactly as written", async () => {
    const { app, rig } = await open();
    const text = "Đề nghị Ông/Bà Nguyễn Thị Hoà bổ sung hồ sơ trước ngày 31/12/2025. Trân trọng! 🇻🇳";
    await enqueue(app, BOT_CHAT, text);
    await enqueue(app, `oa:${OA_USER}`, text);
    await deliverAll(app);
    expect(rig.fake.bot.sent.at(-1)?.text).toBe(text);
    expect(rig.fake.oa.sent.at(-1)?.text).toBe(text);
    expect(Buffer.from(rig.fake.oa.sent.at(-1)?.text ?? "", "utf8").equals(Buffer.from(text, "utf8"))).toBe(
      true,
    );
  });

  it("offers choices as numbered lines followed by the hint", async () => {
    const { app, rig } = await open();
    await enqueue(app, BOT_CHAT, "Xác nhận gửi?", {
      choices: [
        { label: "Đồng ý", value: "yes" },
        { label: "Không đồng ý", value: "no" },
      ],
    });
    await deliverAll(app);
    const sent = rig.fake.bot.sent.at(-1)?.text ?? "";
    expect(sent).toBe(`Xác nhận gửi?\n\n1. Đồng ý\n2. Không đồng ý\n${t.channels.numberedHint}`);
    expect(numberedChoices(sent)).toEqual(["Đồng ý", "Không đồng ý"]);
  });

  it("sends pictures by URL with sendPhoto, and a document at a URL as its link", async () => {
    const { app, rig } = await open();
    const key = await enqueue(app, BOT_CHAT, "Biểu đồ tiến độ quý III", {
      files: [
        { kind: "photo", ref: "https://example.test/tien-do.png" },
        { kind: "document", ref: "https://bot.example.test/files?t=abc", name: "Số liệu quý III.xlsx" },
      ],
    });
    await deliverAll(app);
    expect(rig.fake.bot.sent.map((m) => m.method)).toEqual(["sendMessage", "sendPhoto"]);
    expect(rig.fake.bot.sent[0]?.text).toBe(
      `Biểu đồ tiến độ quý III\n\n${t.channels.fileLink("Số liệu quý III.xlsx", "https://bot.example.test/files?t=abc")}`,
    );
    expect(rig.fake.bot.sent[1]?.photo).toBe("https://example.test/tien-do.png");
    const doc = await outboxDoc(app, key);
    expect(doc?.status).toBe("sent");
    expect(doc?.platformMessageIds).toHaveLength(2);
  });

  it("never marks a message sent with a file left out: one the Bot Platform cannot take fails it whole", async () => {
    const { app, rig } = await open();
    const key = await enqueue(app, BOT_CHAT, "Báo cáo quý III", {
      files: [
        { kind: "photo", ref: "https://example.test/tien-do.png" },
        { kind: "document", ref: localFile("bao-cao.xlsx", 2000), name: "bao-cao.xlsx" },
      ],
    });
    await deliverAll(app);
    expect(rig.fake.bot.sent).toEqual([]);
    const doc = await outboxDoc(app, key);
    expect(doc?.status).toBe("dead");
    expect(doc?.lastError).toMatch(/^bad request: .*bao-cao\.xlsx.*Bot Platform/);
  });

  it("sends pictures and files through the OA: by URL, uploaded, or as a link", async () => {
    const { app, rig } = await open();
    const key = await enqueue(app, `oa:${OA_USER}`, "Kết quả giải quyết phản ánh", {
      files: [
        { kind: "photo", ref: "https://example.test/hien-truong.png", name: "Ảnh hiện trường" },
        { kind: "photo", ref: localFile("bieu-do.png", 300_000), name: "Biểu đồ tiến độ quý III" },
        { kind: "document", ref: localFile("cong-van.pdf", 2_000_000), name: "Công văn trả lời.pdf" },
        { kind: "document", ref: "https://bot.example.test/files?t=xyz", name: "Số liệu.xlsx" },
      ],
    });
    await deliverAll(app);
    const sent = rig.fake.oa.sent.filter((m) => m.userId === OA_USER);
    expect(sent.map((m) => [m.text, m.attachment])).toEqual([
      [
        `Kết quả giải quyết phản ánh\n\n${t.channels.fileLink("Số liệu.xlsx", "https://bot.example.test/files?t=xyz")}`,
        undefined,
      ],
      ["Ảnh hiện trường", { type: "image", url: "https://example.test/hien-truong.png" }],
      ["Biểu đồ tiến độ quý III", { type: "image", uploaded: "Biểu đồ tiến độ quý III" }],
      ["", { type: "file", uploaded: "Công văn trả lời.pdf" }],
    ]);
    expect(rig.fake.oa.uploads.map((u) => [u.kind, u.type, u.size])).toEqual([
      ["image", "image/png", 300_000],
      ["file", "application/pdf", 2_000_000],
    ]);
    const doc = await outboxDoc(app, key);
    expect(doc?.status).toBe("sent");
    expect(doc?.platformMessageIds).toHaveLength(4);
  });

  it("fails an OA message whole, with the reason, when a file is of a kind or size the OA refuses", async () => {
    const { app, rig } = await open();
    const sheet = await enqueue(app, `oa:${OA_USER}`, "Số liệu quý III", {
      files: [{ kind: "document", ref: localFile("so-lieu.xlsx", 5000), name: "Số liệu quý III.xlsx" }],
    });
    const big = await enqueue(app, `oa:${OA_USER}`, "Ảnh lớn", {
      files: [{ kind: "photo", ref: localFile("lon.png", 1024 * 1024 + 1) }],
    });
    const gone = await enqueue(app, `oa:${OA_USER}`, "Công văn", {
      files: [{ kind: "document", ref: path.join(files, "khong-co.pdf") }],
    });
    await deliverAll(app);
    expect(rig.fake.oa.sent).toEqual([]);
    expect(rig.fake.oa.uploads).toEqual([]);
    expect((await outboxDoc(app, sheet))?.lastError).toMatch(
      /^bad request: .*Số liệu quý III\.xlsx.*PDF, DOC or DOCX/,
    );
    expect((await outboxDoc(app, big))?.lastError).toMatch(/^bad request: .*over the OA's 1 MB/);
    expect((await outboxDoc(app, gone))?.lastError).toMatch(/^bad request: .*file not found/);
    for (const key of [sheet, big, gone]) expect((await outboxDoc(app, key))?.status).toBe("dead");
  });
});

describe("Zalo's refusals, as the outbox sees them", () => {
  it("waits as told on a 429 without spending an attempt", async () => {
    const { app, clock, rig } = await open();
    rig.fake.failNext("sendMessage", {
      status: 429,
      body: { ok: false, error_code: 429, description: "Too Many Requests", parameters: { retry_after: 7 } },
    });
    const key = await enqueue(app, BOT_CHAT, "Nhắc hạn");
    await app.dispatchers.get("zalo")?.drain();
    const doc = await outboxDoc(app, key);
    expect(doc?.status).toBe("pending");
    expect(doc?.attempts).toBe(0);
    expect(doc?.nextAttemptAt.getTime()).toBe(clock.now().getTime() + 7000);
  });

  it("gives up on a chat that blocked the bot (403) and marks the account", async () => {
    const { app, rig } = await open();
    await app.people.ensurePerson("zalo", BOT_CHAT, { role: "staff" }, new Date());
    rig.fake.failNext("sendMessage", {
      status: 403,
      body: { ok: false, error_code: 403, description: "Forbidden" },
    });
    const key = await enqueue(app, BOT_CHAT, "Nhắc hạn");
    await app.dispatchers.get("zalo")?.drain();
    expect((await outboxDoc(app, key))?.status).toBe("dead");
    expect((await outboxDoc(app, key))?.lastError).toMatch(/^blocked: /);
    const account = await app.models.ChannelAccount.findOne({ externalId: BOT_CHAT }).lean();
    expect(account?.blockedAt).toBeInstanceOf(Date);
  });

  it("gives up on a bad request at once, with Zalo's description as the reason", async () => {
    const { app, rig } = await open();
    rig.fake.failNext("sendMessage", {
      status: 400,
      body: { ok: false, error_code: 400, description: "Bad Request: chat not found" },
    });
    const key = await enqueue(app, BOT_CHAT, "Xin chào");
    await app.dispatchers.get("zalo")?.drain();
    const doc = await outboxDoc(app, key);
    expect(doc?.status).toBe("dead");
    expect(doc?.lastError).toContain("chat not found");
  });

  it("retries later after a network failure or a 5xx", async () => {
    const { app, rig } = await open();
    rig.fake.failNext("sendMessage", { status: 502, body: "<html>Bad Gateway</html>" });
    const key = await enqueue(app, BOT_CHAT, "Xin chào");
    await app.dispatchers.get("zalo")?.drain();
    const doc = await outboxDoc(app, key);
    expect(doc?.status).toBe("pending");
    expect(doc?.attempts).toBe(1);
    await deliverAll(app);
    expect((await outboxDoc(app, key))?.status).toBe("sent");

    const unreachable = new ZaloSender({
      bot: new ZaloBotApi({ token: rig.fake.bot.token, baseUrl: "http://127.0.0.1:9", timeoutMs: 2000 }),
      log: silentLogger(),
    });
    const failure = await unreachable
      .send({ chatId: BOT_CHAT, text: "x", choices: [], files: [] })
      .catch((e) => e);
    expect(failure).toBeInstanceOf(SendError);
    expect((failure as SendError).kind).toBe("network");
  });

  it("fails a call Zalo never answers as network after the configured timeout; other chats go on", async () => {
    await db.connection.dropDatabase();
    const { app } = await buildApp(db.connection);
    rig = await startRig(app, { oa: { withAccessToken: true }, channel: { timeoutMs: 300 } });
    // Eight chats whose sends hang, as many as the dispatcher sends side by side, and one that works.
    const hung = Array.from({ length: 8 }, (_, i) => `4a4a4a4a4a4a4a4a4a0${i}`);
    for (const chatId of hung) rig.fake.bot.hangChats.add(chatId);
    rig.fake.oa.hangUsers.add(OA_USER);
    const stuck = [
      ...(await Promise.all(hung.map((chatId) => enqueue(app, chatId, "Nhắc hạn")))),
      await enqueue(app, `oa:${OA_USER}`, "Nhắc hạn"),
    ];
    const fine = await enqueue(app, BOT_CHAT, "Xin chào");
    await app.dispatchers.get("zalo")?.drain();
    expect((await outboxDoc(app, fine))?.status).toBe("sent");
    for (const key of stuck) {
      const doc = await outboxDoc(app, key);
      expect(doc?.status).toBe("pending");
      expect(doc?.attempts).toBe(1);
      expect(doc?.lastError).toMatch(/no answer within 300 ms/);
    }
    // Zalo answers again: each waiting message goes out once.
    rig.fake.bot.hangChats.clear();
    rig.fake.oa.hangUsers.clear();
    await deliverAll(app);
    for (const key of stuck) expect((await outboxDoc(app, key))?.status).toBe("sent");
    expect(rig.fake.bot.sent.filter((m) => hung.includes(m.chatId))).toHaveLength(8);
    expect(rig.fake.oa.sent.filter((m) => m.userId === OA_USER)).toHaveLength(1);
  });

  it("maps the OA's codes: -32 waits a minute, -230 (outside the window) gives up as blocked", async () => {
    const { app, clock, rig } = await open();
    rig.fake.oa.scriptedSend.push({
      body: { error: -32, message: "Your application reached limit call api" },
    });
    const slow = await enqueue(app, `oa:${OA_USER}`, "Xin chào");
    await app.dispatchers.get("zalo")?.drain();
    expect((await outboxDoc(app, slow))?.status).toBe("pending");
    expect((await outboxDoc(app, slow))?.nextAttemptAt.getTime()).toBe(clock.now().getTime() + 60_000);

    rig.fake.oa.scriptedSend.push({
      body: { error: -230, message: "User has not interacted with the OA in the past 7 days" },
    });
    const late = await enqueue(app, "oa:4400000000000000001", "Thông báo");
    await app.dispatchers.get("zalo")?.drain();
    expect((await outboxDoc(app, late))?.status).toBe("dead");
    expect((await outboxDoc(app, late))?.lastError).toMatch(/^blocked: .*-230/);
  });

  it("refreshes a revoked OA token and sends once more", async () => {
    const { app, rig } = await open();
    rig.fake.oa.validAccessTokens.clear(); // revoked on Zalo's side before its expiry
    const key = await enqueue(app, `oa:${OA_USER}`, "Xin chào");
    await deliverAll(app);
    expect((await outboxDoc(app, key))?.status).toBe("sent");
    expect(rig.fake.oa.refreshCalls.filter((c) => c.accepted).length).toBeGreaterThanOrEqual(1);
    expect(rig.fake.oa.validAccessTokens.has(rig.fake.oa.sent.at(-1)?.accessToken ?? "")).toBe(true);
  });
});

describe("politeness: at most one message a second per chat", () => {
  it("refuses a second message to the same chat with the time left, never sleeping", async () => {
    const { clock, rig } = await open();
    const polite = new PoliteSender(
      new ZaloSender({
        bot: new ZaloBotApi({ token: rig.fake.bot.token, baseUrl: rig.fake.url }),
        log: silentLogger(),
      }),
      () => clock.now().getTime(),
    );
    const delivery = (chatId: string, text: string) => ({ chatId, text, choices: [], files: [] });
    await polite.send(delivery("c1", "một"));
    const refused = await polite.send(delivery("c1", "hai")).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SendError);
    expect((refused as SendError).kind).toBe("rate_limited");
    expect((refused as SendError).retryAfterMs).toBe(1000);
    await polite.send(delivery("c2", "người khác")); // another chat is not kept waiting
    clock.advance(400);
    expect(
      ((await polite.send(delivery("c1", "ba")).catch((e: unknown) => e)) as SendError).retryAfterMs,
    ).toBe(600);
    clock.advance(600);
    await polite.send(delivery("c1", "ba"));
    // A message sent in three parts counts as three.
    clock.advance(1000);
    await polite.send(delivery("c1", `${"a ".repeat(900)}\n\n${"b ".repeat(900)}\n\n${"c ".repeat(500)}`));
    expect(
      ((await polite.send(delivery("c1", "sau")).catch((e: unknown) => e)) as SendError).retryAfterMs,
    ).toBe(3000);
  });

  it("puts the second message back in the outbox without spending an attempt", async () => {
    const { app, clock, rig } = await open();
    const first = await enqueue(app, BOT_CHAT, "Tin thứ nhất");
    const second = await enqueue(app, BOT_CHAT, "Tin thứ hai");
    await app.dispatchers.get("zalo")?.drain();
    expect((await outboxDoc(app, first))?.status).toBe("sent");
    const waiting = await outboxDoc(app, second);
    expect(waiting?.status).toBe("pending");
    expect(waiting?.attempts).toBe(0);
    expect(waiting?.nextAttemptAt.getTime()).toBe(clock.now().getTime() + 1000);
    clock.advance(1000);
    await app.dispatchers.get("zalo")?.drain();
    expect((await outboxDoc(app, second))?.status).toBe("sent");
    expect(rig.fake.bot.sent.map((m) => m.text)).toEqual(["Tin thứ nhất", "Tin thứ hai"]);
  });
});
