import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import type { App } from "../../src/app.js";
import type { FixedClock } from "../../src/clock.js";
import { loadWorkCalendar } from "../../src/domain/calendar/work-calendar.js";
import { gatherContent, isRefusal } from "../../src/domain/feedback/filing.js";
import {
  acceptByDay,
  dueDay,
  identityPlanOf,
  identityRequired,
  loadFeedbackRules,
  resolveByDay,
} from "../../src/domain/feedback/rules.js";
import { phoneKey, TicketError } from "../../src/domain/feedback/service.js";
import type { Speaker } from "../../src/domain/people/service.js";
import { DATA_DIR } from "../../src/paths.js";
import { seedDemoPeople } from "../../src/seed.js";
import { buildApp, consoleSpeaker, fileFeedback, filedTicket, useDatabase } from "../support/db.js";

const db = useDatabase(import.meta.filename);
const rules = loadFeedbackRules(path.join(DATA_DIR, "feedback", "rules.yaml"));
const calendar = loadWorkCalendar(path.join(DATA_DIR, "holidays"));

describe("legal deadlines (data/feedback/rules.yaml)", () => {
  it("adds working days across Tết and calendar days after", () => {
    // Tố cáo received Friday 13/02/2026: 7 working days (Tết closes 16–20/02) → 03/03, then 30 days → 02/04.
    expect(dueDay(rules.types.to_cao, "2026-02-13", 0, calendar)).toBe("2026-04-02");
    // 02/05/2026 is a Saturday: the period ends on Monday 04/05 (BLDS 2015, art. 148 k5).
    expect(dueDay(rules.types.to_cao, "2026-02-13", 1, calendar)).toBe("2026-05-04");
    expect(dueDay(rules.types.to_cao, "2026-02-13", 2, calendar)).toBe("2026-06-01");
    // A third extension is not in the law: it changes nothing.
    expect(dueDay(rules.types.to_cao, "2026-02-13", 3, calendar)).toBe("2026-06-01");
    // Khiếu nại: 10 + 30 calendar days; a complex case 45 from acceptance.
    expect(dueDay(rules.types.khieu_nai, "2026-02-13", 0, calendar)).toBe("2026-03-25");
    expect(dueDay(rules.types.khieu_nai, "2026-02-13", 1, calendar)).toBe("2026-04-09");
    // Góp ý: the Department's own target, 15 working days; Tết counts for nothing.
    expect(dueDay(rules.types.gop_y, "2026-02-13", 0, calendar)).toBe("2026-03-13");
    expect(rules.types.gop_y.legal).toBe(false);
  });

  it("counts acceptance from receipt and resolution from the real acceptance day, never ending on a day off", () => {
    const kn = rules.types.khieu_nai;
    // Received Monday 30/11/2026: accept by Thursday 10/12 (art. 27, 10 days).
    expect(acceptByDay(kn, "2026-11-30", 0, calendar)).toBe("2026-12-10");
    // Accepted that day: 30 days end Saturday 09/01/2027, so Monday 11/01/2027 (BLDS art. 148 k5).
    expect(resolveByDay(kn, "2026-12-10", 0, calendar)).toBe("2027-01-11");
    // Accepted on the second day instead: counted from then, not from the last allowed day.
    expect(resolveByDay(kn, "2026-12-01", 0, calendar)).toBe("2026-12-31");
    // A complex case: 45 days from acceptance (art. 28).
    expect(resolveByDay(kn, "2026-12-01", 1, calendar)).toBe("2027-01-15");
    // Lần hai: 45, complex 60 days from its own acceptance (art. 37).
    const second = kn.secondRound;
    if (!second) throw new Error("no second round in rules.yaml");
    expect(resolveByDay(second, "2026-12-01", 0, calendar)).toBe("2027-01-15");
    expect(resolveByDay(second, "2026-12-01", 1, calendar)).toBe("2027-02-01");
    // Tố cáo: 7 working days to accept, once extended to 10 (art. 24).
    expect(acceptByDay(rules.types.to_cao, "2026-11-30", 0, calendar)).toBe("2026-12-09");
    expect(acceptByDay(rules.types.to_cao, "2026-11-30", 1, calendar)).toBe("2026-12-14");
    // Every limit says its unit and its source.
    for (const rule of Object.values(rules.types)) {
      for (const step of [rule.acceptance, rule.resolution, rule.extension]) {
        if (step) expect(step.source.length).toBeGreaterThan(10);
      }
    }
  });

  it("understands refusals as refusals, with or without diacritics", () => {
    for (const text of [
      "Tôi không muốn cung cấp họ tên.",
      "toi khong muon cung cap ho ten",
      "nặc danh",
      "nac danh",
      "Giấu tên",
      "giau ten",
      "không muốn cung cấp",
      "Xin phép không cung cấp",
      "bỏ qua",
    ]) {
      expect(isRefusal(text), text).toBe(true);
    }
    for (const name of ["Nguyễn Văn Bình", "Trần Thị Khương", "Lê Danh Tôn"])
      expect(isRefusal(name), name).toBe(false);
  });

  it("keeps long content whole up to the stated limit and says what was dropped", () => {
    expect(rules.content.maxChars).toBeGreaterThanOrEqual(20_000);
    const part = "Nội dung khiếu nại dài. ".repeat(250); // 6,000 characters
    let gathered = { content: "", dropped: 0 };
    for (let i = 0; i < 3; i += 1)
      gathered = gatherContent(gathered.content, part.trim(), rules.content.maxChars);
    expect(Array.from(gathered.content).length).toBe(3 * part.trim().length + 2);
    expect(gathered.dropped).toBe(0);
    const over = gatherContent(gathered.content, part.repeat(2), rules.content.maxChars);
    expect(Array.from(over.content).length).toBe(rules.content.maxChars);
    expect(over.dropped).toBe(
      Array.from(`${gathered.content}\n${part.repeat(2)}`).length - rules.content.maxChars,
    );
  });

  it("asks identity exactly as the law does, and consent only where it is the basis", () => {
    expect(identityPlanOf(rules.types.khieu_nai, "khac")).toMatchObject({
      name: "required",
      address: "required",
      phone: "optional",
      basis: "legal_duty",
    });
    expect(identityPlanOf(rules.types.to_cao, "khac").basis).toBe("legal_duty");
    expect(identityPlanOf(rules.types.gop_y, "khac")).toMatchObject({ name: "optional", basis: "consent" });
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
    const speaker = (id: string) => consoleSpeaker(app, id);
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
    fileFeedback(app, citizen, {
      idempotencyKey: key,
      type: "to_cao",
      content,
      identity: { name: "Nguyễn Văn Bình", address: "12 Lê Lợi", phone: "0912345678" },
      consentAt: now,
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

  it("answers filings asking at once from one read, each by its own person's tickets", async () => {
    const { app, clock, citizen } = await setup();
    const people = await Promise.all(["c1", "c2", "c3", "c4"].map((id) => consoleSpeaker(app, id)));
    const [atLimit, sameText, replaying, fresh] = people as [Speaker, Speaker, Speaker, Speaker];
    for (let i = 1; i <= 5; i += 1)
      await file(app, atLimit, clock.now(), `limit-${i}`, `Nội dung số ${i} của người đã đủ.`);
    const earlier = await file(app, sameText, clock.now(), "same-1", "Nội dung gửi lại lần nữa.");
    const replayed = await file(app, replaying, clock.now(), "replay-1", "Nội dung được chạy lại.");
    // Someone else's five tickets today do not count for anyone here.
    for (let i = 1; i <= 5; i += 1)
      await file(app, citizen, clock.now(), `other-${i}`, `Nội dung khác số ${i}.`);
    clock.advance(60_000);
    const finds = vi.spyOn(app.models.Ticket, "find");
    const filters: unknown[] = [];
    let outcomes;
    try {
      outcomes = await Promise.all([
        file(app, atLimit, clock.now(), "limit-6", "Nội dung thứ sáu của người đã đủ."),
        file(app, sameText, clock.now(), "same-2", "nội dung GỬI LẠI lần nữa."),
        file(app, replaying, clock.now(), "replay-1", "Nội dung được chạy lại."),
        file(app, fresh, clock.now(), "fresh-1", "Nội dung của người mới."),
      ]);
    } finally {
      filters.push(...finds.mock.calls.map(([filter]) => filter));
      finds.mockRestore();
    }
    expect(outcomes.map((o) => o.kind)).toEqual(["limit", "duplicate", "filed", "filed"]);
    if (earlier.kind === "filed" && outcomes[1]?.kind === "duplicate")
      expect(outcomes[1].ticket.code).toBe(earlier.ticket.code);
    if (replayed.kind === "filed" && outcomes[2]?.kind === "filed")
      expect(outcomes[2].ticket.code).toBe(replayed.ticket.code);
    // The four reads before filing went as at most two commands (the first alone, the rest together).
    const before = filters.filter((filter) => JSON.stringify(filter).includes("$or"));
    expect(before.length).toBeGreaterThanOrEqual(1);
    expect(before.length).toBeLessThanOrEqual(2);
  });

  it("counts the same text as sent again within its minutes across midnight, and not after them", async () => {
    const { app, clock, citizen } = await setup();
    // 23:55 in Hà Nội: the duplicate window runs into the next day.
    clock.set("2025-10-14T16:55:00Z");
    const first = await file(app, citizen, clock.now(), "m1");
    expect(first.kind).toBe("filed");
    clock.set("2025-10-14T17:02:00Z");
    const again = await file(app, citizen, clock.now(), "m2");
    expect(again).toMatchObject({ kind: "duplicate" });
    if (first.kind === "filed" && again.kind === "duplicate")
      expect(again.ticket.code).toBe(first.ticket.code);
    clock.set("2025-10-14T17:06:00Z");
    expect((await file(app, citizen, clock.now(), "m3")).kind).toBe("filed");
  });

  it("opens a ticket to whoever gives the phone written on it, except a tố cáo", async () => {
    const { app, clock, citizen, unit } = await setup();
    const filed = async (type: "khieu_nai" | "to_cao", key: string) =>
      (
        await filedTicket(app, citizen, {
          idempotencyKey: key,
          type,
          content: `Nội dung ${type} để tra cứu bằng số điện thoại.`,
          identity: { name: "Nguyễn Văn Bình", address: "12 Lê Lợi", phone: "0912345678" },
          consentAt: clock.now(),
        })
      ).code;
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
    // A tố cáo is resolved only once accepted, and only the Office accepts.
    await expect(app.feedback.answer(code, "Trả lời thử.", office, clock.now())).rejects.toThrow("bad_state");
    await expect(app.feedback.accept(code, unit, clock.now())).rejects.toThrow("forbidden");
    await app.feedback.accept(code, office, clock.now());
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
      ["accepted", "Nguyễn Thị Mai"],
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

describe("acceptance and the second round", () => {
  it("accepts on the real day, takes a khiếu nại to a second round linked to the first, and loads old tickets", async () => {
    await db.connection.dropDatabase();
    const { app, clock } = await buildApp(db.connection);
    await seedDemoPeople(app, clock.now());
    const speaker = (id: string) => consoleSpeaker(app, id);
    const citizen = await speaker("citizen");
    const office = await speaker("office");
    clock.set(new Date("2026-11-30T02:00:00Z"));
    const filed = await filedTicket(app, citizen, {
      idempotencyKey: "kn1",
      type: "khieu_nai",
      content: "Khiếu nại quyết định xử phạt số 12/QĐ-XPHC.",
      identity: { name: "Nguyễn Văn Bình", address: "12 Lê Lợi" },
      informedAt: clock.now(),
    });
    const { code } = filed;
    expect(filed.acceptBy).toBe("2026-12-10");
    expect(filed.dueDay).toBe("2026-12-10");
    expect(filed.consentAt).toBeUndefined();
    clock.set(new Date("2026-12-03T02:00:00Z"));
    const accepted = await app.feedback.accept(code, office, clock.now());
    expect(accepted.acceptedDay).toBe("2026-12-03");
    expect(accepted.dueDay).toBe("2027-01-04"); // 02/01/2027 is a Saturday
    // Too early for a second round while the first is within its limit.
    expect(app.feedback.secondRound(accepted, "2026-12-20")).toMatchObject({
      ok: false,
      reason: "too_early",
    });
    const answered = await app.feedback.answer(code, "Giữ nguyên quyết định.", office, clock.now());
    const check = app.feedback.secondRound(answered, "2026-12-20");
    expect(check).toMatchObject({ ok: true, reason: "decided", until: "2027-01-04" });
    expect(app.feedback.secondRound(answered, "2027-01-05")).toMatchObject({ ok: false, reason: "too_late" });
    const second = await fileFeedback(app, citizen, {
      idempotencyKey: "kn2",
      type: "khieu_nai",
      content: "Tôi không đồng ý với kết quả giải quyết lần đầu.",
      secondRoundOf: answered,
      informedAt: clock.now(),
    });
    if (second.kind !== "filed") throw new Error("not filed");
    expect(second.ticket).toMatchObject({ round: 2, firstCode: code, acceptBy: "2026-12-14" });
    expect(second.ticket.identitySealed).toBe(answered.identitySealed);
    expect((await app.feedback.byCode(code))?.secondCode).toBe(second.ticket.code);
    expect(app.feedback.secondRound((await app.feedback.byCode(code)) ?? answered, "2026-12-20").ok).toBe(
      false,
    );
    // A ticket stored before acceptance was modelled (no acceptBy) still loads, awaits acceptance,
    // and is counted the same way.
    await db.connection
      .collection("tickets")
      .updateOne(
        { code: second.ticket.code },
        { $unset: { acceptBy: "", acceptExtensions: "", round: "", firstCode: "" } },
      );
    const old = await app.feedback.byCode(second.ticket.code);
    if (!old) throw new Error("lost");
    expect(app.feedback.awaitingAcceptance(old)).toBe(true);
    expect(app.feedback.acceptBy(old)).toBe("2026-12-14");
  });
});
