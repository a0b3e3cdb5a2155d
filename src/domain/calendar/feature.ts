import dayjs from "dayjs";
import utc from "dayjs/plugin/utc.js";
import { formatDateTime } from "../../clock.js";
import type { Feature } from "../../engine/engine.js";
import type { Turn } from "../../engine/turn.js";
import { fold } from "../../text/normalize.js";
import { t } from "../../text/vi.js";
import type { Role } from "../people/roles.js";
import type { CalendarChangeDoc, CalendarDays, NewChange } from "./stored-days.js";
import { dayOf, formatDay, parseDay, type Day } from "./work-calendar.js";

dayjs.extend(utc);

/** Who changes the calendar: the Office, which receives the government's decisions, and the admins. */
const KEEPERS: readonly Role[] = ["office", "admin"];

type Verb = "add" | "work" | "move" | "undo" | "close" | "history";

/** The verbs as typed, folded (no diacritics): "thêm", "làm bù", "dời", "bỏ", "chốt", "lịch sử". */
const VERBS: [string[], Verb][] = [
  [["them"], "add"],
  [["lambu"], "work"],
  [["lam", "bu"], "work"],
  [["doi"], "move"],
  [["chuyen"], "move"],
  [["bo"], "undo"],
  [["xoa"], "undo"],
  [["chot"], "close"],
  [["lichsu"], "history"],
  [["lich", "su"], "history"],
];

function readVerb(words: string[]): { verb: Verb | undefined; rest: string[] } {
  const folded = words.map(fold);
  for (const [typed, verb] of VERBS) {
    if (typed.every((word, i) => folded[i] === word)) return { verb, rest: words.slice(typed.length) };
  }
  return { verb: undefined, rest: words };
}

const weekdayOf = (day: Day) => dayjs.utc(day).day();
const isWeekend = (day: Day) => weekdayOf(day) === 0 || weekdayOf(day) === 6;
const show = (day: Day) => t.calendar.weekday(formatDay(day), weekdayOf(day));
const readYear = (text: string | undefined) => (text && /^20\d{2}$/.test(text) ? Number(text) : undefined);

/**
 * /ngaynghi: the Office and the admins read the year's days off and change them in the chat —
 * add a day off, a weekend day worked in exchange, move a day off, undo, and close a year once
 * the government's decision is entered. Each change is stored, audited and applied at once.
 */
export function calendarFeature(days: CalendarDays): Feature {
  const { calendar } = days;

  function yearView(year: number): string {
    const view = calendar.yearDays(year);
    const lines = [t.calendar.yearHeader(year)];
    if (!calendar.knowsYear(year)) lines.push(t.calendar.yearUnknown(year));
    else if (calendar.isClosed(year)) lines.push(t.calendar.yearClosed(year));
    if (view.off.length === 0) lines.push(t.calendar.noDaysOff);
    for (const d of view.off) lines.push(t.calendar.offLine(show(d.day), d.name, d.confirmed, d.changed));
    if (view.worked.length > 0) {
      lines.push("", t.calendar.workedHeader);
      for (const d of view.worked) lines.push(t.calendar.workedLine(show(d.day), d.changed));
    }
    if (view.undecided.length > 0) {
      lines.push("", t.calendar.undecidedHeader);
      for (const u of view.undecided)
        lines.push(t.calendar.undecidedLine(formatDay(u.from), formatDay(u.to), u.note));
    }
    return lines.join("\n");
  }

  function describe(change: CalendarChangeDoc): string {
    if (change.kind === "close") return t.calendar.change.close(change.year, change.name ?? "");
    const day = show(change.day ?? "");
    if (change.kind === "off") return t.calendar.change.off(day, change.name ?? "");
    if (change.kind === "work") return t.calendar.change.work(day);
    return t.calendar.change.ordinary(day);
  }

  /** The change a command asks for, or the sentence that says why not. */
  function plan(
    verb: Exclude<Verb, "history">,
    rest: string[],
  ): { changes: NewChange[]; reply: string } | string {
    const [first, second] = rest;
    if (verb === "close") {
      const year = readYear(first);
      const reference = rest.slice(1).join(" ").trim();
      if (!year) return t.calendar.badYear;
      if (reference.length < 3) return t.calendar.needReference;
      return {
        changes: [{ kind: "close", year, name: reference }],
        reply: t.calendar.closed(year, reference),
      };
    }
    const day = parseDay(first ?? "");
    if (!day) return first ? t.calendar.badDay(first) : t.calendar.help;
    switch (verb) {
      case "add": {
        const name = rest.slice(1).join(" ").trim();
        if (name.length < 3) return t.calendar.needName;
        return {
          changes: [{ kind: "off", day, name }],
          reply: `${t.calendar.added(show(day), name)}\n${t.calendar.undo(`/ngaynghi bỏ ${formatDay(day)}`)}`,
        };
      }
      case "work":
        if (!isWeekend(day)) return t.calendar.notWeekend(show(day));
        return {
          changes: [{ kind: "work", day }],
          reply: `${t.calendar.worked(show(day))}\n${t.calendar.undo(`/ngaynghi bỏ ${formatDay(day)}`)}`,
        };
      case "move": {
        const to = parseDay(second ?? "");
        if (!to) return second ? t.calendar.badDay(second) : t.calendar.help;
        const name = calendar.holidayName(day);
        if (!name || calendar.isWorkingDay(day)) return t.calendar.notAHoliday(show(day));
        if (!calendar.isWorkingDay(to))
          return t.calendar.alreadyOff(show(to), calendar.holidayName(to) ?? "");
        return {
          changes: [
            { kind: "ordinary", day },
            { kind: "off", day: to, name },
          ],
          reply: `${t.calendar.moved(show(day), show(to), name)}\n${t.calendar.undo(
            `/ngaynghi dời ${formatDay(to)} ${formatDay(day)}`,
          )}`,
        };
      }
      case "undo": {
        const ordinary = calendar.isWorkingDay(day) === !isWeekend(day) && !calendar.holidayName(day);
        if (ordinary) return t.calendar.nothingToUndo(show(day));
        return { changes: [{ kind: "ordinary", day }], reply: t.calendar.undone(show(day), isWeekend(day)) };
      }
    }
  }

  async function run(turn: Turn, args: string): Promise<void> {
    const words = args.trim().split(/\s+/).filter(Boolean);
    const { verb, rest } = readVerb(words);
    const thisYear = Number(dayOf(turn.now, turn.services.timeZone).slice(0, 4));
    if (!verb) {
      const year = words.length === 0 ? thisYear : readYear(words[0]);
      turn.reply(year && words.length <= 1 ? `${yearView(year)}\n\n${t.calendar.usage}` : t.calendar.help);
      return;
    }
    // Another instance may have changed the calendar since this one last looked.
    await days.refresh();
    if (verb === "history") {
      const year = rest.length === 0 ? thisYear : readYear(rest[0]);
      if (!year) {
        turn.reply(t.calendar.badYear);
        return;
      }
      const changes = await days.history(year);
      turn.reply(
        changes.length === 0
          ? t.calendar.historyEmpty(year)
          : [
              t.calendar.historyHeader(year),
              ...changes.map((c) =>
                t.calendar.historyLine(formatDateTime(c.at, turn.services.timeZone), c.by.name, describe(c)),
              ),
            ].join("\n"),
      );
      return;
    }
    const planned = plan(verb, rest);
    if (typeof planned === "string") {
      turn.reply(planned);
      return;
    }
    await days.apply(planned.changes, turn.speaker, turn.now, turn.idempotencyKey);
    turn.reply(planned.reply);
  }

  return {
    name: "calendar",
    commands: [
      {
        name: "ngaynghi",
        roles: KEEPERS,
        description: t.calendar.description,
        usage: t.calendar.usage,
        run,
      },
    ],
  };
}
