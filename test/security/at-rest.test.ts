import { readdirSync } from "node:fs";
import { Types } from "mongoose";
import { describe, expect, it } from "vitest";
import type { App } from "../../src/app.js";
import { oaTokenModel, OaTokens } from "../../bots/zalo/oa-tokens.js";
import { FixedClock } from "../../src/clock.js";
import type { Attachment, Inbound } from "../../src/engine/message.js";
import { silentLogger } from "../../src/log.js";
import { rotateKeys } from "../../src/cli/rotate.js";
import { seedDemoPeople } from "../../src/seed.js";
import { fold } from "../../src/text/normalize.js";
import { t } from "../../src/text/vi.js";
import { consoleInbound } from "../support/inbound.js";
import { buildApp, readableAtRest, useOwnServer, withTexts } from "../support/db.js";

/**
 * What a citizen typed or is known by, each with a token found nowhere else: after a whole
 * journey none of it may be readable in any collection, nor in the database's own files.
 */
const CANARY = {
  displayName: "KQZDISPLAY Lê Thị Hiển Thị",
  officialName: "KQZOFFICIAL Đỗ Văn Mới",
  content: "KQZCONTENT Ông Trần Văn Bị Tố đòi tiền ngoài quy định khi nhận hồ sơ.",
  fileName: "KQZFILENAME-bien-ban.pdf",
  fileRef: "KQZFILEREF-telegram-file-id",
  caption: "KQZCAPTION Ảnh chụp biên lai thu tiền của ông Trần Văn Bị Tố.",
  photoRef: "https://photo-stal.zadn.vn/KQZPHOTOREF/bien-lai.jpg",
  identityName: "KQZIDNAME Nguyễn Văn Người Gửi",
  address: "KQZADDRESS 12 Lê Lợi, phường Trung Dũng",
  phone: "0911222333",
  comment: "KQZCOMMENT Cảm ơn chị Lan ở bộ phận một cửa.",
};

/** A server of this test's own, so its SQLite files (and WAL) hold only this test's database. */
const db = useOwnServer(import.meta.filename);

/** Says `text` (or presses `choice`) as console person `id`; the texts of the replies to `id`. */
async function say(app: App, id: string, text: string, extra: Partial<Inbound> = {}): Promise<string[]> {
  const inbound = consoleInbound(id, text, { receivedAt: app.engine.services.clock.now(), ...extra });
  await app.engine.handle(inbound);
  const escaped = inbound.dedupeKey.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const docs = await app.models.Outbox.find({ dedupeKey: { $regex: `^${escaped}#` }, chatId: id })
    .sort({ _id: 1 })
    .lean();
  return withTexts(app, docs).map((d) => d.text);
}

/**
 * Walks /gopy to the end, answering each question by what it asks rather than by its position:
 * the flow's steps may be reordered without this test losing its point.
 */
async function fileFeedback(app: App, citizen: Partial<Inbound>): Promise<string> {
  const file: Attachment = { kind: "document", ref: CANARY.fileRef, name: CANARY.fileName };
  let replies = await say(app, "dan", "/gopy", citizen);
  let filesSent = false;
  for (let turn = 0; turn < 20; turn += 1) {
    const last = replies.at(-1) ?? "";
    const code = /PA-\d{4}-\d{6}/.exec(replies.join("\n"))?.[0];
    if (last.includes("Mã tra cứu") && code) return code;
    const answer = (text: string, extra: Partial<Inbound> = {}) =>
      say(app, "dan", text, { ...citizen, ...extra });
    if (last.includes(t.feedback.askType)) replies = await answer("phan anh");
    else if (last.includes(t.feedback.askField)) replies = await answer("khac");
    else if (last.includes(t.feedback.askContent("phản ánh").slice(0, 20)))
      replies = await answer(CANARY.content);
    else if (
      !filesSent &&
      (last.includes(t.feedback.askFiles) || last.includes(t.feedback.filesCount(0).slice(0, 8)))
    ) {
      filesSent = true;
      replies = await answer(CANARY.caption, { attachments: [file] });
    } else if (last.includes(t.feedback.askFiles) || last.includes(t.feedback.filesCount(1)))
      replies = await answer("xong");
    else if (last.includes(t.feedback.askIdentify)) replies = await answer(t.feedback.giveContact);
    else if (last.includes(t.feedback.askName)) replies = await answer(CANARY.identityName);
    else if (last.includes(t.feedback.askAddress)) replies = await answer(CANARY.address);
    else if (last.includes(t.feedback.askPhone) || last.includes(t.feedback.askPhoneRequired))
      replies = await answer(CANARY.phone);
    else if (/đồng ý/i.test(last)) replies = await answer("Đồng ý");
    else if (last.includes(t.feedback.send)) replies = await answer(t.feedback.send);
    else throw new Error(`/gopy asked something this test does not know: ${last}`);
  }
  throw new Error("/gopy did not end");
}

/**
 * Every canary that must not be readable, whole, folded (as a search key would keep it) and by its
 * distinctive ASCII token, in lower case: the dumps are searched in lower case.
 */
function needles(extra: string[]): string[] {
  const tokens = Object.values(CANARY).flatMap((value) => [
    value,
    fold(value),
    /KQZ[A-Z]+/.exec(value)?.[0] ?? value,
  ]);
  return [...new Set([...tokens, CANARY.phone.slice(1), ...extra].map((s) => s.toLowerCase()))];
}

describe("personal data at rest", () => {
  it("leaves nothing a citizen typed or is known by readable in any collection or database file", async () => {
    const clock = new FixedClock("2025-10-06T02:00:00Z");
    const { app } = await buildApp(db.connection, clock);
    await seedDemoPeople(app, clock.now());
    const citizen = { senderName: CANARY.displayName };

    const code = await fileFeedback(app, citizen);
    // The Office reads the ticket (and the filer's identity, which is audited under its name),
    // asks for more, the citizen answers with a captioned picture, the Office answers, the
    // citizen rates it with a comment.
    await say(app, "office", `/xuly ${code}`);
    await say(app, "office", "", { choice: "ask" });
    await say(app, "office", "Xin gửi thêm ảnh biên lai.");
    await say(app, "dan", CANARY.caption, {
      ...citizen,
      attachments: [{ kind: "photo", ref: CANARY.photoRef }],
    });
    await say(app, "office", `/xuly ${code}`);
    await say(app, "office", "", { choice: "answer" });
    await say(app, "office", "Sở đã kiểm tra và xử lý cán bộ vi phạm.");
    await say(app, "dan", `/danhgia ${code}`, citizen);
    await say(app, "dan", "", { ...citizen, choice: "5" });
    await say(app, "dan", CANARY.comment, citizen);
    const ticket = await app.feedback.byCode(code);
    expect(ticket?.status).toBe("closed");
    expect(ticket?.content).toContain(CANARY.content);
    expect(ticket?.rating?.comment).toBe(CANARY.comment);
    expect(ticket?.history.map((h) => h.note)).toContain(CANARY.caption);

    // An invite for a new official, and a link code joining the citizen's second account.
    await say(app, "office", "/moi");
    await say(app, "office", "", { choice: "ke-hoach-tai-chinh" });
    const invited = (await say(app, "office", "", { choice: "staff" })).join("\n");
    const invite = /\/start ([A-Z0-9]{8})/.exec(invited)?.[1];
    expect(invite, invited).toBeDefined();
    const joined = await say(app, "canbo", `/start ${invite}`, { senderName: CANARY.officialName });
    expect(joined.join("\n")).toContain("Chào mừng");
    const linkReply = (await say(app, "dan", "/lienket", citizen)).join("\n");
    const link = /\/lienket ([A-Z0-9]{8})/.exec(linkReply)?.[1];
    expect(link, linkReply).toBeDefined();
    expect((await say(app, "dan-zalo", `/lienket ${link}`, citizen)).join("\n")).toBe(t.basics.linked);

    // Everything still reads for those who may read it.
    const person = (await app.people.search("KQZOFFICIAL"))[0];
    expect(person?.name).toBe(CANARY.officialName);
    expect((await app.feedback.audit.ofTicket(code)).map((a) => a.personName)).toContain(
      (await app.people.search("KQZDISPLAY"))[0]?.name,
    );

    // The Official Account's tokens, as the channel stores them at its start.
    const oaTokens = {
      accessToken: "KQZACCESSTOKEN-at-0123456789",
      refreshToken: "KQZREFRESHTOKEN-rt-0123456789",
    };
    await new OaTokens({
      appId: "1234567890",
      seed: oaTokens,
      refresh: () => Promise.reject(new Error("not in this test")),
      onRefreshFailed: async () => undefined,
      model: oaTokenModel(db.connection),
      sealer: app.sealer,
      claims: app.claims,
      clock,
      log: silentLogger(),
    }).init();

    const secrets = needles([invite ?? "", link ?? "", oaTokens.accessToken, oaTokens.refreshToken]);
    const found = await readableAtRest(db.connection, db.dir, secrets);
    expect(found.collections).toEqual([]);

    // The files on disk, read while the server runs (stopping checkpoints SQLite's write-ahead
    // log into the main file and removes it): the main file and the log, or mongod's files.
    const files = readdirSync(db.dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
    expect(
      files.map((f) => f.name).some((name) => name.endsWith(".sqlite-wal") || name.endsWith(".wt")),
    ).toBe(true);
    expect(found.files).toEqual([]);
  });

  it("reads what earlier versions stored in the clear, and keys:rotate seals it", async () => {
    await db.connection.dropDatabase();
    const clock = new FixedClock("2025-10-06T02:00:00Z");
    const { app } = await buildApp(db.connection, clock);
    await seedDemoPeople(app, clock.now());
    const office = (await app.people.list({ role: "office" }))[0];
    if (!office) throw new Error("no office");
    const personId = new Types.ObjectId();
    const now = clock.now();
    const OLD = {
      name: "KQZOLDNAME Bùi Thị Cũ",
      content: "KQZOLDCONTENT Đèn đường trước cổng Sở hỏng đã lâu.",
      file: "KQZOLDFILE.pdf",
      note: "KQZOLDNOTE Ảnh chụp đèn hỏng.",
      comment: "KQZOLDCOMMENT Rất nhanh.",
      answer: "KQZOLDANSWER Sở đã báo Công ty điện lực.",
    };
    await app.models.Person.collection.insertOne({
      _id: personId,
      ref: "OLD001",
      name: OLD.name,
      nameKey: fold(OLD.name),
      role: "citizen",
      active: true,
      createdAt: now,
      updatedAt: now,
    });
    await app.models.ChannelAccount.collection.insertOne({
      channel: "console",
      externalId: "old-citizen",
      personId,
      chatId: "old-citizen",
      displayName: OLD.name,
      lastSeenAt: now,
      createdAt: now,
      updatedAt: now,
    });
    const code = "PA-2025-000777";
    await app.models.Ticket.collection.insertOne({
      code,
      type: "phan_anh",
      field: "khac",
      content: OLD.content,
      attachments: [{ kind: "document", ref: "old-file-id", name: OLD.file }],
      status: "closed",
      receivedAt: now,
      receivedDay: "2025-10-06",
      dueDay: "2025-10-20",
      extensions: 0,
      filer: { personId, channel: "console", chatId: "old-citizen" },
      answer: { text: OLD.answer, at: now, byName: "Văn phòng" },
      rating: { score: 5, comment: OLD.comment, at: now },
      history: [
        { at: now, action: "filed", byPersonId: personId },
        { at: now, action: "citizen_info", byPersonId: personId, note: OLD.note },
      ],
      idempotencyKey: "old:1",
      contentKey: "0".repeat(64),
    });
    await app.models.Audit.collection.insertOne({
      at: now,
      personId,
      personName: OLD.name,
      role: "citizen",
      action: "write",
      ticketCode: code,
      fields: ["name"],
    });
    const inviteCode = "OLDINV23";
    await app.models.Invite.collection.insertOne({
      code: inviteCode,
      unitKey: "van-phong",
      role: "staff",
      createdBy: new Types.ObjectId(office._id),
      createdAt: now,
      expiresAt: new Date(now.getTime() + 86_400_000),
    });
    const linkCode = "OLDLNK23";
    await app.models.LinkCode.collection.insertOne({
      code: linkCode,
      personId,
      expiresAt: new Date(now.getTime() + 600_000),
    });

    // Read as they are.
    const read = async () => {
      const ticket = await app.feedback.byCode(code);
      expect(ticket?.content).toBe(OLD.content);
      expect(ticket?.attachments[0]?.name).toBe(OLD.file);
      expect(ticket?.history.map((h) => h.note)).toContain(OLD.note);
      expect(ticket?.rating?.comment).toBe(OLD.comment);
      expect(ticket?.answer?.text).toBe(OLD.answer);
      expect((await app.feedback.audit.ofTicket(code))[0]?.personName).toBe(OLD.name);
      expect((await app.people.accountsOf(personId.toString()))[0]?.displayName).toBe(OLD.name);
      expect((await app.people.search("thi cu")).map((p) => p.name)).toEqual([OLD.name]);
    };
    await read();

    const secrets = [...Object.values(OLD), fold(OLD.name), inviteCode, linkCode].map((s) => s.toLowerCase());
    const readable = async () => (await readableAtRest(db.connection, db.dir, secrets)).collections;
    expect((await readable()).length).toBeGreaterThan(0);

    // What keys:rotate runs: one ticket; the person, the account and the link code; the invite;
    // the audit entry, and those the seed wrote.
    const rotation = await rotateKeys(app, db.connection, now);
    expect(rotation).toMatchObject({ tickets: 1, notCompacted: [] });
    expect(rotation.people).toBeGreaterThanOrEqual(5);
    expect(await readable()).toEqual([]);
    // Nor in the database's files: the values the updates replaced are compacted away (without
    // the compaction, the write-ahead log still held the name, the file name, the comment and the
    // codes).
    expect((await readableAtRest(db.connection, db.dir, secrets)).files).toEqual([]);
    await read();
    // The name is found by its hashed words now, the codes by their hashes.
    expect((await app.people.search("bui cu")).map((p) => p.name)).toEqual([OLD.name]);
    const joiner = await app.people.resolveSpeaker({
      channel: "console",
      senderId: "old-official",
      chatId: "old-official",
      chatType: "private",
      now,
    });
    expect((await app.invites.redeem(inviteCode, joiner, now)).kind).toBe("ok");
    const other = await app.people.resolveSpeaker({
      channel: "console",
      senderId: "old-zalo",
      chatId: "old-zalo",
      chatType: "private",
      now,
    });
    expect(await app.people.redeemLinkCode(linkCode.toLowerCase(), other, now, "test:redeem")).toBe("linked");
    expect(await readable()).toEqual([]);
  });
});
