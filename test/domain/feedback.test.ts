import path from "node:path";
import { describe, expect, it } from "vitest";
import type { App } from "../../src/app.js";
import type { FixedClock } from "../../src/clock.js";
import { loadWorkCalendar } from "../../src/domain/calendar/work-calendar.js";
import { dueDay, identityRequired, loadFeedbackRules } from "../../src/domain/feedback/rules.js";
import { phoneKey, TicketError } from "../../src/domain/feedback/service.js";
import type { Speaker } from "../../src/domain/people/service.js";
import { DATA_DIR } from "../../src/paths.js";
import { seedDemoPeople } from "../../src/seed.js";
import { buildApp, useDatabase } from "../support/db.js";

const db = useDatabase(import.meta.filename);
const rules = loadFeedbackRules(path.join(DATA_DIR, "feedback", "rules.yaml"));
const calendar = loadWorkCalendar(path.join(DATA_DIR, "holidays"));

describe("legal deadlines (data/feedback/rules.yaml)", () => {
  it("adds working days across Tết and calendar days after", () => {
    // Tố cáo received Friday 13/02/2026: 7 working days (Tết closes 16–20/02) → 03/03, then 30 days → 02/04.
    expect(dueDay(rules.types.to_cao, "2026-02-13", 0, calendar)).toBe("2026-04-02");
    expect(dueDay(rules.types.to_cao, "2026-02-13", 1, calendar)).toBe("2026-05-02");
    expect(dueDay(rules.types.to_cao, "2026-02-13", 2, calendar)).toBe("2026-06-01");
    // A third extension is not in the law: it changes nothing.
    expect(dueDay(rules.types.to_cao, "2026-02-13", 3, calendar)).toBe("2026-06-01");
    // Khiếu nại: 10 + 30 calendar days; one extension of 15.
    expect(dueDay(rules.types.khieu_nai, "2026-02-13", 0, calendar)).toBe("2026-03-25");
    expect(dueDay(rules.types.khieu_nai, "2026-02-13", 1, calendar)).toBe("2026-04-09");
    // Góp ý: the Department's own target, 15 working days; Tết counts for nothing.
    expect(dueDay(rules.types.gop_y, "2026-02-13", 0, calendar)).toBe("2026-03-13");
    expect(rules.types.gop_y.legal).toBe(false);
  });

  it("asks identity where the law does", () => {
    expect(identityRequired(rules.types.to_cao, "khac")).toBe(true);
    expect(identityRequired(rules.types.khieu_nai, "khac")).toBe(true);
    expect(identityRequired(rules.types.phan_anh, "thu_tuc_hanh_chinh")).toBe(true);
    expect(identityRequired(rules.types.phan_anh, "chuyen_doi_so")).toBe(false);
    expect(identityRequired(rules.types.gop_y, "thu_tuc_hanh_chinh")).toBe(false);
  });

  it("reads phone numbers written any way", () => {
    expect(phoneKey("0912 345 678")).toBe(phoneKey("+84912345678"));
    expect(phoneKey("0912.345.678")).toBe("912345678");
  });
});

describe("tickets", () => {
  async function setup(): Promise<{
    app: App;
    clock: FixedClock;
    citizen: Speaker;
    office: Speaker;
    unit: Speaker;
  }> {
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection);
    await seedDemoPeople(app, clock.now());
    const speaker = (id: string) =>
      app.people.resolveSpeaker({
        channel: "console",
        senderId: id,
        chatId: id,
        chatType: "private",
        now: clock.now(),
      });
    return {
      app,
      clock,
      citizen: await speaker("citizen"),
      office: await speaker("office"),
      unit: await speaker("staff"),
    };
  }

  const file = (
    app: App,
    citizen: Speaker,
    now: Date,
    key: string,
    content = "Nội dung phản ánh thử nghiệm số một.",
  ) =>
    app.feedback.file({
      idempotencyKey: key,
      type: "to_cao",
      field: "khac",
      content,
      attachments: [],
      identity: { name: "Nguyễn Văn Bình", address: "12 Lê Lợi", phone: "0912345678" },
      consentAt: now,
      filer: { ...citizen, channel: "console", chatId: "citizen" },
      now,
    });

  it("files once per update, recognises the same text minutes later, and caps a day's tickets", async () => {
    const { app, clock, citizen } = await setup();
    const first = await file(app, citizen, clock.now(), "u1");
    expect(first.kind).toBe("filed");
    expect(await file(app, citizen, clock.now(), "u1")).toEqual(first);
    clock.advance(5 * 60_000);
    const again = await file(app, citizen, clock.now(), "u2", "nội dung PHẢN ÁNH thử nghiệm số một.");
    expect(again.kind).toBe("duplicate");
    for (let i = 2; i <= 5; i += 1) {
      expect(
        (await file(app, citizen, clock.now(), `u${i + 1}`, `Nội dung khác nhau lần thứ ${i}.`)).kind,
      ).toBe("filed");
    }
    expect((await file(app, citizen, clock.now(), "u9", "Nội dung thứ sáu trong ngày.")).kind).toBe("limit");
    clock.advance(24 * 3_600_000);
    expect((await file(app, citizen, clock.now(), "u10", "Nội dung thứ sáu trong ngày.")).kind).toBe("filed");
    const codes = (await app.models.Ticket.find().lean()).map((x) => x.code);
    expect(new Set(codes).size).toBe(6);
    expect(codes.every((code) => /^PA-2025-\d{6}$/.test(code))).toBe(true);
  });

  it("opens a ticket to whoever gives the phone written on it, except a tố cáo", async () => {
    const { app, clock, citizen, unit } = await setup();
    const filed = async (type: "khieu_nai" | "to_cao", key: string) => {
      const result = await app.feedback.file({
        idempotencyKey: key,
        type,
        field: "khac",
        content: `Nội dung ${type} để tra cứu bằng số điện thoại.`,
        attachments: [],
        identity: { name: "Nguyễn Văn Bình", address: "12 Lê Lợi", phone: "0912345678" },
        consentAt: clock.now(),
        filer: { ...citizen, channel: "console", chatId: "citizen" },
        now: clock.now(),
      });
      if (result.kind !== "filed") throw new Error("not filed");
      return result.ticket.code;
    };
    const complaint = await filed("khieu_nai", "p1");
    const denunciation = await filed("to_cao", "p2");
    expect((await app.feedback.lookup(complaint, unit, "+84 912 345 678"))?.code).toBe(complaint);
    expect(await app.feedback.lookup(complaint, unit, "0911111111")).toBeUndefined();
    expect(await app.feedback.lookup(complaint, unit)).toBeUndefined();
    expect(await app.feedback.lookup(denunciation, unit, "0912345678")).toBeUndefined();
    expect((await app.feedback.lookup(denunciation, citizen))?.code).toBe(denunciation);
  });

  it("keeps the unit from acting on tickets not assigned to it, and the Office's powers to the Office", async () => {
    const { app, clock, citizen, office, unit } = await setup();
    const result = await file(app, citizen, clock.now(), "k1");
    if (result.kind !== "filed") throw new Error("not filed");
    const { code } = result.ticket;
    await expect(app.feedback.answer(code, "Trả lời thử.", unit, clock.now())).rejects.toThrow(TicketError);
    await expect(
      app.feedback.assign(code, { key: "ke-hoach-tai-chinh", name: "KH-TC" }, unit, clock.now()),
    ).rejects.toThrow("forbidden");
    await app.feedback.assign(
      code,
      { key: "ke-hoach-tai-chinh", name: "Phòng Kế hoạch – Tài chính" },
      office,
      clock.now(),
    );
    await expect(app.feedback.extend(code, "Phức tạp", unit, clock.now())).rejects.toThrow("forbidden");
    const answered = await app.feedback.answer(code, "Đã xác minh và xử lý.", unit, clock.now());
    expect(answered.status).toBe("answered");
    await expect(app.feedback.rate(code, 4, "", unit, clock.now())).rejects.toThrow("not_found");
    await app.feedback.rate(code, 4, "Tốt", citizen, clock.now());
    await expect(app.feedback.rate(code, 5, "", citizen, clock.now())).rejects.toThrow("bad_state");
    const ticket = await app.feedback.byCode(code);
    expect(ticket?.history.map((h) => [h.action, h.byName ?? "(người gửi)"])).toEqual([
      ["filed", "(người gửi)"],
      ["assigned", "Nguyễn Thị Mai"],
      ["answered", "Trần Văn Hùng"],
      ["rated", "(người gửi)"],
    ]);
  });

  it("seals the filer's personal data at rest and audits every write and read of it", async () => {
    const { app, clock, citizen, office } = await setup();
    const result = await file(app, citizen, clock.now(), "a1");
    if (result.kind !== "filed") throw new Error("not filed");
    const say = (id: string, text: string) =>
      app.engine.handle({
        channel: "console",
        chatId: id,
        chatType: "private",
        senderId: id,
        messageId: text,
        text,
        attachments: [],
        dedupeKey: `audit:${id}:${text}:${Math.random()}`,
        receivedAt: clock.now(),
      });
    await say("citizen", `/tracuu ${result.ticket.code}`);
    await say("office", `/xuly ${result.ticket.code}`);
    await say("office", "/huy");
    await say("leader", `/tracuu ${result.ticket.code}`);
    const audit = await app.feedback.audit.ofTicket(result.ticket.code);
    expect(audit.map((a) => [a.action, a.personId?.toString(), a.fields.join(",")])).toEqual([
      ["write", citizen.personId, "name,address,phone"],
      ["read", citizen.personId, "name,address,phone"],
      ["read", office.personId, "name,address,phone"],
    ]);
    // At rest the name, address and phone are sealed; nothing readable is stored.
    const raw = await db.connection.collection("tickets").findOne({ code: result.ticket.code });
    expect(JSON.stringify(raw)).not.toMatch(/Nguyễn Văn Bình|Lê Lợi|0912345678|912345678/);
    expect(raw?.identitySealed).toMatch(/^s1\.test\./);
  });
});
