import { beforeAll, describe, expect, it } from "vitest";
import type { App } from "../../src/app.js";
import { dayOf } from "../../src/domain/calendar/work-calendar.js";
import { FEEDBACK_TYPES } from "../../src/domain/feedback/rules.js";
import { TICKET_STATUSES } from "../../src/domain/feedback/schema.js";
import { MODEL_STATUSES } from "../../src/domain/dvk/schema.js";
import type { Speaker } from "../../src/domain/people/service.js";
import type { Role } from "../../src/domain/people/roles.js";
import { choiceRetry, matchChoice, readChoice } from "../../src/engine/choices.js";
import type { AnyFlow, FlowData } from "../../src/engine/flow.js";
import type { Choice } from "../../src/engine/message.js";
import { Turn } from "../../src/engine/turn.js";
import { importPlanFile, seedDemoPeople, shippedPlanFiles } from "../../src/seed.js";
import { fold, foldWords } from "../../src/text/normalize.js";
import { t } from "../../src/text/vi.js";
import { buildApp, useDatabase } from "../support/db.js";
import { consoleInbound } from "../support/inbound.js";

const db = useDatabase(import.meta.filename);

/** One set of options a person can be offered, and where it came from. */
interface ChoiceSet {
  where: string;
  choices: Choice[];
}

// ——— What the test calls a negation, independently of the matcher ———

const NEGATION_WORDS = new Set(["khong", "chua", "chang", "cha", "ko", "k", "kg"]);
/**
 * A label's words without a leading list number ("4 — Hài lòng" → hai long) or a note in
 * brackets ("Không thụ lý (nêu lý do)" → khong thu ly).
 */
const coreWords = (label: string) => {
  const all = foldWords(label.replace(/\s*\([^)]*\)/g, ""));
  return /^\s*\d+\s*[—–\-.):]/.test(label) ? all.slice(1) : all;
};
/** "Không đạt" negates "Đạt", "1 — Không hài lòng" negates "4 — Hài lòng". */
function negates(m: string, l: string): boolean {
  const mw = coreWords(m);
  const lw = coreWords(l);
  return mw.length > lw.length && mw.some((w) => NEGATION_WORDS.has(w)) && same(positive(mw), lw);
}
const positive = (words: string[]) => words.filter((w) => !NEGATION_WORDS.has(w));
const same = (a: string[], b: string[]) => a.length === b.length && a.every((w, i) => w === b[i]);
const startsWith = (words: string[], prefix: string[]) => same(words.slice(0, prefix.length), prefix);
const stripMarks = (s: string) =>
  s
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[đĐ]/g, "d");

// ——— Every choice set of every flow, built by the flows themselves ———

type Registry = { flows: Map<string, AnyFlow> };

/**
 * Calls every step's `choices` of every registered flow, for every role the flow admits and for
 * each state of the record it works on (a model in each status, a ticket of each type in each
 * status), on the demo units and the shipped plans.
 */
async function collectChoiceSets(app: App): Promise<{ sets: ChoiceSet[]; steps: Map<string, number> }> {
  const now = app.engine.services.clock.now();
  const speakers = new Map<string, Speaker>();
  const people: [string, Role, string?][] = [
    ["citizen-p", "citizen"],
    ["staff", "staff", "ke-hoach-tai-chinh"],
    ["unit_head", "unit_head", "ke-hoach-tai-chinh"],
    ["staff-khoahoc", "staff", "quan-ly-khoa-hoc"],
    ["office", "office", "van-phong"],
    ["leader", "leader"],
    ["admin", "admin"],
  ];
  for (const [id, role, unitId] of people) {
    speakers.set(
      id,
      await app.people.ensurePerson("console", id, { role, ...(unitId ? { unitId } : {}) }, now),
    );
  }
  const turnOf = (speaker: Speaker) =>
    new Turn(consoleInbound(speaker.accountId, ""), speaker, app.engine.services, now);
  const staff = speakers.get("staff") as Speaker;
  const citizen = speakers.get("citizen-p") as Speaker;

  // A model and a ticket whose status (and type) the loop below moves through every value.
  const field = app.dvk.rules.fields[0]?.key ?? "";
  const model = await app.dvk.register(
    {
      name: "Mô hình thử",
      field,
      unitKey: "ke-hoach-tai-chinh",
      personInCharge: "Trần Văn Hùng",
      targetGroup: "Doanh nghiệp",
      content: "Nội dung giải pháp thử nghiệm",
      expectedResults: "Kết quả thử nghiệm",
      startDay: "2025-03-01",
      endDay: "2025-12-31",
    },
    staff,
    dayOf(now, "Asia/Ho_Chi_Minh"),
    now,
    "choices-model",
  );
  const filed = await app.feedback.file({
    idempotencyKey: "choices-ticket",
    type: "gop_y",
    field: app.feedback.rules.fields[0]?.key ?? "",
    content: "Đề nghị niêm yết công khai thủ tục hành chính tại bộ phận một cửa.",
    attachments: [],
    filer: { ...citizen, channel: "console", chatId: citizen.accountId },
    now,
  });
  if (filed.kind === "limit") throw new Error("ticket refused");
  const ticketCode = filed.ticket.code;

  // The "which task are you answering?" options are the first lines of recent reminders.
  const tasks = await app.plans.tasksForUnit("ke-hoach-tai-chinh");
  const reminderOptions = tasks.slice(0, 8).map((task) => ({
    label: t.jobs
      .reminder({
        code: task.code,
        title: task.title,
        plan: "",
        unit: "",
        due: "",
        left: "",
        status: "",
        percent: 0,
        reported: undefined,
      })
      .split("\n")[0]
      ?.slice(0, 60) as string,
    value: task.key,
  }));

  // A task code both shipped plans use: the "which plan?" steps offer its plans.
  const shared = (await app.plans.plans()).map((plan) => plan.code);
  const sharedKeys: string[] = [];
  for (const planCode of shared) {
    const task = (await app.plans.tasksOf(planCode)).find((x) => x.code === "III.2");
    if (task) sharedKeys.push(task.key);
  }

  /** Extra data to try a flow's steps with, beyond its initial data. */
  const variants = async (flow: AnyFlow, set: (data: FlowData) => Promise<void>) => {
    const admitted = [...speakers.values()].filter((s) => flow.roles.includes(s.role));
    for (const speaker of admitted) {
      // "<command> sua" flows start from the record being edited, passed as their argument.
      const args = flow.name.endsWith(" sua") ? JSON.stringify({ current: {} }) : "";
      const data = flow.initial(turnOf(speaker), args);
      await set({ ...data, __speaker: speaker });
      if (flow.name === "suamohinh") await set({ ...data, editing: "field", __speaker: speaker });
      if (flow.name === "chonviec") await set({ ...data, options: reminderOptions, __speaker: speaker });
      if (flow.name === "chonnhiemvu" || flow.name === "baocao")
        await set({ ...data, code: "III.2", taskCode: "III.2", candidates: sharedKeys, __speaker: speaker });
      // The upload flow offers «Nạp» / «Hủy» once a checked file is waiting.
      if (flow.name === "taikehoach") await set({ ...data, kind: "plan", __speaker: speaker });
      if (flow.name === "duyet") {
        for (const status of MODEL_STATUSES) {
          await app.models.DvkModel.updateOne({ _id: model._id }, { $set: { status } });
          await set({ ...data, code: model.code, __speaker: speaker, __state: status });
        }
      }
      if (flow.name === "xuly") {
        for (const type of FEEDBACK_TYPES) {
          for (const status of TICKET_STATUSES) {
            await app.models.Ticket.updateOne({ code: ticketCode }, { $set: { type, status } });
            await set({ ...data, code: ticketCode, __speaker: speaker, __state: `${type}/${status}` });
          }
        }
      }
    }
  };

  const sets: ChoiceSet[] = [];
  const steps = new Map<string, number>();
  // The engine keeps its flows private; the test reads them to miss none.
  const { flows } = app.engine as unknown as Registry;
  for (const flow of flows.values()) {
    for (const [stepName, step] of Object.entries(flow.steps)) {
      if (!step.choices) continue;
      const where = `${flow.name}/${stepName}`;
      steps.set(where, 0);
      await variants(flow, async ({ __speaker, __state, ...data }) => {
        const choices = await step.choices?.(data, turnOf(__speaker as Speaker));
        if (!choices || choices.length === 0) return;
        steps.set(where, (steps.get(where) ?? 0) + 1);
        const key = JSON.stringify(choices.map((c) => c.label));
        if (!sets.some((s) => JSON.stringify(s.choices.map((c) => c.label)) === key)) {
          sets.push({ where: `${where}${__state ? ` (${String(__state)})` : ""}`, choices });
        }
      });
    }
  }
  return { sets, steps };
}

let sets: ChoiceSet[] = [];
let steps = new Map<string, number>();

beforeAll(async () => {
  const { app, clock } = await buildApp(db.connection);
  await seedDemoPeople(app, clock.now());
  for (const file of shippedPlanFiles()) await importPlanFile(app, file, clock.now());
  ({ sets, steps } = await collectChoiceSets(app));
}, 120_000);

describe("every choice set of every flow", () => {
  it("is collected from the flows themselves: every step with choices offers some", () => {
    expect([...steps.keys()].length).toBeGreaterThan(15);
    const silent = [...steps.entries()].filter(([, count]) => count === 0).map(([where]) => where);
    expect(silent, "steps whose choices were never offered: give the test data for them").toEqual([]);
    // The sets the issue names are among them.
    const labels = sets.map((s) => s.choices.map((c) => c.label).join(" | "));
    expect(labels).toContain(t.dvk.status("failed"));
    expect(labels.some((l) => l.includes("Tiêu chuẩn – đo lường – chất lượng"))).toBe(true);
    expect(labels.some((l) => l.includes("Phòng Kế hoạch – Tài chính"))).toBe(true);
  });

  it("no two options of a set read the same once folded", () => {
    for (const { where, choices } of sets) {
      const keys = choices.map((c) => foldWords(c.label).join(" "));
      expect(new Set(keys).size, `${where}: ${keys.join(" | ")}`).toBe(keys.length);
    }
  });

  it("each option is picked by its button, its number, its label, folded, upper-case, without punctuation", () => {
    for (const { where, choices } of sets) {
      choices.forEach((choice, i) => {
        const label = choice.label;
        const forms = [
          label,
          fold(label),
          label.toUpperCase(),
          stripMarks(label),
          label.replace(/[^\p{L}\p{N}\s]/gu, ""),
          label.replace(/[^\p{L}\p{N}\s]/gu, " "),
          fold(label).replace(/[^\p{L}\p{N}\s]/gu, ""),
          `  ${label}  `,
          label.normalize("NFD"),
        ];
        for (const text of forms) expect(matchChoice({ text }, choices), `${where}: "${text}"`).toBe(choice);
        expect(matchChoice({ text: String(i + 1) }, choices), `${where}: ${i + 1}`).toBe(choice);
        expect(matchChoice({ text: `${i + 1}.` }, choices), `${where}: ${i + 1}.`).toBe(choice);
        expect(matchChoice({ text: "", choice: choice.value }, choices), `${where}: button`).toBe(choice);
      });
    }
  });

  it('"không …" and "chưa …" before a label pick only that label\'s own negation', () => {
    for (const { where, choices } of sets) {
      for (const { label } of choices) {
        for (const neg of ["không", "chưa", "ko", "chẳng"]) {
          for (const text of [`${neg} ${label}`, fold(`${neg} ${label}`)]) {
            const picked = matchChoice({ text }, choices);
            if (picked)
              expect(negates(picked.label, label), `${where}: "${text}" → ${picked.label}`).toBe(true);
          }
        }
      }
    }
  });

  it("a negated label is never picked by its positive, nor by a bare negation", () => {
    for (const { where, choices } of sets) {
      for (const choice of choices) {
        const words = coreWords(choice.label);
        if (!words.some((w) => NEGATION_WORDS.has(w))) continue;
        const pos = positive(words).join(" ");
        if (pos) expect(matchChoice({ text: pos }, choices), `${where}: "${pos}"`).not.toBe(choice);
        for (const bare of ["không", "chưa", "ko", "k"]) {
          const picked = matchChoice({ text: bare }, choices);
          if (picked)
            expect(fold(picked.label), `${where}: "${bare}"`).toBe(fold(bare === "chưa" ? "chưa" : "không"));
        }
      }
    }
  });

  it("of a label and its negation in one set, each picks only itself", () => {
    let pairs = 0;
    for (const { where, choices } of sets) {
      for (const a of choices) {
        for (const b of choices) {
          if (!negates(b.label, a.label)) continue;
          pairs += 1;
          for (const text of [a.label, fold(a.label), stripMarks(a.label)])
            expect(matchChoice({ text }, choices), `${where}: ${text}`).toBe(a);
          for (const text of [b.label, fold(b.label), stripMarks(b.label)])
            expect(matchChoice({ text }, choices), `${where}: ${text}`).toBe(b);
        }
      }
    }
    // Đồng ý / Không đồng ý, the scores, the model statuses: the property is not vacuous.
    expect(pairs).toBeGreaterThanOrEqual(3);
  });

  it("a prefix of whole words picks its label only when no other option has those words, never a negation", () => {
    let picked = 0;
    for (const { where, choices } of sets) {
      for (const choice of choices) {
        const raw = choice.label.split(/\s+/).filter(Boolean);
        for (let k = 1; k < raw.length; k += 1) {
          const text = raw.slice(0, k).join(" ");
          const words = foldWords(text);
          const result = matchChoice({ text }, choices);
          const sharing = choices.filter((c) => startsWith(foldWords(c.label), words));
          if (result) {
            expect(result, `${where}: "${text}" picked another option`).toBe(choice);
            expect(sharing, `${where}: "${text}" is not unique`).toEqual([choice]);
            expect(
              words.every((w) => NEGATION_WORDS.has(w)),
              `${where}: bare "${text}"`,
            ).toBe(false);
            picked += 1;
          }
          // Negated, the prefix never picks the label it began.
          const negated = matchChoice({ text: `không ${text}` }, choices);
          if (negated) expect(negates(negated.label, choice.label) || negated !== choice, where).toBe(true);
          // The same prefix with its negation dropped ("1 — Không hài" → "hài") is not the label.
          const unnegated = positive(words).filter((w) => !/^\d+$/.test(w));
          if (words.some((w) => NEGATION_WORDS.has(w)) && unnegated.length > 0) {
            expect(
              matchChoice({ text: unnegated.join(" ") }, choices),
              `${where}: "${unnegated.join(" ")}"`,
            ).not.toBe(choice);
          }
        }
      }
    }
    // Prefixes do work ("khieu nai" for "Khiếu nại — …"): the property is not vacuous.
    expect(picked).toBeGreaterThan(20);
  });
});

describe("the cases the issue names", () => {
  const status = (s: Parameters<typeof t.dvk.status>[0]) => ({ label: t.dvk.status(s), value: s });

  it('a model in "Cần bổ sung" is offered only "Không đạt": "Đạt" picks nothing and is told what is offered', () => {
    const offered = [status("failed")];
    expect(matchChoice({ text: "Đạt" }, offered)).toBeUndefined();
    expect(matchChoice({ text: "dat" }, offered)).toBeUndefined();
    expect(matchChoice({ text: "không" }, offered)).toBeUndefined();
    const retry = choiceRetry({ text: "Đạt" }, offered);
    expect(retry).toContain('"Đạt"');
    expect(retry).toContain("Không đạt");
    expect(matchChoice({ text: "không đạt" }, offered)).toBe(offered[0]);
    expect(matchChoice({ text: "ko dat" }, offered)).toBe(offered[0]);
  });

  it("all four decisions offered: each is picked by its own words only", () => {
    const offered = [status("appraising"), status("passed"), status("needs_changes"), status("failed")];
    expect(matchChoice({ text: "Đạt" }, offered)?.value).toBe("passed");
    expect(matchChoice({ text: "khong dat" }, offered)?.value).toBe("failed");
    expect(matchChoice({ text: "chưa đạt" }, offered)).toBeUndefined();
    expect(matchChoice({ text: "bổ sung" }, offered)?.value).toBe("needs_changes");
  });

  it("dashes and punctuation separate words", () => {
    const fields = [
      { label: "Khoa học và công nghệ", value: "khcn" },
      { label: "Tiêu chuẩn – đo lường – chất lượng", value: "tdc" },
    ];
    expect(matchChoice({ text: "tieu chuan do luong" }, fields)?.value).toBe("tdc");
    expect(matchChoice({ text: "Tiêu chuẩn - đo lường - chất lượng" }, fields)?.value).toBe("tdc");
    expect(matchChoice({ text: "tieu chuan, do luong, chat luong" }, fields)?.value).toBe("tdc");
  });

  it("a step whose list came out empty says so, not 'type a number from 1 to 0'", () => {
    for (const text of ["1", "Chuyển đổi số", ""]) expect(choiceRetry({ text }, [])).toBe(t.engine.noChoices);
  });

  it("something that could mean two options is asked again, naming both", () => {
    const roles = ["staff", "unit_head", "leader"].map((r) => ({
      label: t.people.role(r as never),
      value: r,
    }));
    expect(readChoice({ text: "lãnh đạo" }, roles).kind).toBe("ambiguous");
    const retry = choiceRetry({ text: "lãnh đạo" }, roles);
    expect(retry).toContain(t.people.role("unit_head"));
    expect(retry).toContain(t.people.role("leader"));
    expect(choiceRetry({ text: "9" }, roles)).toBe(t.engine.noSuchNumber(9, 3));
  });

  it("a task code is a word of its own: II.2 is no prefix of II.2-3", () => {
    const tasks = [
      { label: "II.2-3 Tuyên truyền", value: "a" },
      { label: "III.2 Tổng kết", value: "b" },
    ];
    expect(matchChoice({ text: "II.2" }, tasks)).toBeUndefined();
    expect(matchChoice({ text: "ii.2-3" }, tasks)?.value).toBe("a");
    expect(matchChoice({ text: "III.2" }, tasks)?.value).toBe("b");
  });
});
