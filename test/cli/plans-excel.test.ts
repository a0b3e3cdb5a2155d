import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { plansExport, plansImport, type OpenApp } from "../../src/cli/plans-excel.js";
import { readPlanFile } from "../../src/domain/plans/plan-file.js";
import { readPlanWorkbook } from "../../src/domain/plans/plan-xlsx.js";
import { t } from "../../src/text/vi.js";
import { runCli } from "../support/cli.js";
import { toolEnv } from "./spawn.js";
import { buildApp, useDatabase } from "../support/db.js";

const db = useDatabase(import.meta.filename);
const dir = mkdtempSync(path.join(os.tmpdir(), "dvbot-plans-excel-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const env = () => ({ ...toolEnv(db.connection.name, dir), LOG_LEVEL: "warn" });
const fixture = (name: string) => `test/fixtures/plans/${name}`;
// A run as npm runs it starts a Node process with tsx: seconds apiece on a busy machine.
const SLOW = 60_000;

/** The tools run in this process, over the test's database: what they print, and their exit code. */
const open: OpenApp = async () => {
  const { app, clock } = await buildApp(db.connection);
  return { app, clock, close: async () => undefined };
};
async function run(tool: typeof plansImport, ...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await tool(args, open, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

describe("npm run plans:export and plans:import with Excel files", () => {
  it.each([
    ["data/plans/ke-hoach-dan-van-2025-hung-yen.yaml", "DVCQ-2025-HY", 24],
    ["data/plans/ke-hoach-dan-van-chinh-quyen-quy4-2025-dong-nai.yaml", undefined, undefined],
  ])(
    "a shipped plan round-trips: plans:export -- %s X.xlsx, then plans:import --dry-run X.xlsx gives the same tasks",
    async (source, code, count) => {
      const yaml = readPlanFile(readFileSync(source, "utf8"), source);
      const out = path.join(dir, `${path.basename(source, ".yaml")}.xlsx`);
      const exported = await run(plansExport, source, out);
      expect(exported).toEqual({
        code: 0,
        stdout: t.plansExcel.cli.exported(yaml.code, yaml.tasks.length, out),
        stderr: "",
      });
      if (code) expect([yaml.code, yaml.tasks.length]).toEqual([code, count]);
      const checked = await run(plansImport, "--dry-run", out);
      expect(checked.code).toBe(0);
      expect(checked.stdout).toBe(`${yaml.code}: ${yaml.tasks.length} tasks`);
      expect((await readPlanWorkbook(readFileSync(out), [])).plan.tasks).toEqual(yaml.tasks);
    },
  );

  it("loads nothing from files with mistakes, and names each one", async () => {
    await db.connection.dropDatabase();
    const bad = await run(plansImport, fixture("ke-hoach-2026-loi.xlsx"), fixture("ke-hoach-2026.csv"));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Trang "Nhiệm vụ", dòng 2, cột Hạn: 31/02/2026 không phải ngày hợp lệ');
    expect(bad.stderr).toContain('Trang "Nhiệm vụ", dòng 4, cột Mã: mã II.2 trùng với dòng 3');
    expect(bad.stderr).toContain(t.plansExcel.notXlsx("ke-hoach-2026.csv"));
    expect(await db.connection.collection("tasks").countDocuments()).toBe(0);
  });

  it(
    "as npm runs them: loads an .xlsx into the database, and exports a loaded plan by its code",
    async () => {
      await db.connection.dropDatabase();
      const loaded = await runCli("src/cli/plans-import.ts", [fixture("ke-hoach-2026.xlsx")], env());
      expect(loaded.stderr).toBe("");
      expect(loaded.code).toBe(0);
      expect(loaded.stdout).toContain(t.cli.planImported("TN-2026", 4, true, 0));
      const out = path.join(dir, "tn-2026.xlsx");
      const exported = await runCli("src/cli/plans-export.ts", ["tn-2026", out], env());
      expect(exported.stderr).toBe("");
      expect(exported.code).toBe(0);
      const fixtureTasks = (await readPlanWorkbook(readFileSync(fixture("ke-hoach-2026.xlsx")), [])).plan
        .tasks;
      expect((await readPlanWorkbook(readFileSync(out), [])).plan.tasks).toEqual(fixtureTasks);
    },
    SLOW,
  );

  it("says how to use them, and that a plan code is not in the database", async () => {
    expect((await run(plansImport)).code).toBe(2);
    expect(await run(plansExport, "data/plans/x.yaml", "out.pdf")).toEqual({
      code: 2,
      stdout: "",
      stderr: t.plansExcel.cli.exportUsage,
    });
    await db.connection.dropDatabase();
    const missing = await run(plansExport, "KH-KHONG-CO", path.join(dir, "x.xlsx"));
    expect(missing).toEqual({ code: 1, stdout: "", stderr: t.plansExcel.cli.noSuchPlan("KH-KHONG-CO") });
  });
});
