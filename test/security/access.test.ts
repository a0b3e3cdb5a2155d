import { beforeAll, describe, expect, it } from "vitest";
import type { App } from "../../src/app.js";
import type { FixedClock } from "../../src/clock.js";
import { ROLES } from "../../src/domain/people/roles.js";
import { GUESS_LIMITS } from "../../src/domain/people/throttle.js";
import type { ChannelSender, Delivery } from "../../src/engine/channel.js";
import type { Subject } from "../../src/engine/message.js";
import { t } from "../../src/text/vi.js";
import { buildApp, consoleSpeaker, liveSession, liveSessions, useDatabase } from "../support/db.js";
import { buildWorld, FILER, FILER_OTHER, identityNeedles, say, zipEntries, type World } from "./support.js";

/**
 * Who sees what. A unit's officials see only their unit's tasks, tickets and models, whichever
 * way they ask (command, filter words, a code, a reply to a message); the identity of a tố cáo
 * filer reaches only those who handle tố cáo — the Office (and admins, who hold the Office's
 * powers) — never the unit it is handed to, a leader or another citizen, in no message and no
 * report file; every opening of personal data is audited; personal data is sealed at rest.
 */

const db = useDatabase(import.meta.filename);
const SLOW = 120_000;

/** Delivers console messages and numbers them, so that a test can reply to one. */
class RecordingSender implements ChannelSender {
  readonly channel = "console" as const;
  readonly delivered: Delivery[] = [];
  async send(delivery: Delivery) {
    this.delivered.push(delivery);
    return { messageIds: [`m${this.delivered.length}`] };
  }
}

let app: App;
let clock: FixedClock;
let world: World;
let sender: RecordingSender;

beforeAll(async () => {
  ({ app, clock } = await buildApp(db.connection));
  world = await buildWorld(app, clock.now());
  sender = new RecordingSender();
  app.addChannel(sender);
}, SLOW);

/** Everything the bot answered, as one text; any flow the command started is cancelled after. */
async function ask(id: string, text: string, extra = {}): Promise<string> {
  const { text: answer, outcome } = await say(app, id, text, extra);
  expect(outcome).toBe("handled");
  await app.sessions.clear(`console:${id}:${id}`);
  return answer;
}

/** A message about `subject` delivered to `id`; returns its platform id, as a reply would quote it. */
async function messageAbout(id: string, subject: Subject, text: string): Promise<string> {
  await app.outbox.enqueue([
    { to: { channel: "console", chatId: id }, text, subject, dedupeKey: `about:${id}:${subject.id}:${text}` },
  ]);
  await app.dispatchers.get("console")?.drain();
  const last = sender.delivered.findLastIndex((d) => d.chatId === id && d.text === text);
  return `m${last + 1}`;
}

describe("a unit's officials see only their unit", () => {
  it("/nhiemvu shows the official's own unit whatever is asked", async () => {
    for (const args of ["", " quan ly khoa hoc", " Phòng Quản lý khoa học", " van-phong", " II.2", " .*"]) {
      // What the official typed may be quoted back ("không có nhiệm vụ mã …"): that is no other
      // unit's data, so only the rest of the answer is searched for it.
      const answer = (await ask("staff", `/nhiemvu${args}`)).replace(`"${args.trim()}"`, "");
      expect(answer, args).toContain("Phòng Kế hoạch – Tài chính");
      expect(answer, args).not.toContain("Phòng Quản lý khoa học");
      expect(answer, args).not.toContain("Niêm yết lịch tiếp công dân");
    }
  });

  it("/phananh lists only tickets handed to the official's unit, whatever filter is typed", async () => {
    for (const args of [
      "",
      " quan ly khoa hoc",
      " Phòng Quản lý khoa học",
      " phan anh",
      " moi tiep nhan",
      " dang xu ly",
    ]) {
      const answer = await ask("staff", `/phananh${args}`);
      expect(answer, args).not.toContain(world.phanAnhOther);
      expect(answer, args).not.toContain(world.gopY);
    }
    expect(await ask("staff", "/phananh")).toContain(world.toCao);
    const other = await ask("staff-khoahoc", "/phananh");
    expect(other).toContain(world.phanAnhOther);
    expect(other).not.toContain(world.toCao);
    // Being an official of the Office's own unit gives no Office powers.
    const vanPhong = await ask("staff-vanphong", "/phananh");
    expect(vanPhong).not.toContain(world.toCao);
    expect(vanPhong).not.toContain(world.phanAnhOther);
  });

  it("/xuly and /tracuu refuse another unit's ticket and an unassigned one as if it did not exist", async () => {
    for (const [who, code] of [
      ["staff", world.phanAnhOther],
      ["staff", world.gopY],
      ["unit_head", world.phanAnhOther],
      ["staff-khoahoc", world.toCao],
      ["staff-vanphong", world.toCao],
    ] as const) {
      for (const command of ["/xuly", "/tracuu"]) {
        const answer = await ask(who, `${command} ${code}`);
        expect(answer, `${who} ${command}`).toBe(t.feedback.lookupNotFound(code));
      }
      expect((await liveSessions(app)).filter((s) => s.flow === "xuly")).toEqual([]);
    }
  });

  it("a reply to a message about another unit's ticket or task reaches nothing", async () => {
    const ticketMessage = await messageAbout(
      "staff",
      { kind: "ticket", id: world.phanAnhOther },
      "Phản ánh mới",
    );
    expect(await ask("staff", "Đã xử lý xong.", { replyToMessageId: ticketMessage })).toBe(
      t.feedback.lookupNotFound(world.phanAnhOther),
    );
    const [task] = await app.plans.findTasks("II.2");
    if (!task) throw new Error("II.2 missing");
    const reports = await app.models.Report.countDocuments();
    const reminder = await messageAbout("staff", { kind: "task", id: task.key }, "Nhắc hạn II.2");
    expect(await ask("staff", "xong 100%", { replyToMessageId: reminder })).toBe(
      t.plans.notYourTask(task.code),
    );
    expect(await app.models.Report.countDocuments()).toBe(reports);
  });

  it("/mohinh, /suamohinh and /ketquamohinh keep to the official's unit", async () => {
    for (const args of ["", " quan ly khoa hoc", " 2025", " Phòng Quản lý khoa học 2025"]) {
      const answer = await ask("staff", `/mohinh${args}`);
      expect(answer, args).not.toContain(world.modelOther);
    }
    expect(await ask("staff", "/mohinh")).toContain(world.modelOwn);
    expect(await ask("staff", `/mohinh ${world.modelOther}`)).toBe(t.dvk.errors.not_found);
    expect(await ask("staff", `/suamohinh ${world.modelOther}`)).toBe(t.dvk.errors.not_found);
    expect(await ask("staff", `/ketquamohinh ${world.modelOther}`)).toBe(t.dvk.errors.not_found);
    expect(await ask("staff-khoahoc", `/mohinh ${world.modelOwn}`)).toBe(t.dvk.errors.not_found);
  });

  it("the unit's statistics show the unit's own figures and no other unit", async () => {
    for (const command of ["/phananh thongke năm 2025", "/mohinh thongke 2025"]) {
      const answer = await ask("staff", command);
      expect(answer, command).toContain("Phòng Kế hoạch – Tài chính");
      expect(answer, command).not.toContain("Quản lý khoa học");
    }
    for (const command of ["/tonghop", "/xuatbaocao"]) {
      expect(await ask("staff", command)).toBe(t.engine.forbidden(command.slice(1)));
    }
  });
});

describe("the identity of a tố cáo filer", () => {
  const toCaoNeedles = identityNeedles(FILER);
  const commands = (code: string) => [
    `/tracuu ${code}`,
    `/tracuu ${code} 0900000000`,
    `/xuly ${code}`,
    "/phananh",
    "/phananh tố cáo",
    "/phananh đang xử lý",
    "/phananh thongke năm 2025",
  ];

  it("reaches no one who does not handle tố cáo, through any command that prints a ticket", async () => {
    const outsiders = [
      "staff",
      "unit_head",
      "staff-khoahoc",
      "staff-vanphong",
      "leader",
      "citizen2",
      "nguoi-la",
    ];
    for (const who of outsiders) {
      for (const command of commands(world.toCao)) {
        const answer = await ask(who, command);
        for (const needle of toCaoNeedles) expect(answer, `${who} ${command}`).not.toContain(needle);
      }
    }
    // The unit it was handed to sees the ticket, without the filer.
    expect(await ask("staff", `/xuly ${world.toCao}`)).toContain(t.feedback.identityHidden);
    // A reply to a message about the ticket shows no more.
    const about = await messageAbout("unit_head", { kind: "ticket", id: world.toCao }, "Tố cáo được giao");
    const replied = await ask("unit_head", "Xem", { replyToMessageId: about });
    for (const needle of toCaoNeedles) expect(replied).not.toContain(needle);
  });

  it("is shown to the Office (and admins, who hold its powers) and to the filer", async () => {
    expect(await ask("office", `/xuly ${world.toCao}`)).toContain(FILER.name);
    expect(await ask("admin", `/xuly ${world.toCao}`)).toContain(FILER.name);
    expect(await ask("citizen", `/tracuu ${world.toCao}`)).toContain(FILER.name);
  });

  it("never enters a message to anyone else", async () => {
    // Everything the bot has written so far in this file, to anyone.
    const allowed = new Set(["office", "admin", "citizen"]);
    const messages = await app.models.Outbox.find().lean();
    expect(messages.length).toBeGreaterThan(20);
    for (const message of messages) {
      if (allowed.has(message.chatId)) continue;
      for (const needle of toCaoNeedles)
        expect(app.outbox.textOf(message), message.chatId).not.toContain(needle);
    }
  });

  it(
    "never enters the report files (.xlsx, .docx), nor any other filer's personal data",
    async () => {
      const { replies } = await say(app, "office", "/xuatbaocao quý 4 2025");
      const files = replies.flatMap((r) => r.files ?? []);
      expect(files.map((f) => f.name)).toEqual([
        expect.stringMatching(/\.xlsx$/),
        expect.stringMatching(/\.docx$/),
      ]);
      const needles = [...toCaoNeedles, ...identityNeedles(FILER_OTHER)];
      for (const file of files) {
        // Report files live in the database (GridFS); the reply names them by `report-file:<name>`.
        const bytes = await app.reports.files.read(app.reports.files.nameOf(file.ref) ?? "", clock.now());
        const entries = zipEntries(bytes ?? Buffer.alloc(0));
        const text = [...entries.values()].join("\n");
        // The workbook lists the tickets, so the search is looking at the right place.
        if (file.name?.endsWith(".xlsx")) expect(text).toContain(world.toCao);
        for (const needle of needles) expect(text, `${file.name}: ${needle}`).not.toContain(needle);
      }
    },
    SLOW,
  );

  it(
    // The phone number is no key to a tố cáo: the unit it was handed to could confirm who filed it.
    "cannot be confirmed by the unit it was handed to, by trying a suspect's phone with /tracuu",
    async () => {
      // The tests above left "staff", and this code, with wrong guesses: past their windows the
      // guessing throttle (test/security/guessing.test.ts) answers no more for them.
      clock.advance(Math.max(GUESS_LIMITS.account.windowMs, GUESS_LIMITS.target.windowMs));
      const right = await ask("staff", `/tracuu ${world.toCao} ${FILER.phone}`);
      const wrong = await ask("staff", `/tracuu ${world.toCao} 0911111111`);
      expect(wrong).toBe(t.feedback.lookupNotFound(world.toCao));
      expect(right).toBe(wrong);
    },
  );
});

describe("personal data: audited and sealed", () => {
  const CHAT = {
    name: "Đinh Thị Kiểm Toán",
    address: "5 Ngõ Nhật Ký, phường Ghi Chép",
    phone: "0966 555 444",
  };

  /**
   * A phản ánh about an administrative procedure, with the filer's identity, up to the summary: a
   * legal duty, so the filer is informed there and asked no consent.
   */
  const FILING = [
    "/gopy",
    "phản ánh",
    "thủ tục hành chính",
    "Hồ sơ nộp trực tuyến bị trả lại ba lần không rõ lý do.",
    "xong",
    CHAT.name,
    CHAT.address,
    CHAT.phone,
  ];

  async function fileThroughChat(id: string): Promise<string> {
    for (const text of FILING) {
      expect((await say(app, id, text)).outcome).toBe("handled");
    }
    const { text } = await say(app, id, t.feedback.send);
    const code = /PA-\d{4}-\d{6}/.exec(text)?.[0];
    if (!code) throw new Error(`not filed: ${text}`);
    return code;
  }

  it(
    "writes every opening and every write of a filer's identity to the audit log, and nothing else",
    async () => {
      const code = await fileThroughChat("dan-kiem-toan");
      const filer = await consoleSpeaker(app, "dan-kiem-toan");
      await ask("dan-kiem-toan", `/tracuu ${code}`);
      await ask("office", `/xuly ${code}`);
      await say(app, "office", `/xuly ${code}`);
      await say(app, "office", "1");
      await say(app, "office", "ke hoach");
      // A phản ánh is not confidential: the unit it was handed to sees the filer, and is audited.
      await ask("staff", `/xuly ${code}`);
      // Those who may not see it are not shown it, and nothing is logged for them.
      await ask("staff-khoahoc", `/xuly ${code}`);
      await ask("leader", `/tracuu ${code}`);
      await ask("nguoi-la", `/tracuu ${code} ${CHAT.phone}`);
      const audit = await app.feedback.audit.ofTicket(code);
      expect(audit.map((a) => [a.action, a.personId?.toString(), a.fields.join(",")])).toEqual([
        ["write", filer.personId, "name,address,phone"],
        ["read", filer.personId, "name,address,phone"],
        ["read", world.office.personId, "name,address,phone"],
        ["read", world.office.personId, "name,address,phone"],
        ["read", world.staff.personId, "name,address,phone"],
      ]);
      // Every message showing the name after filing went to someone with an audited read.
      const readers = new Set(audit.filter((a) => a.action === "read").map((a) => a.personId?.toString()));
      const filedAt = (await app.models.Ticket.findOne({ code }).lean())?._id;
      const shown = (await app.models.Outbox.find({ _id: { $gt: filedAt } }).lean()).filter((m) =>
        app.outbox.textOf(m).includes(CHAT.name),
      );
      expect(shown.length).toBeGreaterThanOrEqual(4);
      for (const message of shown)
        expect(readers.has(message.personId?.toString() ?? ""), message.chatId).toBe(true);
    },
    SLOW,
  );

  it("keeps the ticket's name, address and phone sealed, and the audit log free of them", async () => {
    const needles = [...identityNeedles(FILER), ...identityNeedles(FILER_OTHER)];
    for (const name of ["tickets", "audit_log"]) {
      const raw = JSON.stringify(await db.connection.collection(name).find().toArray());
      for (const needle of needles) expect(raw, `${name}: ${needle}`).not.toContain(needle);
    }
    const ticket = await db.connection.collection("tickets").findOne({ code: world.toCao });
    expect(ticket?.identitySealed).toMatch(/^s1\.test\./);
    expect(ticket?.phoneHash).not.toContain("987654321");
  });

  it(
    // The inbox seals each update until it is handled and the outbox seals every text, because
    // the /gopy summary repeats what the filer typed.
    "keeps no plaintext copy of what the filer typed in any collection, mid-flow or after",
    async () => {
      const needles = [CHAT.name, CHAT.address, CHAT.phone, CHAT.phone.replace(/\s/g, "")];
      const copies = async () => {
        const found: string[] = [];
        for (const { name } of await db.connection.listCollections()) {
          const raw = JSON.stringify(await db.connection.collection(name).find().toArray());
          for (const needle of needles) if (raw.includes(needle)) found.push(`${name}: ${needle}`);
        }
        return found;
      };
      // Stopped at the summary, before sending: the flow holds all three in its session.
      for (const text of FILING) await say(app, "dan-dang-do", text);
      expect((await liveSession(app, "console:dan-dang-do:dan-dang-do"))?.step).toBe("confirm");
      expect(await copies()).toEqual([]);
      await fileThroughChat("dan-ban-sao");
      expect(await copies()).toEqual([]);
    },
    SLOW,
  );
});

describe("roles, whichever way a command arrives", () => {
  it(
    "gates a command pressed as a button exactly as when it is typed",
    async () => {
      const ids = {
        citizen: "citizen",
        staff: "staff",
        unit_head: "unit_head",
        office: "office",
        leader: "leader",
        admin: "admin",
      };
      // Commands that make files or change people are left to the typed matrix in test/engine.
      const skip = new Set(["xuatbaocao", "tonghop", "huy"]);
      for (const role of ROLES) {
        for (const command of app.engine.commands.all()) {
          if (skip.has(command.name) || command.channels) continue;
          const { text, outcome } = await say(app, ids[role], "Nút", { choice: `/${command.name}` });
          await app.sessions.clear(`console:${ids[role]}:${ids[role]}`);
          expect(outcome).toBe("handled");
          const allowed = command.roles.includes(role);
          expect(text.includes(t.engine.forbidden(command.name)), `${role} presses /${command.name}`).toBe(
            !allowed,
          );
        }
      }
    },
    SLOW,
  );

  it("stops a flow at the next step when the person lost the role it needs", async () => {
    expect(await ask("office", `/huy`)).toBeTruthy();
    await say(app, "office", `/xuly ${world.gopY}`);
    const office = await app.models.Person.findById(world.office.personId).lean();
    await app.people.setRole(world.office.personId, "citizen");
    try {
      const { text } = await say(app, "office", "1");
      expect(text).toBe(t.engine.forbidden("xuly"));
      expect(await liveSession(app, "console:office:office")).toBeUndefined();
      expect((await app.feedback.byCode(world.gopY))?.status).toBe("new");
    } finally {
      await app.people.setRole(world.office.personId, office?.role ?? "office");
    }
  });

  it("stops guessing invite codes after a few wrong ones, even the right one", async () => {
    const invite = await app.invites.create(
      "ke-hoach-tai-chinh",
      "staff",
      world.office.personId,
      clock.now(),
    );
    for (let i = 0; i < 5; i += 1)
      expect(await ask("doan-ma", `/start ZZZZZZ${i}`)).toBe(t.officials.inviteRefused.invalid);
    const answer = await ask("doan-ma", `/start ${invite.code}`);
    expect(answer).toContain("Anh/chị đã nhập sai mã quá nhiều lần");
    const person = await consoleSpeaker(app, "doan-ma");
    expect(person.role).toBe("citizen");
  });
});
