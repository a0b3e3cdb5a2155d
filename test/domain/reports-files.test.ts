import { createHmac, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import ExcelJS from "exceljs";
import mongoose, { type Connection } from "mongoose";
import { describe, expect, inject, it } from "vitest";
import { App } from "../../src/app.js";
import { FixedClock } from "../../src/clock.js";
import { connectMongo } from "../../src/db/connect.js";
import { downloadRoute } from "../../src/domain/reports/download.js";
import {
  FileStore,
  FILES_PATH,
  KEEP_FILES_MS,
  type FileStoreOptions,
} from "../../src/domain/reports/files.js";
import { parsePeriod } from "../../src/domain/reports/period.js";
import type { ChannelSender } from "../../src/engine/channel.js";
import type { ChannelName } from "../../src/engine/message.js";
import { HttpServer } from "../../src/http.js";
import { silentLogger } from "../../src/log.js";
import { t } from "../../src/text/vi.js";
import { buildApp, ORG, TEST_SEALER, useDatabase, withTexts } from "../support/db.js";
import { buildFixture, IDENTITY, NOW, paragraphs, SECRET_CONTENT, TODAY, unzip } from "./reports-fixture.js";
import { startRig } from "../telegram/harness.js";

const db = useDatabase(import.meta.filename);

const q4 = () => {
  const result = parsePeriod("", TODAY);
  if (!("period" in result)) throw new Error("no period");
  return result.period;
};

describe("the report files", () => {
  it("writes a workbook with one filtered, frozen sheet each, and no personal data", async () => {
    const { app, clock } = await buildFixture(db.connection);
    const { xlsx, docx } = await app.reports.export(q4(), TODAY, clock.now());
    expect(xlsx.name).not.toBe(docx.name);
    expect(xlsx.ref).toBe(`report-file:${xlsx.name}`);

    const workbook = new ExcelJS.Workbook();
    const bytes = await app.reports.files.read(xlsx.name, clock.now());
    expect(bytes?.length).toBe(xlsx.size);
    // exceljs types its own Buffer; Node's is the same thing at run time.
    await workbook.xlsx.load(bytes as unknown as Parameters<typeof workbook.xlsx.load>[0]);
    expect(workbook.worksheets.map((s) => s.name)).toEqual(["Nhiệm vụ", "Báo cáo", "Phản ánh", "Mô hình"]);
    const rows: Record<string, number> = {};
    for (const sheet of workbook.worksheets) {
      rows[sheet.name] = sheet.rowCount - 1;
      expect(sheet.views[0]).toMatchObject({ state: "frozen", ySplit: 1 });
      const columns = sheet.getRow(1).cellCount;
      expect(sheet.autoFilter).toBe(`A1:${String.fromCharCode(64 + columns)}1`);
      expect(sheet.getRow(1).font?.bold).toBe(true);
    }
    // 7 (task, unit) pairs, the 12 reports made this quarter, 5 tickets, 3 models.
    expect(rows).toEqual({ "Nhiệm vụ": 7, "Báo cáo": 12, "Phản ánh": 5, "Mô hình": 3 });

    const tasks = workbook.getWorksheet("Nhiệm vụ");
    const late = tasks
      ?.getRows(2, 7)
      ?.find((r) => r.getCell(2).value === "II.3" && r.getCell(4).value === "Văn phòng Sở");
    expect(late?.getCell(7).value).toBe("Hoàn thành");
    expect(late?.getCell(11).value).toBe("Không"); // done 01/12, due 28/11
    expect((late?.getCell(5).value as Date).toISOString().slice(0, 10)).toBe("2025-11-28");
    expect(late?.getCell(5).numFmt).toBe("dd/mm/yyyy");

    const everything = workbook.worksheets
      .flatMap((sheet) => sheet.getSheetValues().flatMap((row) => (Array.isArray(row) ? row : [])))
      .map((value) => String(value ?? ""))
      .join("\n");
    expect(everything).toContain("Tố cáo");
    for (const secret of [
      IDENTITY.name,
      IDENTITY.phone,
      "912345678",
      IDENTITY.address,
      SECRET_CONTENT,
      "Rất tốt",
    ]) {
      expect(everything).not.toContain(secret);
    }
  });

  it("drafts a report in the layout of Nghị định 30/2020/NĐ-CP with the summary's numbers", async () => {
    const { app, clock } = await buildFixture(db.connection);
    const { docx } = await app.reports.export(q4(), TODAY, clock.now());
    const entries = unzip((await app.reports.files.read(docx.name, clock.now())) ?? Buffer.alloc(0));
    const xml = entries.get("word/document.xml")?.toString("utf8") ?? "";
    const lines = paragraphs(xml);
    expect(lines).toContain("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM");
    expect(lines).toContain("Độc lập - Tự do - Hạnh phúc");
    expect(lines).toContain("UBND TỈNH THỬ NGHIỆM");
    expect(lines).toContain("SỞ KHOA HỌC VÀ CÔNG NGHỆ");
    expect(lines).toContain("Số: …/BC-SKHCN");
    expect(lines).toContain("Thử Nghiệm, ngày 22 tháng 12 năm 2025");
    expect(lines).toContain("BÁO CÁO");
    expect(lines).toContain("Kết quả thực hiện công tác dân vận chính quyền quý IV năm 2025");
    const headings = [
      "I. CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO, TRIỂN KHAI THỰC HIỆN",
      "II. KẾT QUẢ THỰC HIỆN",
      "III. ĐÁNH GIÁ CHUNG",
      "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ KỲ TỚI",
      "V. ĐỀ XUẤT, KIẾN NGHỊ",
    ];
    expect(headings.map((h) => lines.indexOf(h))).toEqual(
      headings.map((h) => lines.indexOf(h)).sort((a, b) => a - b),
    );
    expect(headings.every((h) => lines.includes(h))).toBe(true);
    const text = lines.join("\n");
    expect(text).toContain("đã hoàn thành 3/7 lượt nhiệm vụ (đạt 43%), trong đó 2 lượt hoàn thành đúng hạn");
    expect(text).toContain("giải quyết đúng hạn 1/3 phản ánh, kiến nghị đã đến hạn (đạt 33,3%)");
    expect(text).toContain("thời gian xử lý bình quân 10,5 ngày");
    expect(text).toContain("Nơi nhận:");
    expect(text).toContain("GIÁM ĐỐC");
    expect(text).not.toContain(IDENTITY.name);
    // Times New Roman, 14 pt body (sizes are in half-points).
    const styles = entries.get("word/styles.xml")?.toString("utf8") ?? "";
    expect(styles).toMatch(/w:ascii="Times New Roman"/);
    expect(styles).toMatch(/<w:sz w:val="28"\/>/);
    expect(xml).toMatch(/w:ascii="Times New Roman"/);
  });

  it("draws the progress chart as a PNG of a sane size", async () => {
    const { app, clock } = await buildFixture(db.connection);
    const summary = await app.reports.summary(q4(), TODAY);
    const chart = await app.reports.chart(summary, clock.now());
    const png = (await app.reports.files.read(chart.name, clock.now())) ?? Buffer.alloc(0);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)];
    expect(width).toBe(1000);
    expect(height).toBeGreaterThan(200);
    expect(height).toBeLessThan(2000);
    expect(png.length).toBeGreaterThan(5_000);
  });
});

describe("download links", () => {
  const secret = "s".repeat(40);
  const sign = (name: string, expiry: number, key = secret) =>
    [
      Buffer.from(name).toString("base64url"),
      String(expiry),
      createHmac("sha256", key).update(`${name}\n${expiry}`).digest("base64url"),
    ].join(".");

  /** The file store one bot instance has, on the given connection to the test database. */
  const storeOn = (connection: Connection, options: Partial<FileStoreOptions> = {}) =>
    new FileStore({
      connection,
      secret,
      publicUrl: "https://bot.example.vn/",
      log: silentLogger(),
      ...options,
    });

  /** GET /files of one instance, as main.ts mounts it. */
  async function serve(store: FileStore, clock: FixedClock) {
    const log = silentLogger();
    const http = new HttpServer(log, async () => ({ ok: true, detail: {} }));
    http.route("GET", FILES_PATH, downloadRoute(store, clock, log));
    const port = await http.listen(0, "127.0.0.1");
    const get = (token: string) =>
      fetch(`http://127.0.0.1:${port}${FILES_PATH}?t=${encodeURIComponent(token)}`);
    return { get, close: () => http.close() };
  }

  const tokenOf = (link: string | undefined) => new URL(link ?? "").searchParams.get("t") ?? "";

  it("serves a file for a good token only: tampered, expired, forged and path-escaping links get 403", async () => {
    const clock = new FixedClock(NOW);
    const store = storeOn(db.connection);
    const bytes = Buffer.from("PK\u0003\u0004 nội dung thử");
    const file = await store.save("bao-cao-2025-Q4", "xlsx", clock.now(), bytes);
    expect(file.name).toMatch(/^bao-cao-2025-q4-20251222-0200-[0-9a-f]{8}\.xlsx$/);

    const http = await serve(store, clock);
    try {
      const link = store.link(file, clock.now());
      expect(link).toMatch(/^https:\/\/bot\.example\.vn\/files\?t=[\w-]+\.\d+\.[\w-]+$/);
      const token = tokenOf(link);

      const good = await http.get(token);
      expect(good.status).toBe(200);
      expect(good.headers.get("content-type")).toContain("spreadsheetml");
      expect(Buffer.from(await good.arrayBuffer())).toEqual(bytes);

      const [name, expiry, signature = ""] = token.split(".");
      const flipped = `${signature.slice(0, -2)}${signature.endsWith("AA") ? "BB" : "AA"}`;
      const later = Math.floor(clock.now().getTime() / 1000) + 3600;
      for (const forged of [
        `${name}.${expiry}.${flipped}`,
        `${name}.${Number(expiry) + 3600}.${signature}`,
        "",
        // The right name and a fresh expiry, signed with a secret that is not ours.
        sign(file.name, later, "k".repeat(40)),
      ]) {
        const refused = await http.get(forged);
        expect(refused.status).toBe(403);
        expect(await refused.text()).toBe(t.reports.linkInvalid);
      }

      // Signed with the real secret, still refused: not one of our names.
      for (const escape of [
        "../../etc/passwd",
        "..%2f..%2fetc%2fpasswd",
        `../x/${file.name}`,
        `${file.name}x`,
      ]) {
        const refused = await http.get(sign(escape, later));
        expect(refused.status).toBe(403);
        expect(await refused.text()).toContain("không hợp lệ hoặc đã hết hạn");
      }
      // A genuine link to a file already swept.
      const gone = await http.get(sign("bao-cao-2025-q4-20250101-0000-00000000.xlsx", later));
      expect(gone.status).toBe(404);
      expect(await gone.text()).toBe(t.reports.linkGone);

      clock.advance(73 * 3_600_000);
      expect((await http.get(token)).status).toBe(403);
    } finally {
      await http.close();
    }
  });

  it("serves on one instance the link another instance made: the file is in the database", async () => {
    const clock = new FixedClock(NOW);
    // Instance B: its own connection to the same database, its own HTTP server, no shared disk.
    const other = await connectMongo(inject("mongoUri"), db.connection.name);
    const a = storeOn(db.connection);
    const b = storeOn(other);
    const http = await serve(b, clock);
    try {
      const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), randomBytes(600_000)]);
      const chart = await a.save("tien-do-2025-q4", "png", clock.now(), png);
      const served = await http.get(tokenOf(a.link(chart, clock.now())));
      expect(served.status).toBe(200);
      expect(served.headers.get("content-type")).toBe("image/png");
      expect(Buffer.from(await served.arrayBuffer()).equals(png)).toBe(true);

      // An instance with another secret serves nothing of it.
      const stranger = await serve(storeOn(other, { secret: "z".repeat(40) }), clock);
      try {
        expect((await stranger.get(tokenOf(a.link(chart, clock.now())))).status).toBe(403);
      } finally {
        await stranger.close();
      }
    } finally {
      await http.close();
      await other.close();
    }
  });

  it("keeps a file until it expires; then no link serves it and the sweep removes it, and what a cut-off upload left", async () => {
    const clock = new FixedClock(NOW);
    const store = storeOn(db.connection, { keepMs: 3_600_000 });
    const files = db.connection.collection("report_files.files");
    const chunks = db.connection.collection("report_files.chunks");
    await files.deleteMany({});
    await chunks.deleteMany({});
    const http = await serve(store, clock);
    try {
      const first = await store.save("bao-cao", "docx", clock.now(), Buffer.from("một"));
      const link = store.link(first, clock.now());
      expect((await http.get(tokenOf(link))).status).toBe(200);
      clock.advance(3_600_000);
      // The link itself holds for 72 hours; the file does not: refused, and removed on the spot.
      const gone = await http.get(tokenOf(link));
      expect(gone.status).toBe(404);
      expect(await gone.text()).toBe(t.reports.linkGone);
      expect(await files.countDocuments({ filename: first.name })).toBe(0);
      expect(await chunks.countDocuments()).toBe(0);

      await store.save("bao-cao", "xlsx", clock.now(), Buffer.from("hai"));
      await store.save("tien-do", "png", clock.now(), Buffer.from("ba"));
      // Chunks without their file document: an upload cut off two days ago, and one in progress.
      const { ObjectId } = mongoose.mongo;
      const old = new ObjectId(ObjectId.generate(Math.floor(clock.now().getTime() / 1000) - 2 * 86_400));
      const fresh = new ObjectId(ObjectId.generate(Math.floor(clock.now().getTime() / 1000)));
      await chunks.insertMany([
        { files_id: old, n: 0, data: Buffer.from("cut") },
        { files_id: fresh, n: 0, data: Buffer.from("writing") },
      ]);
      expect(await store.sweep(clock.now())).toBe(0);
      expect(await chunks.countDocuments({ files_id: old })).toBe(0);
      expect(await chunks.countDocuments({ files_id: fresh })).toBe(1);
      expect(await files.countDocuments()).toBe(2);

      clock.advance(3_600_000);
      expect(await store.sweep(clock.now())).toBe(2);
      expect(await files.countDocuments()).toBe(0);
      expect(await chunks.countDocuments({ files_id: { $ne: fresh } })).toBe(0);

      // A writer that fails halfway leaves nothing behind.
      await expect(
        store.save("bao-cao", "xlsx", clock.now(), async (out) => {
          await new Promise<void>((resolve) => out.write(randomBytes(300_000), () => resolve()));
          throw new Error("the workbook could not be written");
        }),
      ).rejects.toThrow("could not be written");
      expect(await files.countDocuments()).toBe(0);
      expect(await chunks.countDocuments({ files_id: { $ne: fresh } })).toBe(0);
    } finally {
      await http.close();
    }
  });
});

describe("sending stored files", () => {
  /** A channel that uploads files from a path on its server, as Telegram's sender does. */
  function uploadingChannel() {
    const seen: { ref: string; existed: boolean; bytes: Buffer | undefined }[] = [];
    const sender: ChannelSender = {
      channel: "console",
      async send(delivery) {
        for (const file of delivery.files) {
          const existed = existsSync(file.ref);
          seen.push({ ref: file.ref, existed, bytes: existed ? readFileSync(file.ref) : undefined });
        }
        return { messageIds: [String(seen.length)] };
      },
    };
    return { sender, seen };
  }

  it("a chart made on one instance is uploaded by another's channel, from a copy gone after the send", async () => {
    const { app, clock } = await buildFixture(db.connection);
    const other = await connectMongo(inject("mongoUri"), db.connection.name);
    try {
      const b = new App({
        connection: other,
        clock,
        log: silentLogger(),
        orgName: ORG,
        timeZone: "Asia/Ho_Chi_Minh",
        sealer: TEST_SEALER,
      });
      const { sender, seen } = uploadingChannel();
      const dispatcher = b.addChannel(sender);
      await app.engine.handle({
        channel: "console",
        chatId: "office",
        chatType: "private",
        senderId: "office",
        messageId: "1",
        text: "/tonghop",
        attachments: [],
        dedupeKey: "files:two-instances:1",
        receivedAt: clock.now(),
      });
      await dispatcher.drain(Date.now() + 10_000);
      const [doc] = await app.models.Outbox.find({ dedupeKey: /^files:two-instances:1#/ }).lean();
      expect(doc?.status).toBe("sent");
      expect(doc?.files[0]?.ref).toMatch(/^report-file:tien-do-2025-q4-[\w-]+\.png$/);
      expect(seen).toHaveLength(1);
      expect(seen[0]?.existed).toBe(true);
      expect(seen[0]?.bytes?.subarray(0, 4)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
      // Nothing the bot keeps is on this server's disk.
      expect(existsSync(seen[0]?.ref ?? "")).toBe(false);
    } finally {
      await other.close();
    }
  });

  it("Telegram uploads a report made on another instance, read from the database", async () => {
    const clock = new FixedClock(NOW);
    const made = new FileStore({ connection: db.connection, log: silentLogger() });
    const bytes = Buffer.concat([Buffer.from("PK\u0003\u0004"), randomBytes(400_000)]);
    const xlsx = await made.save("bao-cao-2025-q4", "xlsx", clock.now(), bytes);
    const other = await connectMongo(inject("mongoUri"), db.connection.name);
    const sender = new App({
      connection: other,
      clock,
      log: silentLogger(),
      orgName: ORG,
      timeZone: "Asia/Ho_Chi_Minh",
      sealer: TEST_SEALER,
    });
    const rig = await startRig(sender);
    try {
      await sender.outbox.enqueue([
        {
          to: { channel: "telegram", chatId: "4001" },
          text: t.reports.exportDone("quý IV năm 2025"),
          files: [{ kind: "document", ref: xlsx.ref, name: "Số liệu quý IV năm 2025.xlsx" }],
          dedupeKey: "files:telegram:1",
        },
      ]);
      await rig.deliver();
      const [upload] = rig.fake.callsOf("sendDocument");
      expect(upload?.files).toEqual([expect.objectContaining({ size: bytes.length })]);
      const doc = await sender.models.Outbox.findOne({ dedupeKey: "files:telegram:1" }).lean();
      expect(doc?.status).toBe("sent");
    } finally {
      await rig.stop();
      await other.close();
    }
  });

  it("gives up a message whose file has expired instead of retrying it", async () => {
    const { app, clock } = await buildFixture(db.connection);
    const { sender, seen } = uploadingChannel();
    const dispatcher = app.addChannel(sender);
    const chart = await app.reports.files.save("tien-do", "png", clock.now(), Buffer.from("png"));
    clock.advance(KEEP_FILES_MS);
    await app.outbox.enqueue([
      {
        to: { channel: "console", chatId: "office" },
        text: "Biểu đồ",
        files: [{ kind: "photo", ref: chart.ref }],
        dedupeKey: "files:expired:1",
      },
    ]);
    await dispatcher.drain(Date.now() + 10_000);
    const doc = await app.models.Outbox.findOne({ dedupeKey: "files:expired:1" }).lean();
    expect(doc?.status).toBe("dead");
    expect(seen).toEqual([]);
  });
});

describe("/tonghop and /xuatbaocao in a chat", () => {
  async function chatApp(publicUrl?: string) {
    const { clock } = await buildFixture(db.connection);
    // The same database, seen by an app that knows the public address (or not).
    const { app: chat } = await buildApp(db.connection, clock, {
      reports: { publicUrl, linkSecret: "x".repeat(32) },
    });
    let n = 0;
    const say = async (channel: ChannelName, id: string, text: string) => {
      n += 1;
      await chat.engine.handle({
        channel,
        chatId: id,
        chatType: "private",
        senderId: id,
        messageId: String(n),
        text,
        attachments: [],
        dedupeKey: `reports:${channel}:${id}:${n}`,
        receivedAt: clock.now(),
      });
      const docs = await chat.models.Outbox.find({ dedupeKey: new RegExp(`^reports:${channel}:${id}:${n}#`) })
        .sort({ createdAt: 1, dedupeKey: 1 })
        .lean();
      return withTexts(chat, docs);
    };
    return { app: chat, clock, say };
  }

  it("refuses citizens and staff the summary and the files, and shows a unit its own statistics", async () => {
    const { app, clock, say } = await chatApp();
    await app.people.ensurePerson("console", "leader", { role: "leader", name: "Lãnh đạo" }, clock.now());
    for (const [id, command] of [
      ["citizen", "/tonghop"],
      ["citizen", "/xuatbaocao quý 4"],
      ["staff", "/tonghop"],
      ["staff", "/xuatbaocao"],
      ["citizen", "/phananh thongke"],
      ["citizen", "/mohinh thongke"],
      ["leader", "/phananh thongke"],
    ] as const) {
      const out = await say("console", id, command);
      expect(out.map((o) => o.text).join("\n"), `${id} ${command}`).toContain("không được dùng lệnh");
      expect(out.flatMap((o) => o.files)).toEqual([]);
    }
    const own = await say("console", "staff", "/phananh thongke");
    expect(own[0]?.text).toContain(
      "Thống kê phản ánh, kiến nghị quý IV năm 2025 — Phòng Kế hoạch – Tài chính",
    );
    expect(own[0]?.text).toContain("Tổng số đã tiếp nhận: 2.");
    expect(own[0]?.text).not.toContain("Theo đơn vị xử lý");
    const models = await say("console", "staff", "/mohinh thong ke 2025");
    expect(models[0]?.text).toContain("Tổng số mô hình đã đăng ký: 2");
    const leaderModels = await say("console", "leader", "/mohinh thongke");
    // No plan the fixture imports sets a registration deadline, so none is late.
    // No registration deadline in these plans: nothing is late, and "muộn: 0" is not said.
    expect(leaderModels[0]?.text).toContain("Tổng số mô hình đã đăng ký: 3.");
  });

  it("sends the summary with its chart, and the files as documents after a progress note", async () => {
    const { app, clock, say } = await chatApp();
    const [summary] = await say("console", "office", "/tonghop");
    expect(summary?.text).toContain("Tổng hợp kết quả thực hiện kế hoạch quý IV năm 2025");
    expect(summary?.files).toHaveLength(1);
    expect(summary?.files[0]).toMatchObject({ kind: "photo", name: "Biểu đồ tiến độ quý IV năm 2025" });
    const stored = (ref = "") => app.reports.files.read(app.reports.files.nameOf(ref) ?? "", clock.now());
    expect(await stored(summary?.files[0]?.ref)).toBeDefined();

    const out = await say("console", "office", "/xuatbaocao quý 4");
    expect(out.map((o) => o.dedupeKey.split("#")[1])).toEqual(["progress", "r1"]);
    expect(out[0]?.text).toContain("Đang tạo báo cáo quý IV năm 2025");
    expect(out[1]?.files.map((f) => [f.kind, f.name, path.extname(f.ref)])).toEqual([
      ["document", "Số liệu quý IV năm 2025.xlsx", ".xlsx"],
      ["document", "Dự thảo báo cáo quý IV năm 2025.docx", ".docx"],
    ]);
    for (const file of out[1]?.files ?? []) expect(await stored(file.ref)).toBeDefined();

    expect((await say("console", "office", "/tonghop quý 1 2030"))[0]?.text).toContain("chưa bắt đầu");
    expect((await say("console", "office", "/tonghop quý 3"))[0]?.text).toContain("Không có kế hoạch nào");
  });

  it("on Zalo, sends links (signed, expiring) or says politely where to get the files", async () => {
    const { app, clock, say } = await chatApp("https://bot.example.vn");
    await app.people.ensurePerson("zalo", "z-office", { role: "office", name: "Văn phòng" }, clock.now());
    const [summary] = await say("zalo", "z-office", "/tonghop");
    expect(summary?.files[0]?.ref).toMatch(/^https:\/\/bot\.example\.vn\/files\?t=/);
    const out = await say("zalo", "z-office", "/xuatbaocao");
    expect(out[1]?.files).toEqual([]);
    expect(out[1]?.text).toMatch(
      /Số liệu \(Excel\): https:\/\/bot\.example\.vn\/files\?t=[\w-]+\.\d+\.[\w-]+\n/,
    );
    const token = /files\?t=(\S+)/.exec(out[1]?.text ?? "")?.[1] ?? "";
    expect(app.reports.files.verify(token, clock.now())).toMatch(/\.xlsx$/);

    const { app: noUrl, clock: clock2, say: say2 } = await chatApp();
    await noUrl.people.ensurePerson("zalo", "z-office", { role: "office", name: "Văn phòng" }, clock2.now());
    const [text] = await say2("zalo", "z-office", "/xuatbaocao");
    expect(text?.text).toContain("gõ /xuatbaocao trên Telegram");
    const [plain] = await say2("zalo", "z-office", "/tonghop");
    expect(plain?.files).toEqual([]);
  });
});
