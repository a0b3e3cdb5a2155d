import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import ExcelJS from "exceljs";
import { Api } from "grammy";
import { describe, expect, it } from "vitest";
import { telegramFileReader } from "../../bots/telegram/download.js";
import { loadedPlan, planChanges } from "../../src/domain/plans/plan-changes.js";
import { UPLOAD_PATH, uploadRoute } from "../../src/domain/plans/upload-link.js";
import { HttpServer } from "../../src/http.js";
import { silentLogger } from "../../src/log.js";
import { readPlanWorkbook } from "../../src/domain/plans/plan-xlsx.js";
import { seedDemoPeople } from "../../src/seed.js";
import { buildApp, useDatabase, withTexts } from "../support/db.js";
import { consoleInbound } from "../support/inbound.js";

const db = useDatabase(import.meta.filename);
const fixture = (name: string) => readFileSync(`test/fixtures/plans/${name}`);

describe("loading a plan from Excel", () => {
  it("is idempotent, updates in place, closes a dropped task and keeps its reports", async () => {
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection);
    await seedDemoPeople(app, clock.now());
    const known = (await app.units.list()).map((u) => ({ key: u.key, name: u.name }));
    const { plan } = await readPlanWorkbook(fixture("ke-hoach-2026.xlsx"), known);
    await app.plans.importPlan(plan, "ke-hoach-2026.xlsx", clock.now());
    const tasks = () => app.models.Task.find({ planCode: "TN-2026" }).sort({ order: 1 }).lean();
    const first = await tasks();

    // The same file again: nothing to change, and loading it anyway changes no task.
    expect(planChanges(plan, await loadedPlan(app.models, "TN-2026"))).toMatchObject({
      isNew: false,
      added: [],
      updated: [],
      closed: [],
      unchanged: 4,
    });
    await app.plans.importPlan(plan, "ke-hoach-2026.xlsx", clock.now());
    expect(await tasks()).toEqual(first);

    const dropped = first.find((task) => task.code === "II.3");
    const [person] = await app.people.list({ role: "staff" });
    if (!dropped || !person) throw new Error("the plan or the demo people are missing");
    await app.plans.addReport({
      idempotencyKey: "test:II.3",
      task: dropped,
      unitKey: "van-phong",
      personId: person._id.toString(),
      personName: "Cán bộ thử nghiệm",
      channel: "console",
      status: "in_progress",
      percent: 50,
      note: "Đã đăng ký một mô hình",
      attachments: [],
      source: "flow",
      now: clock.now(),
      today: "2026-01-05",
    });

    const edited = (await readPlanWorkbook(fixture("ke-hoach-2026-sua.xlsx"), known)).plan;
    expect(planChanges(edited, await loadedPlan(app.models, "TN-2026"))).toMatchObject({
      added: ["II.4"],
      updated: ["II.2"],
      closed: ["II.3"],
      unchanged: 2,
    });
    const result = await app.plans.importPlan(edited, "ke-hoach-2026-sua.xlsx", clock.now());
    expect(result).toEqual({ created: false, tasks: 4, archived: 1 });
    const after = new Map((await tasks()).map((task) => [task.code, task]));
    expect(after.get("II.2")?._id).toEqual(first.find((task) => task.code === "II.2")?._id);
    expect(after.get("II.2")?.deadline).toBe("2026-10-31");
    expect(after.get("II.3")?.archived).toBe(true);
    expect(await app.plans.reportsOf("TN-2026:II.3")).toHaveLength(1);
    expect((await app.plans.tasksOf("TN-2026")).map((task) => task.code)).toEqual([
      "II.1",
      "II.2",
      "II.4",
      "III.1",
    ]);
    await app.stop();
  });

  it("fetches a document sent on Telegram by getFile and the file path", async () => {
    const bytes = fixture("ke-hoach-2026.xlsx");
    const asked: string[] = [];
    const server = createServer((req, res) => {
      asked.push(`${req.method} ${req.url}`);
      if (req.url === "/bot123:ABC/getFile") {
        res.setHeader("content-type", "application/json");
        res.end(
          JSON.stringify({
            ok: true,
            result: { file_id: "F1", file_unique_id: "U1", file_path: "documents/file_7.xlsx" },
          }),
        );
      } else if (req.url === "/file/bot123:ABC/documents/file_7.xlsx") {
        res.end(bytes);
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const root = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const read = telegramFileReader(new Api("123:ABC", { apiRoot: root }), "123:ABC", root);
      expect(await read("F1")).toEqual(bytes);
      expect(asked).toEqual(["POST /bot123:ABC/getFile", "GET /file/bot123:ABC/documents/file_7.xlsx"]);
    } finally {
      server.close();
    }
  });

  it("on Zalo, /taikehoach gives a link to a page whose file is checked and previewed in the chat", async () => {
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection, undefined, {
      reports: { publicUrl: "https://bot.example.vn", linkSecret: "test-file-link-secret-0123456789abcdef" },
    });
    await seedDemoPeople(app, clock.now());
    await app.people.ensureAdmin("zalo", "8000000001", "Văn phòng thử", clock.now());
    const zalo = (text: string) => consoleInbound("8000000001", text, { channel: "zalo" });
    const said = async () =>
      withTexts(app, await app.models.Outbox.find({ chatId: "8000000001" }).sort({ _id: 1 }).lean()).map(
        (m) => m.text,
      );

    // Zalo takes no documents: the template comes as a download link.
    await app.engine.handle(zalo("/maukehoach"));
    expect((await said()).at(-1)).toContain("Tải mẫu kế hoạch tại: https://bot.example.vn/files?t=");
    await app.engine.handle(zalo("/taikehoach"));
    const link = /https:\/\/bot\.example\.vn(\/tai-len\?t=\S+)/.exec((await said()).at(-1) ?? "")?.[1];
    expect(link).toBeDefined();

    const http = new HttpServer(silentLogger(), async () => ({ ok: true, detail: {} }));
    const route = uploadRoute(app.reports.files, app.engine, clock, silentLogger(), app.sealer);
    http.route("GET", UPLOAD_PATH, route);
    http.route("POST", UPLOAD_PATH, route);
    const port = await http.listen(0, "127.0.0.1");
    try {
      const base = `http://127.0.0.1:${port}`;
      const form = await fetch(`${base}${link}`);
      expect(form.status).toBe(200);
      expect(await form.text()).toContain('type="file"');
      expect((await fetch(`${base}${UPLOAD_PATH}?t=forged`)).status).toBe(403);

      const body = new FormData();
      body.append("tep", new Blob([fixture("ke-hoach-2026.xlsx")]), "ke-hoach-2026.xlsx");
      const sent = await fetch(`${base}${link}`, { method: "POST", body });
      expect(sent.status).toBe(200);
      expect((await said()).at(-1)).toContain("XEM TRƯỚC KẾ HOẠCH TN-2026");
      await app.engine.handle(zalo("1"));
      expect((await said()).at(-1)).toContain("Đã nạp kế hoạch TN-2026: 4 nhiệm vụ.");
    } finally {
      await http.close();
      await app.stop();
    }
  });
});

describe("the templates", () => {
  it("are made once while the units stay the same, and made again when a unit is added", async () => {
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection);
    await seedDemoPeople(app, clock.now());
    const sentFile = async (role: string, command: string) => {
      await app.engine.handle(consoleInbound(role, command));
      const [last] = await app.models.Outbox.find({ chatId: role }).sort({ _id: -1 }).limit(1).lean();
      return last?.files[0]?.ref ?? "";
    };
    const first = await sentFile("office", "/maukehoach");
    expect(first).toMatch(/^report-file:mau-ke-hoach-/);
    expect(await sentFile("office", "/maukehoach")).toBe(first);
    expect(await sentFile("admin", "/maukehoach")).toBe(first);
    const stored = () => db.connection.collection("report_files.files").countDocuments();
    expect(await stored()).toBe(1);

    await app.units.upsert([{ key: "phong-thu-nghiem", name: "Phòng Thử nghiệm", kind: "division" }]);
    const after = await sentFile("office", "/maukehoach");
    expect(after).not.toBe(first);
    const bytes = await app.reports.files.read(app.reports.files.nameOf(after) ?? "", clock.now());
    // The units sheet of the new template lists the new unit.
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
    const listed = workbook.worksheets.flatMap((sheet) =>
      sheet.getSheetValues().flatMap((row) => (Array.isArray(row) ? row : [])),
    );
    expect(listed).toContain("Phòng Thử nghiệm");
    await app.stop();
  });
});
