import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readUnitsFile } from "../../src/domain/units/service.js";
import { t } from "../../src/text/vi.js";
import { runCli } from "../support/cli.js";
import { toolEnv } from "./spawn.js";
import { useDatabase } from "../support/db.js";

const db = useDatabase(import.meta.filename);
const dir = mkdtempSync(path.join(os.tmpdir(), "dvbot-units-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DEMO = "data/units/demo.yaml";
const env = () => toolEnv(db.connection.name, dir);
const importUnits = (...args: string[]) => runCli("src/cli/units-import.ts", args, env());
const stored = () =>
  db.connection
    .collection("units")
    .find({}, { projection: { _id: 0, key: 1, name: 1, kind: 1, order: 1 } })
    .sort({ order: 1 })
    .toArray();

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe("npm run units:import", () => {
  it("loads a units file, and loading it again changes nothing", async () => {
    await db.connection.dropDatabase();
    const demo = readUnitsFile(DEMO);
    const first = await importUnits(DEMO);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout.trim().split("\n")).toEqual([
      t.cli.unitsChecked(DEMO, demo.length),
      t.cli.unitsImported(demo.length, 0, 0),
    ]);
    const units = await stored();
    expect(units).toEqual(demo.map((u, order) => ({ ...u, order })));

    const again = await importUnits(DEMO);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(t.cli.unitsImported(0, 0, demo.length));
    expect(await stored()).toEqual(units);

    // A renamed unit keeps its key and place; a new one goes last; one left out stays.
    const file = write(
      "renamed.yaml",
      'units:\n  - key: chuyen-doi-so\n    name: "Phòng Chuyển đổi số và Thống kê"\n    kind: division\n' +
        '  - key: trung-tam-dich-vu\n    name: "Trung tâm Dịch vụ KH&CN"\n    kind: center\n',
    );
    const changed = await importUnits(file);
    expect(changed.code).toBe(0);
    expect(changed.stdout).toContain(t.cli.unitsImported(1, 1, 0));
    const after = await stored();
    expect(after).toHaveLength(demo.length + 1);
    expect(after.find((u) => u.key === "chuyen-doi-so")).toEqual({
      key: "chuyen-doi-so",
      name: "Phòng Chuyển đổi số và Thống kê",
      kind: "division",
      order: units.find((u) => u.key === "chuyen-doi-so")?.order,
    });
    expect(after.at(-1)?.key).toBe("trung-tam-dich-vu");
    expect(after.find((u) => u.key === "van-phong")?.name).toBe("Văn phòng Sở");
  });

  it("points at the line of each mistake and writes nothing", async () => {
    await db.connection.dropDatabase();
    const lines = [
      "units:",
      "  - key: van-phong",
      '    name: "Văn phòng Sở"',
      "    kind: office",
      "  - key: Phong_KH",
      '    name: "Phòng Kế hoạch – Tài chính"',
      "  - key: van-phong",
      '    name: "Văn phòng (lần hai)"',
      "    kind: phong",
      "  - key: chuyen-doi-so",
      '    name: "Phòng Chuyển đổi số"',
      '    head: "Nguyễn Văn A"',
    ];
    const file = write("bad.yaml", lines.join("\n"));
    const lineOf = (text: string) => lines.findIndex((l) => l.includes(text)) + 1;
    for (const args of [[file], ["--dry-run", file]]) {
      const run = await importUnits(...args);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr.trim().split("\n")).toEqual([
        `${file}:${lineOf("Phong_KH")}: units[1].key: ${t.units.badKey}`,
        `${file}:${lineOf("kind: phong")}: units[2].kind: ${t.units.badKind(["office", "division", "subdepartment", "center", "other"])}`,
        `${file}:${lineOf("head:")}: units[3].head: ${t.dataFile.unknownKey("head")}`,
      ]);
    }
    // A duplicate key is found once the file's shape is right.
    const twice = [...lines.slice(0, 4), ...lines.slice(6, 8)];
    const dup = write("dup.yaml", twice.join("\n"));
    const run = await importUnits(dup);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe(`${dup}:5: units[1].key: ${t.units.duplicateKey("van-phong")}`);
    expect(twice[4]).toBe("  - key: van-phong");
    expect(await db.connection.collection("units").countDocuments()).toBe(0);
  });

  it("checks a file with --dry-run without a database", async () => {
    const run = await runCli("src/cli/units-import.ts", ["--dry-run", DEMO], {
      MONGODB_URI: "mongodb://127.0.0.1:1/nothing-listens-here",
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(t.cli.unitsChecked(DEMO, readUnitsFile(DEMO).length));
  });

  it("says how to use it when the file is missing", async () => {
    const run = await runCli("src/cli/units-import.ts", [], {});
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(t.cli.unitsImportUsage);
  });
});
