import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { readPlanFile } from "../../src/domain/plans/plan-file.js";
import { readPlanWorkbook } from "../../src/domain/plans/plan-xlsx.js";
import { t } from "../../src/text/vi.js";
import { runCli } from "../support/cli.js";
import { useDatabase } from "../support/db.js";

const db = useDatabase(import.meta.filename);
const dir = mkdtempSync(path.join(os.tmpdir(), "dvbot-plans-excel-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const env = () => ({
  MONGODB_URI: inject("mongoUri"),
  MONGODB_DB: db.connection.name,
  DATA_DIR: dir,
  DATA_ENCRYPTION_KEYS: `test:${randomBytes(32).toString("base64")}`,
  FILE_LINK_SECRET: "test-file-link-secret-0123456789abcdef",
  LOG_LEVEL: "warn",
});
const plansImport = (...args: string[]) => runCli("src/cli/plans-import.ts", args, env());
const plansExport = (...args: string[]) => runCli("src/cli/plans-export.ts", args, env());
const fixture = (name: string) => `test/fixtures/plans/${name}`;
// Each run starts a Node process with tsx: seconds apiece on a busy machine.
const SLOW = 60_000;

describe("npm run plans:export and plans:import with Excel files", () => {
  it(
    "a shipped plan round-trips: plans:export -- X.yaml X.xlsx, then plans:import --dry-run X.xlsx gives the same tasks",
    async () => {
      const source = "data/plans/ke-hoach-dan-van-2025-hung-yen.yaml";
      const out = path.join(dir, "hung-yen.xlsx");
      const exported = await plansExport(source, out);
      expect(exported.stderr).toBe("");
      expect(exported.stdout.trim()).toBe(t.plansExcel.cli.exported("DVCQ-2025-HY", 24, out));
      const checked = await plansImport("--dry-run", out);
      expect(checked.code).toBe(0);
      expect(checked.stdout.trim()).toBe("DVCQ-2025-HY: 24 tasks");
      const yaml = readPlanFile(readFileSync(source, "utf8"), source);
      expect((await readPlanWorkbook(readFileSync(out), [])).plan.tasks).toEqual(yaml.tasks);
    },
    SLOW,
  );

  it(
    "loads nothing from files with mistakes, and names each one",
    async () => {
      await db.connection.dropDatabase();
      const bad = await plansImport(fixture("ke-hoach-2026-loi.xlsx"), fixture("ke-hoach-2026.csv"));
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('Trang "Nhiệm vụ", dòng 2, cột Hạn: 31/02/2026 không phải ngày hợp lệ');
      expect(bad.stderr).toContain('Trang "Nhiệm vụ", dòng 4, cột Mã: mã II.2 trùng với dòng 3');
      expect(bad.stderr).toContain(t.plansExcel.notXlsx("ke-hoach-2026.csv"));
      expect(await db.connection.collection("tasks").countDocuments()).toBe(0);
    },
    SLOW,
  );

  it(
    "loads an .xlsx into the database, and exports a loaded plan by its code",
    async () => {
      await db.connection.dropDatabase();
      const loaded = await plansImport(fixture("ke-hoach-2026.xlsx"));
      expect(loaded.stderr).toBe("");
      expect(loaded.stdout).toContain(t.cli.planImported("TN-2026", 4, true, 0));
      const out = path.join(dir, "tn-2026.xlsx");
      const exported = await plansExport("tn-2026", out);
      expect(exported.stderr).toBe("");
      const fixtureTasks = (await readPlanWorkbook(readFileSync(fixture("ke-hoach-2026.xlsx")), [])).plan
        .tasks;
      expect((await readPlanWorkbook(readFileSync(out), [])).plan.tasks).toEqual(fixtureTasks);
    },
    SLOW,
  );
});
