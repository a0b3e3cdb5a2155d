import path from "node:path";
import { inflateRawSync } from "node:zlib";
import type { Connection } from "mongoose";
import { createTelegramChannel, type TelegramChannel } from "../../bots/telegram/index.js";
import type { App } from "../../src/app.js";
import type { Speaker } from "../../src/domain/people/service.js";
import type { Inbound } from "../../src/engine/message.js";
import { HttpServer } from "../../src/http.js";
import { silentLogger } from "../../src/log.js";
import { importPlanFile, seedDemoPeople } from "../../src/seed.js";
import { FakeBotApi } from "../telegram/fake-bot-api.js";
import { PUBLIC_URL, SECRET } from "../telegram/harness.js";
import { consoleInbound } from "../support/inbound.js";
import { withTexts } from "../support/db.js";

export { SECRET as TELEGRAM_SECRET };

/**
 * The Telegram channel between our real HTTP server and the fake Bot API, like
 * test/telegram/harness.ts, but with the port exposed: the hostile corpus posts raw bytes and
 * odd headers, which the harness's JSON-only `post` cannot.
 */
export interface RawTelegramRig {
  app: App;
  fake: FakeBotApi;
  channel: TelegramChannel;
  url: string;
  /** POSTs exactly these bytes with these headers (the secret header is added unless `secret` is null). */
  post(
    body: string | Buffer,
    options?: { secret?: string | null; headers?: Record<string, string> },
  ): Promise<number>;
  stop(): Promise<void>;
}

export async function startRawTelegram(app: App): Promise<RawTelegramRig> {
  const clock = app.engine.services.clock;
  const fake = new FakeBotApi({ now: () => clock.now().getTime() });
  await fake.start();
  const http = new HttpServer(silentLogger(), async () => ({ ok: true, detail: {} }));
  const port = await http.listen(0, "127.0.0.1");
  const channel = createTelegramChannel({
    token: fake.token,
    apiRoot: fake.apiRoot,
    app,
    http,
    log: silentLogger(),
    publicUrl: PUBLIC_URL,
    webhookSecret: SECRET,
  });
  await channel.start();
  // Nothing is delivered in the background: the tests read the outbox.
  await app.dispatchers.get("telegram")?.stop();
  const url = `http://127.0.0.1:${port}/telegram/webhook`;
  return {
    app,
    fake,
    channel,
    url,
    async post(body, options = {}) {
      const secret = options.secret === undefined ? SECRET : options.secret;
      const response = await fetch(url, {
        method: "POST",
        headers: {
          ...(options.headers ?? { "content-type": "application/json" }),
          ...(secret === null ? {} : { "x-telegram-bot-api-secret-token": secret }),
        },
        body,
      });
      await response.arrayBuffer();
      await channel.idle();
      return response.status;
    },
    async stop() {
      await channel.stop();
      await http.close();
      await fake.stop();
    },
  };
}

/** Text a person reads: Vietnamese, with at least one letter carrying a Vietnamese diacritic. */
export const VIETNAMESE = /[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ]/i;

/** Words that betray a rendering bug when the bot writes them (unless the person typed them). */
export const BROKEN = ["undefined", "NaN", "[object Object]", "null"];

/**
 * The messages written to the outbox for one inbound (replies and adapter notices), oldest
 * first, with their texts opened.
 */
export async function answersTo(app: App, dedupeKey: string) {
  const escaped = dedupeKey.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const docs = await app.models.Outbox.find({ dedupeKey: { $regex: `^${escaped}#` } })
    .sort({ _id: 1 })
    .lean();
  return withTexts(app, docs);
}

export type Snapshot = Map<string, Map<string, string>>;

/** The collections whose valid documents the corpus must leave alone. */
export const GUARDED = [
  "tickets",
  "reports",
  "people",
  "units",
  "plans",
  "tasks",
  "dvk_models",
  "audit_log",
  "faqs",
  "reception_slots",
  "public_contacts",
] as const;

/** Every document of the guarded collections, serialised, by collection and _id. */
export async function snapshot(connection: Connection): Promise<Snapshot> {
  const result: Snapshot = new Map();
  for (const name of GUARDED) {
    const docs = await connection.collection(name).find({}).toArray();
    result.set(name, new Map(docs.map((doc) => [String(doc._id), JSON.stringify(doc)])));
  }
  return result;
}

/**
 * What changed between two snapshots: documents changed or removed (never allowed) and documents
 * added (allowed when the corpus made them: a person for each new sender, say).
 */
export function diff(before: Snapshot, after: Snapshot) {
  const changed: string[] = [];
  const added: Record<string, number> = {};
  for (const [name, docs] of before) {
    const now = after.get(name) ?? new Map<string, string>();
    for (const [id, json] of docs) {
      const current = now.get(id);
      if (current === undefined) changed.push(`${name}/${id} removed`);
      else if (current !== json) changed.push(`${name}/${id} changed`);
    }
    added[name] = [...now.keys()].filter((id) => !docs.has(id)).length;
  }
  return { changed, added };
}

/** The people, units, plan, models, reports and tickets the security tests work on. */
export interface World {
  office: Speaker;
  staff: Speaker;
  unitHead: Speaker;
  staffKhoaHoc: Speaker;
  staffVanPhong: Speaker;
  leader: Speaker;
  admin: Speaker;
  citizen: Speaker;
  /** A tố cáo with name, address and phone, assigned to ke-hoach-tai-chinh (staff's unit). */
  toCao: string;
  /** A phản ánh with identity, assigned to quan-ly-khoa-hoc (not staff's unit). */
  phanAnhOther: string;
  /** An anonymous góp ý, not assigned. */
  gopY: string;
  /** A model of ke-hoach-tai-chinh and one of quan-ly-khoa-hoc. */
  modelOwn: string;
  modelOther: string;
}

export const FILER = {
  name: "Phạm Thị Tố Giác",
  address: "99 Đường Bí Mật, phường Kín Đáo",
  phone: "0987654321",
};
export const FILER_OTHER = {
  name: "Vũ Văn Phản Ánh",
  address: "7 Hẻm Riêng Tư, xã Yên Lặng",
  phone: "0977111222",
};

/** Strings that must never appear where the filer's identity is not allowed. */
export function identityNeedles(identity: typeof FILER): string[] {
  const digits = identity.phone.replace(/^0/, "");
  return [identity.name, identity.address, identity.phone, digits, identity.name.normalize("NFD")];
}

export async function buildWorld(app: App, now: Date): Promise<World> {
  await seedDemoPeople(app, now);
  await importPlanFile(app, path.join(import.meta.dirname, "..", "fixtures", "plans", "small.yaml"), now);
  const speaker = (id: string) =>
    app.people.resolveSpeaker({ channel: "console", senderId: id, chatId: id, chatType: "private", now });
  const [office, staff, unitHead, staffKhoaHoc, staffVanPhong, leader, admin, citizen, citizen2] =
    await Promise.all(
      [
        "office",
        "staff",
        "unit_head",
        "staff-khoahoc",
        "staff-vanphong",
        "leader",
        "admin",
        "citizen",
        "citizen2",
      ].map(speaker),
    );
  if (!office || !staff || !unitHead || !staffKhoaHoc || !staffVanPhong || !leader || !admin)
    throw new Error("demo people missing");
  if (!citizen || !citizen2) throw new Error("citizens missing");

  const file = async (
    key: string,
    filer: Speaker,
    type: "to_cao" | "phan_anh" | "gop_y",
    identity?: typeof FILER,
  ) => {
    const result = await app.feedback.file({
      idempotencyKey: key,
      type,
      field: "thai_do_phuc_vu",
      content: `Nội dung ${type} dùng cho kiểm thử bảo mật (${key}).`,
      attachments: [],
      ...(identity ? { identity, consentAt: now } : {}),
      filer: { ...filer, channel: "console", chatId: filer === citizen ? "citizen" : "citizen2" },
      now,
    });
    if (result.kind !== "filed") throw new Error(`ticket ${key} not filed`);
    return result.ticket.code;
  };
  const toCao = await file("world:to-cao", citizen, "to_cao", FILER);
  const phanAnhOther = await file("world:phan-anh", citizen2, "phan_anh", FILER_OTHER);
  const gopY = await file("world:gop-y", citizen, "gop_y");
  await app.feedback.assign(
    toCao,
    { key: "ke-hoach-tai-chinh", name: "Phòng Kế hoạch – Tài chính" },
    office,
    now,
  );
  await app.feedback.assign(
    phanAnhOther,
    { key: "quan-ly-khoa-hoc", name: "Phòng Quản lý khoa học" },
    office,
    now,
  );

  const model = async (unitKey: string, by: Speaker, key: string) =>
    (
      await app.dvk.register(
        {
          name: `Mô hình dân vận khéo của ${unitKey}`,
          field: "cai_cach_hanh_chinh",
          unitKey,
          personInCharge: by.name,
          targetGroup: "Người dân, doanh nghiệp",
          content: "Hướng dẫn người dân làm thủ tục trực tuyến tại bộ phận một cửa.",
          expectedResults: "Giảm thời gian chờ đợi của người dân.",
          startDay: "2025-10-01",
          endDay: "2025-12-31",
        },
        by,
        "2025-10-06",
        now,
        key,
      )
    ).code;
  const modelOwn = await model("ke-hoach-tai-chinh", staff, "world:model-own");
  const modelOther = await model("quan-ly-khoa-hoc", staffKhoaHoc, "world:model-other");

  const [task] = await app.plans.findTasks("II.3");
  if (!task) throw new Error("task II.3 missing");
  await app.plans.addReport({
    idempotencyKey: "world:report",
    task,
    unitKey: "ke-hoach-tai-chinh",
    personId: staff.personId,
    personName: staff.name,
    channel: "console",
    status: "in_progress",
    percent: 40,
    note: "Đã rà soát 4/10 thủ tục.",
    attachments: [],
    source: "flow",
    now,
    today: "2025-10-06",
  });
  return {
    office,
    staff,
    unitHead,
    staffKhoaHoc,
    staffVanPhong,
    leader,
    admin,
    citizen,
    toCao,
    phanAnhOther,
    gopY,
    modelOwn,
    modelOther,
  };
}

/** Says `text` as console person `id` and returns the replies written for it. */
export async function say(app: App, id: string, text: string, extra: Partial<Inbound> = {}) {
  const inbound = consoleInbound(id, text, { receivedAt: app.engine.services.clock.now(), ...extra });
  const outcome = await app.engine.handle(inbound);
  const replies = await answersTo(app, inbound.dedupeKey);
  return { outcome, replies, text: replies.map((r) => r.text).join("\n---\n"), inbound };
}

/**
 * Every entry of a zip file (.xlsx, .docx) as text, read with the central directory and zlib:
 * the report files are searched for personal data without a zip library of our own.
 */
export function zipEntries(file: Buffer): Map<string, string> {
  const entries = new Map<string, string>();
  let end = file.length - 22;
  while (end >= 0 && file.readUInt32LE(end) !== 0x06054b50) end -= 1;
  if (end < 0) throw new Error("not a zip file");
  const count = file.readUInt16LE(end + 10);
  let at = file.readUInt32LE(end + 16);
  for (let i = 0; i < count; i += 1) {
    if (file.readUInt32LE(at) !== 0x02014b50) throw new Error("bad central directory");
    const method = file.readUInt16LE(at + 10);
    const size = file.readUInt32LE(at + 20);
    const nameLength = file.readUInt16LE(at + 28);
    const extraLength = file.readUInt16LE(at + 30);
    const commentLength = file.readUInt16LE(at + 32);
    const local = file.readUInt32LE(at + 42);
    const name = file.subarray(at + 46, at + 46 + nameLength).toString("utf8");
    const dataStart = local + 30 + file.readUInt16LE(local + 26) + file.readUInt16LE(local + 28);
    const data = file.subarray(dataStart, dataStart + size);
    entries.set(name, (method === 8 ? inflateRawSync(data) : data).toString("utf8"));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}
