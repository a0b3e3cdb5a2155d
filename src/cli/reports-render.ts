import { execFile } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { finished } from "node:stream/promises";
import { parseArgs, promisify } from "node:util";
import { App } from "../app.js";
import { FixedClock } from "../clock.js";
import { loadConfig } from "../config.js";
import { openDatabase } from "../db/connect.js";
import type { Day } from "../domain/calendar/work-calendar.js";
import { dayOf } from "../domain/calendar/work-calendar.js";
import { draftReport } from "../domain/reports/docx.js";
import { parsePeriod, type ReportPeriod } from "../domain/reports/period.js";
import { writeWorkbook } from "../domain/reports/xlsx.js";
import { readUnitsFile } from "../domain/units/service.js";
import { loadDotEnv } from "../env-file.js";
import { silentLogger } from "../log.js";
import { DATA_DIR } from "../paths.js";
import { importPlanFile, seedDemoPeople, seedDemoPlan } from "../seed.js";
import { t } from "../text/vi.js";
import { PlainError } from "./error-line.js";
import { runTool, sealerFor } from "./open-app.js";

const run = promisify(execFile);
const say = t.reports.render;

/**
 * `npm run reports:render -- OUTDIR [--plan FILE…] [--period …] [--today YYYY-MM-DD]`: the files
 * /xuatbaocao sends (the .docx, the .xlsx and the progress chart) for the demo, or for the given
 * plan files, written into OUTDIR, with their PDF and PNG pages where LibreOffice and pdftoppm are
 * installed, so a change to the documents is looked at before it lands. The data lives in a
 * scratch embedded database of its own, removed at the end; the configured database is not
 * touched. The letterhead comes from the configuration (ORG_NAME, ORG_PARENT, ORG_PLACE,
 * REPORT_RECIPIENTS), as the bot's would.
 */
async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      plan: { type: "string", multiple: true },
      period: { type: "string" },
      today: { type: "string" },
    },
  });
  const outDir = positionals[0];
  if (!outDir || positionals.length > 1) {
    console.error(say.usage);
    return 2;
  }
  loadDotEnv();
  const config = loadConfig();
  if (values.today && !/^\d{4}-\d{2}-\d{2}$/.test(values.today)) throw new PlainError(say.badToday);
  const today: Day = (values.today as Day | undefined) ?? dayOf(new Date(), config.timeZone);
  // 09:00 in the Department on that day: reports and deadlines fall where an office day would.
  const clock = new FixedClock(new Date(`${today}T02:00:00Z`));
  const log = silentLogger();
  const scratch = await mkdtemp(path.join(os.tmpdir(), "dvbot-render-"));
  const db = await openDatabase({
    uri: undefined,
    dbName: "reports_render",
    dataDir: scratch,
    ferretdbBin: config.ferretdbBin,
    log,
  });
  try {
    const app = new App({
      connection: db.connection,
      clock,
      log,
      orgName: config.orgName,
      timeZone: config.timeZone,
      sealer: sealerFor({ ...config, dataKeys: config.dataKeys, dataDir: scratch }, log),
      reports: { letterhead: config.letterhead },
    });
    await app.ensureIndexes();
    const plans = values.plan ?? [];
    // The day whose quarter is reported by default: today, or the end of the plans if earlier.
    let day: Day = today;
    if (plans.length === 0) {
      await seedDemoPeople(app, clock.now());
      await seedDemoPlan(app, clock.now(), config.timeZone);
    } else {
      await app.units.upsert(readUnitsFile(path.join(DATA_DIR, "units", "demo.yaml")));
      const ends: Day[] = [];
      for (const file of plans) ends.push((await importPlanFile(app, file, clock.now())).plan.period.to);
      const last = ends.sort().at(-1) ?? today;
      if (last < today) day = last;
    }
    const period = choosePeriod(values.period, today, day);
    if (!(await app.reports.hasPlans(period)))
      throw new PlainError(say.noPlans(t.reports.periodLabel(period)));

    await mkdir(outDir, { recursive: true });
    const data = await app.reports.exportData(period, today);
    const stem = `bao-cao-${period.id}`;
    const docx = path.join(outDir, `${stem}.docx`);
    const xlsx = path.join(outDir, `so-lieu-${period.id}.xlsx`);
    const chart = path.join(outDir, `bieu-do-${period.id}.png`);
    await writeFile(docx, await draftReport(data));
    const out = createWriteStream(xlsx);
    await writeWorkbook(data, out);
    await finished(out);
    await writeFile(chart, app.reports.chartPng(data.summary));
    for (const file of [docx, xlsx, chart]) console.log(say.wrote(file));
    await pages(outDir, [docx, xlsx], scratch);
    return 0;
  } finally {
    await db.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The period asked for; else the quarter holding `day` (today, or the last day of past plans). */
function choosePeriod(text: string | undefined, today: Day, day: Day): ReportPeriod {
  const quarter = Math.floor((Number(day.slice(5, 7)) - 1) / 3) + 1;
  const asked = text ?? `quý ${quarter} ${day.slice(0, 4)}`;
  const result = parsePeriod(asked, today);
  if (!("period" in result)) throw new PlainError(say.badPeriod(asked));
  return result.period;
}

/** PDF and PNG pages of each document, when LibreOffice and pdftoppm are installed. */
async function pages(outDir: string, files: string[], scratch: string): Promise<void> {
  try {
    await run("soffice", ["--version"]);
    await run("pdftoppm", ["-v"]);
  } catch {
    console.log(say.noOffice);
    return;
  }
  // A profile of its own: another LibreOffice running on the machine would otherwise take the job.
  const profile = `file://${path.join(scratch, "lo-profile")}`;
  for (const file of files) {
    try {
      await run(
        "soffice",
        [`-env:UserInstallation=${profile}`, "--headless", "--convert-to", "pdf", "--outdir", outDir, file],
        { timeout: 120_000 },
      );
    } catch (error) {
      console.error(say.convertFailed(file, (error as Error).message.split("\n")[0] ?? ""));
      continue;
    }
    const pdf = file.replace(/\.(docx|xlsx)$/, ".pdf");
    const prefix = file.replace(/\.(docx|xlsx)$/, "");
    await run("pdftoppm", ["-png", "-r", "60", pdf, prefix]);
    const base = path.basename(prefix);
    const made = (await readdir(outDir)).filter((f) => f.startsWith(`${base}-`) && f.endsWith(".png"));
    console.log(say.pages(pdf, made.length));
  }
}

runTool(main);
