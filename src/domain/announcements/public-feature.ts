import { z } from "zod";
import { formatDate } from "../../clock.js";
import type { Feature } from "../../engine/engine.js";
import { defineFlow, type AnyFlow } from "../../engine/flow.js";
import type { Turn } from "../../engine/turn.js";
import { fold } from "../../text/normalize.js";
import { t } from "../../text/vi.js";
import { EVERYONE, type Role } from "../people/roles.js";
import { CONTACT_FIELD_SPECS, FAQ_FIELDS, SLOT_FIELDS, splitKeywords, type FieldSpec } from "./fields.js";
import type { Editor, PublicInfoService } from "./public-info.js";
import type { FaqDoc } from "./schema.js";

/** Who keeps the public information up to date. */
export const EDITORS: readonly Role[] = ["office", "admin"];

/**
 * A citizen message at least this long reads more like a description of a problem than a
 * question: after the frequent answer, the usual offer to send it to the Department follows.
 */
const LONG_MESSAGE = 80;

const tx = t.announcements;

/** One kind of editable public information, as the generic add/edit flows see it. */
interface RecordKind {
  command: "lichtiepdan" | "hoidap" | "lienhe";
  fields: readonly FieldSpec[];
  /** Absent for the single contact record, which is only edited. */
  add?: {
    save(values: Record<string, string>, by: Editor): Promise<void>;
    preview(values: Record<string, string>): string;
  };
  /** False when the entry no longer exists. */
  update(id: string | undefined, changes: Record<string, string>, by: Editor): Promise<boolean>;
  /** The whole of it after a change, read back from the database. */
  show(turn: Turn): Promise<string>;
}

interface RecordData {
  /** The entry being edited; absent when adding, and for the contact record. */
  id?: string;
  /** Adding: the field asked next. */
  cursor: number;
  /** Editing: the field chosen. */
  field?: string;
  /** Editing: the values before the change, to show beside the question. */
  current: Record<string, string>;
  values: Record<string, string>;
  confirmed?: boolean;
}

/**
 * What the command hands the edit flow (as JSON: a flow starts from one string). The entry is
 * read once by the command, because a step's prompt cannot wait for the database.
 */
const editArgs = z.object({ id: z.string().optional(), current: z.record(z.string(), z.string()) });

const editor = (turn: Turn): Editor => ({ name: turn.speaker.name, now: turn.now, key: turn.idempotencyKey });
/** A removal is named by its update, which its run again after a crash shares (see slotRemovedBy). */
const removal = (turn: Turn): Editor => ({ ...editor(turn), key: turn.inbound.dedupeKey });
const isEditor = (turn: Turn) => EDITORS.includes(turn.speaker.role);

/**
 * `<command> them` and `<command> sua`: add an entry field by field, or change one field of one.
 * The flows are named as the clerk typed them, so a refusal by the engine reads "/lichtiepdan sua".
 */
function recordFlows(kind: RecordKind): AnyFlow[] {
  const fieldOf = (key: string | undefined) => kind.fields.find((f) => f.key === key);

  const confirm = {
    choices: () => [
      { label: tx.save, value: "save" },
      { label: tx.cancel, value: "cancel" },
    ],
    accept: (answer: { choice?: { value: string } }, data: RecordData) => ({
      data: { ...data, confirmed: answer.choice?.value === "save" },
    }),
  };

  const flows: AnyFlow[] = [
    defineFlow<RecordData>({
      name: `${kind.command} sua`,
      version: 1,
      roles: EDITORS,
      ttlMinutes: 30,
      first: "field",
      initial(_turn, args) {
        const parsed = editArgs.parse(JSON.parse(args || "{}"));
        return { ...(parsed.id ? { id: parsed.id } : {}), cursor: 0, current: parsed.current, values: {} };
      },
      steps: {
        field: {
          prompt: () => tx.askField,
          choices: () => kind.fields.map((f) => ({ label: f.label, value: f.key })),
          accept: (answer, data) => ({ data: { ...data, field: answer.choice?.value }, next: "value" }),
        },
        value: {
          prompt(data) {
            const field = fieldOf(data.field);
            const now = data.current[data.field ?? ""];
            return [field?.ask ?? "", now ? tx.currentValue(now) : ""].filter(Boolean).join("\n");
          },
          accept(answer, data) {
            const field = fieldOf(data.field);
            if (!field) return { error: tx.gone };
            const result = field.parse(answer.text);
            if ("error" in result) return result;
            return { data: { ...data, values: { [field.key]: result.value } }, next: "confirm" };
          },
        },
        confirm: {
          ...confirm,
          prompt: (data) =>
            tx.confirmChange(fieldOf(data.field)?.label ?? "", data.values[data.field ?? ""] ?? ""),
        },
      },
      async finish(data, turn) {
        if (!data.confirmed) {
          turn.reply(tx.discarded);
          return;
        }
        if (!(await kind.update(data.id, data.values, editor(turn)))) {
          turn.reply(tx.gone);
          return;
        }
        turn.reply([tx.saved, "", await kind.show(turn)].join("\n"));
      },
    }),
  ];

  const { add } = kind;
  if (add) {
    flows.push(
      defineFlow<RecordData>({
        name: `${kind.command} them`,
        version: 1,
        roles: EDITORS,
        ttlMinutes: 30,
        first: "value",
        initial: () => ({ cursor: 0, current: {}, values: {} }),
        steps: {
          value: {
            prompt: (data) =>
              tx.stepOf(data.cursor + 1, kind.fields.length, kind.fields[data.cursor]?.ask ?? ""),
            accept(answer, data) {
              const field = kind.fields[data.cursor];
              if (!field) return { error: tx.gone };
              const result = field.parse(answer.text);
              if ("error" in result) return result;
              const values = { ...data.values, [field.key]: result.value };
              const cursor = data.cursor + 1;
              return {
                data: { ...data, values, cursor },
                next: cursor < kind.fields.length ? "value" : "confirm",
              };
            },
          },
          confirm: { ...confirm, prompt: (data) => tx.confirmNew(add.preview(data.values)) },
        },
        async finish(data, turn) {
          if (!data.confirmed) {
            turn.reply(tx.discarded);
            return;
          }
          await add.save(data.values, editor(turn));
          turn.reply([tx.saved, "", await kind.show(turn)].join("\n"));
        },
      }),
    );
  }
  return flows;
}

/**
 * A citizen's free text, before the offer to file feedback: answers it from the frequent
 * questions when a keyword matches. True when nothing more should be said.
 * @example citizenFreeText(feedback, faqFirst(app.publicInfo))
 */
export function faqFirst(info: PublicInfoService): (turn: Turn) => Promise<boolean> {
  return async (turn) => {
    const entry = await info.matchFaq(turn.inbound.text);
    if (!entry) return false;
    turn.reply(tx.faqAutoAnswer(entry.question, entry.answer));
    return turn.inbound.text.length < LONG_MESSAGE;
  };
}

/** `/lichtiepdan`, `/lienhe` and `/hoidap`: read by everyone, kept up to date by the Office. */
export function publicInfoFeature(info: PublicInfoService): Feature {
  async function scheduleText(turn: Turn): Promise<string> {
    const slots = await info.slots();
    if (slots.length === 0)
      return isEditor(turn) ? `${tx.scheduleEmpty}\n${tx.scheduleEditHint}` : tx.scheduleEmpty;
    const updated = new Date(Math.max(...slots.map((s) => s.updatedAt.getTime())));
    return [
      tx.scheduleHeader(turn.services.orgName),
      ...slots.map((s, i) => tx.slot(i + 1, s)),
      "",
      tx.updatedOn(formatDate(updated, turn.services.timeZone)),
      isEditor(turn) ? tx.scheduleEditHint : tx.scheduleFooter,
    ].join("\n");
  }

  async function contactText(turn: Turn): Promise<string> {
    const contact = await info.contact();
    const lines = CONTACT_FIELD_SPECS.flatMap((f) => {
      const value = contact?.[f.key as keyof typeof contact];
      return typeof value === "string" && value ? [tx.contactLine(f.label, value)] : [];
    });
    if (lines.length === 0)
      return isEditor(turn) ? `${tx.contactEmpty}\n${tx.contactEditHint}` : tx.contactEmpty;
    return [
      tx.contactHeader(turn.services.orgName),
      ...lines,
      ...(isEditor(turn) ? ["", tx.contactEditHint] : []),
    ].join("\n");
  }

  async function faqListText(turn: Turn): Promise<string> {
    const faqs = await info.faqs();
    if (faqs.length === 0) return isEditor(turn) ? `${tx.faqEmpty}\n${tx.faqEditHint}` : tx.faqEmpty;
    return [
      tx.faqHeader,
      ...faqs.map((f, i) => tx.faqLine(i + 1, f.question)),
      "",
      tx.faqFooter,
      ...(isEditor(turn) ? [tx.faqEditHint] : []),
    ].join("\n");
  }

  const faqText = (f: FaqDoc, turn: Turn) =>
    [
      tx.faqAnswer(f.question, f.answer),
      ...(isEditor(turn) ? [tx.faqKeywords(f.keywords.join(", "))] : []),
    ].join("\n\n");

  const schedule: RecordKind = {
    command: "lichtiepdan",
    fields: SLOT_FIELDS,
    add: {
      save: (v, by) =>
        info.addSlot(
          { who: v.who ?? "", when: v.when ?? "", where: v.where ?? "", register: v.register ?? "" },
          by,
        ),
      preview: (v) => tx.slotPreview(v),
    },
    update: (id, changes, by) => (id ? info.updateSlot(id, changes, by) : Promise.resolve(false)),
    show: scheduleText,
  };

  const contact: RecordKind = {
    command: "lienhe",
    fields: CONTACT_FIELD_SPECS,
    async update(_id, changes, by) {
      await info.updateContact(changes, by);
      return true;
    },
    show: contactText,
  };

  const faq: RecordKind = {
    command: "hoidap",
    fields: FAQ_FIELDS,
    add: {
      save: (v, by) =>
        info.addFaq(
          { question: v.question ?? "", keywords: splitKeywords(v.keywords ?? ""), answer: v.answer ?? "" },
          by,
        ),
      preview: (v) => tx.faqPreview(v.question ?? "", v.keywords ?? "", v.answer ?? ""),
    },
    update(id, changes, by) {
      if (!id) return Promise.resolve(false);
      const { keywords, ...rest } = changes;
      return info.updateFaq(id, { ...rest, ...(keywords ? { keywords: splitKeywords(keywords) } : {}) }, by);
    },
    show: faqListText,
  };

  /** Refuses an edit to someone who may only read; true when refused. */
  function refuse(turn: Turn, command: string): boolean {
    if (isEditor(turn)) return false;
    turn.log.warn(
      {
        command,
        personId: turn.speaker.personId,
        role: turn.speaker.role,
        dedupeKey: turn.inbound.dedupeKey,
      },
      "public info: edit refused",
    );
    turn.reply(tx.editForbidden(command));
    return true;
  }

  /** The entry a clerk numbered ("/lichtiepdan xoa 2"), or a reply saying what was wrong. */
  function entryAt<T>(
    turn: Turn,
    list: T[],
    raw: string | undefined,
    command: string,
    verb: string,
  ): T | undefined {
    if (!raw || !/^\d{1,3}$/.test(raw)) {
      turn.reply(tx.needNumber(command, verb));
      return undefined;
    }
    const entry = list[Number(raw) - 1];
    if (!entry) turn.reply(tx.noSuchEntry(raw, list.length));
    return entry;
  }

  const VERBS = new Set(["them", "sua", "xoa"]);

  return {
    name: "public-info",
    flows: [...recordFlows(schedule), ...recordFlows(contact), ...recordFlows(faq)],
    commands: [
      {
        name: "lichtiepdan",
        roles: EVERYONE,
        description: tx.scheduleDescription,
        usage: "/lichtiepdan",
        async run(turn, args) {
          const [action, number] = args.split(/\s+/).filter(Boolean);
          const verb = fold(action ?? "");
          if (!VERBS.has(verb)) {
            turn.reply(action && isEditor(turn) ? tx.scheduleUsage : await scheduleText(turn));
            return;
          }
          if (refuse(turn, `lichtiepdan ${verb}`)) return;
          if (verb === "them") {
            turn.startFlow("lichtiepdan them");
            return;
          }
          // Run again after a crash, a removal finds the entry it removed: the number now names the next.
          const removed = verb === "xoa" ? await info.slotRemovedBy(turn.inbound.dedupeKey) : undefined;
          const slot = removed ?? entryAt(turn, await info.slots(), number, "lichtiepdan", verb);
          if (!slot) return;
          if (verb === "sua") {
            const { who, when, where, register } = slot;
            turn.startFlow(
              "lichtiepdan sua",
              JSON.stringify({ id: slot._id.toString(), current: { who, when, where, register } }),
            );
            return;
          }
          await info.removeSlot(slot._id.toString(), removal(turn));
          turn.reply([tx.slotRemoved(number ?? "", slot.who), "", await scheduleText(turn)].join("\n"));
        },
      },
      {
        name: "lienhe",
        roles: EVERYONE,
        description: tx.contactDescription,
        usage: "/lienhe",
        async run(turn, args) {
          const verb = fold(args.split(/\s+/)[0] ?? "");
          if (verb !== "sua") {
            turn.reply(verb && isEditor(turn) ? tx.contactUsage : await contactText(turn));
            return;
          }
          if (refuse(turn, "lienhe sua")) return;
          const current = await info.contact();
          const values = Object.fromEntries(
            CONTACT_FIELD_SPECS.map((f) => [f.key, current?.[f.key as keyof typeof current] ?? ""]),
          );
          turn.startFlow("lienhe sua", JSON.stringify({ current: values }));
        },
      },
      {
        name: "hoidap",
        roles: EVERYONE,
        description: tx.faqDescription,
        usage: "/hoidap [số | từ khóa]",
        async run(turn, args) {
          const [action, number] = args.split(/\s+/).filter(Boolean);
          const verb = fold(action ?? "");
          const faqs = await info.faqs();
          if (!action) {
            turn.reply(await faqListText(turn));
            return;
          }
          if (/^\d{1,3}$/.test(action)) {
            const entry = faqs[Number(action) - 1];
            turn.reply(entry ? faqText(entry, turn) : tx.noSuchEntry(action, faqs.length));
            return;
          }
          if (!VERBS.has(verb)) {
            // Anything else is a question in the person's own words.
            const entry = await info.matchFaq(args);
            turn.reply(entry ? faqText(entry, turn) : tx.faqNoMatch(args));
            return;
          }
          if (refuse(turn, `hoidap ${verb}`)) return;
          if (verb === "them") {
            turn.startFlow("hoidap them");
            return;
          }
          const removed = verb === "xoa" ? await info.faqRemovedBy(turn.inbound.dedupeKey) : undefined;
          const entry = removed ?? entryAt(turn, faqs, number, "hoidap", verb);
          if (!entry) return;
          if (verb === "sua") {
            const current = {
              question: entry.question,
              keywords: entry.keywords.join(", "),
              answer: entry.answer,
            };
            turn.startFlow("hoidap sua", JSON.stringify({ id: entry._id.toString(), current }));
            return;
          }
          await info.removeFaq(entry._id.toString(), removal(turn));
          turn.reply(tx.faqRemoved(number ?? "", entry.question));
        },
      },
    ],
  };
}
