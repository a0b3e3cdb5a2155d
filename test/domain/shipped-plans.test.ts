import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readPlanFile } from "../../src/domain/plans/plan-file.js";
import { DATA_DIR, ROOT_DIR } from "../../src/paths.js";
import { importPlanFile, seedDemoPeople, shippedPlanFiles } from "../../src/seed.js";
import { fold } from "../../src/text/normalize.js";
import { buildApp, useDatabase } from "../support/db.js";

const db = useDatabase(import.meta.filename);
const seeds = path.resolve(ROOT_DIR, "../shared/seeds");

/** Letters and digits only, folded: PDF line breaks, hyphenation spaces and quotes stop mattering. */
const squash = (text: string) => fold(text).replace(/[^a-z0-9]/g, "");

const shipped = [
  { file: "ke-hoach-dan-van-chinh-quyen-quy4-2025-dong-nai", code: "DVCQ-Q4-2025-DN", tasks: 28 },
  { file: "ke-hoach-dan-van-2025-hung-yen", code: "DVCQ-2025-HY", tasks: 24 },
];

describe("the plans shipped in data/plans", () => {
  it.each(shipped)(
    "$code transcribes its source: $tasks tasks, each found in the text",
    ({ file, code, tasks }) => {
      const plan = readPlanFile(readFileSync(path.join(DATA_DIR, "plans", `${file}.yaml`), "utf8"), file);
      expect(plan.code).toBe(code);
      expect(plan.tasks).toHaveLength(tasks);
      // The Office leads or does everything; "các phòng, đơn vị" is every unit.
      expect(new Set(plan.tasks.flatMap((task) => task.units))).toEqual(new Set(["all", "van-phong"]));
      const sourceFile = path.join(seeds, `${file}.txt`);
      if (!existsSync(sourceFile)) return; // ../shared is beside the clone in CI and here
      const source = squash(readFileSync(sourceFile, "utf8"));
      const missing = plan.tasks.filter((task) => {
        // The first and last 40 letters of each task's text are in the source (typo fixes aside).
        const text = squash(task.content);
        return !source.includes(text.slice(0, 40)) && !source.includes(text.slice(-40));
      });
      expect(missing.map((task) => task.code)).toEqual([]);
    },
  );

  it("the 2025 plan's reports are six-monthly and yearly; the Q4 plan falls due at the end of Q4 2025", () => {
    const [dn, hy] = shipped.map(({ file }) =>
      readPlanFile(readFileSync(path.join(DATA_DIR, "plans", `${file}.yaml`), "utf8"), file),
    );
    expect(new Set(dn?.tasks.map((task) => task.deadline))).toEqual(new Set(["2025-12-31"]));
    expect(hy?.tasks.filter((task) => task.recurrence).map((task) => task.recurrence)).toEqual([
      "six-monthly",
      "yearly",
    ]);
  });

  it("imports both into the database, twice, without duplicates", async () => {
    const { app, clock } = await buildApp(db.connection);
    await seedDemoPeople(app, clock.now());
    for (let round = 0; round < 2; round += 1) {
      for (const file of shippedPlanFiles()) await importPlanFile(app, file, clock.now());
    }
    expect(await app.models.Plan.countDocuments()).toBe(2);
    expect(await app.models.Task.countDocuments({ planCode: "DVCQ-Q4-2025-DN" })).toBe(28);
    expect(await app.models.Task.countDocuments({ planCode: "DVCQ-2025-HY" })).toBe(24);
    // Every demo unit answers for the tasks given to "các phòng, đơn vị".
    const forPlanning = await app.plans.tasksForUnit("ke-hoach-tai-chinh");
    expect(forPlanning.length).toBeGreaterThan(30);
  });
});
