import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import ExcelJS from "exceljs";
import mongoose from "mongoose";
import { describe, expect, it } from "vitest";
import { uploadRoute } from "../../src/domain/plans/upload-link.js";
import type { Inbound } from "../../src/engine/message.js";
import { silentLogger } from "../../src/log.js";
import { seedDemoPeople } from "../../src/seed.js";
import { buildApp, TEST_SEALER, useDatabase, withTexts } from "../support/db.js";
import { consoleInbound } from "../support/inbound.js";

/** The Office's officials sheet, loaded in the chat: one invite per row, whatever happens to the turn. */
const db = useDatabase(import.meta.filename);
const fixture = (name: string) => `test/fixtures/plans/${name}`;

const LINKS = { publicUrl: "https://bot.example.vn", linkSecret: "test-file-link-secret-0123456789abcdef" };

async function setup() {
  await db.connection.dropDatabase();
  const { app, clock } = await buildApp(db.connection, undefined, { reports: LINKS });
  await seedDemoPeople(app, clock.now());
  // Console "documents" are files on this machine, as in transcripts.
  app.attachmentReaders.set("console", (ref) => readFile(ref));
  const said = async (update: Inbound) =>
    withTexts(
      app,
      await app.models.Outbox.find({ dedupeKey: { $regex: `^${update.dedupeKey}#` } })
        .sort({ _id: 1 })
        .lean(),
    ).map((m) => m.text);
  return { app, clock, said };
}

/** A document with its binary data (GridFS chunks) as the bytes' text, as a dump shows them. */
function asText(value: unknown): unknown {
  if (value instanceof mongoose.mongo.Binary) return Buffer.from(value.buffer).toString("latin1");
  if (Array.isArray(value)) return value.map(asText);
  if (value && typeof value === "object" && value.constructor === Object)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asText(v)]));
  return value;
}

const sheet = (name = "can-bo.xlsx") => {
  const ref = fixture(name);
  return consoleInbound("office", "", {
    attachments: [{ kind: "document", ref, name, size: readFileSync(ref).length }],
  });
};

describe("officials from an Excel sheet", () => {
  it("«Nạp» replayed after a crash makes no second batch of invites and lists the same codes", async () => {
    const { app, clock, said } = await setup();
    const chat = "console:office:office";
    await app.engine.handle(sheet());
    const { state: before, seq, stateId } = await app.sessions.read(chat, clock.now());
    expect(before?.flow).toBe("taikehoach");

    const load = consoleInbound("office", "Nạp");
    await app.engine.handle(load);
    const first = await said(load);
    expect(first.join("\n")).toContain("Đã tạo 2 mã mời");
    expect(await app.models.Invite.countDocuments()).toBe(2);

    // The crash: the invites were made, then the process died before the replies were written.
    // The update is left as it was recorded (its start state sealed with it), its claim lapsed.
    // (The marks this process holds are written first, or they would overwrite it.)
    await app.engine.idle();
    await app.models.Outbox.deleteMany({ dedupeKey: { $regex: `^${load.dedupeKey}#` } });
    await app.models.InboundRecord.updateOne(
      { dedupeKey: load.dedupeKey },
      {
        $set: {
          status: "received",
          claimedUntil: new Date(0),
          sealed: TEST_SEALER.seal(JSON.stringify({ inbound: load, session: before, seq, stateId })),
        },
      },
    );
    clock.advance(61_000);
    expect(await app.engine.recoverAbandoned()).toBe(1);

    expect(await app.models.Invite.countDocuments()).toBe(2);
    const replayed = await said(load);
    expect(replayed).toEqual(first);
    // And the codes listed are the invites that exist: each joins its person.
    const codes = [...replayed.join("\n").matchAll(/mã ([A-Z0-9]{8})\b/g)].map((m) => m[1] ?? "");
    expect(codes).toHaveLength(2);
    const mai = consoleInbound("mai", `/start ${codes[0]}`);
    await app.engine.handle(mai);
    expect((await said(mai)).join("\n")).toContain("Phòng Chuyển đổi số");
  });

  it("keeps no readable name from an officials sheet sent by the upload link: the file goes once previewed", async () => {
    const { app, clock } = await setup();
    await app.people.ensureAdmin("zalo", "8000000001", "Văn phòng thử", clock.now());
    // A sheet whose names sit in the file as typed: stored without compression (a zip may be), so
    // a name kept anywhere in the database, even in GridFS chunks, shows in a dump.
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(readFileSync(fixture("can-bo.xlsx")) as unknown as ArrayBuffer);
    const people = workbook.worksheets[0];
    if (!people) throw new Error("the officials fixture has no sheet");
    people.getCell("A2").value = "Trần Thị KQZUPLOAD";
    const bytes = Buffer.from(await workbook.xlsx.writeBuffer({ zip: { compression: "STORE" } }));
    expect(bytes.toString("latin1")).toContain("KQZUPLOAD");

    await app.engine.handle(consoleInbound("8000000001", "/taikehoach", { channel: "zalo" }));
    const [page] = withTexts(app, await app.models.Outbox.find({ chatId: "8000000001" }).lean());
    const link = /https:\/\/bot\.example\.vn(\/tai-len\?t=\S+)/.exec(page?.text ?? "")?.[1] ?? "";
    const form = new FormData();
    form.append("tep", new Blob([bytes]), "danh-sach-can-bo.xlsx");
    const request = new Request(`http://localhost${link}`, { method: "POST", body: form });
    let status = 0;
    await uploadRoute(
      app.reports.files,
      app.engine,
      clock,
      silentLogger(),
      app.sealer,
    )(
      { url: link, method: "POST", headers: { "content-type": request.headers.get("content-type") ?? "" } },
      { writeHead: (code: number) => (status = code), end: () => undefined },
      Buffer.from(await request.arrayBuffer()),
    );
    expect(status).toBe(200);
    const said = withTexts(
      app,
      await app.models.Outbox.find({ chatId: "8000000001" }).sort({ _id: 1 }).lean(),
    );
    expect(said.at(-1)?.text).toContain("XEM TRƯỚC: tạo 2 mã mời");

    // Every collection dumped, binary data (GridFS chunks) as bytes: the name is nowhere.
    const found: string[] = [];
    for (const { name } of await db.connection.listCollections()) {
      const docs = await db.connection.collection(name).find({}).toArray();
      const dump = JSON.stringify(docs.map(asText));
      if (dump.includes("KQZUPLOAD")) found.push(name);
    }
    expect(found).toEqual([]);
    expect(
      await db.connection.collection("report_files.files").countDocuments({ filename: /^tep-tai-len/ }),
    ).toBe(0);

    // The preview kept in the (sealed) session is all «Nạp» needs.
    await app.engine.handle(consoleInbound("8000000001", "1", { channel: "zalo" }));
    expect((await app.models.Outbox.find({ chatId: "8000000001" }).sort({ _id: 1 }).lean()).length).toBe(
      said.length + 1,
    );
    expect(await app.models.Invite.countDocuments()).toBe(2);
  });

  it("gives each invite a Telegram link that starts the bot with its code, once the bot's name is known", async () => {
    const { app, said } = await setup();
    app.botNames.set("telegram", "SoKHCN_test_bot");
    await app.engine.handle(sheet());
    const load = consoleInbound("office", "Nạp");
    await app.engine.handle(load);
    const lines = (await said(load))
      .join("\n")
      .split("\n")
      .filter((line) => line.startsWith("• "));
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      const code = /mã ([A-Z0-9]{8})\b/.exec(line)?.[1];
      expect(line).toContain(`/start ${code}`);
      expect(line).toContain(`https://t.me/SoKHCN_test_bot?start=${code}`);
    }
  });
});
