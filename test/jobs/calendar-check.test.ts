import { describe, expect, it } from "vitest";
import { calendarCheckJob } from "../../jobs/calendar-check.js";
import { seedDemoPeople } from "../../src/seed.js";
import { buildApp, useDatabase, withTexts } from "../support/db.js";
import { jobRunner } from "../support/jobs.js";

const db = useDatabase(import.meta.filename);
const at = (day: string) => new Date(`${day}T09:30:00+07:00`);

describe("from 1 November the admins hear when next year has no calendar", () => {
  it("warns each week until next year's days off are in, and says which days are not decreed yet", async () => {
    const { app, clock } = await buildApp(db.connection, undefined);
    clock.set(at("2026-10-30"));
    await seedDemoPeople(app, clock.now());
    const { runner } = await jobRunner(app, clock, db.connection);
    const sent = async () =>
      withTexts(
        app,
        await app.models.Outbox.find({ dedupeKey: /^calendar-check:/ })
          .sort({ _id: 1 })
          .lean(),
      );
    const run = async (day: string) => {
      clock.set(at(day));
      return runner.runDue(calendarCheckJob, clock.now());
    };

    // Friday 30/10/2026: 2026 is known, November has not come: nothing to say.
    expect(await run("2026-10-30")).toMatchObject({ kind: "ran", messages: 0 });
    // Monday 2/11/2026: 2027 has a file, but Tết and the day beside 2/9 are not decreed yet.
    expect(await run("2026-11-02")).toMatchObject({ kind: "ran", messages: 1 });
    const [pending] = await sent();
    expect(pending?.chatId).toBe("admin");
    expect(pending?.text).toContain("Lịch ngày nghỉ năm 2027 còn 6 ngày chưa có quyết định: 05/02/2027");
    expect(pending?.text).not.toContain("chưa có lịch ngày nghỉ");
    // The same week again: once.
    expect(await run("2026-11-03")).toMatchObject({ kind: "already-done" });

    // Friday 29/10/2027: 2028 has no file, but it is not November yet.
    expect(await run("2027-10-29")).toMatchObject({ kind: "ran", messages: 0 });
    // Monday 1/11/2027: it is.
    expect(await run("2027-11-01")).toMatchObject({ kind: "ran", messages: 1 });
    const missing = (await sent()).at(-1);
    expect(missing?.chatId).toBe("admin");
    expect(missing?.text).toContain("Năm 2028 chưa có lịch ngày nghỉ lễ, Tết");
    expect(missing?.text).toContain("/ngaynghi chốt 2028");
    expect((await sent()).filter((m) => m.chatId !== "admin")).toEqual([]);

    // The Office enters 2028 in the chat and closes it: the next week is quiet.
    const office = await app.people.resolveSpeaker({
      channel: "console",
      senderId: "office",
      chatId: "office",
      chatType: "private",
      now: clock.now(),
    });
    await app.calendarDays.apply(
      [
        { kind: "off", day: "2028-01-26", name: "Tết Nguyên đán" },
        { kind: "close", year: 2028, name: "Công văn số 1/VPCP-KGVX" },
      ],
      office,
      clock.now(),
      "test-close-2028",
    );
    expect(await run("2027-11-08")).toMatchObject({ kind: "ran", messages: 0 });
    expect(app.plans.calendar.isWorkingDay("2028-01-26")).toBe(false);
  });
});
