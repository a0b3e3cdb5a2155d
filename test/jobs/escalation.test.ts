import path from "node:path";
import { describe, expect, it } from "vitest";
import { escalationJob } from "../../jobs/escalation.js";
import { importPlanFile } from "../../src/seed.js";
import { buildApp, useDatabase, withTexts } from "../support/db.js";
import { jobRunner } from "../support/jobs.js";

const db = useDatabase(import.meta.filename);
const at = (day: string) => new Date(`${day}T09:00:00+07:00`);

describe("escalation", () => {
  it("a step nobody could be told of is taken again once someone can be", async () => {
    const { app, clock } = await buildApp(db.connection);
    clock.set(at("2025-10-01"));
    await app.units.upsert([
      { key: "van-phong", name: "Văn phòng Sở", kind: "office" },
      { key: "ke-hoach-tai-chinh", name: "Phòng Kế hoạch – Tài chính", kind: "division" },
    ]);
    await importPlanFile(
      app,
      path.resolve(import.meta.dirname, "../fixtures/plans/two-units.yaml"),
      clock.now(),
    );
    await app.people.ensurePerson(
      "console",
      "kh-staff",
      { role: "staff", unitId: "ke-hoach-tai-chinh", name: "Cán bộ KH" },
      clock.now(),
    );
    const { runner } = await jobRunner(app, clock, db.connection);
    const job = escalationJob(db.connection);
    const escalated = async () =>
      withTexts(app, await app.models.Outbox.find({ dedupeKey: /^escalate:/ }).lean()).map(
        (m) =>
          `${m.chatId} ${m.text.includes("1. II.1 — Rà soát thủ tục hành chính\n    Hạn 28/11/2025 (quá hạn 4 ngày làm việc)") ? "KH" : "?"}`,
      );

    // II.1 (due Friday 28/11) is 3 working days overdue on 3/12: the unit head's turn, but the
    // unit has none yet.
    clock.set(at("2025-12-03"));
    expect(await runner.runDue(job, clock.now())).toMatchObject({ kind: "ran", messages: 0 });
    expect(await escalated()).toEqual([]);

    // A head is appointed the next day: the step not taken reaches them then.
    await app.people.ensurePerson(
      "console",
      "kh-head",
      { role: "unit_head", unitId: "ke-hoach-tai-chinh", name: "Trưởng phòng KH" },
      clock.now(),
    );
    clock.set(at("2025-12-04"));
    await runner.runDue(job, clock.now());
    expect(await escalated()).toEqual(["kh-head KH"]);
    clock.set(at("2025-12-05"));
    await runner.runDue(job, clock.now());
    expect(await escalated()).toEqual(["kh-head KH"]);
  });
});
