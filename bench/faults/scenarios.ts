import { readUnitsFile } from "../../src/domain/units/service.js";
import { DATA_DIR } from "../../src/paths.js";
import { t } from "../../src/text/vi.js";
import path from "node:path";
import { citizenSteps, codeIn, officialSteps } from "../load/people.js";
import { REMINDER_AT, seedLoad, TASK_TITLE } from "../load/seed.js";
import type { Step, World } from "./world.js";

/**
 * One conversation of the matrix. `seed` writes what must exist before the bot starts, directly;
 * `setup` plays what comes before the part under test through the bot, uncounted; `act` is the
 * part whose every write and send is faulted in turn. Each returns what went wrong for a person
 * (a step never answered), if anything.
 */
export interface Scenario {
  name: string;
  title: string;
  seed(world: World): Promise<void>;
  setup?(world: World): Promise<string[]>;
  act(world: World): Promise<string[]>;
}

/** Telegram private chats: ids double as chat ids. */
export const CITIZEN = "5100001";
export const OFFICE = "5100900";
export const OFFICIAL = "5100500";
export const STAFF = "5100600";
export const NEWCOMER = "5100700";
/** Citizens who subscribed to the Office's announcements (the /thongbao scenario). */
export const SUBSCRIBERS = ["5100101", "5100102", "5100103", "5100104", "5100105"];
const UNIT = "khoa-hoc";

const CONTENT = "Góp ý thử lỗi: cổng dịch vụ công nên có video hướng dẫn từng thủ tục.";
const ANSWER = "Sở sẽ đăng video hướng dẫn thủ tục này trước ngày 15/12.";

/** Seeds the Office's account; its person id. */
async function seedOffice(world: World): Promise<string> {
  const office = await world.app.people.ensurePerson(
    "telegram",
    OFFICE,
    { role: "office", name: "Văn phòng Sở" },
    new Date(),
  );
  return office.personId;
}

/** The part of a sentence before its first placeholder: what every instance of it starts with. */
function lead(render: (marker: string) => string): string {
  const marker = "\u0000";
  return render(marker).split(marker)[0] ?? "";
}

function stuck(who: string, outcome: { finished: boolean; stuckAt?: string }): string[] {
  return outcome.finished ? [] : [`${who} got no answer at step "${outcome.stuckAt ?? "?"}"`];
}

/** Files a suggestion through the bot; its tracking code (from the confirmation), or problems. */
async function fileTicket(world: World): Promise<{ code?: string; problems: string[] }> {
  const outcome = await world.walk(CITIZEN, citizenSteps(CONTENT));
  const code = outcome.last ? codeIn(outcome.last.text) : undefined;
  return { ...(code ? { code } : {}), problems: stuck("the citizen", outcome) };
}

const say = (name: string, text: string, expect: (reply: string) => boolean): Step => ({
  name,
  action: { say: text },
  expect,
});
const choose = (name: string, label: string, expect: (reply: string) => boolean): Step => ({
  name,
  action: { choose: label },
  expect,
});

/** The code filed or seeded before `act` (a ticket's, a model's, an invite's), for `act`. */
const codes = new WeakMap<World, string>();

async function seedUnits(world: World): Promise<void> {
  await world.app.units.upsert(readUnitsFile(path.join(DATA_DIR, "units", "demo.yaml")));
}

/** Waits until each chat got a message containing `text` after its index in `from`; the chats that did not. */
async function waitAll(
  world: World,
  chats: string[],
  from: Map<string, number>,
  text: string,
): Promise<string[]> {
  const got = await Promise.all(
    chats.map((chat) => world.waitFor(chat, from.get(chat) ?? 0, (m) => m.includes(text))),
  );
  return chats.filter((_, i) => !got[i]).map((chat) => `chat ${chat} never got the announcement`);
}

const ANNOUNCEMENT = "Sở thông báo mở đợt đề xuất đặt hàng nhiệm vụ khoa học và công nghệ cấp tỉnh năm 2026.";
/** Longer than a claim lease (60 s) and a job run again a lease later. */
const REMINDER_PATIENCE_MS = 150_000;
const DECISION_COMMENT = "Mô hình thiết thực, đề nghị triển khai.";

export const SCENARIOS: Scenario[] = [
  {
    name: "gopy",
    title: "a citizen's /gopy to a tracking code (Telegram, buttons)",
    async seed(world) {
      await seedOffice(world);
    },
    async act(world) {
      return (await fileTicket(world)).problems;
    },
  },
  {
    name: "xuly",
    title: "the Office's /xuly answer, and the citizen's notice of it",
    async seed(world) {
      await seedOffice(world);
    },
    async setup(world) {
      const filed = await fileTicket(world);
      if (filed.code) codes.set(world, filed.code);
      else filed.problems.push("no tracking code to answer");
      return filed.problems;
    },
    async act(world) {
      const code = codes.get(world) ?? "";
      const from = world.arrivals(CITIZEN).length;
      const notice = t.feedback.toFiler.answer(code, ANSWER);
      const noticed = world.waitFor(CITIZEN, from, (text) => text === notice);
      const outcome = await world.walk(
        OFFICE,
        [
          say("/xuly", `/xuly ${code}`, (text) => text.includes(t.feedback.askAction(code))),
          choose("answer", t.feedback.actionLabel("answer"), (text) =>
            text.includes(t.feedback.askText("answer")),
          ),
          say("text", ANSWER, (text) => text.includes(t.feedback.done.answered(code))),
        ],
        undefined,
        "official",
      );
      const problems = stuck("the Office", outcome);
      if (outcome.finished && !(await noticed)) problems.push("the citizen never got the answer");
      return problems;
    },
  },
  {
    name: "reminder",
    title: "the reminders job, and an official's reply to the reminder",
    async seed(world) {
      await seedLoad(world.app, [{ channel: "telegram", id: OFFICIAL }]);
    },
    async act(world) {
      const job = world.runJob("reminders", REMINDER_AT);
      // Nobody waits for a reminder: the official answers whenever it comes, even a lease late.
      await world.waitFor(OFFICIAL, 0, (text) => text.includes(TASK_TITLE), REMINDER_PATIENCE_MS);
      const outcome = await world.walk(
        OFFICIAL,
        officialSteps(),
        (text) => text.includes(TASK_TITLE),
        "official",
      );
      const code = await job;
      const problems = stuck("the official", outcome);
      if (code !== 0) problems.push(`the reminders job exited with ${String(code)}`);
      return problems;
    },
  },
  {
    name: "duyet",
    title: "the Office's /duyet of a model, and the unit's notice of it",
    async seed(world) {
      await seedUnits(world);
      await seedOffice(world);
      const now = new Date();
      const staff = await world.app.people.ensurePerson(
        "telegram",
        STAFF,
        { role: "staff", name: "Trần Văn Hùng", unitId: UNIT },
        now,
      );
      const model = await world.app.dvk.register(
        {
          name: "Một cửa không giấy tờ cho doanh nghiệp khoa học và công nghệ",
          field: "cai-cach-hanh-chinh",
          unitKey: UNIT,
          personInCharge: "Trần Văn Hùng, chuyên viên",
          targetGroup: "Doanh nghiệp khoa học và công nghệ trên địa bàn tỉnh",
          content: "Hướng dẫn doanh nghiệp nộp hồ sơ trực tuyến, hỗ trợ qua Zalo trong giờ hành chính.",
          expectedResults: "100% hồ sơ được tiếp nhận trực tuyến, rút ngắn 30% thời gian.",
          startDay: "2025-03-01",
          endDay: "2025-12-31",
        },
        staff,
        now.toISOString().slice(0, 10),
        now,
        "faults-seed-model",
      );
      codes.set(world, model.code);
    },
    async act(world) {
      const code = codes.get(world) ?? "";
      const passed = t.dvk.status("passed");
      const from = world.arrivals(STAFF).length;
      const noticed = world.waitFor(STAFF, from, (text) => text.includes(DECISION_COMMENT));
      const outcome = await world.walk(
        OFFICE,
        [
          say("/duyet", `/duyet ${code}`, (text) => text.includes(t.dvk.askDecision(code))),
          choose("decision", passed, (text) => text.includes(t.dvk.askComment)),
          say("comment", DECISION_COMMENT, (text) => text.includes(t.dvk.decided(code, passed))),
        ],
        undefined,
        "official",
      );
      const problems = stuck("the Office", outcome);
      if (outcome.finished && !(await noticed)) problems.push("the unit never got the decision");
      return problems;
    },
  },
  {
    name: "invite",
    title: "an official redeems an invite with /start CODE",
    async seed(world) {
      await seedUnits(world);
      const office = await seedOffice(world);
      const invite = await world.app.invites.create(UNIT, "staff", office, new Date());
      codes.set(world, invite.code);
    },
    async act(world) {
      const code = codes.get(world) ?? "";
      const outcome = await world.walk(NEWCOMER, [
        say("/start", `/start ${code}`, (text) => text.startsWith(lead((m) => t.officials.joined(m, m)))),
      ]);
      return stuck("the newcomer", outcome);
    },
  },
  {
    name: "thongbao",
    title: "the Office's /thongbao to every subscribed citizen",
    async seed(world) {
      await seedOffice(world);
    },
    async setup(world) {
      const outcomes = await Promise.all(
        SUBSCRIBERS.map((id) =>
          world.walk(id, [say("/dangky", "/dangky", (text) => text.includes(t.announcements.subscribed))]),
        ),
      );
      return outcomes.flatMap((o, i) => stuck(`subscriber ${i + 1}`, o));
    },
    async act(world) {
      const tx = t.announcements;
      const from = new Map(SUBSCRIBERS.map((id) => [id, world.arrivals(id).length]));
      const outcome = await world.walk(
        OFFICE,
        [
          say("/thongbao", "/thongbao", (text) => text.includes(tx.askText)),
          say("text", ANNOUNCEMENT, (text) => text.includes(tx.askAudience)),
          choose("audience", tx.audience.subscribers, (text) => text.includes(`${SUBSCRIBERS.length} người`)),
          choose("send", tx.send, (text) => text.startsWith(lead((m) => tx.queued(m, 0)))),
        ],
        undefined,
        "official",
      );
      const problems = stuck("the Office", outcome);
      if (outcome.finished) problems.push(...(await waitAll(world, SUBSCRIBERS, from, ANNOUNCEMENT)));
      return problems;
    },
  },
];
