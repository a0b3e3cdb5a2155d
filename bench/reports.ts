/**
 * `npm run bench`: the Office's summary and report files over a generated quarter of a large
 * Department (8 units, 2 plans × 40 tasks, ≥ 50,000 progress reports, ≥ 50,000 tickets).
 * Prints times and memory; asserts nothing. FerretDB scans in Go for every filter, so its
 * absolute times say little about MongoDB: each figure is also given as a ratio to a plain read
 * of the same documents on the same server (the "peer").
 *
 * Database: MONGODB_URI if set, else the cached FerretDB build (`npm run ferretdb:build`).
 * Sizes: BENCH_REPORTS, BENCH_TICKETS, BENCH_MODELS.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Types } from "mongoose";
import { App } from "../src/app.js";
import { FixedClock } from "../src/clock.js";
import { connectMongo } from "../src/db/connect.js";
import { findFerretdb, startFerretdb, type EmbeddedServer } from "../src/db/embedded.js";
import { FEEDBACK_TYPES } from "../src/domain/feedback/rules.js";
import { MODEL_STATUSES } from "../src/domain/dvk/schema.js";
import type { PlanFile } from "../src/domain/plans/plan-file.js";
import { draftReport } from "../src/domain/reports/docx.js";
import { parsePeriod } from "../src/domain/reports/period.js";
import { renderOfficeSummary } from "../src/domain/reports/render.js";
import { writeWorkbook } from "../src/domain/reports/xlsx.js";
import { readUnitsFile } from "../src/domain/units/service.js";
import { silentLogger } from "../src/log.js";
import { DATA_DIR } from "../src/paths.js";
import { Sealer } from "../src/privacy/sealer.js";

const REPORTS = Number(process.env.BENCH_REPORTS ?? 50_000);
const TICKETS = Number(process.env.BENCH_TICKETS ?? 50_000);
const MODELS = Number(process.env.BENCH_MODELS ?? 300);
const TODAY = "2025-12-22";
const BATCH = 2_000;

const out = (line: string) => process.stdout.write(`${line}\n`);
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** A deterministic pseudo-random sequence, so two runs measure the same data. */
let seed = 42;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
const dayPlus = (day: string, days: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);

async function timed<T>(label: string, run: () => Promise<T> | T, peer?: number): Promise<[T, number]> {
  const start = performance.now();
  const result = await run();
  const ms = performance.now() - start;
  const ratio = peer ? `  (${(ms / peer).toFixed(2)}× the peer read)` : "";
  out(`${label.padEnd(52)} ${ms.toFixed(0).padStart(7)} ms${ratio}`);
  return [result, ms];
}

function plan(code: string, from: string, to: string): PlanFile {
  return {
    code,
    title: `Kế hoạch thử tải ${code}`,
    organisation: "Sở Khoa học và Công nghệ tỉnh Thử nghiệm",
    period: { from, to },
    document: { number: `${code}/KH-SKHCN`, issuer: "Sở Khoa học và Công nghệ" },
    units: [],
    tasks: Array.from({ length: 40 }, (_, i) => ({
      code: `II.${i + 1}`,
      title: `Nhiệm vụ thử tải số ${i + 1}`,
      content: "Nội dung nhiệm vụ thử tải.",
      units: ["all"],
      ...(i % 4 === 3
        ? { recurrence: "quarterly" as const }
        : { deadline: dayPlus("2025-10-01", (i * 7) % 91) }),
    })),
  };
}

async function openDatabase(): Promise<{ uri: string; stop: () => Promise<void>; kind: string }> {
  if (process.env.MONGODB_URI)
    return { uri: process.env.MONGODB_URI, stop: async () => undefined, kind: "MONGODB_URI" };
  const bin = findFerretdb(process.env.FERRETDB_BIN);
  if (!bin) throw new Error("No database: run `npm run ferretdb:build` or set MONGODB_URI.");
  const dir = mkdtempSync(path.join(os.tmpdir(), "dvbot-bench-db-"));
  const server: EmbeddedServer = await startFerretdb(bin, dir);
  return {
    uri: server.uri,
    kind: "FerretDB v1.24.2 (SQLite)",
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function main(): Promise<void> {
  const db = await openDatabase();
  const connection = await connectMongo(db.uri, `bench_reports_${randomBytes(3).toString("hex")}`);
  const clock = new FixedClock(`${TODAY}T02:00:00Z`);
  const app = new App({
    connection,
    clock,
    log: silentLogger(),
    orgName: "Sở Khoa học và Công nghệ tỉnh Thử nghiệm",
    timeZone: "Asia/Ho_Chi_Minh",
    sealer: new Sealer([{ id: "bench", key: randomBytes(32) }]),
  });
  try {
    await app.ensureIndexes();
    out(`database: ${db.kind}; node ${process.version}; ${os.cpus().length} cores`);
    await app.units.upsert(readUnitsFile(path.join(DATA_DIR, "units", "demo.yaml")));
    await app.plans.importPlan(plan("BENCH-A", "2025-01-01", "2025-12-31"), "bench", clock.now());
    await app.plans.importPlan(plan("BENCH-B", "2025-10-01", "2025-12-31"), "bench", clock.now());
    const units = (await app.units.list()).map((u) => u.key);
    const tasks = [...(await app.plans.tasksOf("BENCH-A")), ...(await app.plans.tasksOf("BENCH-B"))];

    const [, seedMs] = await timed(
      `generate ${REPORTS} reports, ${TICKETS} tickets, ${MODELS} models`,
      async () => {
        const person = new Types.ObjectId();
        for (let from = 0; from < REPORTS; from += BATCH) {
          const docs = Array.from({ length: Math.min(BATCH, REPORTS - from) }, (_, k) => {
            const task = pick(tasks);
            const status = pick(["in_progress", "in_progress", "done", "blocked", "not_started"] as const);
            return {
              idempotencyKey: `bench-r-${from + k}`,
              taskKey: task.key,
              planCode: task.planCode,
              unitKey: pick(units),
              period: task.recurrence ? "2025-Q4" : "once",
              personId: person,
              personName: "Cán bộ thử tải",
              channel: pick(["telegram", "zalo"]),
              status,
              percent: status === "done" ? 100 : Math.floor(random() * 90),
              note: "Báo cáo tiến độ thử tải",
              attachments: [],
              source: "reply",
              createdAt: new Date(Date.parse("2025-10-01T01:00:00Z") + random() * 82 * 86_400_000),
            };
          });
          await app.models.Report.insertMany(docs, { ordered: false });
        }
        const fields = app.feedback.rules.fields.map((f) => f.key);
        for (let from = 0; from < TICKETS; from += BATCH) {
          const docs = Array.from({ length: Math.min(BATCH, TICKETS - from) }, (_, k) => {
            const i = from + k;
            const receivedAt = new Date(Date.parse("2025-10-01T02:00:00Z") + random() * 80 * 86_400_000);
            const receivedDay = receivedAt.toISOString().slice(0, 10);
            const answered = random() < 0.7;
            const answeredAt = new Date(receivedAt.getTime() + random() * 25 * 86_400_000);
            const rated = answered && random() < 0.5;
            const filer = new Types.ObjectId();
            return {
              code: `PA-2025-${String(i).padStart(6, "0")}`,
              type: pick(FEEDBACK_TYPES),
              field: pick(fields),
              content: "Nội dung phản ánh thử tải",
              attachments: [],
              status: answered ? (rated ? "closed" : "answered") : pick(["new", "assigned", "need_info"]),
              receivedAt,
              receivedDay,
              dueDay: dayPlus(receivedDay, 14),
              extensions: 0,
              filer: { personId: filer, channel: "telegram", chatId: String(i) },
              unitKey: pick(units),
              history: [
                { at: receivedAt, action: "filed", byPersonId: filer },
                ...(answered
                  ? [{ at: answeredAt, action: "answered", byPersonId: filer, byName: "Cán bộ" }]
                  : []),
              ],
              ...(rated
                ? { rating: { score: 1 + Math.floor(random() * 5), comment: "", at: answeredAt } }
                : {}),
              idempotencyKey: `bench-t-${i}`,
              contentKey: `bench-${i}`,
            };
          });
          await app.models.Ticket.insertMany(docs, { ordered: false });
        }
        await app.models.DvkModel.insertMany(
          Array.from({ length: MODELS }, (_, i) => ({
            name: `Mô hình thử tải ${i}`,
            field: pick(app.dvk.rules.fields.map((f) => f.key)),
            unitKey: pick(units),
            personInCharge: "Cán bộ",
            targetGroup: "Người dân",
            content: "Nội dung mô hình thử tải.",
            expectedResults: "Kết quả dự kiến.",
            startDay: "2025-03-01",
            endDay: "2025-12-31",
            code: `MH-2025-${String(i + 1).padStart(3, "0")}`,
            year: 2025,
            status: pick(MODEL_STATUSES),
            late: random() < 0.2,
            registeredBy: { personId: new Types.ObjectId(), name: "Cán bộ" },
            versions: [],
            history: [],
            results: [],
            idempotencyKey: `bench-m-${i}`,
            createdAt: new Date("2025-03-01T02:00:00Z"),
          })),
        );
      },
    );
    void seedMs;

    const period = parsePeriod("", TODAY);
    if (!("period" in period)) throw new Error("no period");
    const [, peerReports] = await timed("peer: read every report (find, lean)", () =>
      app.models.Report.find().lean(),
    );
    const [, peerTickets] = await timed("peer: read every ticket (find, lean)", () =>
      app.models.Ticket.find().lean(),
    );
    const [summary] = await timed(
      "/tonghop: summary (16 × 40 pairs, done on time)",
      () => app.reports.summary(period.period, TODAY),
      peerReports,
    );
    await timed("/tonghop: text", () => renderOfficeSummary(summary));
    const [chart] = await timed("/tonghop: chart PNG (8 units)", () =>
      app.reports.chart(summary, clock.now()),
    );
    await timed(
      "/phananh thongke: ticket statistics",
      () => app.reports.ticketStats(period.period, TODAY),
      peerTickets,
    );
    await timed("/mohinh thongke: model statistics", () => app.reports.modelStats(2025));
    // /xuatbaocao in its three steps; the event-loop delay says how long other chats could wait.
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const [data] = await timed(
      "/xuatbaocao: read (reports once, tickets, models)",
      () => app.reports.exportData(period.period, TODAY),
      peerReports + peerTickets,
    );
    // Written into the database's GridFS, as the bot does: the figures include the upload.
    const [xlsx] = await timed(
      `/xuatbaocao: write .xlsx (${data.summary.assignments.length + data.reports.length + data.tickets.length + data.models.length} rows)`,
      () => app.reports.files.save("bench", "xlsx", clock.now(), (stream) => writeWorkbook(data, stream)),
    );
    const [docx] = await timed("/xuatbaocao: write .docx", async () =>
      app.reports.files.save("bench", "docx", clock.now(), await draftReport(data)),
    );
    delay.disable();
    out(
      `longest event-loop stall during /xuatbaocao: ${(delay.max / 1e6).toFixed(0)} ms (p99 ${(delay.percentile(99) / 1e6).toFixed(0)} ms)`,
    );
    out(
      `pairs ${summary.totals.total}, at risk ${summary.summary.atRisk.length}; ` +
        `xlsx ${mb(xlsx.size)}, docx ${(docx.size / 1024).toFixed(0)} KB, ` +
        `png ${(chart.size / 1024).toFixed(0)} KB`,
    );
    out(`memory: peak RSS ${mb(peakRss)}, heap used now ${mb(process.memoryUsage().heapUsed)}`);
  } finally {
    clearInterval(sampler);
    await app.stop();
    await connection.dropDatabase().catch(() => undefined);
    await connection.close();
    await db.stop();
  }
}

await main();
