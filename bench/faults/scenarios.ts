import { t } from "../../src/text/vi.js";
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

const CONTENT = "Góp ý thử lỗi: cổng dịch vụ công nên có video hướng dẫn từng thủ tục.";
const ANSWER = "Sở sẽ đăng video hướng dẫn thủ tục này trước ngày 15/12.";

async function seedOffice(world: World): Promise<void> {
  await world.app.people.ensurePerson(
    "telegram",
    OFFICE,
    { role: "office", name: "Văn phòng Sở" },
    new Date(),
  );
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

/** The code filed in `setup`, for `act`. */
const codes = new WeakMap<World, string>();

export const SCENARIOS: Scenario[] = [
  {
    name: "gopy",
    title: "a citizen's /gopy to a tracking code (Telegram, buttons)",
    seed: seedOffice,
    async act(world) {
      return (await fileTicket(world)).problems;
    },
  },
  {
    name: "xuly",
    title: "the Office's /xuly answer, and the citizen's notice of it",
    seed: seedOffice,
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
];
